package gatehouse

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/ebitengine/purego"
)

// The purego version guard.
//
// purego v0.9.0 … v0.10.0 and v0.11.0-alpha … v0.11.0-alpha.2 return a pooled struct to a
// sync.Pool before the result of a pointer-returning registered function is copied out, so
// under concurrency such a function can return another goroutine's result (ebitengine/purego#451,
// docs in bindings/go/README.md). This package never registers a function at all (every call
// goes through purego.SyscallN, whose integer result is copied before the pool Put in every
// version) and checks a per-call token, so it is immune whatever purego is linked. The guard is
// the third layer: a program that links an affected purego (for instance through another
// library) is refused at start, with the go.mod line that fixes it.

const puregoModule = "github.com/ebitengine/purego"

// PinnedPuregoVersion is the purego version this module requires (and is tested with). It is
// the version the guard's error message recommends.
const PinnedPuregoVersion = "v0.11.3"

// The affected versions, as half-open semver ranges [lo, hi). Verified by reading func.go of
// every version the module proxy serves (scripts/verify-purego.sh, testdata/purego-scan.txt):
// affected means RegisterFunc takes its syscall struct from thePool and builds a *T result with
// reflect.NewAt(…, &syscall.a1) without copying a1 first.
var affectedRanges = [][2]string{
	// v0.9.0-alpha.1 … v0.9.0, v0.9.1, v0.10.0-alpha … v0.10.0 (#282 landed before v0.9.0-alpha.1;
	// v0.10.1 removed the pool).
	{"v0.9.0-0", "v0.10.1"},
	// v0.11.0-alpha, -alpha.1, -alpha.2 (v0.11.0-alpha.3 removed the pool; alpha.4 restored it
	// with a1 copied out first).
	{"v0.11.0-0", "v0.11.0-alpha.3"},
}

// Pseudo-versions in this range may be main-branch commits between #282 (2024-10-17) and the
// first v0.9.0 alpha tag, numbered from v0.8.0; they cannot be told apart, so they are refused.
var affectedPseudoRange = [2]string{"v0.8.1-0", "v0.9.0-0"}

// ErrAffectedPurego matches (errors.Is) the guard's refusal.
var ErrAffectedPurego = errors.New("gatehouse: affected purego version")

// PuregoVersionError is the guard's refusal: the linked purego version has the return-value race.
type PuregoVersionError struct {
	Version string // the purego version linked into the program
	Replace string // the replace directive that selected it, if any
}

func (e *PuregoVersionError) Error() string {
	if e == nil {
		return "gatehouse: <nil *PuregoVersionError>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "gatehouse: refusing to start: this program links %s %s", puregoModule, e.Version)
	if e.Replace != "" {
		fmt.Fprintf(&b, " (selected by `replace %s => %s`)", puregoModule, e.Replace)
	}
	fmt.Fprintf(&b, ", a version with the concurrent return-value race (ebitengine/purego#451: "+
		"a function returning a pointer can return another goroutine's result). "+
		"Fix: in your main module's go.mod put\n\trequire %s %s\n", puregoModule, PinnedPuregoVersion)
	if e.Replace != "" {
		fmt.Fprintf(&b, "and remove the replace directive for %s (or point it at v0.10.1 or later), ", puregoModule)
	}
	b.WriteString("then run `go mod tidy`. Any release from v0.10.1 on is fixed; v0.11.x needs `go 1.25` or later.")
	return b.String()
}

// Is makes errors.Is(err, ErrAffectedPurego) true.
func (e *PuregoVersionError) Is(target error) bool { return target == ErrAffectedPurego }

// PuregoInfo describes the purego module linked into the running program.
type PuregoInfo struct {
	Version string // the effective version ("" when unknown)
	Replace string // the replace target ("path" or "path version"), if replaced
	Known   bool   // false when no version could be found (e.g. a directory replace)
	From    string // "build info" or "source path"
	// GuardBypassed is true when the version is affected but the guard let it run: only in a
	// program built with the gatehouse_ffi_matrix build tag and run with
	// GATEHOUSE_UNSAFE_ALLOW_AFFECTED_PUREGO=matrix-only (guard_bypass_matrix.go).
	GuardBypassed bool
}

// LinkedPurego reports the purego version the running program was built with: from the build
// info (runtime/debug.ReadBuildInfo) of programs built by go build, go run and go install; test
// binaries carry no dependency list there, so it falls back to the module-cache path of purego's
// compiled source (…/github.com/ebitengine/purego@vX.Y.Z/…, also kept by -trimpath).
func LinkedPurego() PuregoInfo {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info := puregoFromDeps(bi.Deps); info.Version != "" || info.Replace != "" {
			info.From = "build info"
			return info
		}
	}
	if v := versionInPath(puregoSourceFile()); v != "" {
		return PuregoInfo{Version: v, Known: isSemver(v), From: "source path"}
	}
	return PuregoInfo{}
}

// puregoSourceFile is the file that defines purego.SyscallN, as compiled into this program.
func puregoSourceFile() string {
	f := runtime.FuncForPC(reflect.ValueOf(purego.SyscallN).Pointer())
	if f == nil {
		return ""
	}
	file, _ := f.FileLine(f.Entry())
	return file
}

// versionInPath extracts v from ".../github.com/ebitengine/purego@v/...".
func versionInPath(file string) string {
	file = filepath.ToSlash(file)
	i := strings.Index(file, puregoModule+"@")
	if i < 0 {
		return ""
	}
	v := file[i+len(puregoModule)+1:]
	if j := strings.IndexByte(v, '/'); j >= 0 {
		v = v[:j]
	}
	return v
}

func puregoFromDeps(deps []*debug.Module) PuregoInfo {
	for _, m := range deps {
		if m == nil || m.Path != puregoModule {
			continue
		}
		if r := m.Replace; r != nil {
			info := PuregoInfo{Replace: strings.TrimSpace(r.Path + " " + r.Version), Version: r.Version}
			info.Known = isSemver(r.Version)
			return info
		}
		return PuregoInfo{Version: m.Version, Known: isSemver(m.Version)}
	}
	return PuregoInfo{}
}

// checkPurego is the guard run once before the library is loaded. It returns info with
// GuardBypassed set when the test-only escape hatch let an affected version through.
func checkPurego(info PuregoInfo) (PuregoInfo, error) {
	if info.Known && puregoAffected(info.Version) {
		if matrixBypass() {
			info.GuardBypassed = true
			return info, nil
		}
		return info, &PuregoVersionError{Version: info.Version, Replace: info.Replace}
	}
	return info, nil
}

// puregoAffected reports whether a purego module version has the return-value race.
func puregoAffected(v string) bool {
	if !isSemver(v) {
		return false
	}
	for _, r := range affectedRanges {
		if semverCompare(v, r[0]) >= 0 && semverCompare(v, r[1]) < 0 {
			return true
		}
	}
	return isPseudo(v) && semverCompare(v, affectedPseudoRange[0]) >= 0 &&
		semverCompare(v, affectedPseudoRange[1]) < 0
}

// semver parses "vMAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]" (Go module version syntax).
type semver struct {
	nums [3]uint64
	pre  []string
}

func parseSemver(v string) (semver, bool) {
	var s semver
	if !strings.HasPrefix(v, "v") {
		return s, false
	}
	v = v[1:]
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	core := v
	if i := strings.IndexByte(v, '-'); i >= 0 {
		core, v = v[:i], v[i+1:]
		if v == "" {
			return s, false
		}
		s.pre = strings.Split(v, ".")
		for _, id := range s.pre {
			if id == "" {
				return s, false
			}
		}
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return s, false
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || (len(p) > 1 && p[0] == '0') {
			return s, false
		}
		s.nums[i] = n
	}
	return s, true
}

func isSemver(v string) bool { _, ok := parseSemver(v); return ok }

// isPseudo reports a Go pseudo-version (…-0.yyyymmddhhmmss-abcdef123456 or …-pre.0.timestamp-hash).
func isPseudo(v string) bool {
	s, ok := parseSemver(v)
	if !ok || len(s.pre) < 2 {
		return false
	}
	last := s.pre[len(s.pre)-1] // "yyyymmddhhmmss-hash"
	i := strings.IndexByte(last, '-')
	return i == 14 && len(last) > 15 && s.pre[len(s.pre)-2] == "0"
}

// semverCompare orders two valid versions by semver precedence (-1, 0, 1).
func semverCompare(a, b string) int {
	x, _ := parseSemver(a)
	y, _ := parseSemver(b)
	for i := range 3 {
		if x.nums[i] != y.nums[i] {
			return cmpU(x.nums[i], y.nums[i])
		}
	}
	switch {
	case len(x.pre) == 0 && len(y.pre) == 0:
		return 0
	case len(x.pre) == 0:
		return 1
	case len(y.pre) == 0:
		return -1
	}
	for i := 0; i < len(x.pre) && i < len(y.pre); i++ {
		if c := cmpIdent(x.pre[i], y.pre[i]); c != 0 {
			return c
		}
	}
	return cmpU(uint64(len(x.pre)), uint64(len(y.pre)))
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpIdent(a, b string) int {
	na, ea := strconv.ParseUint(a, 10, 64)
	nb, eb := strconv.ParseUint(b, 10, 64)
	switch {
	case ea == nil && eb == nil:
		return cmpU(na, nb)
	case ea == nil:
		return -1 // numeric identifiers sort before alphanumeric ones
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}
