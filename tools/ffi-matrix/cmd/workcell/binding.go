package main

import (
	"errors"
	"fmt"
	"sync"

	gatehouse "github.com/gatehouse-dev/gatehouse/bindings/go"
)

// bindingT is transport "binding" (the Go binding as shipped) and, with mu set, "mutex" (the
// same behind one global sync.Mutex: the alternative the binding's design rejected, which
// serialises every call). With mixed set (fault-injection cells), every fourth call is
// GetFeatureGate, so the JSON path's checks (token out parameter, JSON token, name) are
// exercised as well as CheckGate's.
type bindingT struct {
	client *gatehouse.Client
	users  []*gatehouse.User
	gates  []string
	mu     *sync.Mutex
	mixed  bool
	info   gatehouse.LibraryInfo
}

func newBinding(lib, specs string, users [][]byte, gates []string, mutex, mixed bool) (*bindingT, error) {
	info, err := gatehouse.LoadLibrary(lib)
	if err != nil {
		return nil, err
	}
	c, err := gatehouse.NewClient(gatehouse.Options{SpecsFile: specs, DisableSync: true})
	if err != nil {
		return nil, err
	}
	if err := c.Initialize(); err != nil {
		return nil, err
	}
	b := &bindingT{client: c, gates: gates, mixed: mixed, info: info}
	if mutex {
		b.mu = &sync.Mutex{}
	}
	for _, js := range users {
		u, err := gatehouse.NewUserFromJSON(js)
		if err != nil {
			return nil, err
		}
		b.users = append(b.users, u)
	}
	return b, nil
}

func (b *bindingT) eval(json bool, u, g int) (bool, error) {
	if b.mu != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
	}
	if json {
		fg, err := b.client.GetFeatureGate(b.users[u], b.gates[g])
		return fg.Value, err
	}
	return b.client.CheckGate(b.users[u], b.gates[g])
}

// baseline answers single-threaded. A result the token check refuses (only a fault-injection
// build does that) is asked again and counted.
func (b *bindingT) baseline(u, g int) (bool, uint64, error) {
	var refused uint64
	for {
		on, err := b.eval(false, u, g)
		if errors.Is(err, gatehouse.ErrResultMismatch) && refused < 100 {
			refused++
			continue
		}
		if err != nil || !b.mixed {
			return on, refused, err
		}
		// Fault cells use the JSON path too: it must give the same answer.
		fg, err := b.eval(true, u, g)
		if errors.Is(err, gatehouse.ErrResultMismatch) && refused < 100 {
			refused++
			continue
		}
		if err == nil && fg != on {
			err = fmt.Errorf("GetFeatureGate(%s) = %v but CheckGate = %v", b.gates[g], fg, on)
		}
		return on, refused, err
	}
}

// check makes call i of a worker and classifies it: "" (right value), "detected" (the
// binding refused a result with ErrResultMismatch: nothing wrong was accepted, but a result
// was not this call's), "wrongValue" (a wrong value accepted: what the binding exists to
// prevent) or "error".
func (b *bindingT) check(_ int, i uint64, u, g int, want bool) (string, string) {
	on, err := b.eval(b.mixed && i%4 == 3, u, g)
	switch {
	case errors.Is(err, gatehouse.ErrResultMismatch):
		return "detected", err.Error()
	case err != nil:
		return "error", err.Error()
	case on != want:
		return "wrongValue", fmt.Sprintf("%s for user %d: got %v, single-threaded %v", b.gates[g], u, on, want)
	}
	return "", ""
}

func (b *bindingT) close() {
	for _, u := range b.users {
		u.Close()
	}
	_ = b.client.Shutdown()
}
