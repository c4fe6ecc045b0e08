package gatehouse

import (
	"encoding/json"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const defaultShutdownTimeout = 10 * time.Second

// flagDisableExposureLogging is GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING.
const flagDisableExposureLogging uint32 = 1

// Client evaluates gates, configs, experiments and layers. It is safe for concurrent use by any
// number of goroutines; evaluations take no lock.
type Client struct {
	handle          atomic.Uint64 // 0 once shut down
	lib             *library
	flags           uint32 // flags every evaluation carries
	logsExposures   bool   // an event sink is set and exposures are not disabled
	shutdownTimeout time.Duration
	cleanup         runtime.Cleanup
	shutdownMu      sync.Mutex
}

// EvaluationOptions change one evaluation.
type EvaluationOptions struct {
	// DisableExposureLogging logs no exposure for this call (for a layer: for its getters).
	DisableExposureLogging bool
}

// Kind names an entity kind, for RemoveOverride.
type Kind int32

// Entity kinds (GATEHOUSE_KIND_*).
const (
	KindGate          Kind = 1
	KindDynamicConfig Kind = 2
	KindExperiment    Kind = 3
	KindLayer         Kind = 4
)

// Event is a custom event for LogEvent.
type Event struct {
	Name     string
	Value    any               // a string, a number or nil (anything else: an error matching ErrInvalidArg)
	Metadata map[string]string // optional
}

// NewClient creates a client (loading the library on first use). No I/O happens until
// Initialize. It returns a *PuregoVersionError if the program links a purego version with the
// return-value race, and a *LoadError if no usable library is found.
func NewClient(opts Options) (*Client, error) {
	l, err := lib()
	if err != nil {
		return nil, err
	}
	data, err := opts.toJSON()
	if err != nil {
		return nil, err
	}
	s := getScratch()
	defer putScratch(s)
	if st := l.callClientNew(data, s); st != int32(CodeOK) {
		return nil, withGoNames(statusError("NewClient", st, s.message()), optionNames)
	}
	c := &Client{
		lib:             l,
		logsExposures:   opts.Events != nil && !opts.DisableExposureLogging,
		shutdownTimeout: opts.ShutdownTimeout,
	}
	if opts.DisableExposureLogging {
		c.flags |= flagDisableExposureLogging
	}
	if c.shutdownTimeout == 0 {
		c.shutdownTimeout = defaultShutdownTimeout
	}
	h := s.handle
	c.handle.Store(h)
	// Backstop for a client dropped without Shutdown: release the handle (events still queued
	// are not flushed; Shutdown flushes them).
	c.cleanup = runtime.AddCleanup(c, releaseClient, clientRelease{l, h})
	return c, nil
}

type clientRelease struct {
	l *library
	h uint64
}

func releaseClient(r clientRelease) { r.l.callHandle(r.l.clientRelease, r.h) }

// Library describes the loaded gatehouse library.
// A nil or zero Client has none: the zero LibraryInfo.
func (c *Client) Library() LibraryInfo {
	if c == nil || c.lib == nil {
		return LibraryInfo{}
	}
	return c.lib.info
}

func (c *Client) get() (uint64, error) {
	if c == nil {
		return 0, &Error{Op: "client", Code: CodeInvalidArgument, Message: "nil *Client"}
	}
	if c.lib == nil {
		return 0, &Error{Op: "client", Code: CodeInvalidArgument, Message: "zero Client: create clients with NewClient"}
	}
	h := c.handle.Load()
	if h == 0 {
		return 0, ErrClosed
	}
	return h, nil
}

// callErr maps a failed call's status to an error; an invalid handle of a Client or User closed
// concurrently is ErrClosed.
func (c *Client) callErr(op string, st int32, msg string, u *User) error {
	if Code(st) == CodeInvalidHandle && (c.handle.Load() == 0 || (u != nil && u.handle.Load() == 0)) {
		return ErrClosed
	}
	return statusError(op, st, msg)
}

// Initialize loads specs (and ID lists) once, within Options.InitTimeout, and starts background
// sync. On failure it returns an error matching ErrInitFailed; the client stays usable
// (evaluations answer with reason "Uninitialized" until a sync succeeds).
func (c *Client) Initialize() error {
	h, err := c.get()
	if err != nil {
		return err
	}
	s := getScratch()
	defer putScratch(s)
	st := c.lib.callHandleErr(c.lib.clientInitialize, h, s)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr("Initialize", st, s.message(), nil)
	}
	return nil
}

// LogEvent queues a custom event for user. It does nothing when the client has no event sink.
func (c *Client) LogEvent(u *User, e Event) error {
	h, err := c.get()
	if err != nil {
		return err
	}
	uh, err := u.get()
	if err != nil {
		return err
	}
	if err := checkUTF8("LogEvent", "Name", e.Name); err != nil {
		return err
	}
	if err := checkValueUTF8("LogEvent", "Value", reflect.ValueOf(e.Value), 0); err != nil {
		return err
	}
	if err := checkValueUTF8("LogEvent", "Metadata", reflect.ValueOf(e.Metadata), 0); err != nil {
		return err
	}
	var value, metadata []byte
	if e.Value != nil {
		if value, err = json.Marshal(e.Value); err != nil {
			return &Error{Op: "LogEvent", Code: CodeInvalidArgument, Message: "Value: " + err.Error()}
		}
	}
	if len(e.Metadata) > 0 {
		if metadata, err = json.Marshal(e.Metadata); err != nil {
			return &Error{Op: "LogEvent", Code: CodeInvalidArgument, Message: "Metadata: " + err.Error()}
		}
	}
	s := getScratch()
	defer putScratch(s)
	st := c.lib.callLogEvent(h, uh, e.Name, value, metadata, s)
	runtime.KeepAlive(u)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return withGoNames(c.callErr("LogEvent", st, s.message(), u), eventNames)
	}
	return nil
}

// Flush delivers every queued event now and returns when they are delivered or dropped
// (dropped events are counted; an error matching ErrEventsFailed says why).
func (c *Client) Flush() error {
	h, err := c.get()
	if err != nil {
		return err
	}
	s := getScratch()
	defer putScratch(s)
	st := c.lib.callHandleErr(c.lib.clientFlush, h, s)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr("Flush", st, s.message(), nil)
	}
	return nil
}

// Shutdown stops background sync, flushes queued events (waiting at most
// Options.ShutdownTimeout) and releases the client. Later calls on it return ErrClosed; a second
// Shutdown does nothing. Calls already running finish normally.
func (c *Client) Shutdown() error {
	if _, err := c.get(); err != nil {
		if err == ErrClosed {
			return nil
		}
		return err
	}
	c.shutdownMu.Lock()
	defer c.shutdownMu.Unlock()
	h := c.handle.Load()
	if h == 0 {
		return nil
	}
	s := getScratch()
	defer putScratch(s)
	st := c.lib.callClientShutdown(h, uint64(c.shutdownTimeout/time.Millisecond), s)
	var err error
	if st != int32(CodeOK) && Code(st) != CodeShutDown {
		err = statusError("Shutdown", st, s.message())
	}
	c.handle.Store(0)
	c.cleanup.Stop()
	if rst := c.lib.callHandle(c.lib.clientRelease, h); rst != int32(CodeOK) && err == nil {
		err = statusError("Shutdown", rst, "")
	}
	return err
}

// bufCall runs a (handle, buf, cap, len_out) call with the buffer-too-small retry and decodes
// its JSON into dst.
func (c *Client) bufCall(op string, sym func(*library) uintptr, dst any) error {
	h, err := c.get()
	if err != nil {
		return err
	}
	fn := sym(c.lib)
	s := getScratch()
	defer putScratch(s)
	var st int32
	for attempt := 0; ; attempt++ {
		s.lenOut = 0
		st = c.lib.callHandleBuf(fn, h, s)
		if Code(st) == CodeBufferTooSmall && attempt < 4 {
			s.grow(s.lenOut)
			continue
		}
		break
	}
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr(op, st, "", nil)
	}
	if s.lenOut > uintptr(len(s.buf)) {
		return ErrResultMismatch
	}
	if raw, ok := dst.(*json.RawMessage); ok {
		*raw = append(json.RawMessage(nil), s.buf[:s.lenOut]...)
		return nil
	}
	if err := json.Unmarshal(s.buf[:s.lenOut], dst); err != nil {
		return &Error{Op: op, Code: CodeInvalidArgument, Message: "decoding the library's answer: " + err.Error()}
	}
	return nil
}

// Status returns the client's sync status and counters.
func (c *Client) Status() (ClientStatus, error) {
	var st ClientStatus
	err := c.bufCall("Status", func(l *library) uintptr { return l.clientStatus }, &st)
	return st, err
}

// Counters returns the client's counters.
func (c *Client) Counters() (Counters, error) {
	var ct Counters
	err := c.bufCall("Counters", func(l *library) uintptr { return l.clientCounters }, &ct)
	return ct, err
}
