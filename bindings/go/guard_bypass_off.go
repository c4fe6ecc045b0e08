//go:build !gatehouse_ffi_matrix

package gatehouse

// Without the gatehouse_ffi_matrix build tag (every normal build) the purego guard has no
// escape hatch: GATEHOUSE_UNSAFE_ALLOW_AFFECTED_PUREGO is never read. See guard_bypass_matrix.go.
func matrixBypass() bool { return false }
