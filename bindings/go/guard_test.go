package gatehouse

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// Every purego version: the guard's verdict. Releases and prereleases are the ones the module
// proxy serves (checked against their source by TestGuardAgreesWithSourceScan); the rest are
// tags from the upstream history (ffi-race.md §1.3) and pseudo-versions.
func TestPuregoAffectedVersions(t *testing.T) {
	affected := []string{
		"v0.9.0-alpha.1", "v0.9.0-alpha.5", "v0.9.0-alpha.10", "v0.9.0-alpha.11", "v0.9.0", "v0.9.1",
		"v0.10.0-alpha", "v0.10.0-alpha.1", "v0.10.0-alpha.2", "v0.10.0-alpha.3", "v0.10.0-alpha.4",
		"v0.10.0-alpha.5", "v0.10.0",
		"v0.11.0-alpha", "v0.11.0-alpha.1", "v0.11.0-alpha.2",
		// pseudo-versions: a commit after v0.9.1 on branch 0.9, one on main after alpha.2, one on
		// main after #282 numbered from v0.8.0, one after v0.10.0 before the v0.10.1 tag.
		"v0.9.2-0.20251101000000-0123456789ab",
		"v0.11.0-alpha.2.0.20260520000000-0123456789ab",
		"v0.8.1-0.20241017120000-0196f2d00000",
		"v0.10.1-0.20260301000000-0123456789ab",
		"v0.9.1+incompatible",
	}
	clean := []string{
		"v0.4.1", "v0.5.0", "v0.8.0", "v0.8.1", "v0.8.2", "v0.8.3", "v0.8.4",
		"v0.10.1", "v0.10.2", "v0.10.3",
		"v0.11.0-alpha.3", "v0.11.0-alpha.4", "v0.11.0-alpha.8", "v0.11.0-alpha.11",
		"v0.11.0", "v0.11.1", "v0.11.2", "v0.11.3", "v0.12.0-alpha", "v1.0.0",
		"v0.10.3-0.20260801000000-0123456789ab", // branch 0.10 after v0.10.2
		"v0.11.0-alpha.3.0.20260601000000-0123456789ab",
		"(devel)", "", "garbage",
	}
	for _, v := range affected {
		if !puregoAffected(v) {
			t.Errorf("%s: guard says clean, want affected", v)
		}
		if _, err := checkPurego(PuregoInfo{Version: v, Known: true}); !errors.Is(err, ErrAffectedPurego) {
			t.Errorf("%s: checkPurego = %v", v, err)
		}
	}
	for _, v := range clean {
		if puregoAffected(v) {
			t.Errorf("%s: guard says affected, want clean", v)
		}
	}
	if _, err := checkPurego(PuregoInfo{}); err != nil {
		t.Error("an unknown version is refused")
	}
}

// The guard's ranges agree with the classification of every served version's source
// (testdata/purego-scan.txt, written by scripts/verify-purego.sh).
func TestGuardAgreesWithSourceScan(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "purego-scan.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			t.Fatalf("bad line %q", line)
		}
		want := fields[1] == "affected"
		if got := puregoAffected(fields[0]); got != want {
			t.Errorf("%s: source scan says %s, guard says affected=%v", fields[0], fields[1], got)
		}
		n++
	}
	if n < 30 {
		t.Fatalf("only %d versions in the scan", n)
	}
	if puregoAffected(PinnedPuregoVersion) {
		t.Fatalf("the pinned version %s is affected", PinnedPuregoVersion)
	}
}

func TestSemverOrder(t *testing.T) {
	ordered := []string{
		"v0.8.0", "v0.8.1-0.20241017120000-0196f2d00000", "v0.8.1", "v0.9.0-0", "v0.9.0-alpha",
		"v0.9.0-alpha.1", "v0.9.0-alpha.2", "v0.9.0-alpha.10", "v0.9.0-alpha.beta", "v0.9.0-beta",
		"v0.9.0", "v0.10.0", "v0.11.0-alpha.2", "v0.11.0-alpha.2.0.20260520000000-0123456789ab",
		"v0.11.0-alpha.3", "v0.11.0", "v1.0.0",
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := semverCompare(ordered[i], ordered[j]); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	for _, bad := range []string{"", "1.2.3", "v1.2", "v1.2.3-", "v01.2.3", "v1.2.3-a..b", "(devel)"} {
		if isSemver(bad) {
			t.Errorf("%q parsed as semver", bad)
		}
	}
	if !isPseudo("v0.8.1-0.20241017120000-0196f2d00000") || isPseudo("v0.9.0-alpha.10") {
		t.Error("isPseudo")
	}
}

func TestPuregoFromBuildInfo(t *testing.T) {
	other := &debug.Module{Path: "example.com/x", Version: "v0.9.1"}
	cases := []struct {
		deps []*debug.Module
		want PuregoInfo
	}{
		{[]*debug.Module{other, {Path: puregoModule, Version: "v0.11.3"}}, PuregoInfo{Version: "v0.11.3", Known: true}},
		{[]*debug.Module{{Path: puregoModule, Version: "v0.11.3", Replace: &debug.Module{Path: puregoModule, Version: "v0.9.1"}}},
			PuregoInfo{Version: "v0.9.1", Replace: puregoModule + " v0.9.1", Known: true}},
		{[]*debug.Module{{Path: puregoModule, Version: "v0.11.3", Replace: &debug.Module{Path: "../purego"}}},
			PuregoInfo{Replace: "../purego"}},
		{[]*debug.Module{other}, PuregoInfo{}},
	}
	for i, c := range cases {
		if got := puregoFromDeps(c.deps); got != c.want {
			t.Errorf("case %d: %+v, want %+v", i, got, c.want)
		}
	}
	for path, want := range map[string]string{
		"/root/go/pkg/mod/github.com/ebitengine/purego@v0.11.3/syscall.go": "v0.11.3",
		"github.com/ebitengine/purego@v0.9.1/syscall.go":                   "v0.9.1", // -trimpath
		"/src/purego/syscall.go":                                           "",
		"/vendor/github.com/ebitengine/purego/syscall.go":                  "",
	} {
		if got := versionInPath(path); got != want {
			t.Errorf("versionInPath(%s) = %q, want %q", path, got, want)
		}
	}
}

// This binary links the pinned version, and go.mod pins it.
func TestLinkedPuregoIsPinned(t *testing.T) {
	info := LinkedPurego()
	if info.Version != PinnedPuregoVersion || !info.Known {
		t.Errorf("linked purego = %+v, want %s", info, PinnedPuregoVersion)
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^require ` + regexp.QuoteMeta(puregoModule+" "+PinnedPuregoVersion) + `$`).Match(mod) {
		t.Errorf("go.mod does not require %s %s:\n%s", puregoModule, PinnedPuregoVersion, mod)
	}
}

func TestGuardMessage(t *testing.T) {
	msg := (&PuregoVersionError{Version: "v0.9.1"}).Error()
	for _, want := range []string{"refusing to start", "github.com/ebitengine/purego v0.9.1", "purego#451",
		"require github.com/ebitengine/purego " + PinnedPuregoVersion, "go mod tidy"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	msg = (&PuregoVersionError{Version: "v0.9.1", Replace: puregoModule + " v0.9.1"}).Error()
	if !strings.Contains(msg, "remove the replace directive") || !strings.Contains(msg, "replace "+puregoModule+" => "+puregoModule+" v0.9.1") {
		t.Errorf("replace message:\n%s", msg)
	}
}
