package main

import "runtime/debug"

// puregoVersion is the purego module version (and replace target) in the build info: the
// matrix checks it is the cell's version, i.e. that the generated module's replace took effect.
func puregoVersion() (version, replace string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	for _, m := range bi.Deps {
		if m.Path == "github.com/ebitengine/purego" {
			if m.Replace != nil {
				return m.Replace.Version, m.Replace.Path + " " + m.Replace.Version
			}
			return m.Version, ""
		}
	}
	return "", ""
}
