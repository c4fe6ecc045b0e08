// Command workcell is cell type 2 of the concurrent-FFI matrix (docs/FFI-MATRIX.md): W
// goroutines make real gate checks on a spec payload (eval_proj_dcs.json) for T seconds through
// one transport, and every result is compared with the answer computed single-threaded first.
//
// Transports: "naive" (a pointer-returning export registered as func(…) *byte: naive.go),
// "binding" (bindings/go as shipped) and "mutex" (the binding behind one global sync.Mutex).
// With -fault, the library is a fault-injection build of gatehouse-ffi that hands some calls'
// results to other calls; the cell then counts what the binding's integrity check refused and
// what the library says it injected.
//
// One run per process; output lines as internal/cellio describes. Built by cmd/matrix with the
// gatehouse_ffi_matrix build tag, so that the binding's purego guard can be opened for the
// v0.9.1 control (GATEHOUSE_UNSAFE_ALLOW_AFFECTED_PUREGO=matrix-only, set by the matrix).
package main

import (
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebitengine/purego"
	"github.com/gatehouse-dev/gatehouse/tools/ffi-matrix/internal/cellio"
)

// transport is one way of making gate checks.
type transport interface {
	// baseline answers single-threaded; refused counts results the integrity check refused.
	baseline(u, g int) (on bool, refused uint64, err error)
	// check makes call i of worker w and returns "" when the value is want, else the anomaly.
	check(w int, i uint64, u, g int, want bool) (kind, detail string)
	close()
}

func main() {
	name := flag.String("transport", "binding", "naive, binding or mutex")
	lib := flag.String("lib", "", "path of the gatehouse library (for naive: a naive-abi build)")
	specs := flag.String("specs", "", "spec payload (eval_proj_dcs.json)")
	workers := flag.Int("workers", 2, "goroutines")
	seconds := flag.Float64("seconds", 2, "duration of the timed phase")
	nUsers := flag.Int("users", 256, "generated users")
	fault := flag.Bool("fault", false, "the library is a fault-injection build (binding transport only)")
	flag.Parse()
	out := &cellio.Emitter{}
	if err := run(out, *name, *lib, *specs, *workers, *nUsers, *fault, time.Duration(*seconds*float64(time.Second))); err != nil {
		out.Line(map[string]any{"ev": "error", "error": err.Error()})
		os.Exit(1)
	}
}

func run(out *cellio.Emitter, name, lib, specs string, workers, nUsers int, fault bool, d time.Duration) error {
	if lib == "" || specs == "" || workers < 1 || nUsers < 1 || d <= 0 {
		return fmt.Errorf("need -lib, -specs, -workers >= 1, -users >= 1 and -seconds > 0")
	}
	gates, err := gateNames(specs)
	if err != nil {
		return err
	}
	users := genUsers(nUsers)
	start := map[string]any{"ev": "start", "go": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0),
		"transport": name, "users": len(users), "gates": len(gates)}
	var t transport
	switch name {
	case "naive":
		if fault {
			return fmt.Errorf("-fault needs the binding transport")
		}
		n, err := newNaive(lib, specs, users, gates)
		if err != nil {
			return err
		}
		start["lib_version"] = n.version
		t = n
	case "binding", "mutex":
		b, err := newBinding(lib, specs, users, gates, name == "mutex", fault)
		if err != nil {
			return err
		}
		start["lib_version"], start["purego_guard_bypassed"] = b.info.Version, b.info.Purego.GuardBypassed
		t = b
	default:
		return fmt.Errorf("unknown -transport %q", name)
	}
	defer t.close()
	start["purego"], start["purego_replace"] = puregoVersion()

	// The single-threaded answers, and their digest: every cell must get the same one.
	began := time.Now()
	want := make([][]bool, len(users))
	h := fnv.New64a()
	var trues, refused uint64
	for u := range users {
		want[u] = make([]bool, len(gates))
		for g := range gates {
			on, r, err := t.baseline(u, g)
			refused += r
			if err != nil {
				return fmt.Errorf("baseline, user %d, gate %s: %w", u, gates[g], err)
			}
			want[u][g] = on
			b := byte('0')
			if on {
				b, trues = '1', trues+1
			}
			h.Write([]byte{b})
		}
	}
	start["baseline_digest"] = fmt.Sprintf("%016x", h.Sum64())
	start["baseline_true_fraction"] = float64(trues) / float64(len(users)*len(gates))
	start["baseline_ms"] = time.Since(began).Milliseconds()
	start["baseline_refused"] = refused
	out.Line(start)

	st := timed(out, t, want, workers, d)

	var extra map[string]any
	if fault {
		extra = map[string]any{"baseline_refused": refused, "injected": injected(lib)}
	}
	st.Line("done", extra)
	return nil
}

// timed runs the workers for d and returns their counts.
func timed(out *cellio.Emitter, t transport, want [][]bool, workers int, d time.Duration) *cellio.Stats {
	var stop atomic.Bool
	var wg sync.WaitGroup
	st := cellio.NewStats(out)
	nUsers, nGates := uint64(len(want)), uint64(len(want[0]))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := uint64(w)*0x9e3779b97f4a7c15 + 1 // xorshift state, per worker
			var n uint64
			for i := uint64(0); !stop.Load(); i++ {
				r ^= r << 13
				r ^= r >> 7
				r ^= r << 17
				u, g := int(r%nUsers), int((r>>32)%nGates)
				if kind, detail := t.check(w, i, u, g, want[u][g]); kind != "" {
					st.Anomaly(kind, w, detail)
				}
				if n++; n == 256 {
					st.Calls.Add(n)
					n = 0
				}
			}
			st.Calls.Add(n)
		}()
	}
	tick := time.NewTicker(250 * time.Millisecond)
	end := time.After(d)
	for running := true; running; {
		select {
		case <-tick.C:
			st.Line("progress", nil)
		case <-end:
			running = false
		}
	}
	tick.Stop()
	stop.Store(true)
	wg.Wait()
	return st
}

// injected asks a fault-injection build how many results it handed to other calls
// (gatehouse_fault_injected; dlopen of the loaded path returns the same handle).
func injected(lib string) map[string]uint64 {
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil
	}
	fn, err := purego.Dlsym(h, "gatehouse_fault_injected")
	if err != nil {
		return nil
	}
	gate, _, _ := purego.SyscallN(fn, 0)
	js, _, _ := purego.SyscallN(fn, 1)
	return map[string]uint64{"gate": uint64(gate), "json": uint64(js)}
}
