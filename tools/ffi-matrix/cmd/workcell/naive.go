package main

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// naiveT is transport "naive": gatehouse_naive_check_gate (cargo feature naive-abi of
// gatehouse-ffi) registered with purego.RegisterLibFunc as func(…) *byte, and its free function
// as func(*byte) — the shape of the reference Go binding (statsig-go's getters and
// free_string), the shape ebitengine/purego#451 breaks. The client and users are set up
// single-threaded through the ordinary ABI (SyscallN), only the timed calls take the naive path.
type naiveT struct {
	checkFn func(client, user uint64, name string, token uint64) *byte
	freeFn  func(*byte)
	client  uint64
	users   []uint64
	gates   []string
	version string
}

// tokenTag marks every token (tokenTag<<48 | worker<<32 | i), like tagcell's seeds.
const tokenTag = 0xA5A6

func newNaive(lib, specs string, users [][]byte, gates []string) (*naiveT, error) {
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, err
	}
	sym := func(name string) uintptr {
		if err != nil {
			return 0
		}
		var a uintptr
		a, err = purego.Dlsym(h, name)
		return a
	}
	clientNew, initialize, userNew, version :=
		sym("gatehouse_client_new"), sym("gatehouse_client_initialize"), sym("gatehouse_user_new"), sym("gatehouse_version")
	sym("gatehouse_naive_check_gate")
	if err != nil {
		return nil, fmt.Errorf("%w (is %s a naive-abi build of gatehouse-ffi?)", err, lib)
	}
	n := &naiveT{gates: gates}
	purego.RegisterLibFunc(&n.checkFn, h, "gatehouse_naive_check_gate")
	purego.RegisterLibFunc(&n.freeFn, h, "gatehouse_naive_free")

	buf := make([]byte, 256)
	var outLen uintptr
	if r, _, _ := purego.SyscallN(version, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		uintptr(unsafe.Pointer(&outLen))); int32(r) == 0 && outLen <= uintptr(len(buf)) {
		n.version = string(buf[:outLen])
	}
	opts := []byte(fmt.Sprintf(`{"specs_file":%q,"sync_interval_ms":0}`, specs))
	if n.client, err = newHandle(clientNew, opts); err != nil {
		return nil, fmt.Errorf("gatehouse_client_new: %w", err)
	}
	var errLen uintptr
	if r, _, _ := purego.SyscallN(initialize, uintptr(n.client), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		uintptr(unsafe.Pointer(&errLen))); int32(r) != 0 {
		return nil, fmt.Errorf("gatehouse_client_initialize: status %d: %s", int32(r), buf[:min(errLen, uintptr(len(buf)))])
	}
	for _, js := range users {
		u, err := newHandle(userNew, js)
		if err != nil {
			return nil, fmt.Errorf("gatehouse_user_new: %w", err)
		}
		n.users = append(n.users, u)
	}
	return n, nil
}

// newHandle calls a (json, len, handle_out, err_buf, err_cap, err_len) constructor.
func newHandle(fn uintptr, js []byte) (uint64, error) {
	var h uint64
	var errLen uintptr
	msg := make([]byte, 512)
	r, _, _ := purego.SyscallN(fn, uintptr(unsafe.Pointer(&js[0])), uintptr(len(js)), uintptr(unsafe.Pointer(&h)),
		uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)), uintptr(unsafe.Pointer(&errLen)))
	if int32(r) != 0 {
		return 0, fmt.Errorf("status %d: %s", int32(r), msg[:min(errLen, uintptr(len(msg)))])
	}
	return h, nil
}

func (n *naiveT) baseline(u, g int) (bool, uint64, error) {
	token := uint64(tokenTag)<<48 | 0xFFFF<<32
	kind, detail, on := n.call(token, u, g)
	if kind != "" {
		return false, 0, fmt.Errorf("single-threaded naive call: %s %s", kind, detail)
	}
	return on, 0, nil
}

func (n *naiveT) check(w int, i uint64, u, g int, want bool) (string, string) {
	token := uint64(tokenTag)<<48 | uint64(w)<<32 | i&0xFFFF_FFFF
	kind, detail, on := n.call(token, u, g)
	if kind == "" && on != want {
		return "wrongValue", fmt.Sprintf("%s for user %d: got %v, single-threaded %v", n.gates[g], u, on, want)
	}
	return kind, detail
}

// call makes one naive call and classifies its result as ffi-race.md §2.1 does: it never
// dereferences or frees what is not provably this call's. It returns "" and the value for this
// call's own result (freed here), else the anomaly.
func (n *naiveT) call(token uint64, u, g int) (kind, detail string, on bool) {
	p := uintptr(unsafe.Pointer(n.checkFn(n.client, n.users[u], n.gates[g], token)))
	switch {
	case p == 0:
		return "nil", "", false // a stale result slot from a void call (free)
	case p>>56 == 0xC1 || p>>56 == 0xD5:
		// A gatehouse handle's type tag (clients 0xC1, users 0xD5): another call's first argument.
		return "argLeak", fmt.Sprintf("got %#x, a handle: another call's argument", p), false
	case p>>48 == tokenTag:
		return "argLeak", fmt.Sprintf("got %#x, a token: another call's argument", p), false
	case p < 0x10000 || p >= 1<<47:
		return "other", fmt.Sprintf("got %#x, not a user-space pointer", p), false
	}
	text, ok := readText(p, 48)
	if !ok {
		return "other", fmt.Sprintf("got %#x: no NUL-terminated text", p), false
	}
	tok, val, found := strings.Cut(text, " ")
	got, err := strconv.ParseUint(tok, 10, 64)
	switch {
	case !found || err != nil || (val != "0" && val != "1"):
		return "other", fmt.Sprintf("got %#x holding %q", p, text), false
	case got != token:
		// Another call's result: its owner frees it; freeing it here too would be a double free.
		return "swapped", fmt.Sprintf("got the result for token %#x (sent %#x)", got, token), false
	}
	n.freeFn(cPtr(p))
	return "", "", val == "1"
}

func (n *naiveT) close() {}

// cPtr turns the address of C memory into a *byte without a uintptr→unsafe.Pointer conversion
// (which go vet rightly flags for Go memory; this is malloc'd memory the GC never sees).
func cPtr(p uintptr) *byte { return *(**byte)(unsafe.Pointer(&p)) }

// readText reads a NUL-terminated text of at most max bytes at p, byte by byte (never past
// the NUL).
func readText(p uintptr, max int) (string, bool) {
	b := make([]byte, 0, max)
	for i := range max {
		c := *cPtr(p + uintptr(i))
		if c == 0 {
			return string(b), true
		}
		b = append(b, c)
	}
	return "", false
}
