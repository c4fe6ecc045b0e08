package main

import (
	"fmt"
	"strings"
)

// condition is one pass/fail line of the report. Required conditions decide the exit status.
type condition struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Required bool   `json:"required"`
	Detail   string `json:"detail"`
}

func allOK(conds []condition) bool {
	for _, c := range conds {
		if c.Required && !c.OK {
			return false
		}
	}
	return true
}

// conditions evaluates the matrix against issue 7's CI conditions (1–3) and the checks that
// keep the matrix honest (4–6). A condition over cells of a type that was not run holds
// vacuously and says so.
func conditions(c *config, cells []*cell) []condition {
	pick := func(f func(*cell) bool) []*cell {
		var out []*cell
		for _, cl := range cells {
			if f(cl) {
				out = append(out, cl)
			}
		}
		return out
	}
	allPass := func(name string, cs []*cell, want string, versions []string) condition {
		cond := condition{Name: name, OK: true, Required: true}
		var bad []string
		seen := map[string]bool{}
		for _, cl := range cs {
			seen[cl.Purego] = true
			if cl.Verdict != want {
				bad = append(bad, fmt.Sprintf("%s: %s %s", cl.name(), cl.Verdict, cl.Note))
			}
		}
		for _, v := range versions {
			if len(cs) > 0 && !seen[v] {
				bad = append(bad, "no cell ran on purego "+v)
			}
		}
		switch {
		case len(bad) > 0:
			cond.OK, cond.Detail = false, strings.Join(bad, "; ")
		case len(cs) == 0:
			cond.Detail = "not run (no such cells in this selection)"
		default:
			cond.Detail = fmt.Sprintf("%d cells: %s", len(cs), want)
		}
		return cond
	}
	isBinding := func(cl *cell) bool {
		return cl.Type == typeWorkload && (cl.Transport == "binding" || cl.Transport == "mutex")
	}
	conds := []condition{
		allPass("1. the gatehouse binding (as shipped, and behind a mutex) has zero mismatches and zero crashes on every purego version",
			pick(isBinding), "pass", c.Versions),
		allPass("2. the naive *byte signature has zero mismatches and zero crashes on the pinned purego ("+c.Pinned+")",
			pick(func(cl *cell) bool { return cl.Transport == "naive" && cl.Purego == c.Pinned }), "pass", nil),
		allPass("3. fault injection is detected in every run (every injected result refused, no wrong value accepted)",
			pick(func(cl *cell) bool { return cl.Type == typeFault }), "detected", nil),
		allPass("4. every other expected-clean cell is clean (naive on unaffected versions, SyscallN dispatch on every version)",
			pick(func(cl *cell) bool {
				return cl.Expect == expectClean && !isBinding(cl) && !(cl.Transport == "naive" && cl.Purego == c.Pinned)
			}), "pass", nil),
		digests(cells),
		control(c, cells),
	}
	return conds
}

// digests checks that every workload and fault run computed the same single-threaded answers
// (so the transports, and the fault build, evaluate alike before any concurrency).
func digests(cells []*cell) condition {
	cond := condition{Name: "5. every workload run computed the same single-threaded answers (baseline digest)", OK: true, Required: true}
	seen := map[string][]string{}
	for _, cl := range cells {
		for _, r := range cl.RunResults {
			if r.Digest != "" {
				seen[r.Digest] = append(seen[r.Digest], cl.name())
			}
		}
	}
	switch len(seen) {
	case 0:
		cond.Detail = "not run"
	case 1:
		for d, names := range seen {
			cond.Detail = fmt.Sprintf("digest %s in all %d runs", d, len(names))
		}
	default:
		cond.OK = false
		var parts []string
		for d, names := range seen {
			parts = append(parts, fmt.Sprintf("%s: %d runs (e.g. %s)", d, len(names), names[0]))
		}
		cond.Detail = strings.Join(parts, "; ")
	}
	return cond
}

// control checks that the known-bad control reproduces: on an affected purego, the naive shape
// shows mismatches (or crashes) in at least one cell of each type that ran. Required with
// -require-control (the long preset); in the short (CI) preset a miss is only reported, since a
// few seconds on 2 cores can miss the race (the matrix then says "not reproduced" for those
// cells, never "pass").
func control(c *config, cells []*cell) condition {
	cond := condition{Name: "6. control: the naive shape reproduces the race on the affected purego version(s)",
		OK: true, Required: c.RequireControl}
	var parts []string
	for _, typ := range []string{typeDispatch, typeWorkload} {
		ran, reproduced := 0, 0
		for _, cl := range cells {
			if cl.Type == typ && cl.Expect == expectAffected {
				ran++
				if cl.Verdict == "reproduced" {
					reproduced++
				}
			}
		}
		if ran == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: reproduced in %d of %d cells", typ, reproduced, ran))
		if reproduced == 0 {
			cond.OK = false
		}
	}
	if len(parts) == 0 {
		parts = []string{"not run (no affected version in this selection)"}
	}
	cond.Detail = strings.Join(parts, "; ")
	if !cond.OK && !cond.Required {
		cond.Detail += " (reported, not required in this preset)"
	}
	return cond
}
