//go:build gatehouse_ffi_matrix

package gatehouse

import (
	"fmt"
	"os"
	"sync"
)

// The purego guard's test-only escape hatch, compiled in only with the gatehouse_ffi_matrix
// build tag (the concurrent-FFI matrix, tools/ffi-matrix and docs/FFI-MATRIX.md, builds its
// cell programs with it). The matrix has to run this binding on purego v0.9.1, the known-bad
// control, to show the binding is immune there too; everywhere else the guard refuses that
// version. Two keys are needed, so no consumer can bypass the guard by accident: the build tag
// (never set by `go build`/`go test` unless asked for) and the exact environment value below.
// A program without the tag ignores the variable completely (guard_bypass_off.go).

// UnsafeAllowAffectedPuregoEnv is the escape hatch's environment variable; its only accepted
// value is UnsafeAllowAffectedPuregoValue. Effective only in gatehouse_ffi_matrix builds.
const (
	UnsafeAllowAffectedPuregoEnv   = "GATEHOUSE_UNSAFE_ALLOW_AFFECTED_PUREGO"
	UnsafeAllowAffectedPuregoValue = "matrix-only"
)

var bypassWarning sync.Once

// matrixBypass reports whether the escape hatch is open, warning on stderr (once) when it is.
func matrixBypass() bool {
	if os.Getenv(UnsafeAllowAffectedPuregoEnv) != UnsafeAllowAffectedPuregoValue {
		return false
	}
	bypassWarning.Do(func() {
		fmt.Fprintf(os.Stderr, "gatehouse: WARNING: purego version guard bypassed (%s=%s, build tag "+
			"gatehouse_ffi_matrix): test-only, for the concurrent-FFI matrix\n",
			UnsafeAllowAffectedPuregoEnv, UnsafeAllowAffectedPuregoValue)
	})
	return true
}
