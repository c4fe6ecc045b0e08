package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Every cell must generate the same users, or their baseline digests could not be compared.
func TestGenUsersIsDeterministic(t *testing.T) {
	a, b := genUsers(64), genUsers(64)
	ids := map[string]bool{}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("user %d differs between calls", i)
		}
		var u struct {
			UserID string `json:"userID"`
		}
		if err := json.Unmarshal(a[i], &u); err != nil || u.UserID == "" || ids[u.UserID] {
			t.Fatalf("user %d: %s (%v)", i, a[i], err)
		}
		ids[u.UserID] = true
	}
}

func TestGateNames(t *testing.T) {
	dir := t.TempDir()
	for name, payload := range map[string]string{
		"v2.json": `{"feature_gates":{"b":{},"a":{},"segment:s":{}}}`,
		"v1.json": `{"feature_gates":[{"name":"b"},{"name":"a"},{"name":"segment:s"}]}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(payload), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := gateNames(path)
		if err != nil || len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("%s: %v, %v", name, got, err)
		}
	}
}
