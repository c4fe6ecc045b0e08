package gatehouse

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentIntegrity: 64 goroutines, each with its own users, evaluate every kind of entity
// (typed CheckGate and the four JSON results, layer parameters with exposure logging on for half
// the calls) and compare every result with the answer computed single-threaded beforehand. Around
// them: throwaway users created, used and closed mid-run (some left to the GC cleanup), and a
// goroutine swapping override snapshots (on a name no worker checks). Any difference — or any
// error, including ErrResultMismatch — fails the test.
func TestConcurrentIntegrity(t *testing.T) {
	specs := []struct {
		name string
		opts Options
	}{{"examples", exampleOptions(t)}}
	if p := evalProjSpecs(); p != "" {
		specs = append(specs, struct {
			name string
			opts Options
		}{"eval_proj", Options{SpecsFile: p, DisableSync: true}})
	} else {
		t.Log("eval_proj_dcs.json not found (set GATEHOUSE_EVAL_PROJ): examples only")
	}
	for _, sp := range specs {
		t.Run(sp.name, func(t *testing.T) { integrity(t, sp.opts) })
	}
}

func integrity(t *testing.T, opts Options) {
	const goroutines = 64
	const usersPer = 4
	opts.Events = &EventOptions{File: filepath.Join(t.TempDir(), "events.ndjson"), FlushInterval: 50 * time.Millisecond}
	c := newClient(t, opts)
	entities := specEntities(t, opts.SpecsFile)
	// About 64 × 4 × 500 entity evaluations per spec file (a tenth with -short).
	rounds := max(2, 500/len(entities))
	if testing.Short() {
		rounds = max(1, rounds/10)
	}
	userJSON := append(exampleUsers(t), genUsers(goroutines*usersPer, 7)...)
	userJSON = userJSON[:goroutines*usersPer] // distinct users, usersPer per goroutine
	users := make([]*User, len(userJSON))
	for i, js := range userJSON {
		users[i] = mustUser(t, js)
	}
	defer func() {
		for _, u := range users {
			u.Close()
		}
	}()

	// The answers, single-threaded, exposure logging off.
	quiet := &EvaluationOptions{DisableExposureLogging: true}
	want := make([][]string, len(users))
	wantGate := make([][]bool, len(users))
	for i, u := range users {
		want[i] = make([]string, len(entities))
		wantGate[i] = make([]bool, len(entities))
		for j, e := range entities {
			a, err := answer(c, u, e, quiet)
			if err != nil {
				t.Fatal(err)
			}
			want[i][j] = a
			if e.kind == "gate" {
				if wantGate[i][j], err = c.CheckGateWithOptions(u, e.name, quiet); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	var calls, failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Add(1)
	go func() { // override snapshot swaps under the workers
		defer churn.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.OverrideGate("__churn_gate__", i%2 == 0, ""); err != nil {
				fail("override: %v", err)
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()

	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 42))
			<-start
			for round := range rounds {
				for k := range usersPer {
					ui := g*usersPer + k
					u := users[ui]
					for _, j := range r.Perm(len(entities)) {
						e := entities[j]
						var o *EvaluationOptions
						if r.IntN(2) == 0 {
							o = quiet
						}
						got, err := answer(c, u, e, o)
						calls.Add(1)
						if err != nil {
							fail("goroutine %d %s %s: %v", g, e.kind, e.name, err)
							continue
						}
						if got != want[ui][j] {
							fail("goroutine %d user %d %s %s:\n got %s\nwant %s", g, ui, e.kind, e.name, got, want[ui][j])
						}
						switch e.kind {
						case "gate":
							on, err := c.CheckGateWithOptions(u, e.name, o)
							calls.Add(1)
							if err != nil || on != wantGate[ui][j] {
								fail("goroutine %d user %d CheckGate %s = %v, %v; want %v", g, ui, e.name, on, err, wantGate[ui][j])
							}
						case "layer":
							l, err := c.GetLayerWithOptions(u, e.name, o)
							calls.Add(1)
							if err != nil {
								fail("GetLayer: %v", err)
								continue
							}
							for _, p := range l.Keys() {
								v, err := l.Get(p) // logs the parameter exposure when o is nil
								calls.Add(1)
								wv, _ := json.Marshal(l.values[p])
								gv, _ := json.Marshal(v)
								if err != nil || string(gv) != string(wv) {
									fail("layer %s.%s = %s, %v", e.name, p, gv, err)
								}
							}
						}
					}
				}
				// A throwaway user with the same JSON as one of ours: same answers.
				ui := g*usersPer + round%usersPer
				tmp, err := NewUserFromJSON([]byte(userJSON[ui]))
				if err != nil {
					fail("throwaway user: %v", err)
					continue
				}
				for j, e := range entities {
					if e.kind != "gate" {
						continue
					}
					on, err := c.CheckGate(tmp, e.name)
					calls.Add(1)
					if err != nil || on != wantGate[ui][j] {
						fail("throwaway user %d %s = %v, %v", ui, e.name, on, err)
					}
				}
				if round%2 == 0 {
					tmp.Close()
				} // else: released by the GC cleanup
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	close(stop)
	churn.Wait()
	if err := c.Flush(); err != nil {
		t.Errorf("Flush: %v", err)
	}
	ct, err := c.Counters()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d users, %d entities, %d calls in %v from %d goroutines; %d failures; exposures queued %d, events sent %d",
		len(users), len(entities), calls.Load(), time.Since(began).Round(time.Millisecond), goroutines,
		failures.Load(), ct.ExposuresQueued, ct.EventsSent)
	if ct.ExposuresQueued == 0 {
		t.Error("no exposure was logged: the logging path was not exercised")
	}
	if failures.Load() > 0 {
		t.Fatal(fmt.Sprintf("%d failures", failures.Load()))
	}
}
