package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// line is one line a cell program writes (internal/cellio; cmd/tagcell writes the same).
type line struct {
	Ev             string            `json:"ev"`
	Error          string            `json:"error"`
	Go             string            `json:"go"`
	Purego         string            `json:"purego"`
	PuregoReplace  string            `json:"purego_replace"`
	GOMAXPROCS     int               `json:"gomaxprocs"`
	LibVersion     string            `json:"lib_version"`
	GuardBypassed  bool              `json:"purego_guard_bypassed"`
	Digest         string            `json:"baseline_digest"`
	TrueFraction   float64           `json:"baseline_true_fraction"`
	BaselineRefuse uint64            `json:"baseline_refused"`
	Kind           string            `json:"kind"`
	Detail         string            `json:"detail"`
	Worker         int               `json:"worker"`
	Ms             float64           `json:"ms"`
	Calls          uint64            `json:"calls"`
	Counts         map[string]uint64 `json:"counts"`
	FirstAnomalyMs float64           `json:"first_anomaly_ms"`
	Injected       map[string]uint64 `json:"injected"`
}

// runResult is what one child process (one run of a cell) reported, and how it ended.
type runResult struct {
	Go             string            `json:"go"`
	Purego         string            `json:"purego"`
	LibVersion     string            `json:"lib_version,omitempty"`
	GuardBypassed  bool              `json:"purego_guard_bypassed,omitempty"`
	Digest         string            `json:"baseline_digest,omitempty"`
	TrueFraction   float64           `json:"baseline_true_fraction,omitempty"`
	BaselineRefuse uint64            `json:"baseline_refused,omitempty"`
	Calls          uint64            `json:"calls"`
	Seconds        float64           `json:"seconds"`
	Counts         map[string]uint64 `json:"counts"`
	FirstAnomalyMs float64           `json:"first_anomaly_ms"` // -1: none
	Injected       map[string]uint64 `json:"injected,omitempty"`
	Examples       []string          `json:"examples,omitempty"` // the first anomalies' details
	Finished       bool              `json:"finished"`           // wrote its "done" line and exited 0
	Crash          string            `json:"crash,omitempty"`    // how it died, when it did
	Error          string            `json:"error,omitempty"`    // a setup error it reported
}

// runChild runs one cell program and reads its lines. A child that dies (a signal, a Go fatal
// error, a hang past the timeout) is a crash; its counts are those of its last progress line.
func runChild(bin string, args, env []string, timeout time.Duration) runResult {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := parseLines(stdout.Bytes())
	switch {
	case ctx.Err() != nil:
		r.Crash = fmt.Sprintf("hung: killed after %s", timeout)
	case r.Error != "":
		// A setup error the program reported: not a crash.
	case err != nil || !r.Finished:
		r.Crash = crashReason(err, stderr.String())
	}
	if r.Crash != "" || r.Error != "" {
		r.Finished = false
	}
	return r
}

// parseLines folds a child's output into a runResult.
func parseLines(out []byte) runResult {
	r := runResult{Counts: map[string]uint64{}, FirstAnomalyMs: -1}
	seen := map[string]uint64{} // anomalies reported one by one (a crash may beat the next progress line)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch l.Ev {
		case "start":
			r.Go, r.Purego, r.LibVersion, r.GuardBypassed = l.Go, l.Purego, l.LibVersion, l.GuardBypassed
			r.Digest, r.TrueFraction, r.BaselineRefuse = l.Digest, l.TrueFraction, l.BaselineRefuse
		case "anomaly":
			r.Examples = append(r.Examples, fmt.Sprintf("%s at %.1f ms (worker %d) %s", l.Kind, l.Ms, l.Worker, l.Detail))
			if r.FirstAnomalyMs < 0 {
				r.FirstAnomalyMs = l.Ms
			}
			seen[l.Kind]++
		case "progress", "done":
			r.Calls, r.Seconds = l.Calls, l.Ms/1000
			for k, v := range l.Counts {
				if v > r.Counts[k] {
					r.Counts[k] = v
				}
			}
			if l.FirstAnomalyMs >= 0 && (r.FirstAnomalyMs < 0 || l.FirstAnomalyMs < r.FirstAnomalyMs) {
				r.FirstAnomalyMs = l.FirstAnomalyMs
			}
			if l.Ev == "done" {
				r.Finished, r.Injected = true, l.Injected
			}
		case "error":
			r.Error = l.Error
		}
	}
	for k, v := range seen {
		r.Counts[k] = max(r.Counts[k], v)
	}
	return r
}

var fatalLine = regexp.MustCompile(`(?i)(fatal error|^panic:|SIGSEGV|SIGBUS|SIGABRT|double free|free\(\)|corrupted|unexpected signal|bad pointer)`)

// crashReason names how a child died: its first fatal-looking stderr line, or its exit status.
func crashReason(err error, stderr string) string {
	reason := ""
	for _, l := range strings.Split(stderr, "\n") {
		if fatalLine.MatchString(l) {
			reason = strings.TrimSpace(l)
			break
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status := "killed by " + ws.Signal().String()
			if reason != "" {
				return reason + " (" + status + ")"
			}
			return status
		}
		if reason == "" {
			reason = fmt.Sprintf("exit status %d", ee.ExitCode())
		}
		return reason
	}
	if err != nil {
		return err.Error()
	}
	if reason == "" {
		reason = "exited without its final report"
	}
	return reason
}
