package gatehouse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
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
	if e == nil {
		return "gatehouse: <nil *Error>"
	}
	s := "gatehouse: " + e.Op + ": " + e.Code.String()
	if e.Message != "" && e.Message != e.Code.String() {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether target is a sentinel *Error (no Op) with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && t.Op == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidHandle  = &Error{Code: CodeInvalidHandle}
	ErrInvalidOptions = &Error{Code: CodeInvalidOptions}
	ErrInvalidUser    = &Error{Code: CodeInvalidUser}
	ErrInvalidArg     = &Error{Code: CodeInvalidArgument}
	ErrInvalidUTF8    = &Error{Code: CodeInvalidUTF8}
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

// statusError makes the *Error of a failed call. The library's messages start with the status's
// description, which Error() already prints: it is not repeated.
func statusError(op string, code int32, msg string) error {
	msg = strings.TrimPrefix(msg, Code(code).String()+": ")
	return &Error{Op: op, Code: Code(code), Message: msg}
}

// nameMessage is the message of a failed call that has no error buffer, naming the string
// argument arg (holding value) when the status is about a string input: such calls take one
// string, so the status alone says which.
func nameMessage(st int32, arg, value string) string {
	switch Code(st) {
	case CodeInvalidUTF8:
		return "`" + arg + "` is not valid UTF-8: " + quoteShort(value)
	case CodeInputTooLarge:
		return fmt.Sprintf("`%s` is %d bytes, over the library's limit", arg, len(value))
	}
	return ""
}

// quoteShort quotes s (invalid bytes as \x escapes), cut at 40 bytes.
func quoteShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "…"
	}
	return strconv.Quote(s)
}

// utf8Error is the error for a string argument (or a string inside one) that is not valid UTF-8.
// It is refused before any foreign call: encoding/json would silently replace the bytes with
// U+FFFD, and the library refuses invalid names anyway.
func utf8Error(op, what, value string) error {
	return &Error{Op: op, Code: CodeInvalidUTF8, Message: "`" + what + "` is not valid UTF-8: " + quoteShort(value)}
}

// checkUTF8 returns utf8Error for the first invalid string among pairs of (what, value).
func checkUTF8(op string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !utf8.ValidString(pairs[i+1]) {
			return utf8Error(op, pairs[i], pairs[i+1])
		}
	}
	return nil
}
