//go:build !((darwin || freebsd || linux || netbsd) && !android)

package gatehouse

import (
	"errors"
	"runtime"
)

func platformSupported() error {
	return errors.New("gatehouse's Go binding supports linux, darwin, freebsd and netbsd; this is " + runtime.GOOS)
}

func dlopen(string) (uintptr, error)         { return 0, platformSupported() }
func dlsym(uintptr, string) (uintptr, error) { return 0, platformSupported() }
func dlclose(uintptr)                        {}
