package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

type report struct {
	Config          *config     `json:"config"`
	Host            host        `json:"host"`
	Started         string      `json:"started"`
	DurationSeconds float64     `json:"duration_seconds"`
	OK              bool        `json:"ok"`
	Conditions      []condition `json:"conditions"`
	Cells           []*cell     `json:"cells"`
}

type host struct {
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Go   string `json:"go"` // the toolchain that built the cell programs (-go)
}

func hostInfo(c *config) host {
	v, _ := goVersion(c.goBin)
	return host{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: v}
}

// write saves matrix.json and matrix.md in dir and returns the markdown.
func (r *report) write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "matrix.json"), append(js, '\n'), 0o644); err != nil {
		return "", err
	}
	md := r.markdown()
	return md, os.WriteFile(filepath.Join(dir, "matrix.md"), []byte(md), 0o644)
}

func (r *report) markdown() string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "# Concurrent-FFI matrix (%s)\n\n", c.Preset)
	fmt.Fprintf(&b, "Started %s, took %.0f s; %d CPUs, %s; cell programs built with %s (`CGO_ENABLED=0`). "+
		"Each cell: %d run(s) × %g s, one child process per run. purego pinned: %s. Specs: `%s`.\n\n",
		r.Started, r.DurationSeconds, r.Host.CPUs, r.Host.OS, r.Host.Go, c.Runs, c.Seconds, c.Pinned, filepath.Base(c.Specs))
	b.WriteString("| cell | purego | Go | transport | workers | calls | ops/s | mismatches | crashes | first anomaly | verdict |\n")
	b.WriteString("|---|---|---|---|---:|---:|---:|---|---:|---:|---|\n")
	for _, cl := range r.Cells {
		first := "–"
		if cl.FirstAnomaly >= 0 {
			first = fmt.Sprintf("%.0f ms", cl.FirstAnomaly)
		}
		mism := kindsText(cl.Mismatches)
		if cl.Type == typeFault {
			// Refused results include those of the single-threaded baseline (a goroutine can
			// change OS threads between calls, so it can receive an injection too).
			mism = fmt.Sprintf("refused %d of %d injected; wrong values accepted: %d",
				cl.Detected, cl.Injected, cl.Mismatches["wrongValue"])
		}
		verdict := "**" + cl.Verdict + "**"
		if cl.Note != "" {
			verdict += " — " + strings.ReplaceAll(cl.Note, "|", "/")
		}
		fmt.Fprintf(&b, "| %s | %s%s | %s | %s | %d | %s | %s | %s | %d | %s | %s |\n",
			cl.Type, cl.Purego, affectedMark(cl), shortGo(cl.Go), cl.transportLabel(), cl.Workers,
			human(float64(cl.Calls)), human(cl.OpsPerSec), mism, cl.Crashes, first, verdict)
	}
	b.WriteString("\n† affected purego version (bindings/go/testdata/purego-scan.txt).\n")
	r.throughput(&b)
	b.WriteString("\n## Conditions\n\n")
	for _, cond := range r.Conditions {
		mark := "pass"
		if !cond.OK {
			mark = "FAIL"
			if !cond.Required {
				mark = "not met (reported only)"
			}
		}
		fmt.Fprintf(&b, "- **%s** %s — %s\n", mark, cond.Name, cond.Detail)
	}
	result := "all required conditions hold"
	if !r.OK {
		result = "a required condition FAILED"
	}
	fmt.Fprintf(&b, "\nResult: %s.\n", result)
	return b.String()
}

// throughput puts the workload cells' ops/s side by side, per purego version and worker count.
func (r *report) throughput(b *strings.Builder) {
	type key struct {
		v string
		w int
	}
	ops := map[key]map[string]*cell{}
	var order []key
	for _, cl := range r.Cells {
		if cl.Type != typeWorkload {
			continue
		}
		k := key{cl.Purego, cl.Workers}
		if ops[k] == nil {
			ops[k] = map[string]*cell{}
			order = append(order, k)
		}
		ops[k][cl.Transport] = cl
	}
	if len(order) == 0 {
		return
	}
	b.WriteString("\n## Throughput of the workload cells (gate checks per second)\n\n")
	b.WriteString("| purego | workers | naive `*byte` | binding | binding + global mutex | binding ÷ mutex |\n|---|---:|---:|---:|---:|---:|\n")
	for _, k := range order {
		m := ops[k]
		ratio := "–"
		if m["binding"] != nil && m["mutex"] != nil && m["mutex"].OpsPerSec > 0 {
			ratio = fmt.Sprintf("%.2f×", m["binding"].OpsPerSec/m["mutex"].OpsPerSec)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s |\n", k.v, k.w, opsText(m["naive"]), opsText(m["binding"]),
			opsText(m["mutex"]), ratio)
	}
	b.WriteString("\nMean over the runs (with several runs, the slowest and fastest run in parentheses). " +
		"The naive cells' rate on an affected version includes calls that returned another call's result.\n")
}

func affectedMark(cl *cell) string {
	if cl.Affected {
		return " †"
	}
	return ""
}

// shortGo is "go1.26.8" from "go1.26.8 linux/amd64" (or a runtime.Version()).
func shortGo(v string) string {
	if f := strings.Fields(v); len(f) > 0 {
		return f[0]
	}
	return "–"
}

// opsText is a cell's mean ops/s, with the range over its runs when it has several ("–" for no
// cell).
func opsText(cl *cell) string {
	if cl == nil {
		return "–"
	}
	lo, hi := -1.0, 0.0
	for _, r := range cl.RunResults {
		if r.Seconds <= 0 {
			continue
		}
		x := float64(r.Calls) / r.Seconds
		if lo < 0 || x < lo {
			lo = x
		}
		hi = max(hi, x)
	}
	if len(cl.RunResults) < 2 || lo < 0 {
		return human(cl.OpsPerSec)
	}
	return fmt.Sprintf("%s (%s–%s)", human(cl.OpsPerSec), human(lo), human(hi))
}
