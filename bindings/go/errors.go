package gatehouse

import (
	"errors"
	"fmt"
)

// Code is a status number of the C ABI (docs/FFI.md §6). Numbers never change meaning.
type Code int32

// The ABI's status codes.
const (
	CodeOK              Code = 0
	CodeBufferTooSmall  Code = 1
	CodeNullArgument    Code = 2
	CodeInvalidUTF8     Code = 3
	CodeInputTooLarge   Code = 4
	CodeInvalidHandle   Code = 5
	CodeWrongHandleType Code = 6
	CodeHandleLimit     Code = 7
	CodeInvalidOptions  Code = 8
	CodeInvalidUser     Code = 9
	CodeInvalidArgument Code = 10
	CodeNotFound        Code = 11
	CodeInitFailed      Code = 12
	CodeShutDown        Code = 13
	CodeEventsFailed    Code = 14
	CodePanic           Code = 15
	codeCount                = 16
)

// The static descriptions, as gatehouse_status_str gives them (kept here so that
// describing an error never needs another foreign call).
var codeText = [codeCount]string{
	"ok",
	"output buffer too small",
	"a required pointer is NULL",
	"a string input is not valid UTF-8",
	"an input exceeds its size limit",
	"invalid handle (never issued or released)",
	"handle of the wrong type",
	"too many live handles",
	"invalid options",
	"invalid user",
	"invalid argument",
	"not found",
	"initialization did not load specs",
	"the client has been shut down",
	"event delivery failed",
	"internal panic caught at the C boundary",
}

// String is the status's English description.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeText) {
		return codeText[c]
	}
	return fmt.Sprintf("unknown status %d", int32(c))
}

// Error is a failed call into the library: the operation, the ABI status and the library's
// message when the call carries one.
//
// Match kinds of failure with errors.Is against the sentinels (ErrNotFound, ErrInitFailed, …).
type Error struct {
	Op      string // the Go method, e.g. "GetLayer"
	Code    Code
	Message string // the library's message, if any
}

func (e *Error) Error() string {
	s := "gatehouse: " + e.Op + ": " + e.Code.String()
	if e.Message != "" && e.Message != e.Code.String() {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether target is a sentinel *Error (no Op) with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidHandle  = &Error{Code: CodeInvalidHandle}
	ErrInvalidOptions = &Error{Code: CodeInvalidOptions}
	ErrInvalidUser    = &Error{Code: CodeInvalidUser}
	ErrInvalidArg     = &Error{Code: CodeInvalidArgument}
	ErrNotFound       = &Error{Code: CodeNotFound}
	ErrInitFailed     = &Error{Code: CodeInitFailed}
	ErrShutDown       = &Error{Code: CodeShutDown}
	ErrEventsFailed   = &Error{Code: CodeEventsFailed}
	ErrPanic          = &Error{Code: CodePanic}
)

// ErrClosed is returned for calls on a Client after Shutdown or on a User after Close.
var ErrClosed = errors.New("gatehouse: use of a closed client or user")

// ErrResultMismatch is returned when a result does not carry back the token (or the name) of
// the call that asked for it. The result is discarded: a value is never returned unless it is
// provably this call's. It indicates a broken FFI layer (it is the check that turns a return-value
// race such as purego#451 into an error instead of a wrong answer); it should never happen.
var ErrResultMismatch = errors.New("gatehouse: result does not belong to this call (token or name mismatch)")

func statusError(op string, code int32, msg string) error {
	return &Error{Op: op, Code: Code(code), Message: msg}
}
