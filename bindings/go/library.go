package gatehouse

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ABIVersion is the C ABI version (GATEHOUSE_ABI_VERSION) this package was written against.
// A library reporting another version is refused.
const ABIVersion = 1

// LibraryEnv names the environment variable holding the library's path. When it is set, that
// file is the only one tried.
const LibraryEnv = "GATEHOUSE_LIB"

// LibraryInfo describes the loaded library.
type LibraryInfo struct {
	Path       string     // the file that was loaded
	Version    string     // gatehouse_version(), e.g. "0.1.0"
	ABIVersion uint32     // gatehouse_abi_version()
	Purego     PuregoInfo // the purego version linked into this program
}

// LoadError is returned when no usable library was found. It lists every place looked at and
// what was found there.
type LoadError struct {
	Tried []string // "path: what happened", in search order
	Cause error    // set when loading stopped before searching (e.g. an unsupported platform)
}

func (e *LoadError) Error() string {
	if e == nil {
		return "gatehouse: <nil *LoadError>"
	}
	var b strings.Builder
	b.WriteString("gatehouse: no usable gatehouse library (" + libraryFile() + ")")
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	if len(e.Tried) > 0 {
		b.WriteString("; looked for:")
		for _, t := range e.Tried {
			b.WriteString("\n  - " + t)
		}
	}
	b.WriteString("\nFix: build it with `cargo build --release -p gatehouse-ffi` in the gatehouse repository " +
		"(it writes target/release/" + libraryFile() + ") and set " + LibraryEnv +
		" to that file's path, or copy it next to your executable.")
	return b.String()
}

func (e *LoadError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Cause
}

// The loaded library: resolved symbol addresses. Immutable once published.
type library struct {
	info LibraryInfo
	h    uintptr

	abiVersion, version, statusStr                                                          uintptr
	clientNew, clientInitialize, clientFlush, clientShutdown, clientRelease                 uintptr
	clientStatus, clientCounters                                                            uintptr
	userNew, userRelease                                                                    uintptr
	checkGate, getFeatureGate, getDynamicConfig, getExperiment, getLayer, layerGetParam     uintptr
	layerOpen, layerLogParam, layerRelease                                                  uintptr
	logEvent                                                                                uintptr
	overrideGate, overrideDynamicConfig, overrideExperiment, overrideLayer, overrideByGroup uintptr
	removeOverride, removeAllOverrides, getOverrides                                        uintptr
}

func (l *library) symbols() []struct {
	name string
	dst  *uintptr
} {
	return []struct {
		name string
		dst  *uintptr
	}{
		{"gatehouse_abi_version", &l.abiVersion},
		{"gatehouse_version", &l.version},
		{"gatehouse_status_str", &l.statusStr},
		{"gatehouse_client_new", &l.clientNew},
		{"gatehouse_client_initialize", &l.clientInitialize},
		{"gatehouse_client_flush", &l.clientFlush},
		{"gatehouse_client_shutdown", &l.clientShutdown},
		{"gatehouse_client_release", &l.clientRelease},
		{"gatehouse_client_status", &l.clientStatus},
		{"gatehouse_client_counters", &l.clientCounters},
		{"gatehouse_user_new", &l.userNew},
		{"gatehouse_user_release", &l.userRelease},
		{"gatehouse_check_gate", &l.checkGate},
		{"gatehouse_get_feature_gate", &l.getFeatureGate},
		{"gatehouse_get_dynamic_config", &l.getDynamicConfig},
		{"gatehouse_get_experiment", &l.getExperiment},
		{"gatehouse_get_layer", &l.getLayer},
		{"gatehouse_layer_get_param", &l.layerGetParam},
		{"gatehouse_layer_open", &l.layerOpen},
		{"gatehouse_layer_log_param", &l.layerLogParam},
		{"gatehouse_layer_release", &l.layerRelease},
		{"gatehouse_log_event", &l.logEvent},
		{"gatehouse_override_gate", &l.overrideGate},
		{"gatehouse_override_dynamic_config", &l.overrideDynamicConfig},
		{"gatehouse_override_experiment", &l.overrideExperiment},
		{"gatehouse_override_layer", &l.overrideLayer},
		{"gatehouse_override_experiment_by_group_name", &l.overrideByGroup},
		{"gatehouse_remove_override", &l.removeOverride},
		{"gatehouse_remove_all_overrides", &l.removeAllOverrides},
		{"gatehouse_get_overrides", &l.getOverrides},
	}
}

var (
	libMu     sync.Mutex
	loadedLib atomic.Pointer[library]
)

// LoadLibrary loads the gatehouse library from path (or, with path "", from GATEHOUSE_LIB or the
// default locations; see the package documentation). Clients and users load it on first use,
// so calling this is optional: it lets a program choose the file or fail early.
//
// The library is loaded once per process. A later call with a different path is an error.
// Before loading, the purego version guard runs: a program linking a purego version with the
// return-value race gets a *PuregoVersionError.
func LoadLibrary(path string) (LibraryInfo, error) {
	if path != "" {
		abs, err := filepath.Abs(path)
		if err == nil {
			path = abs
		}
	}
	if l := loadedLib.Load(); l != nil {
		if path != "" && path != l.info.Path {
			return l.info, fmt.Errorf("gatehouse: library already loaded from %s; cannot load %s too", l.info.Path, path)
		}
		return l.info, nil
	}
	l, err := loadOnce(path)
	if err != nil {
		return LibraryInfo{}, err
	}
	return l.info, nil
}

// lib returns the loaded library, loading it on first use.
func lib() (*library, error) {
	if l := loadedLib.Load(); l != nil {
		return l, nil
	}
	return loadOnce("")
}

func loadOnce(explicit string) (*library, error) {
	libMu.Lock()
	defer libMu.Unlock()
	if l := loadedLib.Load(); l != nil {
		return l, nil
	}
	pg, err := checkPurego(LinkedPurego())
	if err != nil {
		return nil, err
	}
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return nil, &LoadError{Cause: errors.New("only 64-bit platforms are supported")}
	}
	if err := platformSupported(); err != nil {
		return nil, &LoadError{Cause: err}
	}
	var tried []string
	for _, c := range candidates(explicit) {
		l, what := tryLoad(c)
		tried = append(tried, c.describe()+": "+what)
		if l != nil {
			l.info.Purego = pg
			loadedLib.Store(l)
			return l, nil
		}
		if c.only {
			break
		}
	}
	return nil, &LoadError{Tried: tried}
}

type candidate struct {
	path   string // a file path, or a bare name for the dynamic loader's own search
	source string // why it is a candidate
	bare   bool
	only   bool // the only candidate (explicit path or GATEHOUSE_LIB)
}

func (c candidate) describe() string { return fmt.Sprintf("%s (%s)", c.path, c.source) }

func libraryFile() string {
	if runtime.GOOS == "darwin" {
		return "libgatehouse_ffi.dylib"
	}
	return "libgatehouse_ffi.so"
}

// moduleDir is this package's source directory when it is known (not with -trimpath).
func moduleDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	return filepath.Dir(file)
}

// candidates lists where to look, in order (documented in README.md).
func candidates(explicit string) []candidate {
	if explicit != "" {
		return []candidate{{path: explicit, source: "LoadLibrary argument", only: true}}
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		if abs, err := filepath.Abs(env); err == nil {
			env = abs
		}
		return []candidate{{path: env, source: LibraryEnv, only: true}}
	}
	name := libraryFile()
	var cs []candidate
	if exe, err := os.Executable(); err == nil {
		cs = append(cs, candidate{path: filepath.Join(filepath.Dir(exe), name), source: "next to the executable"})
	}
	if dir := moduleDir(); dir != "" {
		// bindings/go → the repository's target/release (development checkouts and `replace`).
		cs = append(cs, candidate{path: filepath.Join(dir, "..", "..", "target", "release", name),
			source: "the gatehouse checkout this module is in"})
	}
	cs = append(cs, candidate{path: filepath.Join("/usr/local/lib", name), source: "system library directory"})
	cs = append(cs, candidate{path: name, bare: true,
		source: "dynamic loader search: LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib"})
	return cs
}

// tryLoad opens one candidate and checks it. It returns the library, or nil and what was found.
func tryLoad(c candidate) (*library, string) {
	if !c.bare {
		st, err := os.Stat(c.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, "not found"
		case err != nil:
			return nil, "cannot stat: " + err.Error()
		case st.IsDir():
			return nil, "is a directory"
		}
	}
	h, err := dlopen(c.path)
	if err != nil {
		if c.bare {
			return nil, "not found by the dynamic loader (" + err.Error() + ")"
		}
		return nil, "found but could not be loaded: " + err.Error()
	}
	l := &library{h: h}
	for _, s := range l.symbols() {
		addr, err := dlsym(h, s.name)
		if err != nil || addr == 0 {
			dlclose(h)
			return nil, fmt.Sprintf("found, but it lacks %s: not a gatehouse library, or one older than this binding "+
				"(ABI %d); rebuild it from the same gatehouse checkout as this binding", s.name, ABIVersion)
		}
		*s.dst = addr
	}
	abi := l.callABIVersion()
	version, verr := l.callVersion()
	if abi != ABIVersion {
		dlclose(h)
		return nil, fmt.Sprintf("found gatehouse %s with ABI version %d, but this binding needs ABI version %d; "+
			"use a library built from the gatehouse release that matches this binding", version, abi, ABIVersion)
	}
	if verr != nil || !isSemver("v"+version) {
		dlclose(h)
		return nil, fmt.Sprintf("found a library with ABI %d but an invalid version string %q (%v)", abi, version, verr)
	}
	path := c.path
	if c.bare {
		path = c.path + " (resolved by the dynamic loader)"
	}
	l.info = LibraryInfo{Path: path, Version: version, ABIVersion: abi}
	return l, "loaded gatehouse " + version
}
