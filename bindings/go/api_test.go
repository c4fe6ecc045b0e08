package gatehouse

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLibraryInfo(t *testing.T) {
	info, err := LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	if info.ABIVersion != ABIVersion || info.Version == "" || info.Path == "" {
		t.Fatalf("info = %+v", info)
	}
	if _, err := LoadLibrary("/nonexistent/libgatehouse_ffi.so"); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Fatalf("loading a second library: %v", err)
	}
}

// The load error says what was looked for, what was found, and how to fix it.
func TestLoadErrorDescribesEachCandidate(t *testing.T) {
	dir := t.TempDir()
	notLib := filepath.Join(dir, "libgatehouse_ffi.so")
	if err := os.WriteFile(notLib, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	libc := "" // a real shared library that is not gatehouse
	for _, p := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/lib64/libc.so.6"} {
		if _, err := os.Stat(p); err == nil {
			libc = p
			break
		}
	}
	cands := []candidate{
		{path: filepath.Join(dir, "missing.so"), source: "test: missing"},
		{path: notLib, source: "test: not a library"},
	}
	if libc != "" {
		cands = append(cands, candidate{path: libc, source: "test: another library"})
	}
	var tried []string
	for _, c := range cands {
		l, what := tryLoad(c)
		if l != nil {
			t.Fatalf("%s loaded", c.path)
		}
		tried = append(tried, c.describe()+": "+what)
	}
	msg := (&LoadError{Tried: tried}).Error()
	for _, want := range []string{"missing.so (test: missing): not found", "found but could not be loaded",
		"cargo build --release -p gatehouse-ffi", LibraryEnv} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if libc != "" && !strings.Contains(msg, "lacks gatehouse_abi_version") {
		t.Errorf("message does not say what libc lacks:\n%s", msg)
	}
	// The default search order.
	t.Setenv(LibraryEnv, "")
	cs := candidates("")
	if len(cs) < 3 || !strings.Contains(cs[0].source, "executable") || !cs[len(cs)-1].bare {
		t.Errorf("candidates: %+v", cs)
	}
	t.Setenv(LibraryEnv, "/x/libgatehouse_ffi.so")
	if cs := candidates(""); len(cs) != 1 || cs[0].path != "/x/libgatehouse_ffi.so" || !cs[0].only {
		t.Errorf("with %s set: %+v", LibraryEnv, cs)
	}
}

func TestGatesConfigsExperimentsLayers(t *testing.T) {
	c := newClient(t, exampleOptions(t))
	users := exampleUsers(t)
	u := mustUser(t, users[0])
	defer u.Close()

	on, err := c.CheckGate(u, "dark_mode")
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.GetFeatureGate(u, "dark_mode")
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "dark_mode" || g.Value != on || g.RuleID == "" || g.IDType == "" ||
		g.EvaluationDetails.Reason != "Bootstrap:Recognized" || g.EvaluationDetails.LCUT == 0 {
		t.Errorf("gate = %+v (CheckGate %v)", g, on)
	}
	unknown, err := c.GetFeatureGate(u, "no_such_gate")
	if err != nil || unknown.Value || !strings.Contains(unknown.EvaluationDetails.Reason, "Unrecognized") {
		t.Errorf("unknown gate = %+v, %v", unknown, err)
	}
	if on, err := c.CheckGate(u, "no_such_gate"); on || err != nil {
		t.Errorf("CheckGate(unknown) = %v, %v", on, err)
	}

	cfg, err := c.GetDynamicConfig(u, "shipping_rates")
	if err != nil || cfg.Name != "shipping_rates" || len(cfg.Value) == 0 {
		t.Fatalf("config = %+v, %v", cfg, err)
	}
	for k, v := range cfg.Value {
		if got, ok := cfg.Get(k); !ok || got == nil || v == nil {
			t.Errorf("Get(%q) = %v, %v", k, got, ok)
		}
	}
	if cfg.GetString("missing", "fb") != "fb" || cfg.GetNumber("missing", 7) != 7 || !cfg.GetBool("missing", true) {
		t.Error("config fallbacks")
	}

	exp, err := c.GetExperiment(u, "checkout_redesign")
	if err != nil || exp.Name != "checkout_redesign" || exp.GroupName == "" || !exp.IsExperimentActive {
		t.Fatalf("experiment = %+v, %v", exp, err)
	}
	if exp.GetString("layout", "") == "" {
		t.Errorf("experiment layout missing: %v", exp.Value)
	}

	layer, err := c.GetLayer(u, "search")
	if err != nil || layer.Name != "search" || len(layer.Keys()) == 0 {
		t.Fatalf("layer = %+v, %v", layer, err)
	}
	if v, err := layer.Get("ranking_model"); err != nil || v == nil {
		t.Errorf("layer.Get = %v, %v", v, err)
	}
	if _, err := layer.Get("no_such_param"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing parameter: %v", err)
	}
	if layer.GetString("no_such_param", "fb") != "fb" {
		t.Error("layer fallback")
	}
}

// Every answer matches the engine's own CLI (`gatehouse eval`, same runtime, same specs and
// users), field by field: a check of the whole marshalling path. Runs when the CLI was built
// (target/release/gatehouse, e.g. by the workspace tests) or GATEHOUSE_CLI names it.
func TestMatchesGatehouseCLI(t *testing.T) {
	cli := os.Getenv("GATEHOUSE_CLI")
	if cli == "" {
		cli = filepath.Join(repoRoot(t), "target", "release", "gatehouse")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("no gatehouse CLI at %s (cargo build --release -p gatehouse-cli)", cli)
	}
	dir := examplesDir(t)
	specs, users := filepath.Join(dir, "specs.json"), filepath.Join(dir, "users.jsonl")
	out, err := exec.Command(cli, "eval", "--specs", specs, "--users", users,
		"--id-list", "beta_testers="+filepath.Join(dir, "id_lists", "beta_testers.txt")).Output()
	if err != nil {
		t.Fatalf("%s eval: %v", cli, err)
	}
	c := newClient(t, exampleOptions(t))
	var handles []*User
	for _, js := range exampleUsers(t) {
		u := mustUser(t, js)
		defer u.Close()
		handles = append(handles, u)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		var want struct {
			Kind      string          `json:"kind"`
			Name      string          `json:"name"`
			UserIndex int             `json:"user_index"`
			Value     json.RawMessage `json:"value"`
			RuleID    string          `json:"rule_id"`
			GroupName *string         `json:"group_name"`
			IDType    string          `json:"id_type"`
			Details   struct {
				Reason string `json:"reason"`
				LCUT   uint64 `json:"lcut"`
			} `json:"details"`
			SecondaryExposures []SecondaryExposure `json:"secondary_exposures"`
		}
		if err := json.Unmarshal(sc.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		u := handles[want.UserIndex]
		var value any
		var rule, group, idType, reason string
		var lcut uint64
		var sec []SecondaryExposure
		switch want.Kind {
		case "gate":
			g, err := c.GetFeatureGate(u, want.Name)
			if err != nil {
				t.Fatal(err)
			}
			on, err := c.CheckGate(u, want.Name)
			if err != nil || on != g.Value {
				t.Fatalf("CheckGate(%s) = %v, %v; GetFeatureGate %v", want.Name, on, err, g.Value)
			}
			value, rule, idType, reason, lcut, sec = g.Value, g.RuleID, g.IDType, g.EvaluationDetails.Reason, g.EvaluationDetails.LCUT, g.SecondaryExposures
		case "config", "experiment":
			var dc DynamicConfig
			if want.Kind == "config" {
				dc, err = c.GetDynamicConfig(u, want.Name)
			} else {
				var e Experiment
				e, err = c.GetExperiment(u, want.Name)
				dc = e.DynamicConfig
			}
			if err != nil {
				t.Fatal(err)
			}
			value, rule, group, idType, reason, lcut, sec = dc.Value, dc.RuleID, dc.GroupName, dc.IDType, dc.EvaluationDetails.Reason, dc.EvaluationDetails.LCUT, dc.SecondaryExposures
		case "layer":
			l, err := c.GetLayer(u, want.Name)
			if err != nil {
				t.Fatal(err)
			}
			value, rule, group, idType, reason, lcut, sec = l.values, l.RuleID, l.GroupName, l.IDType, l.EvaluationDetails.Reason, l.EvaluationDetails.LCUT, l.SecondaryExposures
		default:
			t.Fatalf("kind %q", want.Kind)
		}
		gotValue, _ := json.Marshal(value)
		var a, b any
		_ = json.Unmarshal(gotValue, &a)
		_ = json.Unmarshal(want.Value, &b)
		wantGroup := group // configs' report lines have no group_name
		if want.GroupName != nil {
			wantGroup = *want.GroupName
		}
		if sec == nil {
			sec = []SecondaryExposure{}
		}
		if want.SecondaryExposures == nil {
			want.SecondaryExposures = []SecondaryExposure{}
		}
		gotSec, _ := json.Marshal(sec)
		wantSec, _ := json.Marshal(want.SecondaryExposures)
		if !jsonEqual(a, b) || rule != want.RuleID || group != wantGroup || idType != want.IDType ||
			reason != want.Details.Reason || lcut != want.Details.LCUT || string(gotSec) != string(wantSec) {
			t.Errorf("user %d %s %s: binding (%s, %q, %q, %q, %q, %d, %s) CLI (%s, %q, %q, %q, %q, %d, %s)",
				want.UserIndex, want.Kind, want.Name, gotValue, rule, group, idType, reason, lcut, gotSec,
				want.Value, want.RuleID, wantGroup, want.IDType, want.Details.Reason, want.Details.LCUT, wantSec)
		}
		n++
	}
	if n == 0 {
		t.Fatal("the CLI printed nothing")
	}
	t.Logf("%d results equal to the CLI's", n)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func readEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("event line %q: %v", line, err)
		}
		events = append(events, e)
	}
	return events
}

func TestExposuresAndEvents(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.ndjson")
	o := exampleOptions(t)
	o.Events = &EventOptions{File: events}
	c := newClient(t, o)
	u, err := NewUserBuilderWithUserID("exposure-user").WithEmail("e@harborgoods.com").WithCountry("US").Build()
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()

	if _, err := c.CheckGate(u, "dark_mode"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckGateWithOptions(u, "employees", &EvaluationOptions{DisableExposureLogging: true}); err != nil {
		t.Fatal(err)
	}
	layer, err := c.GetLayer(u, "search")
	if err != nil {
		t.Fatal(err)
	}
	_ = layer.GetString("ranking_model", "")
	quiet, err := c.GetLayerWithOptions(u, "product_page", &EvaluationOptions{DisableExposureLogging: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = quiet.Get("gallery_style")
	if err := c.LogEvent(u, Event{Name: "purchase", Value: 19.99, Metadata: map[string]string{"sku": "A1"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	var names []string
	var sawParam, sawPurchase bool
	for _, e := range readEvents(t, events) {
		name, _ := e["eventName"].(string)
		md, _ := e["metadata"].(map[string]any)
		names = append(names, name)
		switch name {
		case "statsig::gate_exposure":
			if md["gate"] != "dark_mode" {
				t.Errorf("unexpected gate exposure %v", e)
			}
		case "statsig::layer_exposure":
			if md["config"] != "search" || md["parameterName"] != "ranking_model" {
				t.Errorf("unexpected layer exposure %v", e)
			}
			sawParam = true
		case "purchase":
			sawPurchase = e["value"] == 19.99 && md["sku"] == "A1"
		}
	}
	if !sawParam || !sawPurchase || len(names) != 3 {
		t.Errorf("events = %v (layer param %v, purchase %v)", names, sawParam, sawPurchase)
	}
	ct, err := c.Counters()
	if err != nil || ct.EventsSent != 3 || ct.Evaluations == 0 {
		t.Errorf("counters = %+v, %v", ct, err)
	}
}

func TestOverrides(t *testing.T) {
	c := newClient(t, exampleOptions(t))
	u, err := NewUserBuilder().WithUserID("override-me").Build()
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	other, err := NewUserBuilder().WithUserID("someone-else").WithCustomID("companyID", "acme").Build()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	check := func(user *User, gate string, want bool) {
		t.Helper()
		if got, err := c.CheckGate(user, gate); err != nil || got != want {
			t.Errorf("CheckGate(%s) = %v, %v; want %v", gate, got, err, want)
		}
	}
	if err := c.OverrideGate("wholesale_portal", true, "override-me"); err != nil {
		t.Fatal(err)
	}
	check(u, "wholesale_portal", true)
	if err := c.OverrideGate("wholesale_portal", false, ""); err != nil {
		t.Fatal(err)
	}
	check(other, "wholesale_portal", false)
	check(u, "wholesale_portal", true) // the ID override wins over the global one
	if err := c.OverrideGate("wholesale_portal", true, "acme"); err != nil {
		t.Fatal(err)
	}
	check(other, "wholesale_portal", true) // by custom ID value
	g, err := c.GetFeatureGate(u, "wholesale_portal")
	if err != nil || g.RuleID != "override" || g.EvaluationDetails.Reason != "LocalOverride:Recognized" {
		t.Errorf("overridden gate = %+v, %v", g, err)
	}

	if err := c.OverrideDynamicConfig("shipping_rates", map[string]any{"flat": 5.0}, ""); err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.GetDynamicConfig(u, "shipping_rates"); err != nil || cfg.GetNumber("flat", 0) != 5 || len(cfg.Value) != 1 {
		t.Errorf("overridden config = %+v, %v", cfg, err)
	}
	if err := c.OverrideExperimentByGroupName("checkout_redesign", "Control", ""); err != nil {
		t.Fatal(err)
	}
	// The group's value (reference 0.24.0 semantics: the override names no group in the result).
	if e, err := c.GetExperiment(u, "checkout_redesign"); err != nil || e.RuleID != "override" || e.GetString("layout", "") != "classic" {
		t.Errorf("experiment by group = %+v, %v", e, err)
	}
	if err := c.OverrideLayer("search", map[string]any{"ranking_model": "forced"}, ""); err != nil {
		t.Fatal(err)
	}
	if l, err := c.GetLayer(u, "search"); err != nil || l.GetString("ranking_model", "") != "forced" {
		t.Errorf("overridden layer = %+v, %v", l, err)
	}
	if err := c.OverrideExperiment("pdp_gallery_test", map[string]any{"x": 1}, "override-me"); err != nil {
		t.Fatal(err)
	}
	raw, err := c.Overrides()
	if err != nil {
		t.Fatal(err)
	}
	var listing map[string]map[string]any
	if err := json.Unmarshal(raw, &listing); err != nil || listing["gate"]["wholesale_portal"] == nil ||
		listing["experiment"]["pdp_gallery_test"] == nil {
		t.Errorf("overrides = %s, %v", raw, err)
	}
	if err := c.RemoveOverride(KindGate, "wholesale_portal", ""); err != nil {
		t.Fatal(err)
	}
	if on, _ := c.CheckGate(u, "wholesale_portal"); on {
		t.Error("override survived RemoveOverride")
	}
	if err := c.RemoveAllOverrides(); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.GetLayer(u, "search"); l.GetString("ranking_model", "") == "forced" {
		t.Error("layer override survived RemoveAllOverrides")
	}
	if err := c.RemoveOverride(Kind(99), "x", ""); !errors.Is(err, ErrInvalidArg) {
		t.Errorf("bad kind: %v", err)
	}
	if err := c.OverrideDynamicConfig("x", map[string]any{"bad": func() {}}, ""); err == nil {
		t.Error("unmarshalable override value accepted")
	}
}

// A result larger than the pooled buffer is fetched again with the reported size.
func TestLargeResultRetry(t *testing.T) {
	c := newClient(t, exampleOptions(t))
	big := strings.Repeat("x", 300_000)
	if err := c.OverrideDynamicConfig("shipping_rates", map[string]any{"big": big}, ""); err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, `{"userID":"big"}`)
	defer u.Close()
	for range 3 {
		cfg, err := c.GetDynamicConfig(u, "shipping_rates")
		if err != nil || cfg.GetString("big", "") != big {
			t.Fatalf("big config: %v (len %d)", err, len(cfg.GetString("big", "")))
		}
	}
}

func TestStatus(t *testing.T) {
	c := newClient(t, exampleOptions(t))
	st, err := c.Status()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Ready || st.LCUT == 0 || !strings.HasSuffix(st.Source, "specs.json") || st.IDLists != 1 {
		t.Errorf("status = %+v", st)
	}
}

func TestErrorsAreErrorsNotPanics(t *testing.T) {
	// Options the library rejects name the option.
	_, err := NewClient(Options{SpecsFile: "x.json", SpecsURL: "http://127.0.0.1:1"})
	if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("two sources: %v", err)
	}
	if _, err := NewClient(Options{SpecsURL: "http://127.0.0.1:1"}); !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "`SDKKey`") {
		t.Errorf("URL without key: %v", err)
	}
	if _, err := NewClient(Options{SpecsFile: "x", InitTimeout: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("negative timeout: %v", err)
	}
	if _, err := NewClient(Options{SpecsJSON: []byte("{not json")}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("bad SpecsJSON: %v", err)
	}
	// Users.
	if _, err := NewUserFromJSON([]byte(`[1,2]`)); !errors.Is(err, ErrInvalidUser) {
		t.Errorf("bad user: %v", err)
	}
	if _, err := NewUserFromJSON([]byte("{\"userID\":\"\xff\"}")); err == nil {
		t.Error("invalid UTF-8 user accepted")
	}

	// Initialize failure leaves a usable client answering Uninitialized.
	c, err := NewClient(Options{SpecsFile: filepath.Join(t.TempDir(), "missing.json"), DisableSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Initialize(); !errors.Is(err, ErrInitFailed) {
		t.Errorf("Initialize on a missing file: %v", err)
	}
	u := mustUser(t, `{"userID":"1"}`)
	g, err := c.GetFeatureGate(u, "dark_mode")
	if err != nil || g.Value || g.EvaluationDetails.Reason != "Uninitialized" {
		t.Errorf("uninitialized gate = %+v, %v", g, err)
	}
	// Closed users and clients.
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.CheckGate(u, "dark_mode"); !errors.Is(err, ErrClosed) {
		t.Errorf("closed user: %v", err)
	}
	u2 := mustUser(t, `{"userID":"2"}`)
	defer u2.Close()
	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	for name, call := range map[string]func() error{
		"CheckGate":        func() error { _, err := c.CheckGate(u2, "g"); return err },
		"GetFeatureGate":   func() error { _, err := c.GetFeatureGate(u2, "g"); return err },
		"GetDynamicConfig": func() error { _, err := c.GetDynamicConfig(u2, "g"); return err },
		"GetExperiment":    func() error { _, err := c.GetExperiment(u2, "g"); return err },
		"GetLayer":         func() error { _, err := c.GetLayer(u2, "g"); return err },
		"LogEvent":         func() error { return c.LogEvent(u2, Event{Name: "e"}) },
		"Flush":            func() error { return c.Flush() },
		"Status":           func() error { _, err := c.Status(); return err },
		"Initialize":       func() error { return c.Initialize() },
		"OverrideGate":     func() error { return c.OverrideGate("g", true, "") },
	} {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Shutdown: %v", name, err)
		}
	}
	// Nil receivers and arguments.
	var nilClient *Client
	if _, err := nilClient.CheckGate(u2, "g"); err == nil {
		t.Error("nil client")
	}
	if _, err := nilClient.GetLayer(u2, "g"); err == nil {
		t.Error("nil client layer")
	}
	if _, err := nilClient.Status(); err == nil {
		t.Error("nil client status")
	}
	c2 := newClient(t, exampleOptions(t))
	if _, err := c2.CheckGate(nil, "g"); err == nil {
		t.Error("nil user")
	}
	// Invalid UTF-8 in a name is the library's error, not a panic.
	if _, err := c2.CheckGate(u2, "bad\xffname"); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8 name: %v", err)
	}
	var e *Error
	if err := c2.LogEvent(u2, Event{Name: "x", Value: func() {}}); !errors.As(err, &e) {
		t.Errorf("unmarshalable value: %v", err)
	}
	if Code(99).String() != "unknown status 99" || CodePanic.String() == "" {
		t.Error("code strings")
	}
}

func TestUserBuilder(t *testing.T) {
	b := NewUserBuilderWithUserID("u1").WithEmail("a@b.co").WithIP("1.2.3.4").WithUserAgent("ua").
		WithCountry("US").WithLocale("en_US").WithAppVersion("1.2.3").WithCustomID("companyID", "c1").
		WithCustom(map[string]any{"plan": "Pro"}).WithPrivateAttributes(map[string]any{"secret": 1}).
		WithEnvironment("staging")
	js, err := b.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	want := `{"appVersion":"1.2.3","country":"US","custom":{"plan":"Pro"},"customIDs":{"companyID":"c1"},"email":"a@b.co","ip":"1.2.3.4","locale":"en_US","privateAttributes":{"secret":1},"statsigEnvironment":{"tier":"staging"},"userAgent":"ua","userID":"u1"}`
	if g, _ := json.Marshal(got); string(g) != want {
		t.Errorf("user JSON\n got %s\nwant %s", g, want)
	}
	u1, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer u1.Close()
	u2, err := b.Build() // a builder makes many users
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	if u1.handle.Load() == u2.handle.Load() {
		t.Error("two builds share a handle")
	}
	if js, _ := NewUserBuilderWithCustomIDs(map[string]string{"stableID": "s"}).JSON(); string(js) != `{"customIDs":{"stableID":"s"}}` {
		t.Errorf("custom IDs only: %s", js)
	}
}

// A library exporting every function but another ABI version is refused with both versions
// named. Built from C stubs with the system C compiler (skipped without one).
func TestLoadRejectsOtherABI(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	var l library
	var src strings.Builder
	src.WriteString("#include <stdint.h>\n#include <stddef.h>\n#include <string.h>\n")
	for _, s := range l.symbols() {
		switch s.name {
		case "gatehouse_abi_version":
			src.WriteString("uint32_t gatehouse_abi_version(void) { return ABI; }\n")
		case "gatehouse_version":
			src.WriteString("int32_t gatehouse_version(uint8_t *b, size_t cap, size_t *len) { " +
				"const char *v = VERSION; *len = strlen(v); if (cap < *len) return 1; memcpy(b, v, *len); return 0; }\n")
		default:
			src.WriteString("int32_t " + s.name + "(void) { return 0; }\n")
		}
	}
	dir := t.TempDir()
	cfile := filepath.Join(dir, "stub.c")
	if err := os.WriteFile(cfile, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	build := func(name, abi, version string) string {
		so := filepath.Join(dir, name)
		out, err := exec.Command(cc, "-shared", "-fPIC", "-O0", "-DABI="+abi, `-DVERSION="`+version+`"`, "-o", so, cfile).CombinedOutput()
		if err != nil {
			t.Fatalf("cc: %v\n%s", err, out)
		}
		return so
	}
	for _, c := range []struct{ abi, version, want string }{
		{"2", "9.9.9", "found gatehouse 9.9.9 with ABI version 2, but this binding needs ABI version 1"},
		{"1", "not-a-version", `invalid version string "not-a-version"`},
	} {
		so := build("stub"+c.abi+".so", c.abi, c.version)
		l, what := tryLoad(candidate{path: so, source: "test"})
		if l != nil || !strings.Contains(what, c.want) {
			t.Errorf("ABI %s, version %s: loaded=%v, %q", c.abi, c.version, l != nil, what)
		}
	}
}
