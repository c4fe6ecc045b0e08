package gatehouse

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const consumerMain = `package main

import (
	"fmt"
	"os"

	gatehouse "github.com/gatehouse-dev/gatehouse/bindings/go"
)

func main() {
	client, err := gatehouse.NewClient(gatehouse.Options{SpecsFile: os.Args[1]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer client.Shutdown()
	if err := client.Initialize(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	user, err := gatehouse.NewUserBuilder().WithUserID("u_1001_maya").WithEmail("maya.chen@harborgoods.com").Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer user.Close()
	on, err := client.CheckGate(user, "employees")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("employees=%v purego=%s\n", on, gatehouse.LinkedPurego().Version)
}
`

// TestConsumerModule builds and runs a throwaway module that requires this one through a
// `replace` to the local path, as a newcomer would (README.md), with no GATEHOUSE_LIB: the
// library is found in this checkout's target/release. Then it tries the two ways a consumer
// could ask for purego v0.9.1:
//
//   - `require github.com/ebitengine/purego v0.9.1`: minimal version selection keeps this
//     module's v0.11.3 (a consumer's require cannot lower a dependency's), so it runs;
//   - `replace github.com/ebitengine/purego => github.com/ebitengine/purego v0.9.1` (the only
//     way to select a version below this module's requirement): it builds, and refuses to start
//     with the guard's error, also with GATEHOUSE_UNSAFE_ALLOW_AFFECTED_PUREGO=matrix-only set;
//     built with -tags gatehouse_ffi_matrix, it runs only with that exact value (the test-only
//     escape hatch of tools/ffi-matrix).
func TestConsumerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three modules (about a minute); skipped with -short")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	root := repoRoot(t)
	specs := filepath.Join(root, "examples", "specs.json")
	binding := filepath.Join(root, "bindings", "go")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GATEHOUSE_LIB=", "GOWORK=off")
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	setup := func(extra string, tidy bool) {
		t.Helper()
		mod := "module example.com/consumer\n\ngo 1.25.0\n\n" +
			"require github.com/gatehouse-dev/gatehouse/bindings/go v0.0.0\n\n" +
			"replace github.com/gatehouse-dev/gatehouse/bindings/go => " + binding + "\n" + extra
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
			t.Fatal(err)
		}
		if tidy {
			if out, err := run(goBin, "mod", "tidy"); err != nil {
				t.Fatalf("go mod tidy: %v\n%s\ngo.mod:\n%s", err, out, mod)
			}
		}
		if out, err := run(goBin, "build", "-o", "consumer", "."); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	exe := filepath.Join(dir, "consumer")

	// 1. The plain consumer.
	setup("", true)
	out, err := run(exe, specs)
	if err != nil || !strings.Contains(out, "employees=true purego="+PinnedPuregoVersion) {
		t.Fatalf("consumer: %v\n%s", err, out)
	}
	t.Logf("consumer: %s", strings.TrimSpace(out))

	// 2. require v0.9.1: MVS selects the binding's v0.11.3.
	// (No tidy: the go.mod keeps the line as written; go build -mod=mod resolves it.)
	setup("\nrequire github.com/ebitengine/purego v0.9.1\n", false)
	out, err = run(exe, specs)
	if err != nil || !strings.Contains(out, "purego="+PinnedPuregoVersion) {
		t.Fatalf("consumer requiring purego v0.9.1: %v\n%s", err, out)
	}
	if v, _ := run(goBin, "list", "-m", "-f", "{{.Version}}", "github.com/ebitengine/purego"); strings.TrimSpace(v) != PinnedPuregoVersion {
		t.Errorf("selected purego %q", v)
	}
	t.Logf("consumer with `require purego v0.9.1`: %s", strings.TrimSpace(out))

	// 3. replace => v0.9.1: the guard refuses to start — even with the matrix's escape-hatch
	// variable set, which a build without the gatehouse_ffi_matrix tag never reads.
	setup("\nreplace github.com/ebitengine/purego => github.com/ebitengine/purego v0.9.1\n", true)
	env = append(env, bypassEnv+"=matrix-only")
	out, err = run(exe, specs)
	if err == nil {
		t.Fatalf("consumer on purego v0.9.1 started:\n%s", out)
	}
	for _, want := range []string{
		"refusing to start", "github.com/ebitengine/purego v0.9.1", "purego#451",
		"require github.com/ebitengine/purego " + PinnedPuregoVersion, "remove the replace directive",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the guard's message lacks %q:\n%s", want, out)
		}
	}
	t.Logf("consumer with `replace purego => v0.9.1`: %s", strings.TrimSpace(out))

	// 4. The same module built with -tags gatehouse_ffi_matrix (as tools/ffi-matrix builds its
	// cells): still refused without the variable's exact value, let through with it.
	if out, err := run(goBin, "build", "-tags", "gatehouse_ffi_matrix", "-o", "consumer", "."); err != nil {
		t.Fatalf("go build -tags gatehouse_ffi_matrix: %v\n%s", err, out)
	}
	env[len(env)-1] = bypassEnv + "=yes"
	if out, err := run(exe, specs); err == nil || !strings.Contains(out, "refusing to start") {
		t.Errorf("matrix build with %s=yes: %v\n%s", bypassEnv, err, out)
	}
	env[len(env)-1] = bypassEnv + "=matrix-only"
	out, err = run(exe, specs)
	if err != nil || !strings.Contains(out, "employees=true purego=v0.9.1") || !strings.Contains(out, "guard bypassed") {
		t.Errorf("matrix build with %s=matrix-only: %v\n%s", bypassEnv, err, out)
	}
}
