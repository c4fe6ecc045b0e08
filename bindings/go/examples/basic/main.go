// Command basic evaluates the repository's example specs for the example users through the Go
// binding: a gate, a config, an experiment and a layer parameter per user, with exposures
// written to an NDJSON file.
//
//	cargo build --release -p gatehouse-ffi      # once, at the repository root
//	cd bindings/go && go run ./examples/basic
//
// Flags: -specs FILE (default ../../examples/specs.json), -users FILE (JSON lines, default
// ../../examples/users.jsonl), -events FILE (default: a temporary file, removed at exit).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gatehouse "github.com/gatehouse-dev/gatehouse/bindings/go"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

func run() error {
	specs := flag.String("specs", "../../examples/specs.json", "dcs-v2 specs file")
	usersFile := flag.String("users", "../../examples/users.jsonl", "users, one JSON object per line")
	events := flag.String("events", "", "exposure events file (NDJSON); default: a temporary file")
	flag.Parse()

	eventsPath := *events
	if eventsPath == "" {
		dir, err := os.MkdirTemp("", "gatehouse-basic")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		eventsPath = filepath.Join(dir, "events.ndjson")
	}

	client, err := gatehouse.NewClient(gatehouse.Options{
		SpecsFile:   *specs,
		IDListFiles: map[string]string{"beta_testers": filepath.Join(filepath.Dir(*specs), "id_lists", "beta_testers.txt")},
		Events:      &gatehouse.EventOptions{File: eventsPath},
	})
	if err != nil {
		return err
	}
	defer client.Shutdown()
	if err := client.Initialize(); err != nil {
		return err
	}
	fmt.Printf("gatehouse %s (ABI %d) from %s\n", client.Library().Version, client.Library().ABIVersion, client.Library().Path)

	f, err := os.Open(*usersFile)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		user, err := gatehouse.NewUserFromJSON([]byte(line))
		if err != nil {
			return err
		}
		if err := evaluate(client, user); err != nil {
			return err
		}
		user.Close()
	}
	if err := sc.Err(); err != nil {
		return err
	}

	// An override for everyone, then for one user ID.
	if err := client.OverrideGate("dark_mode", true, ""); err != nil {
		return err
	}
	anyone, err := gatehouse.NewUserBuilder().WithUserID("someone-else").Build()
	if err != nil {
		return err
	}
	defer anyone.Close()
	on, err := client.CheckGate(anyone, "dark_mode")
	if err != nil {
		return err
	}
	fmt.Printf("with a global override, dark_mode for someone-else: %v\n", on)

	if err := client.Flush(); err != nil {
		return err
	}
	st, err := client.Status()
	if err != nil {
		return err
	}
	fmt.Printf("status: ready=%v lcut=%d evaluations=%d exposures_queued=%d events_sent=%d\n",
		st.Ready, st.LCUT, st.Counters.Evaluations, st.Counters.ExposuresQueued, st.Counters.EventsSent)
	return nil
}

func evaluate(client *gatehouse.Client, user *gatehouse.User) error {
	gate, err := client.GetFeatureGate(user, "dark_mode")
	if err != nil {
		return err
	}
	shipping, err := client.GetDynamicConfig(user, "shipping_rates")
	if err != nil {
		return err
	}
	exp, err := client.GetExperiment(user, "checkout_redesign")
	if err != nil {
		return err
	}
	layer, err := client.GetLayer(user, "search")
	if err != nil {
		return err
	}
	ranking := layer.GetString("ranking_model", "default") // logs this parameter's exposure
	group := exp.GroupName
	if group == "" {
		group = "-"
	}
	fmt.Printf("dark_mode=%-5v (rule %s)  shipping_rates keys=%d  checkout_redesign group=%s  search.ranking_model=%s (%s)\n",
		gate.Value, orDash(gate.RuleID), len(shipping.Value), group, ranking, gate.EvaluationDetails.Reason)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
