// Command matrix runs the concurrent-FFI test matrix (docs/FFI-MATRIX.md; issue 7): the purego
// return-value race (ebitengine/purego#451, ffi-race.md) reproduced on the known-bad control,
// detected by fault injection, and ruled out for the gatehouse Go binding, across purego
// versions, transports and worker counts. Each run of each cell is a child process, so a crash
// is counted, not fatal.
//
// Run it through tools/ffi-matrix/run.sh (which builds the libraries first):
//
//	tools/ffi-matrix/run.sh --short   # CI: workers {2,8,32} × 2 s × 1 run
//	tools/ffi-matrix/run.sh --long    # workers {1,2,4,8,32} × 30 s × 5 runs
//
// It writes matrix.md and matrix.json into -out and exits 1 when a CI condition fails
// (conditions.go). `matrix -rerender <dir>/matrix.json` rebuilds the report from recorded runs.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type config struct {
	Preset         string   `json:"preset"`
	Versions       []string `json:"purego_versions"`
	Pinned         string   `json:"pinned"`
	Workers        []int    `json:"workers"`
	FaultWorkers   []int    `json:"fault_workers"`
	Runs           int      `json:"runs"`
	Seconds        float64  `json:"seconds_per_run"`
	Cells          []string `json:"cell_types"`
	SyscallNAll    bool     `json:"syscalln_on_every_version"`
	FaultEvery     int      `json:"fault_every"`
	RequireControl bool     `json:"require_control"`
	Specs          string   `json:"specs"`
	ProductLib     string   `json:"product_lib"`
	NaiveLib       string   `json:"naive_lib"`
	FaultLib       string   `json:"fault_lib"`

	root, out, goBin, tagGo string
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-rerender" {
		if err := rerender(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "matrix:", err)
			os.Exit(2)
		}
		return
	}
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(2)
	}
	ok, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	preset := fs.String("preset", "short", "short (CI) or long; the flags below override it")
	workers := fs.String("workers", "", "worker counts, e.g. 1,2,4,8,32")
	faultWorkers := fs.String("fault-workers", "", "worker counts of the fault-injection cells")
	runs := fs.Int("runs", 0, "runs per cell")
	seconds := fs.Float64("seconds", 0, "seconds per run")
	versions := fs.String("versions", "v0.11.3,v0.8.0,v0.9.1", "purego versions (the first is the pinned one)")
	cells := fs.String("cells", "dispatch,workload,fault", "cell types to run")
	syscallnAll := fs.Bool("syscalln-all", false, "dispatch cells through SyscallN on every version (default: the affected ones)")
	faultEvery := fs.Int("fault-every", 1000, "the fault-injection build deposits one result in this many calls")
	requireControl := fs.String("require-control", "", "true: fail unless the naive shape reproduces on an affected version (default: true for long)")
	root := fs.String("root", "", "the gatehouse repository (default: ../.. from the working directory tools/ffi-matrix)")
	out := fs.String("out", "", "output directory (default <root>/target/ffi-matrix)")
	specs := fs.String("specs", "", "spec payload (default: eval_proj_dcs.json of statsig-rust 0.24.0, via cargo metadata)")
	productLib := fs.String("product-lib", "", "the product library (default <root>/target/release/libgatehouse_ffi.so)")
	naiveLib := fs.String("naive-lib", "", "a naive-abi build (default <out>/lib/naive/libgatehouse_ffi.so)")
	faultLib := fs.String("fault-lib", "", "a fault-injection build (default <out>/lib/fault/libgatehouse_ffi.so)")
	goBin := fs.String("go", "go", "the Go toolchain for the cell programs")
	tagGo := fs.String("tag-go", "", "another Go toolchain to build the dispatch cells with (e.g. Debian's /usr/lib/go-1.19/bin/go); the main one is the fallback")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c := &config{Preset: *preset, FaultEvery: *faultEvery, SyscallNAll: *syscallnAll, goBin: *goBin, tagGo: *tagGo}
	switch *preset {
	case "short":
		c.Workers, c.FaultWorkers, c.Runs, c.Seconds = []int{2, 8, 32}, []int{8}, 1, 2
	case "long":
		c.Workers, c.FaultWorkers, c.Runs, c.Seconds, c.RequireControl = []int{1, 2, 4, 8, 32}, []int{2, 8, 32}, 5, 30, true
	default:
		return nil, fmt.Errorf("-preset %q: want short or long", *preset)
	}
	var err error
	if *workers != "" {
		if c.Workers, err = intList(*workers); err != nil {
			return nil, err
		}
	}
	if *faultWorkers != "" {
		if c.FaultWorkers, err = intList(*faultWorkers); err != nil {
			return nil, err
		}
	}
	if *runs > 0 {
		c.Runs = *runs
	}
	if *seconds > 0 {
		c.Seconds = *seconds
	}
	if *requireControl != "" {
		if c.RequireControl, err = strconv.ParseBool(*requireControl); err != nil {
			return nil, fmt.Errorf("-require-control: %v", err)
		}
	}
	c.Versions = strings.Split(*versions, ",")
	c.Pinned = c.Versions[0]
	c.Cells = strings.Split(*cells, ",")
	for _, t := range c.Cells {
		if t != typeDispatch && t != typeWorkload && t != typeFault {
			return nil, fmt.Errorf("-cells: unknown cell type %q", t)
		}
	}
	if c.root = *root; c.root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		c.root = filepath.Join(wd, "..", "..")
	}
	if c.root, err = filepath.Abs(c.root); err != nil {
		return nil, err
	}
	if c.out = *out; c.out == "" {
		c.out = filepath.Join(c.root, "target", "ffi-matrix")
	}
	// Absolute: cell programs are built with `go build -o` from generated module directories,
	// and a relative path would land there instead.
	if c.out, err = filepath.Abs(c.out); err != nil {
		return nil, err
	}
	c.Specs, c.ProductLib, c.NaiveLib, c.FaultLib = *specs, *productLib, *naiveLib, *faultLib
	def := func(p *string, path string) {
		if *p == "" {
			*p = path
		}
	}
	def(&c.ProductLib, filepath.Join(c.root, "target", "release", "libgatehouse_ffi.so"))
	def(&c.NaiveLib, filepath.Join(c.out, "lib", "naive", "libgatehouse_ffi.so"))
	def(&c.FaultLib, filepath.Join(c.out, "lib", "fault", "libgatehouse_ffi.so"))
	return c, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q in %q", f, s)
		}
		out = append(out, n)
	}
	return out, nil
}

func (c *config) has(typ string) bool {
	for _, t := range c.Cells {
		if t == typ {
			return true
		}
	}
	return false
}

// run builds, runs every cell, writes the report and evaluates the conditions.
func run(c *config) (bool, error) {
	began := time.Now()
	scan, err := readScan(filepath.Join(c.root, "bindings", "go", "testdata", "purego-scan.txt"))
	if err != nil {
		return false, err
	}
	for _, v := range c.Versions {
		if _, ok := scan[v]; !ok {
			return false, fmt.Errorf("purego %s is not in bindings/go/testdata/purego-scan.txt (run bindings/go/scripts/verify-purego.sh)", v)
		}
	}
	for _, lib := range []string{c.ProductLib, c.NaiveLib, c.FaultLib} {
		if _, err := os.Stat(lib); err != nil {
			return false, fmt.Errorf("%v (tools/ffi-matrix/run.sh builds the libraries)", err)
		}
	}
	if c.Specs == "" {
		if c.Specs, err = findSpecs(c.root); err != nil {
			return false, err
		}
	}
	tagLib, err := buildTagLib(filepath.Join(c.root, "tools", "ffi-matrix"), c.out)
	if err != nil {
		return false, err
	}
	fmt.Printf("== building the cell programs (%s)\n", c.goBin)
	progs := map[string]programs{}
	for _, v := range c.Versions {
		p := buildPrograms(c.root, c.out, c.goBin, c.tagGo, v, c.Pinned)
		progs[v] = p
		fmt.Printf("purego %-8s workcell: %s  tagcell: %s\n", v, builtBy(p.workGo, p.workErr), builtBy(p.tagGo, p.tagErr))
	}

	cells := plan(c, scan)
	fmt.Printf("== running %d cells (%d run(s) × %gs each)\n", len(cells), c.Runs, c.Seconds)
	for i, cl := range cells {
		runCell(c, cl, progs[cl.Purego], tagLib)
		fmt.Printf("[%d/%d] %-40s %s\n", i+1, len(cells), cl.name(), summary(cl))
	}
	conds := conditions(c, cells)
	rep := report{Config: c, Cells: cells, Conditions: conds, Started: began.UTC().Format(time.RFC3339),
		DurationSeconds: time.Since(began).Seconds(), Host: hostInfo(c)}
	rep.OK = allOK(conds)
	md, err := rep.write(c.out)
	if err != nil {
		return false, err
	}
	fmt.Println()
	fmt.Print(md)
	fmt.Printf("\nwrote %s and %s\n", filepath.Join(c.out, "matrix.md"), filepath.Join(c.out, "matrix.json"))
	// One line per condition, in a fixed form that .ci/run's closing count reads (required
	// conditions count as passed or failed tests; a condition only reported is a NOTE).
	for _, cond := range conds {
		switch {
		case !cond.Required:
			fmt.Printf("ffi-matrix: NOTE (reported only) %s: met=%v\n", cond.Name, cond.OK)
		case cond.OK:
			fmt.Printf("ffi-matrix: PASS %s\n", cond.Name)
		default:
			fmt.Printf("ffi-matrix: FAIL %s\n", cond.Name)
		}
	}
	return rep.OK, nil
}

func builtBy(goV, err string) string {
	if err != "" {
		return "NOT BUILT (" + firstLine(err) + ")"
	}
	return goV
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// plan lists the cells.
func plan(c *config, scan map[string]bool) []*cell {
	var cells []*cell
	add := func(typ, v, transport string, w int) {
		cells = append(cells, &cell{Type: typ, Purego: v, Affected: scan[v], Transport: transport, Workers: w,
			Runs: c.Runs, Seconds: c.Seconds, Expect: expectation(typ, transport, scan[v])})
	}
	for _, v := range c.Versions {
		if c.has(typeDispatch) {
			for _, w := range c.Workers {
				add(typeDispatch, v, "naive", w)
			}
			if c.SyscallNAll || scan[v] {
				for _, w := range c.Workers {
					add(typeDispatch, v, "syscalln", w)
				}
			}
		}
		if c.has(typeWorkload) {
			for _, t := range []string{"naive", "binding", "mutex"} {
				for _, w := range c.Workers {
					add(typeWorkload, v, t, w)
				}
			}
		}
		if c.has(typeFault) {
			for _, w := range c.FaultWorkers {
				add(typeFault, v, "binding", w)
			}
		}
	}
	return cells
}

// runCell runs a cell's runs, one child process each.
func runCell(c *config, cl *cell, p programs, tagLib string) {
	secs := strconv.FormatFloat(c.Seconds, 'f', -1, 64)
	w := strconv.Itoa(cl.Workers)
	var bin string
	var args, env []string
	switch cl.Type {
	case typeDispatch:
		bin, cl.BuildError, cl.Go = p.tagcell, p.tagErr, p.tagGo
		kind := "ptr"
		if cl.Transport == "syscalln" {
			kind = "syscalln"
		}
		args = []string{"-lib", tagLib, "-kind", kind, "-workers", w, "-seconds", secs}
	default:
		bin, cl.BuildError, cl.Go = p.workcell, p.workErr, p.workGo
		lib := c.ProductLib
		switch {
		case cl.Transport == "naive":
			lib = c.NaiveLib
		case cl.Type == typeFault:
			lib = c.FaultLib
		}
		args = []string{"-transport", cl.Transport, "-lib", lib, "-specs", c.Specs, "-workers", w, "-seconds", secs}
		if cl.Type == typeFault {
			args = append(args, "-fault")
			env = append(env, "GATEHOUSE_FAULT_EVERY="+strconv.Itoa(c.FaultEvery))
		}
		if cl.Transport != "naive" && cl.Affected {
			// The binding refuses an affected purego; the test-only escape hatch (compiled in by
			// the gatehouse_ffi_matrix build tag) is opened for these cells only.
			env = append(env, "GATEHOUSE_UNSAFE_ALLOW_AFFECTED_PUREGO=matrix-only")
		}
	}
	if bin != "" {
		timeout := time.Duration(c.Seconds*float64(time.Second)) + 2*time.Minute
		for range c.Runs {
			cl.RunResults = append(cl.RunResults, runChild(bin, args, env, timeout))
		}
	}
	cl.aggregate()
}

func summary(cl *cell) string {
	return fmt.Sprintf("%s calls, %s ops/s, mismatches %s, crashes %d: %s",
		human(float64(cl.Calls)), human(cl.OpsPerSec), kindsText(cl.Mismatches), cl.Crashes, cl.Verdict)
}

// human is 1234567 → "1.23M".
func human(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

// rerender rebuilds the report from a matrix.json (re-aggregating its runs and re-evaluating the
// conditions), e.g. after a change to the report's layout, without running anything again.
func rerender(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if r.Config == nil {
		return fmt.Errorf("%s: no config", path)
	}
	for _, cl := range r.Cells {
		cl.aggregate()
	}
	r.Conditions = conditions(r.Config, r.Cells)
	r.OK = allOK(r.Conditions)
	md, err := r.write(filepath.Dir(path))
	if err != nil {
		return err
	}
	fmt.Print(md)
	return nil
}
