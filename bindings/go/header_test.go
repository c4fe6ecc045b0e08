package gatehouse

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The header is the contract: this test reads crates/gatehouse-ffi/include/gatehouse.h and checks
// that every function this package calls is declared there with the parameter list ffi.go passes
// (types, in order) and an integer result, and that the ABI version, status codes, flag and kinds
// equal this package's constants. A header change that the binding does not follow fails here.
func TestHeaderMatchesBinding(t *testing.T) {
	path := filepath.Join(repoRoot(t), "crates", "gatehouse-ffi", "include", "gatehouse.h")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)

	// Parameter types, in order, as ffi.go passes them (u64 = uint64_t, usize = size_t, …).
	want := map[string]string{
		"gatehouse_abi_version":                       "uint32_t()",
		"gatehouse_version":                           "int32_t(uint8_t*,size_t,size_t*)",
		"gatehouse_status_str":                        "int32_t(int32_t,uint8_t*,size_t,size_t*)",
		"gatehouse_client_new":                        "int32_t(const uint8_t*,size_t,uint64_t*,uint8_t*,size_t,size_t*)",
		"gatehouse_client_initialize":                 "int32_t(uint64_t,uint8_t*,size_t,size_t*)",
		"gatehouse_client_flush":                      "int32_t(uint64_t,uint8_t*,size_t,size_t*)",
		"gatehouse_client_shutdown":                   "int32_t(uint64_t,uint64_t,uint8_t*,size_t,size_t*)",
		"gatehouse_client_release":                    "int32_t(uint64_t)",
		"gatehouse_client_status":                     "int32_t(uint64_t,uint8_t*,size_t,size_t*)",
		"gatehouse_client_counters":                   "int32_t(uint64_t,uint8_t*,size_t,size_t*)",
		"gatehouse_user_new":                          "int32_t(const uint8_t*,size_t,uint64_t*,uint8_t*,size_t,size_t*)",
		"gatehouse_user_release":                      "int32_t(uint64_t)",
		"gatehouse_check_gate":                        "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,uint32_t,uint64_t,struct gatehouse_gate_result*)",
		"gatehouse_get_feature_gate":                  "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,uint32_t,uint64_t,uint8_t*,size_t,size_t*,uint64_t*)",
		"gatehouse_get_dynamic_config":                "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,uint32_t,uint64_t,uint8_t*,size_t,size_t*,uint64_t*)",
		"gatehouse_get_experiment":                    "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,uint32_t,uint64_t,uint8_t*,size_t,size_t*,uint64_t*)",
		"gatehouse_get_layer":                         "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,uint32_t,uint64_t,uint8_t*,size_t,size_t*,uint64_t*)",
		"gatehouse_layer_get_param":                   "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,const uint8_t*,size_t,uint32_t,uint64_t,uint8_t*,size_t,size_t*,uint64_t*)",
		"gatehouse_layer_open":                        "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,uint32_t,uint64_t,uint64_t*,uint8_t*,size_t,size_t*,uint64_t*)",
		"gatehouse_layer_log_param":                   "int32_t(uint64_t,const uint8_t*,size_t)",
		"gatehouse_layer_release":                     "int32_t(uint64_t)",
		"gatehouse_log_event":                         "int32_t(uint64_t,uint64_t,const uint8_t*,size_t,const uint8_t*,size_t,const uint8_t*,size_t,uint8_t*,size_t,size_t*)",
		"gatehouse_override_gate":                     "int32_t(uint64_t,const uint8_t*,size_t,uint8_t,const uint8_t*,size_t)",
		"gatehouse_override_dynamic_config":           "int32_t(uint64_t,const uint8_t*,size_t,const uint8_t*,size_t,const uint8_t*,size_t,uint8_t*,size_t,size_t*)",
		"gatehouse_override_experiment":               "int32_t(uint64_t,const uint8_t*,size_t,const uint8_t*,size_t,const uint8_t*,size_t,uint8_t*,size_t,size_t*)",
		"gatehouse_override_layer":                    "int32_t(uint64_t,const uint8_t*,size_t,const uint8_t*,size_t,const uint8_t*,size_t,uint8_t*,size_t,size_t*)",
		"gatehouse_override_experiment_by_group_name": "int32_t(uint64_t,const uint8_t*,size_t,const uint8_t*,size_t,const uint8_t*,size_t)",
		"gatehouse_remove_override":                   "int32_t(uint64_t,int32_t,const uint8_t*,size_t,const uint8_t*,size_t)",
		"gatehouse_remove_all_overrides":              "int32_t(uint64_t)",
		"gatehouse_get_overrides":                     "int32_t(uint64_t,uint8_t*,size_t,size_t*)",
	}
	// Declarations: "<ret> gatehouse_x(<params>);" possibly over several lines.
	decl := regexp.MustCompile(`(?s)\n(u?int32_t)\s+(gatehouse_\w+)\(([^)]*)\);`)
	got := map[string]string{}
	for _, m := range decl.FindAllStringSubmatch(text, -1) {
		var types []string
		params := strings.TrimSpace(m[3])
		if params != "void" && params != "" {
			for _, p := range strings.Split(params, ",") {
				p = strings.Join(strings.Fields(p), " ")
				p = p[:strings.LastIndexAny(p, " *")+1] // drop the parameter name
				types = append(types, strings.ReplaceAll(strings.TrimSpace(p), " *", "*"))
			}
		}
		got[m[2]] = m[1] + "(" + strings.Join(types, ",") + ")"
	}
	var l library
	for _, s := range l.symbols() {
		if _, ok := want[s.name]; !ok {
			t.Errorf("%s is loaded but not in this test's table", s.name)
		}
	}
	for name, sig := range want {
		if got[name] != sig {
			t.Errorf("%s: header declares %q, the binding calls %q", name, got[name], sig)
		}
	}
	if !strings.Contains(text, "uint64_t token;\n") || !regexp.MustCompile(`uint64_t token;\s*(//[^\n]*\n\s*)*uint8_t value;`).MatchString(text) {
		t.Error("gatehouse_gate_result is no longer {uint64_t token; uint8_t value;}")
	}
	// Every function of the header that returns a pointer would break the binding's rule.
	if m := regexp.MustCompile(`\n[^\n/#]*\*\s*gatehouse_\w+\(`).FindString(text); m != "" {
		t.Errorf("the header declares a pointer-returning function: %q", strings.TrimSpace(m))
	}

	define := func(name string) int {
		m := regexp.MustCompile(`#define ` + name + ` (\d+)\b`).FindStringSubmatch(text)
		if m == nil {
			t.Errorf("#define %s not found", name)
			return -1
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if v := define("GATEHOUSE_ABI_VERSION"); v != ABIVersion {
		t.Errorf("header GATEHOUSE_ABI_VERSION %d, binding %d", v, ABIVersion)
	}
	if v := define("GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING"); v != int(flagDisableExposureLogging) {
		t.Errorf("flag %d", v)
	}
	for name, k := range map[string]Kind{"GATEHOUSE_KIND_GATE": KindGate, "GATEHOUSE_KIND_DYNAMIC_CONFIG": KindDynamicConfig,
		"GATEHOUSE_KIND_EXPERIMENT": KindExperiment, "GATEHOUSE_KIND_LAYER": KindLayer} {
		if v := define(name); v != int(k) {
			t.Errorf("%s = %d, binding %d", name, v, k)
		}
	}
	codes := map[string]Code{"OK": CodeOK, "BUFFER_TOO_SMALL": CodeBufferTooSmall, "NULL_ARGUMENT": CodeNullArgument,
		"INVALID_UTF8": CodeInvalidUTF8, "INPUT_TOO_LARGE": CodeInputTooLarge, "INVALID_HANDLE": CodeInvalidHandle,
		"WRONG_HANDLE_TYPE": CodeWrongHandleType, "HANDLE_LIMIT": CodeHandleLimit, "INVALID_OPTIONS": CodeInvalidOptions,
		"INVALID_USER": CodeInvalidUser, "INVALID_ARGUMENT": CodeInvalidArgument, "NOT_FOUND": CodeNotFound,
		"INIT_FAILED": CodeInitFailed, "SHUT_DOWN": CodeShutDown, "EVENTS_FAILED": CodeEventsFailed, "PANIC": CodePanic}
	for name, c := range codes {
		if v := define("GATEHOUSE_" + name); v != int(c) {
			t.Errorf("GATEHOUSE_%s = %d, binding %d", name, v, c)
		}
	}
	// The library's own descriptions equal the binding's copy.
	l2, err := lib()
	if err != nil {
		t.Fatal(err)
	}
	for c := Code(0); c < codeCount; c++ {
		if d := l2.statusText(c); d != c.String() {
			t.Errorf("status %d: library says %q, binding %q", c, d, c.String())
		}
	}
}
