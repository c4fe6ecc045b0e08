// Command tagcell is cell type 1 of the concurrent-FFI matrix (docs/FFI-MATRIX.md): the minimal
// dispatch repro of ffi-race.md §2.1. N goroutines call tag_alloc(seed) from testlib/tag.c for
// T seconds and check that every result is the text of their own seed.
//
// The matrix runs one child process per run, so a crash (SIGSEGV, a double-free abort) is
// counted by the parent, not fatal to the matrix. The program reports on stdout, one JSON object
// per line: "start", an "anomaly" line as each of the first ones happens, "progress" lines (so
// the counts survive a crash), and "done".
//
// This file is self-contained (only purego and the standard library) and avoids language
// features newer than Go 1.19, so the matrix can build it with an older Go toolchain should a
// purego version not build with the machine's Go (the matrix copies it into a generated module
// per purego version).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"
)

// tag marks every seed: tag<<48 | worker<<32 | i is a non-canonical address on amd64 and arm64,
// so a seed that comes back "as a pointer" (another call's argument) is recognisable and is
// never dereferenced.
const tag = 0xA5A5

func main() {
	lib := flag.String("lib", "", "path of the test library (libtag.so)")
	kind := flag.String("kind", "ptr", "ptr: RegisterLibFunc as func(uint64) *byte (the affected shape); "+
		"syscalln: purego.SyscallN, as the gatehouse binding calls")
	workers := flag.Int("workers", 2, "goroutines")
	seconds := flag.Float64("seconds", 2, "duration of the timed phase")
	flag.Parse()
	out := &emitter{}
	if err := run(out, *lib, *kind, *workers, time.Duration(*seconds*float64(time.Second))); err != nil {
		out.line(map[string]any{"ev": "error", "error": err.Error()})
		os.Exit(1)
	}
}

// caller is one way to call tag_alloc and tag_free.
type caller struct {
	alloc func(seed uint64) uintptr
	free  func(p uintptr)
}

func newCaller(h uintptr, kind string) (caller, error) {
	switch kind {
	case "ptr":
		// The naive shape: a registered function with a pointer-typed result.
		var alloc func(uint64) *byte
		var free func(*byte)
		purego.RegisterLibFunc(&alloc, h, "tag_alloc")
		purego.RegisterLibFunc(&free, h, "tag_free")
		return caller{
			alloc: func(seed uint64) uintptr { return uintptr(unsafe.Pointer(alloc(seed))) },
			free:  func(p uintptr) { free(cPtr(p)) },
		}, nil
	case "syscalln":
		// The binding's shape: an integer result, copied out before purego's pool Put.
		a, err := purego.Dlsym(h, "tag_alloc")
		if err != nil {
			return caller{}, err
		}
		f, err := purego.Dlsym(h, "tag_free")
		if err != nil {
			return caller{}, err
		}
		return caller{
			alloc: func(seed uint64) uintptr { r, _, _ := purego.SyscallN(a, uintptr(seed)); return r },
			free:  func(p uintptr) { purego.SyscallN(f, p) },
		}, nil
	}
	return caller{}, fmt.Errorf("unknown -kind %q", kind)
}

// cPtr turns the address of C memory into a *byte without a uintptr→unsafe.Pointer conversion
// (which go vet rightly flags for Go memory; this is malloc'd memory the GC never sees).
func cPtr(p uintptr) *byte { return *(**byte)(unsafe.Pointer(&p)) }

// classify applies ffi-race.md §2.1 to one result: never dereference or free what is not
// provably this call's. It returns "" for the call's own result (freed here) or the anomaly.
func classify(c caller, p uintptr, seed uint64) (kind, detail string) {
	switch {
	case p == 0:
		return "nil", "" // a stale result slot from a void call (tag_free)
	case p>>48 == tag:
		return "argLeak", fmt.Sprintf("got another call's argument %#x (sent %#x)", p, seed)
	case p < 0x10000 || p >= 1<<47:
		return "other", fmt.Sprintf("got %#x, not a user-space pointer", p)
	}
	text, ok := readText(p, 24)
	if !ok {
		return "other", fmt.Sprintf("got %#x: no NUL-terminated text", p)
	}
	got, err := strconv.ParseUint(text, 10, 64)
	switch {
	case err != nil:
		return "other", fmt.Sprintf("got %#x holding %q", p, text)
	case got != seed:
		// Another call's result: its owner frees it; freeing it here too would be a double free.
		return "swapped", fmt.Sprintf("got the result for %#x (sent %#x)", got, seed)
	}
	c.free(p)
	return "", ""
}

// readText reads a NUL-terminated text of at most max bytes at p, byte by byte (never past the
// NUL).
func readText(p uintptr, max int) (string, bool) {
	b := make([]byte, 0, max)
	for i := 0; i < max; i++ {
		c := *cPtr(p + uintptr(i))
		if c == 0 {
			return string(b), true
		}
		b = append(b, c)
	}
	return "", false
}

func run(out *emitter, lib, kind string, workers int, d time.Duration) error {
	if lib == "" || workers < 1 || d <= 0 {
		return fmt.Errorf("need -lib, -workers >= 1 and -seconds > 0")
	}
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return err
	}
	c, err := newCaller(h, kind)
	if err != nil {
		return err
	}
	version, replace := puregoVersion()
	out.line(map[string]any{"ev": "start", "go": runtime.Version(), "purego": version,
		"purego_replace": replace, "gomaxprocs": runtime.GOMAXPROCS(0), "kind": kind})

	var stop atomic.Bool
	st := newStats(out)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w uint64) {
			defer wg.Done()
			base := uint64(tag)<<48 | w<<32
			var n uint64
			for i := uint64(0); !stop.Load(); i++ {
				seed := base | (i & 0xFFFF_FFFF)
				if k, detail := classify(c, c.alloc(seed), seed); k != "" {
					st.anomaly(k, int(w), detail, start)
				}
				if n++; n == 1024 {
					st.calls.Add(n)
					n = 0
				}
			}
			st.calls.Add(n)
		}(uint64(w))
	}
	ticker := time.NewTicker(250 * time.Millisecond)
	deadline := time.After(d)
loop:
	for {
		select {
		case <-ticker.C:
			st.progress(start)
		case <-deadline:
			break loop
		}
	}
	ticker.Stop()
	stop.Store(true)
	wg.Wait()
	st.done(start)
	return nil
}

// puregoVersion is the purego module version (and replace target) in the build info.
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

// stats counts calls and anomalies; anomalies are rare, so a mutex is fine for them.
type stats struct {
	out   *emitter
	calls atomic.Uint64
	mu    sync.Mutex
	count map[string]uint64
	first float64 // ms from the start of the timed phase to the first anomaly; -1: none
}

func newStats(out *emitter) *stats {
	return &stats{out: out, count: map[string]uint64{}, first: -1}
}

// maxDetailed is how many anomalies are reported one by one.
const maxDetailed = 20

func (s *stats) anomaly(kind string, worker int, detail string, start time.Time) {
	ms := msSince(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first < 0 {
		s.first = ms
	}
	s.count[kind]++
	if total(s.count) <= maxDetailed {
		s.out.line(map[string]any{"ev": "anomaly", "kind": kind, "ms": ms, "worker": worker, "detail": detail})
	}
}

func (s *stats) snapshot(ev string, start time.Time) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[string]uint64{}
	for k, v := range s.count {
		counts[k] = v
	}
	return map[string]any{"ev": ev, "ms": msSince(start), "calls": s.calls.Load(), "counts": counts,
		"first_anomaly_ms": s.first}
}

func (s *stats) progress(start time.Time) { s.out.line(s.snapshot("progress", start)) }
func (s *stats) done(start time.Time)     { s.out.line(s.snapshot("done", start)) }

func total(m map[string]uint64) uint64 {
	var t uint64
	for _, v := range m {
		t += v
	}
	return t
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// emitter writes one JSON object per line to stdout, unbuffered, so that what was written
// before a crash reaches the parent.
type emitter struct{ mu sync.Mutex }

func (e *emitter) line(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"ev":"error","error":"marshal"}`)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}
