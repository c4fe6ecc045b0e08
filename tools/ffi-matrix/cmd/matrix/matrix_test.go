package main

import (
	"strings"
	"testing"
)

// A child's lines, including a crash after two anomalies and before the next progress line.
func TestParseLinesCountsAnomaliesBeforeACrash(t *testing.T) {
	out := `{"ev":"start","go":"go1.26.8","purego":"v0.9.1"}
{"ev":"progress","ms":250,"calls":1000,"counts":{},"first_anomaly_ms":-1}
{"ev":"anomaly","kind":"swapped","ms":300.5,"worker":3,"detail":"got the result for 0x1"}
{"ev":"anomaly","kind":"swapped","ms":310,"worker":1,"detail":"got the result for 0x2"}
not json: fatal error: unexpected signal
`
	r := parseLines([]byte(out))
	if r.Finished || r.Calls != 1000 || r.Counts["swapped"] != 2 || r.FirstAnomalyMs != 300.5 || r.Purego != "v0.9.1" {
		t.Errorf("%+v", r)
	}
	done := out + `{"ev":"done","ms":2000,"calls":5000,"counts":{"swapped":7,"nil":1},"first_anomaly_ms":300.5,"injected":{"gate":3}}` + "\n"
	r = parseLines([]byte(done))
	if !r.Finished || r.Calls != 5000 || r.Counts["swapped"] != 7 || r.Counts["nil"] != 1 || r.Seconds != 2 || r.Injected["gate"] != 3 {
		t.Errorf("%+v", r)
	}
}

func TestCrashReason(t *testing.T) {
	stderr := "goroutine 1 [running]:\nfatal error: unexpected signal during runtime execution\n[signal SIGSEGV: segmentation violation]\n"
	if got := crashReason(nil, stderr); !strings.Contains(got, "unexpected signal") {
		t.Errorf("crashReason = %q", got)
	}
	if got := crashReason(nil, ""); got != "exited without its final report" {
		t.Errorf("crashReason = %q", got)
	}
}

func finished(counts map[string]uint64) runResult {
	return runResult{Finished: true, Calls: 100, Seconds: 1, Counts: counts, FirstAnomalyMs: -1}
}

func TestVerdicts(t *testing.T) {
	cases := []struct {
		cl   cell
		runs []runResult
		want string
	}{
		{cell{Expect: expectClean}, []runResult{finished(nil)}, "pass"},
		{cell{Expect: expectClean}, []runResult{finished(map[string]uint64{"detected": 1})}, "FAIL"},
		{cell{Expect: expectClean}, []runResult{finished(map[string]uint64{"error": 1})}, "FAIL"},
		{cell{Expect: expectClean}, []runResult{{Crash: "killed by SIGSEGV", Counts: map[string]uint64{}}}, "FAIL"},
		{cell{Expect: expectClean}, nil, "ERROR"},
		{cell{Expect: expectClean, Purego: "v0.9.1"}, []runResult{{Purego: "v0.11.3", Finished: true}}, "ERROR"},
		{cell{Expect: expectClean, BuildError: "no go"}, nil, "NOT BUILT"},
		{cell{Expect: expectAffected, Workers: 8}, []runResult{finished(nil)}, "not reproduced"},
		{cell{Expect: expectAffected, Workers: 8}, []runResult{finished(map[string]uint64{"nil": 1})}, "reproduced"},
		{cell{Expect: expectAffected, Workers: 8}, []runResult{{Crash: "double free", Counts: map[string]uint64{}}}, "reproduced"},
		{cell{Type: typeFault, Expect: expectDetect}, []runResult{fault(5, 2, 7, 0)}, "detected"},
		{cell{Type: typeFault, Expect: expectDetect}, []runResult{fault(5, 2, 7, 0), fault(0, 0, 0, 0)}, "FAIL"}, // a run without detection
		{cell{Type: typeFault, Expect: expectDetect}, []runResult{fault(5, 2, 8, 0)}, "FAIL"},                    // one injection not caught
		{cell{Type: typeFault, Expect: expectDetect}, []runResult{fault(5, 2, 7, 1)}, "FAIL"},                    // a wrong value accepted
	}
	for i, c := range cases {
		cl := c.cl
		if cl.Type == typeFault {
			cl.Transport = "binding"
		}
		for j := range c.runs {
			if cl.Type == typeFault && c.runs[j].LibVersion == "" {
				c.runs[j].LibVersion = "0.1.0+fault-injection"
			}
		}
		cl.RunResults = c.runs
		cl.aggregate()
		if cl.Verdict != c.want {
			t.Errorf("case %d: verdict %q (%s), want %q", i, cl.Verdict, cl.Note, c.want)
		}
	}
}

func fault(detected, baseline, injected, wrong uint64) runResult {
	r := finished(map[string]uint64{"detected": detected, "wrongValue": wrong})
	r.BaselineRefuse, r.Injected = baseline, map[string]uint64{"gate": injected}
	return r
}

// The binding loading the wrong library (a test build instead of the product) is an error.
func TestLibraryBuildMustMatchTransport(t *testing.T) {
	cl := cell{Type: typeWorkload, Transport: "binding", Expect: expectClean,
		RunResults: []runResult{{Finished: true, LibVersion: "0.1.0+fault-injection", Counts: map[string]uint64{}}}}
	cl.aggregate()
	if cl.Verdict != "ERROR" {
		t.Errorf("verdict %q", cl.Verdict)
	}
}

func TestConditions(t *testing.T) {
	c := &config{Versions: []string{"v0.11.3", "v0.8.0", "v0.9.1"}, Pinned: "v0.11.3"}
	scan := map[string]bool{"v0.9.1": true}
	c.Workers, c.FaultWorkers, c.Runs, c.Seconds = []int{8}, []int{8}, 1, 1
	c.Cells = []string{typeDispatch, typeWorkload, typeFault}
	cells := plan(c, scan)
	for _, cl := range cells {
		r := finished(nil)
		r.Purego = cl.Purego
		r.LibVersion = map[string]string{"naive": "0.1.0+naive-abi", "binding": "0.1.0", "mutex": "0.1.0"}[cl.Transport]
		if cl.Type == typeDispatch {
			r.LibVersion = ""
		}
		if cl.Type == typeFault {
			r = fault(3, 0, 3, 0)
			r.Purego, r.LibVersion = cl.Purego, "0.1.0+fault-injection"
		}
		r.Digest = "d1"
		cl.RunResults = []runResult{r}
		cl.aggregate()
	}
	conds := conditions(c, cells)
	// The control did not reproduce: reported, not required in the short preset.
	if !allOK(conds) || conds[5].OK {
		t.Fatalf("%+v", conds)
	}
	c.RequireControl = true
	if allOK(conditions(c, cells)) {
		t.Error("a required control that did not reproduce passed")
	}
	c.RequireControl = false
	// A mismatch in a binding cell on the control version fails condition 1.
	for _, cl := range cells {
		if cl.Transport == "binding" && cl.Type == typeWorkload && cl.Purego == "v0.9.1" {
			cl.RunResults[0].Counts = map[string]uint64{"detected": 1}
			cl.aggregate()
		}
	}
	conds = conditions(c, cells)
	if allOK(conds) || conds[0].OK {
		t.Errorf("%+v", conds[0])
	}
}

func TestPlanShort(t *testing.T) {
	c, err := parseFlags([]string{"-preset", "short", "-root", "/x"})
	if err != nil {
		t.Fatal(err)
	}
	cells := plan(c, map[string]bool{"v0.9.1": true})
	count := map[string]int{}
	for _, cl := range cells {
		count[cl.Type+"/"+cl.Transport]++
	}
	// 3 versions × workers {2,8,32}; SyscallN dispatch only on the affected version; fault: 3 versions × {8}.
	want := map[string]int{"dispatch/naive": 9, "dispatch/syscalln": 3, "workload/naive": 9, "workload/binding": 9,
		"workload/mutex": 9, "fault/binding": 3}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s: %d cells, want %d", k, count[k], v)
		}
	}
}
