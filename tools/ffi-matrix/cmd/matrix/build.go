package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const (
	puregoModule  = "github.com/ebitengine/purego"
	bindingModule = "github.com/gatehouse-dev/gatehouse/bindings/go"
	toolsModule   = "github.com/gatehouse-dev/gatehouse/tools/ffi-matrix"
)

// programs are the built cell programs of one purego version.
type programs struct {
	tagcell, workcell string // binaries ("" when the build failed)
	tagGo, workGo     string // the toolchain that built each (`go version`)
	tagErr, workErr   string // build errors
}

// goEnv is the environment of every go command here: no cgo (the binding needs none, and the
// race reproduces without it, ffi-race.md §2.2), no workspace, go.sum filled in as needed.
var goEnv = []string{"CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod"}

func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), goEnv...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// goVersion is `go version` of a toolchain (e.g. "go1.26.8 linux/amd64").
func goVersion(goBin string) (string, error) {
	out, err := command("", goBin, "version")
	if err != nil {
		return "", fmt.Errorf("%s version: %v: %s", goBin, err, out)
	}
	return strings.TrimPrefix(out, "go version "), nil
}

// buildTagLib compiles testlib/tag.c.
func buildTagLib(toolDir, outDir string) (string, error) {
	lib := filepath.Join(outDir, "lib", "tag", "libtag.so")
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		return "", err
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if out, err := command("", cc, "-O2", "-shared", "-fPIC", "-Wall", "-o", lib, filepath.Join(toolDir, "testlib", "tag.c")); err != nil {
		return "", fmt.Errorf("%s tag.c: %v: %s", cc, err, out)
	}
	return lib, nil
}

// findSpecs locates eval_proj_dcs.json: the tests/data of the statsig-rust 0.24.0 package
// (the reference core, which the conformance crate depends on), from cargo metadata at the
// workspace root.
func findSpecs(root string) (string, error) {
	cmd := exec.Command("cargo", "metadata", "--format-version", "1")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cargo metadata: %v", err)
	}
	var meta struct {
		Packages []struct {
			Name         string `json:"name"`
			Version      string `json:"version"`
			ManifestPath string `json:"manifest_path"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(out, &meta); err != nil {
		return "", fmt.Errorf("cargo metadata: %v", err)
	}
	for _, p := range meta.Packages {
		if p.Name == "statsig-rust" && p.Version == "0.24.0" {
			path := filepath.Join(filepath.Dir(p.ManifestPath), "tests", "data", "eval_proj_dcs.json")
			if _, err := os.Stat(path); err != nil {
				return "", fmt.Errorf("statsig-rust 0.24.0 is in cargo metadata but %s is missing: %v", path, err)
			}
			return path, nil
		}
	}
	return "", fmt.Errorf("cargo metadata at %s lists no statsig-rust 0.24.0 package", root)
}

// buildPrograms builds both cell programs for one purego version, each in a generated module
// under outDir/mod that selects that version.
func buildPrograms(root, outDir, goBin, tagGoBin, version, pinned string) programs {
	var p programs
	bin := filepath.Join(outDir, "bin", version)
	if err := os.MkdirAll(bin, 0o755); err != nil {
		p.tagErr, p.workErr = err.Error(), err.Error()
		return p
	}
	toolDir := filepath.Join(root, "tools", "ffi-matrix")

	// workcell: built from this module as a dependency of the generated one, so the generated
	// go.mod decides the purego version. The build tag compiles in the binding's guard escape
	// hatch (bindings/go/guard_bypass_matrix.go); the matrix opens it only for affected versions.
	dir := filepath.Join(outDir, "mod", version, "workcell")
	mod := fmt.Sprintf("module ffimatrix.local/workcell\n\ngo 1.25.0\n\nrequire (\n\t%s v0.0.0\n\t%s v0.0.0\n\t%s %s\n)\n\n"+
		"replace %s => %s\n\nreplace %s => %s\n",
		toolsModule, bindingModule, puregoModule, version,
		toolsModule, toolDir, bindingModule, filepath.Join(root, "bindings", "go"))
	if version != pinned {
		// The binding requires the pinned version; only a replace in the main module can select
		// a lower one (Go's minimal version selection).
		mod += fmt.Sprintf("\nreplace %s => %s %s\n", puregoModule, puregoModule, version)
	}
	p.workcell = filepath.Join(bin, "workcell")
	if err := writeModule(dir, mod, nil); err != nil {
		p.workErr = err.Error()
	} else if out, err := command(dir, goBin, "build", "-tags", "gatehouse_ffi_matrix", "-o", p.workcell, toolsModule+"/cmd/workcell"); err != nil {
		p.workErr = fmt.Sprintf("go build: %v: %s", err, out)
	}
	if p.workErr != "" {
		p.workcell = ""
	} else {
		p.workGo, _ = goVersion(goBin)
	}

	// tagcell: self-contained, copied into its own module, so it can also be built by an older
	// toolchain should this purego version not build with goBin.
	p.tagcell = filepath.Join(bin, "tagcell")
	tried := []string{goBin}
	if tagGoBin != "" && tagGoBin != goBin {
		tried = append([]string{tagGoBin}, tried...)
	}
	var errs []string
	for _, g := range tried {
		if err := buildTagcell(toolDir, outDir, g, version, p.tagcell); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		p.tagGo, _ = goVersion(g)
		return p
	}
	p.tagcell, p.tagErr = "", strings.Join(errs, "; ")
	return p
}

func buildTagcell(toolDir, outDir, goBin, version, exe string) error {
	v, err := goVersion(goBin)
	if err != nil {
		return err
	}
	// The go directive is the toolchain's own language version (an older Go cannot read a newer
	// one), except that purego v0.11 needs 1.25.
	lang := strings.TrimPrefix(strings.Fields(v)[0], "go")
	if parts := strings.SplitN(lang, ".", 3); len(parts) >= 2 {
		lang = parts[0] + "." + parts[1]
	}
	dir := filepath.Join(outDir, "mod", version, "tagcell-"+strings.ReplaceAll(lang, ".", "_"))
	src, err := os.ReadFile(filepath.Join(toolDir, "cmd", "tagcell", "main.go"))
	if err != nil {
		return err
	}
	mod := fmt.Sprintf("module ffimatrix.local/tagcell\n\ngo %s\n\nrequire %s %s\n", lang, puregoModule, version)
	if err := writeModule(dir, mod, map[string][]byte{"main.go": src}); err != nil {
		return err
	}
	if out, err := command(dir, goBin, "build", "-o", exe, "."); err != nil {
		return fmt.Errorf("%s build (purego %s): %v: %s", v, version, err, out)
	}
	return nil
}

// writeModule writes a generated module: go.mod (go.sum is regenerated by -mod=mod builds)
// and files.
func writeModule(dir, mod string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
