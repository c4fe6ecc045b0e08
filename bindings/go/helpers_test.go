package gatehouse

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	info, err := LoadLibrary("")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gatehouse %s (ABI %d) from %s; purego %s\n", info.Version, info.ABIVersion, info.Path, info.Purego.Version)
	os.Exit(m.Run())
}

// repoRoot is the gatehouse checkout this module is in.
func repoRoot(t testing.TB) string {
	dir := moduleDir()
	if dir == "" {
		t.Fatal("module source directory unknown (built with -trimpath?)")
	}
	return filepath.Clean(filepath.Join(dir, "..", ".."))
}

func examplesDir(t testing.TB) string { return filepath.Join(repoRoot(t), "examples") }

// evalProjSpecs finds the reference core's eval_proj_dcs.json fixture (statsig-rust 0.24.0's
// tests/data, in the cargo registry once the conformance crate was built), or "".
func evalProjSpecs() string {
	if p := os.Getenv("GATEHOUSE_EVAL_PROJ"); p != "" {
		return p
	}
	home := os.Getenv("CARGO_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		home = filepath.Join(h, ".cargo")
	}
	matches, _ := filepath.Glob(filepath.Join(home, "registry", "src", "*", "statsig-rust-0.24.0", "tests", "data", "eval_proj_dcs.json"))
	if len(matches) == 0 {
		return ""
	}
	return matches[0]
}

type entity struct {
	kind string // "gate", "config", "experiment", "layer"
	name string
}

// specEntities lists a payload's entities, sorted by kind then name (segment gates left out).
func specEntities(t testing.TB, path string) []entity { return specEntitiesWith(t, path, false) }

// specEntitiesWith lists a payload's entities; withSegments keeps the "segment:" gates (as
// bench-compare's gate list does).
func specEntitiesWith(t testing.TB, path string, withSegments bool) []entity {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		FeatureGates   json.RawMessage `json:"feature_gates"`
		DynamicConfigs json.RawMessage `json:"dynamic_configs"`
		LayerConfigs   json.RawMessage `json:"layer_configs"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	type spec struct {
		Name   string `json:"name"`
		Entity string `json:"entity"`
	}
	// dcs-v2 has objects keyed by name; older payloads have arrays.
	list := func(raw json.RawMessage) []spec {
		var m map[string]spec
		if json.Unmarshal(raw, &m) == nil {
			out := make([]spec, 0, len(m))
			for k, s := range m {
				s.Name = k
				out = append(out, s)
			}
			return out
		}
		var a []spec
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return a
	}
	var out []entity
	for _, s := range list(p.FeatureGates) {
		if withSegments || !strings.HasPrefix(s.Name, "segment:") {
			out = append(out, entity{"gate", s.Name})
		}
	}
	for _, s := range list(p.DynamicConfigs) {
		kind := "config"
		if s.Entity == "experiment" || s.Entity == "autotune" {
			kind = "experiment"
		}
		out = append(out, entity{kind, s.Name})
	}
	for _, s := range list(p.LayerConfigs) {
		out = append(out, entity{"layer", s.Name})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].kind != out[j].kind {
			return out[i].kind < out[j].kind
		}
		return out[i].name < out[j].name
	})
	return out
}

func gatesOf(es []entity) []string {
	var g []string
	for _, e := range es {
		if e.kind == "gate" {
			g = append(g, e.name)
		}
	}
	return g
}

// exampleUsers reads examples/users.jsonl.
func exampleUsers(t testing.TB) []string {
	f, err := os.Open(filepath.Join(examplesDir(t), "users.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var users []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			users = append(users, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return users
}

var (
	countries = []string{"US", "CA", "GB", "DE", "FR", "JP", "BR", "IN", "AU", "MX", ""}
	locales   = []string{"en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "pt_BR", ""}
	plans     = []string{"Free", "Pro", "Business", "Enterprise", ""}
	agents    = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"Googlebot/2.1 (+http://www.google.com/bot.html)",
		"",
	}
	domains = []string{"harborgoods.com", "gmail.com", "example.org", "wholesale.co", "yahoo.com"}
)

// genUsers makes n varied users (distinct user IDs), deterministically from seed, in the
// example users' shape.
func genUsers(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	users := make([]string, n)
	for i := range users {
		u := map[string]any{"userID": fmt.Sprintf("gen_%d_%d", seed, i)}
		if r.IntN(4) > 0 {
			u["email"] = fmt.Sprintf("user%d@%s", i, pick(domains))
		}
		if c := pick(countries); c != "" {
			u["country"] = c
		}
		if l := pick(locales); l != "" {
			u["locale"] = l
		}
		if a := pick(agents); a != "" {
			u["userAgent"] = a
		}
		if r.IntN(3) > 0 {
			u["appVersion"] = fmt.Sprintf("%d.%d.%d", 3+r.IntN(3), r.IntN(10), r.IntN(5))
		}
		ids := map[string]string{"stableID": fmt.Sprintf("stable-%d-%d", seed, i)}
		if r.IntN(2) == 0 {
			ids["companyID"] = pick([]string{"harbor-internal", "acme", "globex", "initech"})
		}
		u["customIDs"] = ids
		custom := map[string]any{
			"lifetime_orders": r.IntN(80),
			"cart_value":      float64(r.IntN(40000)) / 100,
		}
		if p := pick(plans); p != "" {
			custom["plan"] = p
		}
		if r.IntN(3) == 0 {
			custom["beta_opt_in"] = true
		}
		u["custom"] = custom
		if r.IntN(5) == 0 {
			u["ip"] = fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(220), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		}
		data, _ := json.Marshal(u)
		users[i] = string(data)
	}
	return users
}

// newClient makes an initialized client that is shut down when the test ends.
func newClient(t testing.TB, o Options) *Client {
	t.Helper()
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	if err := c.Initialize(); err != nil {
		t.Fatal(err)
	}
	return c
}

func exampleOptions(t testing.TB) Options {
	dir := examplesDir(t)
	return Options{
		SpecsFile:   filepath.Join(dir, "specs.json"),
		IDListFiles: map[string]string{"beta_testers": filepath.Join(dir, "id_lists", "beta_testers.txt")},
		DisableSync: true,
	}
}

func mustUser(t testing.TB, js string) *User {
	t.Helper()
	u, err := NewUserFromJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// answer evaluates one entity fully and renders everything a caller can see as one string.
func answer(c *Client, u *User, e entity, o *EvaluationOptions) (string, error) {
	var v any
	var err error
	switch e.kind {
	case "gate":
		var g FeatureGate
		g, err = c.GetFeatureGateWithOptions(u, e.name, o)
		v = g
	case "config":
		v, err = c.GetDynamicConfigWithOptions(u, e.name, o)
	case "experiment":
		v, err = c.GetExperimentWithOptions(u, e.name, o)
	case "layer":
		var l Layer
		l, err = c.GetLayerWithOptions(u, e.name, o)
		v = struct {
			Layer
			Values map[string]any
		}{l, l.values}
	}
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(v)
	return string(data), err
}
