package gatehouse

import (
	"errors"
	"testing"
)

// The escape hatch's environment variable, as guard_bypass_matrix.go names it (that file is
// compiled only with the gatehouse_ffi_matrix tag, so the name is repeated here).
const bypassEnv = "GATEHOUSE_UNSAFE_ALLOW_AFFECTED_PUREGO"

// In a build with the gatehouse_ffi_matrix tag the hatch opens for exactly "matrix-only"; in
// any other build it never opens, whatever the variable says. scripts/test.sh runs this test
// both ways.
func TestGuardEscapeHatch(t *testing.T) {
	affected := PuregoInfo{Version: "v0.9.1", Replace: puregoModule + " v0.9.1", Known: true}
	for _, value := range []string{"", "1", "true", "matrix", "MATRIX-ONLY", " matrix-only", "matrix-only"} {
		t.Setenv(bypassEnv, value)
		info, err := checkPurego(affected)
		open := matrixBuild && value == "matrix-only"
		if open {
			if err != nil || !info.GuardBypassed {
				t.Errorf("%s=%q in a matrix build: %+v, %v; want the version let through", bypassEnv, value, info, err)
			}
			continue
		}
		if !errors.Is(err, ErrAffectedPurego) || info.GuardBypassed {
			t.Errorf("%s=%q (matrix build: %v): %+v, %v; want the guard's refusal", bypassEnv, value, matrixBuild, info, err)
		}
	}
	// A clean version is never marked as bypassed.
	t.Setenv(bypassEnv, "matrix-only")
	if info, err := checkPurego(PuregoInfo{Version: PinnedPuregoVersion, Known: true}); err != nil || info.GuardBypassed {
		t.Errorf("pinned version: %+v, %v", info, err)
	}
}
