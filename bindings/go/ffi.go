package gatehouse

// The foreign calls. Read this file to check the immunity claims of README.md ("Why this binding
// cannot return a wrong result").
//
//  1. No function is registered with purego.RegisterFunc/RegisterLibFunc: every call goes through
//     purego.SyscallN, which returns the C function's integer result by value; it is copied out
//     of purego's pooled argument struct before that struct is returned to the pool, in every
//     purego version. Every gatehouse function returns an int32 status (uint32 for
//     gatehouse_abi_version), so no result is a pointer. (purego's own Dlopen/Dlsym/Dlerror
//     registrations return uintptr, string and bool: copied kinds, and only used at load time.)
//  2. Every output goes into Go memory owned by the caller: a pooled *scratch (heap-allocated by
//     sync.Pool's New) for out parameters and error messages, and its growable byte buffer for
//     JSON results. Results are decoded (copied) out of the scratch before it goes back to the
//     pool.
//  3. Pointers are passed as uintptr(unsafe.Pointer(p)) written directly in the argument list of
//     purego.SyscallN. SyscallN is marked //go:uintptrescapes, so the compiler moves every object
//     converted this way to the heap (Go's heap objects never move) and keeps it alive until the
//     call returns — the same rule as syscall.Syscall (unsafe.Pointer rule 4). The library keeps no
//     pointer after a call returns (docs/FFI.md §2), so nothing needs runtime.Pinner. Never compute
//     such a uintptr in a variable first: only the conversion inside the call's argument list is
//     covered by the rule.
//  4. Every evaluation passes a fresh token, and the result must carry it back (the out parameter
//     and, for JSON results, the "token" member, plus the entity name); otherwise the call fails
//     with ErrResultMismatch and no value is returned.
//
// Handles (client, user, layer) are plain uint64 values, not pointers. The Go objects owning them are
// kept alive across each call with runtime.KeepAlive, so their cleanups cannot release a handle
// while a call uses it.

import (
	"crypto/rand"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ebitengine/purego"
)

const (
	initialBufSize = 4 << 10
	maxPooledBuf   = 1 << 20
	errBufSize     = 1 << 10
)

// gateResult mirrors gatehouse_gate_result: {uint64_t token; uint8_t value;} (16 bytes).
type gateResult struct {
	token uint64
	value uint8
	_     [7]byte
}

// scratch is the per-call Go-owned output memory. It comes from scratchPool, so it lives on the
// heap; a call owns it exclusively from get to put.
type scratch struct {
	gate     gateResult
	handle   uint64
	tokenOut uint64
	lenOut   uintptr
	errLen   uintptr
	errBuf   [errBufSize]byte
	buf      []byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{buf: make([]byte, initialBufSize)} }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch returns s to the pool. Callers must have copied everything they need out of it.
func putScratch(s *scratch) {
	if cap(s.buf) > maxPooledBuf {
		s.buf = make([]byte, initialBufSize)
	}
	scratchPool.Put(s)
}

// grow makes s.buf at least n bytes.
func (s *scratch) grow(n uintptr) {
	if uintptr(len(s.buf)) < n {
		s.buf = make([]byte, n+n/8)
	}
}

// message is the error message a call wrote into the scratch (truncated at errBufSize).
func (s *scratch) message() string {
	n := s.errLen
	if n > errBufSize {
		return string(s.errBuf[:]) + "…"
	}
	return string(s.errBuf[:n])
}

// Tokens: a process-wide counter from a random start, so no two calls in a process share one and
// tokens from different processes or clients are unlikely to coincide.
var tokenCounter atomic.Uint64

func init() {
	var b [8]byte
	_, _ = rand.Read(b[:])
	tokenCounter.Store(binary.LittleEndian.Uint64(b[:]))
}

func nextToken() uint64 { return tokenCounter.Add(1) }

// ptr helpers return the data pointer of a string or slice (nil when empty: the ABI accepts
// NULL with length 0). They return unsafe.Pointer, never uintptr; the conversion to uintptr
// happens in the SyscallN argument list (rule 3 above).
func strPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// keepAlive keeps the memory behind strings, slices and scratches reachable until after the
// foreign call that precedes it (belt and braces: //go:uintptrescapes already keeps objects
// converted in SyscallN's argument list alive for the call).
func keepAlive(xs ...any) {
	for _, x := range xs {
		runtime.KeepAlive(x)
	}
}

func b2u(b bool) uintptr {
	if b {
		return 1
	}
	return 0
}

// ---- meta ----

func (l *library) callABIVersion() uint32 {
	r, _, _ := purego.SyscallN(l.abiVersion)
	return uint32(r)
}

func (l *library) callVersion() (string, error) {
	s := getScratch()
	defer putScratch(s)
	r, _, _ := purego.SyscallN(l.version, uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)),
		uintptr(unsafe.Pointer(&s.lenOut)))
	keepAlive(s)
	if r := int32(r); r != int32(CodeOK) {
		return "", statusError("gatehouse_version", r, "")
	}
	if s.lenOut > uintptr(len(s.buf)) {
		return "", ErrResultMismatch
	}
	return string(s.buf[:s.lenOut]), nil
}

// statusText is gatehouse_status_str: the library's description of a status ("" on failure).
func (l *library) statusText(c Code) string {
	s := getScratch()
	defer putScratch(s)
	r, _, _ := purego.SyscallN(l.statusStr, uintptr(uint32(int32(c))), uintptr(unsafe.Pointer(&s.buf[0])),
		uintptr(len(s.buf)), uintptr(unsafe.Pointer(&s.lenOut)))
	keepAlive(s)
	if int32(r) != int32(CodeOK) || s.lenOut > uintptr(len(s.buf)) {
		return ""
	}
	return string(s.buf[:s.lenOut])
}

// ---- clients ----

func (l *library) callClientNew(options []byte, s *scratch) int32 {
	r, _, _ := purego.SyscallN(l.clientNew,
		uintptr(bytesPtr(options)), uintptr(len(options)),
		uintptr(unsafe.Pointer(&s.handle)),
		uintptr(unsafe.Pointer(&s.errBuf[0])), errBufSize, uintptr(unsafe.Pointer(&s.errLen)))
	keepAlive(options, s)
	return int32(r)
}

// callWithErr runs a gatehouse_client_{initialize,flush} style call: (handle, err triple).
func (l *library) callHandleErr(fn uintptr, h uint64, s *scratch) int32 {
	r, _, _ := purego.SyscallN(fn, uintptr(h),
		uintptr(unsafe.Pointer(&s.errBuf[0])), errBufSize, uintptr(unsafe.Pointer(&s.errLen)))
	keepAlive(s)
	return int32(r)
}

func (l *library) callClientShutdown(h uint64, timeoutMs uint64, s *scratch) int32 {
	r, _, _ := purego.SyscallN(l.clientShutdown, uintptr(h), uintptr(timeoutMs),
		uintptr(unsafe.Pointer(&s.errBuf[0])), errBufSize, uintptr(unsafe.Pointer(&s.errLen)))
	keepAlive(s)
	return int32(r)
}

// callHandle runs a call taking only a handle (release, remove_all_overrides).
func (l *library) callHandle(fn uintptr, h uint64) int32 {
	r, _, _ := purego.SyscallN(fn, uintptr(h))
	return int32(r)
}

// callHandleBuf runs a (handle, buf, cap, len_out) call (status, counters, overrides listing).
func (l *library) callHandleBuf(fn uintptr, h uint64, s *scratch) int32 {
	r, _, _ := purego.SyscallN(fn, uintptr(h),
		uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)), uintptr(unsafe.Pointer(&s.lenOut)))
	keepAlive(s)
	return int32(r)
}

// ---- users ----

func (l *library) callUserNew(json []byte, s *scratch) int32 {
	r, _, _ := purego.SyscallN(l.userNew,
		uintptr(bytesPtr(json)), uintptr(len(json)),
		uintptr(unsafe.Pointer(&s.handle)),
		uintptr(unsafe.Pointer(&s.errBuf[0])), errBufSize, uintptr(unsafe.Pointer(&s.errLen)))
	keepAlive(json, s)
	return int32(r)
}

// ---- evaluation ----

func (l *library) callCheckGate(client, user uint64, name string, flags uint32, token uint64, s *scratch) int32 {
	r, _, _ := purego.SyscallN(l.checkGate, uintptr(client), uintptr(user),
		uintptr(strPtr(name)), uintptr(len(name)), uintptr(flags), uintptr(token),
		uintptr(unsafe.Pointer(&s.gate)))
	keepAlive(name, s)
	return int32(r)
}

// callEvalJSON runs one of gatehouse_get_{feature_gate,dynamic_config,experiment,layer}.
func (l *library) callEvalJSON(fn uintptr, client, user uint64, name string, flags uint32, token uint64, s *scratch) int32 {
	r, _, _ := purego.SyscallN(fn, uintptr(client), uintptr(user),
		uintptr(strPtr(name)), uintptr(len(name)), uintptr(flags), uintptr(token),
		uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)), uintptr(unsafe.Pointer(&s.lenOut)),
		uintptr(unsafe.Pointer(&s.tokenOut)))
	keepAlive(name, s)
	return int32(r)
}

func (l *library) callLayerGetParam(client, user uint64, layer, param string, flags uint32, token uint64, s *scratch) int32 {
	r, _, _ := purego.SyscallN(l.layerGetParam, uintptr(client), uintptr(user),
		uintptr(strPtr(layer)), uintptr(len(layer)), uintptr(strPtr(param)), uintptr(len(param)),
		uintptr(flags), uintptr(token),
		uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)), uintptr(unsafe.Pointer(&s.lenOut)),
		uintptr(unsafe.Pointer(&s.tokenOut)))
	keepAlive(layer, param, s)
	return int32(r)
}

// callLayerOpen runs gatehouse_layer_open: the layer handle goes to s.handle.
func (l *library) callLayerOpen(client, user uint64, name string, flags uint32, token uint64, s *scratch) int32 {
	r, _, _ := purego.SyscallN(l.layerOpen, uintptr(client), uintptr(user),
		uintptr(strPtr(name)), uintptr(len(name)), uintptr(flags), uintptr(token),
		uintptr(unsafe.Pointer(&s.handle)),
		uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)), uintptr(unsafe.Pointer(&s.lenOut)),
		uintptr(unsafe.Pointer(&s.tokenOut)))
	keepAlive(name, s)
	return int32(r)
}

func (l *library) callLayerLogParam(layer uint64, param string) int32 {
	r, _, _ := purego.SyscallN(l.layerLogParam, uintptr(layer), uintptr(strPtr(param)), uintptr(len(param)))
	keepAlive(param)
	return int32(r)
}

// ---- events ----

func (l *library) callLogEvent(client, user uint64, name string, value, metadata []byte, s *scratch) int32 {
	r, _, _ := purego.SyscallN(l.logEvent, uintptr(client), uintptr(user),
		uintptr(strPtr(name)), uintptr(len(name)),
		uintptr(bytesPtr(value)), uintptr(len(value)),
		uintptr(bytesPtr(metadata)), uintptr(len(metadata)),
		uintptr(unsafe.Pointer(&s.errBuf[0])), errBufSize, uintptr(unsafe.Pointer(&s.errLen)))
	keepAlive(name, value, metadata, s)
	return int32(r)
}

// ---- overrides ----

func (l *library) callOverrideGate(client uint64, name string, value bool, id string) int32 {
	r, _, _ := purego.SyscallN(l.overrideGate, uintptr(client),
		uintptr(strPtr(name)), uintptr(len(name)), b2u(value),
		uintptr(strPtr(id)), uintptr(len(id)))
	keepAlive(name, id)
	return int32(r)
}

func (l *library) callOverrideValue(fn uintptr, client uint64, name string, value []byte, id string, s *scratch) int32 {
	r, _, _ := purego.SyscallN(fn, uintptr(client),
		uintptr(strPtr(name)), uintptr(len(name)),
		uintptr(bytesPtr(value)), uintptr(len(value)),
		uintptr(strPtr(id)), uintptr(len(id)),
		uintptr(unsafe.Pointer(&s.errBuf[0])), errBufSize, uintptr(unsafe.Pointer(&s.errLen)))
	keepAlive(name, value, id, s)
	return int32(r)
}

func (l *library) callOverrideByGroup(client uint64, name, group, id string) int32 {
	r, _, _ := purego.SyscallN(l.overrideByGroup, uintptr(client),
		uintptr(strPtr(name)), uintptr(len(name)),
		uintptr(strPtr(group)), uintptr(len(group)),
		uintptr(strPtr(id)), uintptr(len(id)))
	keepAlive(name, group, id)
	return int32(r)
}

func (l *library) callRemoveOverride(client uint64, kind Kind, name, id string) int32 {
	r, _, _ := purego.SyscallN(l.removeOverride, uintptr(client), uintptr(uint32(kind)),
		uintptr(strPtr(name)), uintptr(len(name)),
		uintptr(strPtr(id)), uintptr(len(id)))
	keepAlive(name, id)
	return int32(r)
}
