package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
)

// gateNames lists the payload's feature gates, sorted, without the "segment:" gates (the
// segments the real gates use; bindings/go's tests leave them out the same way).
func gateNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p struct {
		FeatureGates json.RawMessage `json:"feature_gates"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var names []string
	var byName map[string]json.RawMessage // dcs v2: an object keyed by name
	if json.Unmarshal(p.FeatureGates, &byName) == nil {
		for n := range byName {
			names = append(names, n)
		}
	} else {
		var list []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(p.FeatureGates, &list); err != nil {
			return nil, fmt.Errorf("%s: feature_gates: %w", path, err)
		}
		for _, g := range list {
			names = append(names, g.Name)
		}
	}
	out := names[:0]
	for _, n := range names {
		if !strings.HasPrefix(n, "segment:") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no feature gates", path)
	}
	return out, nil
}

var (
	countries = []string{"US", "CA", "GB", "DE", "FR", "JP", "BR", "IN", "AU", "MX", "NZ", ""}
	locales   = []string{"en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "pt_BR", ""}
	domains   = []string{"statsig.com", "gmail.com", "example.org", "wholesale.co", "yahoo.com"}
	agents    = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"",
	}
	tiers = []string{"production", "staging", "development", ""}
)

// genUsers makes n varied users (statsig user JSON), deterministically: the same n gives the
// same users in every cell, so every cell's single-threaded answers must agree (the matrix
// compares their digests).
func genUsers(n int) [][]byte {
	r := rand.New(rand.NewPCG(0x6761746568, 0x9e3779b97f4a7c15))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	users := make([][]byte, n)
	for i := range users {
		u := map[string]any{"userID": fmt.Sprintf("%d", 1000+i*37)}
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
			u["appVersion"] = fmt.Sprintf("%d.%d.%d", r.IntN(4), r.IntN(10), r.IntN(5))
		}
		if r.IntN(5) == 0 {
			u["ip"] = fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(220), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		}
		u["customIDs"] = map[string]string{
			"stableID":  fmt.Sprintf("stable-%d", i),
			"companyID": pick([]string{"statsig", "acme", "globex", "initech"}),
		}
		custom := map[string]any{"level": r.IntN(12), "score": float64(r.IntN(10000)) / 100}
		if r.IntN(3) == 0 {
			custom["beta"] = true
		}
		u["custom"] = custom
		if t := pick(tiers); t != "" {
			u["statsigEnvironment"] = map[string]string{"tier": t}
		}
		data, err := json.Marshal(u)
		if err != nil {
			panic(err) // a map of strings and numbers always marshals
		}
		users[i] = data
	}
	return users
}
