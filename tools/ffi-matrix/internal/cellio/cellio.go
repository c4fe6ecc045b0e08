// Package cellio is the reporting side of a matrix cell program: one JSON object per line on
// stdout ("start", "anomaly", "progress", "done"), written unbuffered so that whatever was
// reported before a crash reaches the parent (cmd/matrix), which counts the crash.
//
// cmd/tagcell carries its own copy of this (it is kept self-contained, see its doc comment);
// both write the same line format, which cmd/matrix reads.
package cellio

import (
	"encoding/json"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// MaxDetailed is how many anomalies are reported one by one; later ones are only counted.
const MaxDetailed = 20

// Emitter writes lines to stdout.
type Emitter struct{ mu sync.Mutex }

// Line writes v as one JSON line.
func (e *Emitter) Line(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"ev":"error","error":"marshal"}`)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}

// Stats counts calls (workers add in batches) and anomalies (rare, so under a mutex).
type Stats struct {
	Calls atomic.Uint64
	out   *Emitter
	start time.Time
	mu    sync.Mutex
	count map[string]uint64
	first float64 // ms from Start to the first anomaly; -1: none yet
}

// NewStats starts counting; times are measured from now.
func NewStats(out *Emitter) *Stats {
	return &Stats{out: out, start: time.Now(), count: map[string]uint64{}, first: -1}
}

// Anomaly counts one anomaly of kind and reports the first MaxDetailed ones.
func (s *Stats) Anomaly(kind string, worker int, detail string) {
	ms := s.ms()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first < 0 {
		s.first = ms
	}
	s.count[kind]++
	var n uint64
	for _, v := range s.count {
		n += v
	}
	if n <= MaxDetailed {
		s.out.Line(map[string]any{"ev": "anomaly", "kind": kind, "ms": ms, "worker": worker, "detail": detail})
	}
}

// Line writes a "progress" or "done" line with the counts so far, plus extra fields.
func (s *Stats) Line(ev string, extra map[string]any) {
	s.mu.Lock()
	counts := make(map[string]uint64, len(s.count))
	for k, v := range s.count {
		counts[k] = v
	}
	first := s.first
	s.mu.Unlock()
	line := map[string]any{"ev": ev, "ms": s.ms(), "calls": s.Calls.Load(), "counts": counts, "first_anomaly_ms": first}
	for k, v := range extra {
		line[k] = v
	}
	s.out.Line(line)
}

func (s *Stats) ms() float64 { return float64(time.Since(s.start).Microseconds()) / 1000 }
