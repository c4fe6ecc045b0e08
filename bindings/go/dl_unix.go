//go:build (darwin || freebsd || linux || netbsd) && !android

package gatehouse

import "github.com/ebitengine/purego"

func platformSupported() error { return nil }

// dlopen opens a library with RTLD_NOW|RTLD_GLOBAL: every symbol is resolved at load, so a
// broken library fails here rather than at its first call.
func dlopen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

func dlsym(h uintptr, name string) (uintptr, error) { return purego.Dlsym(h, name) }

func dlclose(h uintptr) { _ = purego.Dlclose(h) }
