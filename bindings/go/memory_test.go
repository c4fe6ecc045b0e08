package gatehouse

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmRSSKiB reads VmRSS from /proc/self/status.
func vmRSSKiB(t testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("VmRSS not found")
	return 0
}

func settle() {
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // let cleanups release their handles
	}
}

// TestMemoryMillionUsers makes 1,000,000 calls, each with a new user (built, evaluated, then
// closed — every fourth one left to the GC cleanup instead), on two goroutines, with exposure
// logging on for a tenth of the calls, and bounds the growth of resident memory after warm-up.
// -short: 100,000 calls.
func TestMemoryMillionUsers(t *testing.T) {
	total := 1_000_000
	if testing.Short() {
		total = 100_000
	}
	const warmup = 50_000
	const boundKiB = 48 << 10     // 48 MiB
	const halfBoundKiB = 16 << 10 // 16 MiB
	o := exampleOptions(t)
	o.Events = &EventOptions{File: os.DevNull, MaxQueue: 10_000}
	o.DedupeMaxKeys = 10_000
	c := newClient(t, o)
	gates := gatesOf(specEntities(t, o.SpecsFile))
	quiet := &EvaluationOptions{DisableExposureLogging: true}

	run := func(from, to int) {
		var wg sync.WaitGroup
		const workers = 2
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := NewUserBuilder()
				for i := from + w; i < to; i += workers {
					u, err := b.WithUserID("mem-user-" + strconv.Itoa(i)).
						WithEmail(fmt.Sprintf("u%d@example.org", i)).
						WithCustom(map[string]any{"plan": "Pro", "n": i}).Build()
					if err != nil {
						t.Error(err)
						return
					}
					opt := quiet
					if i%10 == 0 {
						opt = nil
					}
					if _, err := c.CheckGateWithOptions(u, gates[i%len(gates)], opt); err != nil {
						t.Error(err)
						return
					}
					if i%4 != 0 {
						u.Close()
					}
				}
			}()
		}
		wg.Wait()
	}

	began := time.Now()
	run(0, warmup)
	settle()
	before := vmRSSKiB(t)
	mid := (warmup + total) / 2
	run(warmup, mid)
	settle()
	middle := vmRSSKiB(t)
	run(mid, total)
	settle()
	after := vmRSSKiB(t)
	ct, err := c.Counters()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls with a new user each in %v: VmRSS %d kB after %d-call warm-up, %d kB half-way, %d kB at the end (%+d kB; bound %d kB; second half %+d kB, bound %d kB); evaluations %d, exposures queued %d, deduped %d",
		total, time.Since(began).Round(time.Millisecond), before, warmup, middle, after, after-before, boundKiB,
		after-middle, halfBoundKiB, ct.Evaluations, ct.ExposuresQueued, ct.ExposuresDeduped)
	if after-before > boundKiB {
		t.Errorf("resident memory grew by %d kB over %d calls (bound %d kB)", after-before, total-warmup, boundKiB)
	}
	// No steady growth: the second half adds little to the first.
	if after-middle > halfBoundKiB {
		t.Errorf("resident memory grew by %d kB over the second half (bound %d kB)", after-middle, halfBoundKiB)
	}
}
