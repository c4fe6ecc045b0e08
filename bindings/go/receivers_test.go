package gatehouse

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// noPanic runs f and turns a panic into a test error.
func noPanic(t *testing.T, name string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", name, r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// exportedMethods lists the exported method names of a type.
func exportedMethods(v any) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := 0; i < t.NumMethod(); i++ {
		names = append(names, t.Method(i).Name)
	}
	sort.Strings(names)
	return names
}

// Every exported method on a nil or zero Client, a nil or zero User, a nil UserBuilder and a zero
// Layer returns an error (or its documented zero answer), never panics. The tables must name
// every exported method, so a new method cannot be left out.
func TestNilAndZeroReceiversReturnErrors(t *testing.T) {
	good := mustUser(t, `{"userID":"receivers"}`)
	defer good.Close()
	live := newClient(t, exampleOptions(t))
	quiet := &EvaluationOptions{DisableExposureLogging: true}

	clientCalls := map[string]func(c *Client) error{
		"CheckGate":            func(c *Client) error { _, err := c.CheckGate(good, "dark_mode"); return err },
		"CheckGateWithOptions": func(c *Client) error { _, err := c.CheckGateWithOptions(good, "dark_mode", quiet); return err },
		"GetFeatureGate":       func(c *Client) error { _, err := c.GetFeatureGate(good, "dark_mode"); return err },
		"GetFeatureGateWithOptions": func(c *Client) error {
			_, err := c.GetFeatureGateWithOptions(good, "dark_mode", quiet)
			return err
		},
		"GetDynamicConfig": func(c *Client) error { _, err := c.GetDynamicConfig(good, "shipping_rates"); return err },
		"GetDynamicConfigWithOptions": func(c *Client) error {
			_, err := c.GetDynamicConfigWithOptions(good, "shipping_rates", quiet)
			return err
		},
		"GetExperiment": func(c *Client) error { _, err := c.GetExperiment(good, "checkout_redesign"); return err },
		"GetExperimentWithOptions": func(c *Client) error {
			_, err := c.GetExperimentWithOptions(good, "checkout_redesign", quiet)
			return err
		},
		"GetLayer":            func(c *Client) error { _, err := c.GetLayer(good, "search"); return err },
		"GetLayerWithOptions": func(c *Client) error { _, err := c.GetLayerWithOptions(good, "search", quiet); return err },
		"Initialize":          func(c *Client) error { return c.Initialize() },
		"LogEvent":            func(c *Client) error { return c.LogEvent(good, Event{Name: "e"}) },
		"Flush":               func(c *Client) error { return c.Flush() },
		"Shutdown":            func(c *Client) error { return c.Shutdown() },
		"Status":              func(c *Client) error { _, err := c.Status(); return err },
		"Counters":            func(c *Client) error { _, err := c.Counters(); return err },
		"OverrideGate":        func(c *Client) error { return c.OverrideGate("g", true, "") },
		"OverrideDynamicConfig": func(c *Client) error {
			return c.OverrideDynamicConfig("c", map[string]any{"a": 1}, "")
		},
		"OverrideExperiment": func(c *Client) error { return c.OverrideExperiment("e", map[string]any{"a": 1}, "") },
		"OverrideExperimentByGroupName": func(c *Client) error {
			return c.OverrideExperimentByGroupName("checkout_redesign", "Control", "")
		},
		"OverrideLayer":      func(c *Client) error { return c.OverrideLayer("search", map[string]any{"a": 1}, "") },
		"RemoveOverride":     func(c *Client) error { return c.RemoveOverride(KindGate, "g", "") },
		"RemoveAllOverrides": func(c *Client) error { return c.RemoveAllOverrides() },
		"Overrides":          func(c *Client) error { _, err := c.Overrides(); return err },
		"Library": func(c *Client) error {
			if info := c.Library(); info != (LibraryInfo{}) {
				return nil // a value, not the zero answer: reported below
			}
			return errors.New("zero LibraryInfo (the documented answer)")
		},
	}
	for _, m := range exportedMethods((*Client)(nil)) {
		if _, ok := clientCalls[m]; !ok {
			t.Errorf("*Client.%s is not in this test's table", m)
		}
	}
	for which, c := range map[string]*Client{"nil": nil, "zero": {}} {
		for name, call := range clientCalls {
			if err := noPanic(t, which+" Client."+name, func() error { return call(c) }); err == nil {
				t.Errorf("%s Client.%s: no error", which, name)
			}
		}
	}
	// The same calls with a nil or zero User on a live client.
	for which, u := range map[string]*User{"nil": nil, "zero": {}} {
		calls := map[string]func() error{
			"Close":          func() error { return u.Close() },
			"CheckGate":      func() error { _, err := live.CheckGate(u, "dark_mode"); return err },
			"GetFeatureGate": func() error { _, err := live.GetFeatureGate(u, "dark_mode"); return err },
			"GetExperiment":  func() error { _, err := live.GetExperiment(u, "checkout_redesign"); return err },
			"GetLayer":       func() error { _, err := live.GetLayer(u, "search"); return err },
			"LogEvent":       func() error { return live.LogEvent(u, Event{Name: "e"}) },
		}
		for name, call := range calls {
			if err := noPanic(t, which+" User: "+name, call); err == nil {
				t.Errorf("%s User: %s: no error", which, name)
			}
		}
	}
	if got := exportedMethods((*User)(nil)); !reflect.DeepEqual(got, []string{"Close"}) {
		t.Errorf("*User methods %v: add the new ones to this test", got)
	}

	// A nil *UserBuilder: the With methods do nothing, JSON and Build fail.
	var nb *UserBuilder
	builderCalls := map[string]func() error{
		"WithUserID":            func() error { return isNilBuilder(nb.WithUserID("u")) },
		"WithEmail":             func() error { return isNilBuilder(nb.WithEmail("e")) },
		"WithIP":                func() error { return isNilBuilder(nb.WithIP("1.2.3.4")) },
		"WithUserAgent":         func() error { return isNilBuilder(nb.WithUserAgent("ua")) },
		"WithCountry":           func() error { return isNilBuilder(nb.WithCountry("US")) },
		"WithLocale":            func() error { return isNilBuilder(nb.WithLocale("en_US")) },
		"WithAppVersion":        func() error { return isNilBuilder(nb.WithAppVersion("1.0")) },
		"WithCustomID":          func() error { return isNilBuilder(nb.WithCustomID("t", "v")) },
		"WithCustomIDs":         func() error { return isNilBuilder(nb.WithCustomIDs(map[string]string{"t": "v"})) },
		"WithCustom":            func() error { return isNilBuilder(nb.WithCustom(map[string]any{"a": 1})) },
		"WithPrivateAttributes": func() error { return isNilBuilder(nb.WithPrivateAttributes(map[string]any{"a": 1})) },
		"WithEnvironment":       func() error { return isNilBuilder(nb.WithEnvironment("staging")) },
		"JSON":                  func() error { _, err := nb.JSON(); return err },
		"Build":                 func() error { _, err := nb.WithUserID("u").Build(); return err },
	}
	for _, m := range exportedMethods(nb) {
		if _, ok := builderCalls[m]; !ok {
			t.Errorf("*UserBuilder.%s is not in this test's table", m)
		}
	}
	for name, call := range builderCalls {
		if err := noPanic(t, "nil UserBuilder."+name, call); err == nil {
			t.Errorf("nil UserBuilder.%s: no error", name)
		}
	}

	// The zero Layer has no parameters: getters give errors or their fallbacks.
	var zl Layer
	layerCalls := map[string]func() error{
		"Get": func() error { _, err := zl.Get("p"); return err },
		"GetString": func() error {
			return fallbackErr(zl.GetString("p", "fb") == "fb")
		},
		"GetNumber": func() error { return fallbackErr(zl.GetNumber("p", 7) == 7) },
		"GetBool":   func() error { return fallbackErr(zl.GetBool("p", true)) },
		"GetSlice":  func() error { return fallbackErr(len(zl.GetSlice("p", []any{1})) == 1) },
		"GetMap":    func() error { return fallbackErr(zl.GetMap("p", map[string]any{"a": 1})["a"] == 1) },
		"Keys":      func() error { return fallbackErr(len(zl.Keys()) == 0) },
		"Close": func() error {
			if err := zl.Close(); err != nil {
				return nil // documented: closing the zero Layer is harmless (nil)
			}
			return errors.New("nil (nothing to close)")
		},
	}
	for _, m := range exportedMethods(zl) {
		if _, ok := layerCalls[m]; !ok {
			t.Errorf("Layer.%s is not in this test's table", m)
		}
	}
	for name, call := range layerCalls {
		if err := noPanic(t, "zero Layer."+name, call); err == nil {
			t.Errorf("zero Layer.%s: unexpected answer", name)
		}
	}
	if _, err := zl.Get("p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("zero Layer.Get: %v", err)
	}

	// Nil error values print instead of panicking.
	for _, e := range []error{(*Error)(nil), (*LoadError)(nil), (*PuregoVersionError)(nil)} {
		if s := noPanicString(t, e); !strings.Contains(s, "nil") {
			t.Errorf("%T(nil).Error() = %q", e, s)
		}
	}
	if errors.Is((*Error)(nil), ErrNotFound) {
		t.Error("a nil *Error matches ErrNotFound")
	}
}

func isNilBuilder(b *UserBuilder) error {
	if b != nil {
		return nil
	}
	return errors.New("nil builder returned")
}

// fallbackErr turns "the documented fallback was returned" into the non-nil answer the table
// expects.
func fallbackErr(ok bool) error {
	if ok {
		return errors.New("fallback")
	}
	return nil
}

func noPanicString(t *testing.T, e error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%T(nil).Error() panicked: %v", e, r)
		}
	}()
	return e.Error()
}

// Invalid UTF-8 is refused with an error naming the field or argument, never replaced with
// U+FFFD (what encoding/json would do) or reported without a name.
func TestInvalidUTF8IsAnErrorNamingTheField(t *testing.T) {
	const bad = "x\xffy"
	builders := []struct {
		b     *UserBuilder
		field string
	}{
		{NewUserBuilder().WithUserID(bad), "`userID`"},
		{NewUserBuilder().WithEmail(bad), "`email`"},
		{NewUserBuilder().WithIP(bad), "`ip`"},
		{NewUserBuilder().WithUserAgent(bad), "`userAgent`"},
		{NewUserBuilder().WithCountry(bad), "`country`"},
		{NewUserBuilder().WithLocale(bad), "`locale`"},
		{NewUserBuilder().WithAppVersion(bad), "`appVersion`"},
		{NewUserBuilder().WithEnvironment(bad), "`statsigEnvironment.tier`"},
		{NewUserBuilder().WithCustomID(bad, "v"), "`customIDs (a key)`"},
		{NewUserBuilder().WithCustomID("companyID", bad), "`customIDs.companyID`"},
		{NewUserBuilder().WithCustom(map[string]any{"plan": bad}), "`custom.plan`"},
		{NewUserBuilder().WithCustom(map[string]any{bad: 1}), "`custom (a key)`"},
		{NewUserBuilder().WithCustom(map[string]any{"tags": []any{"ok", map[string]any{"deep": bad}}}), "`custom.tags[1].deep`"},
		{NewUserBuilder().WithCustom(map[string]any{"list": []string{"a", bad}}), "`custom.list[1]`"},
		{NewUserBuilder().WithPrivateAttributes(map[string]any{"secret": bad}), "`privateAttributes.secret`"},
	}
	for _, c := range builders {
		_, err := c.b.Build()
		if !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: Build error %v", c.field, err)
		}
		if _, err := c.b.JSON(); !errors.Is(err, ErrInvalidUTF8) {
			t.Errorf("%s: JSON error %v", c.field, err)
		}
	}
	// A valid U+FFFD is just a character.
	if u, err := NewUserBuilder().WithEmail("a\uFFFDb@example.org").Build(); err != nil {
		t.Errorf("U+FFFD refused: %v", err)
	} else {
		u.Close()
	}
	// Raw user JSON: the library refuses it, naming the argument.
	if _, err := NewUserFromJSON([]byte("{\"userID\":\"\xff\"}")); !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), "`json`") {
		t.Errorf("NewUserFromJSON: %v", err)
	}

	u := mustUser(t, `{"userID":"utf8"}`)
	defer u.Close()
	plain := newClient(t, exampleOptions(t))
	o := exampleOptions(t)
	o.Events = &EventOptions{File: filepath.Join(t.TempDir(), "events.ndjson")}
	logging := newClient(t, o)
	calls := []struct {
		field string
		call  func() error
	}{
		{"`gate`", func() error { _, err := plain.CheckGate(u, bad); return err }},
		{"`gate`", func() error { _, err := plain.GetFeatureGate(u, bad); return err }},
		{"`config`", func() error { _, err := plain.GetDynamicConfig(u, bad); return err }},
		{"`experiment`", func() error { _, err := plain.GetExperiment(u, bad); return err }},
		{"`layer`", func() error { _, err := plain.GetLayer(u, bad); return err }},
		{"`layer`", func() error { _, err := logging.GetLayer(u, bad); return err }}, // the layer-handle path
		{"`gate`", func() error { return plain.OverrideGate(bad, true, "") }},
		{"`id`", func() error { return plain.OverrideGate("g", true, bad) }},
		{"`value.k`", func() error { return plain.OverrideDynamicConfig("c", map[string]any{"k": bad}, "") }},
		{"`name`", func() error { return plain.OverrideLayer(bad, map[string]any{"k": 1}, "") }},
		{"`group`", func() error { return plain.OverrideExperimentByGroupName("checkout_redesign", bad, "") }},
		{"`name`", func() error { return plain.RemoveOverride(KindGate, bad, "") }},
		{"`Name`", func() error { return logging.LogEvent(u, Event{Name: bad}) }},
		{"`Value`", func() error { return logging.LogEvent(u, Event{Name: "e", Value: bad}) }},
		{"`Metadata.k`", func() error { return logging.LogEvent(u, Event{Name: "e", Metadata: map[string]string{"k": bad}}) }},
		{"`SpecsFile`", func() error { _, err := NewClient(Options{SpecsFile: bad}); return err }},
		{"`Events.File`", func() error {
			_, err := NewClient(Options{SpecsFile: "x", Events: &EventOptions{File: bad}})
			return err
		}},
		{"`IDListFiles[\"l\"]`", func() error {
			_, err := NewClient(Options{SpecsFile: "x", IDListFiles: map[string]string{"l": bad}})
			return err
		}},
	}
	for _, c := range calls {
		err := noPanic(t, c.field, c.call)
		if !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v", c.field, err)
		}
	}
}

// LogEvent's Value is a string, a number or nil: other JSON is refused by the library with a
// message naming the value; library messages are not repeated after the status text.
func TestLogEventValueAndMessages(t *testing.T) {
	o := exampleOptions(t)
	events := filepath.Join(t.TempDir(), "events.ndjson")
	o.Events = &EventOptions{File: events}
	c := newClient(t, o)
	u := mustUser(t, `{"userID":"event-values"}`)
	defer u.Close()
	for _, v := range []any{true, []int{1}, map[string]any{"a": 1}} {
		err := c.LogEvent(u, Event{Name: "bad", Value: v})
		if !errors.Is(err, ErrInvalidArg) || !strings.Contains(err.Error(), "`Value`: an event value must be a JSON string, number or null") {
			t.Errorf("Value %v: %v", v, err)
		}
		if strings.Count(err.Error(), "invalid argument") != 1 {
			t.Errorf("repeated status text: %v", err)
		}
	}
	for _, v := range []any{"s", 3, 2.5, nil} {
		if err := c.LogEvent(u, Event{Name: "good", Value: v}); err != nil {
			t.Errorf("Value %v: %v", v, err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	var values []any
	for _, e := range readEvents(t, events) {
		if e["eventName"] != "good" {
			t.Errorf("unexpected event %v", e)
		}
		values = append(values, e["value"])
	}
	if want := []any{"s", 3.0, 2.5, nil}; !reflect.DeepEqual(values, want) {
		t.Errorf("values %v; want %v", values, want)
	}
	// An empty name is refused, naming the Event field.
	if err := c.LogEvent(u, Event{Name: ""}); !errors.Is(err, ErrInvalidArg) && !errors.Is(err, ErrInvalidOptions) || err == nil || !strings.Contains(err.Error(), "`Name`") {
		t.Errorf("empty name: %v", err)
	}
	// An option error names the Go field once (a duration in ms), after the status text once.
	_, err := NewClient(Options{SpecsFile: "x", Events: &EventOptions{File: events, RetryBackoff: 2e9, MaxBackoff: 1e9}})
	want := "gatehouse: NewClient: invalid options: `Events.MaxBackoff` (1000 ms) must be at least `Events.RetryBackoff` (2000 ms)"
	if err == nil || err.Error() != want {
		t.Errorf("option error\n got %v\nwant %s", err, want)
	}
	// Two spec sources: the message names the Go fields.
	_, err = NewClient(Options{SpecsFile: "x", SpecsURL: "http://127.0.0.1:9", SDKKey: "secret-k"})
	if err == nil || !strings.Contains(err.Error(), "`SpecsFile`") || strings.Contains(err.Error(), "specs_file") {
		t.Errorf("spec source error: %v", err)
	}
}
