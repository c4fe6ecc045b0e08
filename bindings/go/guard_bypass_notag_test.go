//go:build !gatehouse_ffi_matrix

package gatehouse

const matrixBuild = false
