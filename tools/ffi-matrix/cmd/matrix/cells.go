package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Cell types.
const (
	typeDispatch = "dispatch" // cell type 1: the minimal dispatch repro (cmd/tagcell)
	typeWorkload = "workload" // cell type 2: real gate checks (cmd/workcell)
	typeFault    = "fault"    // the workload on a fault-injection build, through the binding
)

// Expectations.
const (
	expectClean    = "clean"    // must have zero mismatches and crashes
	expectAffected = "affected" // the control: should show mismatches (or crash)
	expectDetect   = "detect"   // fault injection: every run must catch what was injected
)

// cell is one row of the matrix: a configuration, run Runs times.
type cell struct {
	Type      string  `json:"type"`
	Purego    string  `json:"purego"`
	Affected  bool    `json:"purego_affected"` // per bindings/go/testdata/purego-scan.txt
	Transport string  `json:"transport"`
	Workers   int     `json:"workers"`
	Runs      int     `json:"runs"`
	Seconds   float64 `json:"seconds_per_run"`
	Expect    string  `json:"expect"`

	Go            string            `json:"go"` // the toolchain that built the cell program
	LibVersion    string            `json:"lib_version,omitempty"`
	Calls         uint64            `json:"calls"`
	TimedSeconds  float64           `json:"timed_seconds"`
	OpsPerSec     float64           `json:"ops_per_sec"`
	Mismatches    map[string]uint64 `json:"mismatches"` // by kind
	MismatchTotal uint64            `json:"mismatch_total"`
	Errors        uint64            `json:"errors"` // calls that failed with another error
	Crashes       int               `json:"crashes"`
	FirstAnomaly  float64           `json:"first_anomaly_ms"` // earliest in any run; -1: none
	Injected      uint64            `json:"injected,omitempty"`
	Detected      uint64            `json:"detected,omitempty"`
	Verdict       string            `json:"verdict"`
	Note          string            `json:"note,omitempty"`
	BuildError    string            `json:"build_error,omitempty"`
	RunResults    []runResult       `json:"runs_detail"`
}

func (c *cell) name() string {
	return fmt.Sprintf("%s %s %s w=%d", c.Type, c.Purego, c.Transport, c.Workers)
}

// transportLabel is the transport as the table shows it.
func (c *cell) transportLabel() string {
	switch {
	case c.Type == typeDispatch && c.Transport == "naive":
		return "naive `func(uint64) *byte`"
	case c.Type == typeDispatch && c.Transport == "syscalln":
		return "`SyscallN` (uintptr)"
	case c.Transport == "naive":
		return "naive `func(…) *byte`"
	case c.Transport == "mutex":
		return "binding + global mutex"
	}
	return c.Transport
}

// expectation is what a cell must show, given which purego versions are affected.
func expectation(typ, transport string, affected bool) string {
	switch {
	case typ == typeFault:
		return expectDetect
	case transport == "naive" && affected:
		return expectAffected
	}
	return expectClean
}

// mismatchKinds are the counted kinds that mean "a result that was not this call's" or "a
// wrong value"; "error" (a call that failed otherwise) is counted apart.
var mismatchKinds = []string{"swapped", "nil", "argLeak", "other", "wrongValue", "detected"}

// aggregate sums the runs and judges the cell.
func (c *cell) aggregate() {
	c.Mismatches, c.MismatchTotal, c.Errors, c.Crashes, c.Calls, c.TimedSeconds = map[string]uint64{}, 0, 0, 0, 0, 0
	c.FirstAnomaly, c.Injected, c.Detected = -1, 0, 0
	var problems []string
	for i, r := range c.RunResults {
		if r.Go != "" {
			c.Go = r.Go
		}
		if r.LibVersion != "" {
			c.LibVersion = r.LibVersion
		}
		c.Calls += r.Calls
		c.TimedSeconds += r.Seconds
		for k, v := range r.Counts {
			if k == "error" {
				c.Errors += v
				continue
			}
			c.Mismatches[k] += v
			c.MismatchTotal += v
		}
		if r.Crash != "" {
			c.Crashes++
			problems = append(problems, fmt.Sprintf("run %d crashed: %s", i+1, r.Crash))
		}
		if r.Error != "" {
			problems = append(problems, fmt.Sprintf("run %d: setup error: %s", i+1, r.Error))
		}
		if r.Purego != "" && r.Purego != c.Purego {
			problems = append(problems, fmt.Sprintf("run %d linked purego %s, not %s", i+1, r.Purego, c.Purego))
		}
		if want := c.wantLibSuffix(); r.LibVersion != "" && libSuffix(r.LibVersion) != want {
			problems = append(problems, fmt.Sprintf("run %d loaded library version %s, want build metadata %q",
				i+1, r.LibVersion, want))
		}
		if r.FirstAnomalyMs >= 0 && (c.FirstAnomaly < 0 || r.FirstAnomalyMs < c.FirstAnomaly) {
			c.FirstAnomaly = r.FirstAnomalyMs
		}
		c.Injected += r.Injected["gate"] + r.Injected["json"]
		c.Detected += r.Counts["detected"] + r.BaselineRefuse
	}
	if c.TimedSeconds > 0 {
		c.OpsPerSec = float64(c.Calls) / c.TimedSeconds
	}
	c.Verdict, c.Note = c.judge(problems)
}

// judge returns the verdict and a note.
func (c *cell) judge(problems []string) (string, string) {
	if c.BuildError != "" {
		return "NOT BUILT", c.BuildError
	}
	setupFailed := false
	for _, r := range c.RunResults {
		if r.Error != "" || (r.Purego != "" && r.Purego != c.Purego) ||
			(r.LibVersion != "" && libSuffix(r.LibVersion) != c.wantLibSuffix()) {
			setupFailed = true
		}
	}
	if len(c.RunResults) == 0 || setupFailed {
		return "ERROR", strings.Join(problems, "; ")
	}
	note := strings.Join(problems, "; ")
	switch c.Expect {
	case expectAffected:
		if c.MismatchTotal > 0 || c.Crashes > 0 {
			return "reproduced", note
		}
		if c.Workers == 1 {
			return "not reproduced", "one worker: no concurrent caller to take the result from"
		}
		return "not reproduced", fmt.Sprintf("no anomaly in %d run(s) × %gs", c.Runs, c.Seconds)
	case expectDetect:
		for i, r := range c.RunResults {
			det := r.Counts["detected"] + r.BaselineRefuse
			inj := r.Injected["gate"] + r.Injected["json"]
			switch {
			case r.Crash != "" || !r.Finished:
				return "FAIL", note
			case r.Counts["wrongValue"] > 0:
				return "FAIL", fmt.Sprintf("run %d accepted %d wrong values", i+1, r.Counts["wrongValue"])
			case det == 0:
				return "FAIL", fmt.Sprintf("run %d: nothing detected (injected %d)", i+1, inj)
			case det != inj:
				return "FAIL", fmt.Sprintf("run %d: detected %d, but the library injected %d", i+1, det, inj)
			case c.MismatchTotal != c.Mismatches["detected"] || c.Errors > 0:
				return "FAIL", fmt.Sprintf("anomalies other than detected ones: %s", kindsText(c.Mismatches))
			}
		}
		return "detected", note
	}
	if c.MismatchTotal > 0 || c.Crashes > 0 || c.Errors > 0 {
		if c.Errors > 0 {
			note = strings.TrimPrefix(note+fmt.Sprintf("; %d calls failed", c.Errors), "; ")
		}
		return "FAIL", note
	}
	return "pass", note
}

// kindsText is "swapped 12, nil 6" (sorted by kind), or "0".
func kindsText(m map[string]uint64) string {
	var keys []string
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "0"
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// readScan reads bindings/go/testdata/purego-scan.txt: each served purego version classified
// "affected" or "clean" from its own func.go (bindings/go/scripts/verify-purego.sh). The matrix
// takes its expectations from it rather than from version ranges of its own.
func readScan(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	affected := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && !strings.HasPrefix(fields[0], "#") {
			affected[fields[0]] = fields[1] == "affected"
		}
	}
	return affected, sc.Err()
}

// wantLibSuffix is the build metadata of the library a cell must load: the naive transport a
// naive-abi build, fault cells a fault-injection build, the binding the product ("").
func (c *cell) wantLibSuffix() string {
	switch {
	case c.Type == typeFault:
		return "fault-injection"
	case c.Transport == "naive":
		return "naive-abi"
	}
	return ""
}

// libSuffix is the semver build metadata of a version string ("0.1.0+naive-abi" → "naive-abi").
func libSuffix(v string) string {
	if i := strings.IndexByte(v, '+'); i >= 0 {
		return v[i+1:]
	}
	return ""
}
