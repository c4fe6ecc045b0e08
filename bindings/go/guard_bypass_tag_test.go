//go:build gatehouse_ffi_matrix

package gatehouse

import "testing"

const matrixBuild = true

// The tagged file's names are the ones the matrix and this package's tests use.
func TestGuardEscapeHatchNames(t *testing.T) {
	if UnsafeAllowAffectedPuregoEnv != bypassEnv || UnsafeAllowAffectedPuregoValue != "matrix-only" {
		t.Errorf("escape hatch %s=%s", UnsafeAllowAffectedPuregoEnv, UnsafeAllowAffectedPuregoValue)
	}
}
