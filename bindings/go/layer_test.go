package gatehouse

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// Read by hand off examples/specs.json (not from the code under test):
//   - an email ending with "@harborgoods.com" passes gate `employees` on its first rule,
//     "Harbor staff email" (q5Sdd0AWEiL3cdMJZNc890: str_ends_with_any "@harborgoods.com");
//   - layer `product_page` (version 7, useNewLayerEval: dcs-semantics §3.7) then matches its first
//     rule, "Staff preview" (6FVd3mQdbauwDzWmB5U2O6: pass_gate employees, 100%), which sets
//     gallery_style to "spin_360" and reviews_position to "tabbed" with that rule as their
//     parameter rule id, and delegates to no experiment: the layer's own rule ID stays "default"
//     (§3.7), no experiment is allocated, gallery_style is not explicit; a parameter exposure's
//     ruleID is the parameter's rule id (§9.2);
//   - a layer override for everyone makes every later evaluation answer rule "override" with the
//     override's value.
const (
	staffPreviewRule = "6FVd3mQdbauwDzWmB5U2O6"
	employeesRule    = "q5Sdd0AWEiL3cdMJZNc890"
)

// A Layer logs the exposure of the evaluation it holds: after an override changes what the layer
// evaluates to, Get still returns the original value and the exposure names the original rule,
// reason and version (the binding used to evaluate the layer again to log, and logged the new
// evaluation's rule next to the old evaluation's value).
func TestLayerLogsTheEvaluationItHolds(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.ndjson")
	o := exampleOptions(t)
	o.Events = &EventOptions{File: events}
	c := newClient(t, o)
	u, err := NewUserBuilderWithUserID("go-layer-staff").WithEmail("pat@harborgoods.com").Build()
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()

	l, err := c.GetLayer(u, "product_page")
	if err != nil {
		t.Fatal(err)
	}
	if l.RuleID != "default" || l.values["gallery_style"] != "spin_360" || l.AllocatedExperimentName != "" || l.h == nil {
		t.Fatalf("layer before the override: %+v values %v", l, l.values)
	}
	quiet, err := c.GetLayerWithOptions(u, "product_page", &EvaluationOptions{DisableExposureLogging: true})
	if err != nil || quiet.h != nil {
		t.Fatalf("quiet layer: %+v, %v", quiet, err)
	}

	if err := c.OverrideLayer("product_page", map[string]any{"gallery_style": "forced"}, ""); err != nil {
		t.Fatal(err)
	}
	fresh, err := c.GetLayerWithOptions(u, "product_page", &EvaluationOptions{DisableExposureLogging: true})
	if err != nil || fresh.RuleID != "override" || fresh.values["gallery_style"] != "forced" {
		t.Fatalf("a fresh evaluation after the override: %+v %v, %v", fresh, fresh.values, err)
	}

	if v, err := l.Get("gallery_style"); err != nil || v != "spin_360" {
		t.Fatalf("Get = %v, %v; want spin_360", v, err)
	}
	if v, err := quiet.Get("gallery_style"); err != nil || v != "spin_360" {
		t.Fatalf("quiet Get = %v, %v", v, err)
	}
	copied := l // copies share the handle
	if got := copied.GetString("reviews_position", ""); got != "tabbed" {
		t.Fatalf("GetString(reviews_position) = %q; want tabbed (the Staff preview rule's)", got)
	}

	// A closed Layer keeps its values and logs nothing; Get says so.
	closed, err := c.GetLayer(u, "product_page")
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if v, err := closed.Get("gallery_style"); v != "forced" || !errors.Is(err, ErrClosed) {
		t.Errorf("Get on a closed layer = %v, %v; want forced, ErrClosed", v, err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}

	var got []map[string]any
	for _, e := range readEvents(t, events) {
		if e["eventName"] == "statsig::layer_exposure" {
			got = append(got, e)
		}
	}
	if len(got) != 2 {
		t.Fatalf("want 2 layer exposures (gallery_style, reviews_position), got %d: %v", len(got), got)
	}
	md, _ := got[0]["metadata"].(map[string]any)
	want := map[string]any{"config": "product_page", "parameterName": "gallery_style", "ruleID": staffPreviewRule,
		"reason": "Bootstrap:Recognized", "configVersion": "7", "allocatedExperiment": "", "isExplicitParameter": "false"}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("exposure metadata %s = %v; want %v (all: %v)", k, md[k], v, md)
		}
	}
	if _, ok := md["overrideConfigName"]; ok {
		t.Errorf("exposure carries the override: %v", md)
	}
	wantSec := []any{map[string]any{"gate": "employees", "gateValue": "true", "ruleID": employeesRule}}
	if !reflect.DeepEqual(got[0]["secondaryExposures"], wantSec) {
		t.Errorf("secondary exposures = %v; want %v", got[0]["secondaryExposures"], wantSec)
	}
	if md2, _ := got[1]["metadata"].(map[string]any); md2["parameterName"] != "reviews_position" || md2["ruleID"] != staffPreviewRule {
		t.Errorf("second exposure: %v", md2)
	}

	// After Shutdown a Layer still reads, and Get reports that nothing was logged.
	later, err := c.GetLayer(u, "search")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if v, err := later.Get("ranking_model"); v == nil || !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Shutdown = %v, %v; want the value and ErrClosed", v, err)
	}
}
