package gatehouse

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ebitengine/purego"
)

// Benchmarks. Same loop as the conformance crate's bench-compare (docs/BENCHMARKS.md): call i of
// goroutine t uses user (i + 7919·t) mod N and entity i mod E (the kind's entities sorted by
// name, segment gates included); users are built before timing; no exposure logging; the
// reference package's country table when found.
//
//	GATEHOUSE_BENCH_SPECS  specs file (default: eval_proj_dcs.json if found, else examples/specs.json)
//	GATEHOUSE_BENCH_USERS  users, JSON lines (default: 1000 generated users); bench-compare's own
//	                       users come from `gen-users --specs FILE --seed 1 --count 1000`
//
// go test -run '^$' -bench CheckGate -cpu 1,2

type benchEnv struct {
	client   *Client
	users    []*User
	entities map[string][]string
	specs    string
	source   string
}

var (
	benchOnce sync.Once
	benchData *benchEnv
	benchErr  string
)

func countryTable() string {
	p := evalProjSpecs()
	if p == "" {
		return ""
	}
	// …/statsig-rust-0.24.0/tests/data/eval_proj_dcs.json → …/statsig-rust-0.24.0/resources/
	t := filepath.Join(filepath.Dir(p), "..", "..", "resources", "ip_supalite.table")
	if _, err := os.Stat(t); err != nil {
		return ""
	}
	return t
}

func setupBench(b *testing.B) *benchEnv {
	benchOnce.Do(func() {
		specs := os.Getenv("GATEHOUSE_BENCH_SPECS")
		if specs == "" {
			specs = evalProjSpecs()
		}
		if specs == "" {
			specs = filepath.Join(examplesDir(b), "specs.json")
		}
		o := Options{SpecsFile: specs, DisableSync: true, CountryTableFile: countryTable()}
		c, err := NewClient(o)
		if err == nil {
			err = c.Initialize()
		}
		if err != nil {
			benchErr = err.Error()
			return
		}
		var lines []string
		source := "1000 generated users"
		if p := os.Getenv("GATEHOUSE_BENCH_USERS"); p != "" {
			f, err := os.Open(p)
			if err != nil {
				benchErr = err.Error()
				return
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				if l := strings.TrimSpace(sc.Text()); l != "" {
					lines = append(lines, l)
				}
			}
			f.Close()
			source = p
		} else {
			lines = genUsers(1000, 1)
		}
		env := &benchEnv{client: c, specs: specs, source: source, entities: map[string][]string{}}
		for _, js := range lines {
			u, err := NewUserFromJSON([]byte(js))
			if err != nil {
				benchErr = err.Error()
				return
			}
			env.users = append(env.users, u)
		}
		for _, e := range specEntitiesWith(b, specs, true) {
			env.entities[e.kind] = append(env.entities[e.kind], e.name)
		}
		benchData = env
		b.Logf("specs %s, users: %s", specs, source)
	})
	if benchData == nil {
		b.Fatal(benchErr)
	}
	return benchData
}

// runParallel runs call(user, entity) in the bench-compare loop on b.RunParallel's goroutines.
func runParallel(b *testing.B, kind string, call func(c *Client, u *User, name string) error) {
	env := setupBench(b)
	names := env.entities[kind]
	if len(names) == 0 {
		b.Skipf("no %s in %s", kind, env.specs)
	}
	var nextT atomic.Int64
	var failed atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		t := int(nextT.Add(1) - 1)
		n := len(env.users)
		for i := 0; pb.Next(); i++ {
			if err := call(env.client, env.users[(i+7919*t)%n], names[i%len(names)]); err != nil {
				failed.Store(err)
				return
			}
		}
	})
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkCheckGate(b *testing.B) {
	runParallel(b, "gate", func(c *Client, u *User, name string) error {
		_, err := c.CheckGate(u, name)
		return err
	})
}

func BenchmarkGetFeatureGate(b *testing.B) {
	runParallel(b, "gate", func(c *Client, u *User, name string) error {
		_, err := c.GetFeatureGate(u, name)
		return err
	})
}

func BenchmarkGetExperiment(b *testing.B) {
	runParallel(b, "experiment", func(c *Client, u *User, name string) error {
		_, err := c.GetExperiment(u, name)
		return err
	})
}

func BenchmarkGetLayer(b *testing.B) {
	runParallel(b, "layer", func(c *Client, u *User, name string) error {
		_, err := c.GetLayer(u, name)
		return err
	})
}

// BenchmarkCallOverhead: the cost of one foreign call without evaluation (gatehouse_abi_version)
// through purego.SyscallN, as this package calls, and through a RegisterFunc'd func() uint32 —
// why the package calls through SyscallN.
func BenchmarkCallOverhead(b *testing.B) {
	l, err := lib()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("SyscallN", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if l.callABIVersion() != ABIVersion {
				b.Fatal("abi")
			}
		}
	})
	b.Run("RegisterFunc", func(b *testing.B) {
		var abi func() uint32 // an integer result: not a race victim
		purego.RegisterFunc(&abi, l.abiVersion)
		b.ReportAllocs()
		for b.Loop() {
			if abi() != ABIVersion {
				b.Fatal("abi")
			}
		}
	})
}
