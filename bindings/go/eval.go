package gatehouse

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
)

func (c *Client) flagsFor(o *EvaluationOptions) uint32 {
	f := c.flags
	if o != nil && o.DisableExposureLogging {
		f |= flagDisableExposureLogging
	}
	return f
}

func mismatch(op, what string) error {
	return fmt.Errorf("%w (%s: %s)", ErrResultMismatch, op, what)
}

// CheckGate reports whether user passes the gate, logging a gate exposure when the client logs
// exposures. An unknown gate is false (with no error): use GetFeatureGate to see the reason.
func (c *Client) CheckGate(u *User, gate string) (bool, error) {
	return c.checkGate("CheckGate", u, gate, c.flagsOrZero())
}

// CheckGateWithOptions is CheckGate with per-call options.
func (c *Client) CheckGateWithOptions(u *User, gate string, o *EvaluationOptions) (bool, error) {
	if c == nil {
		return c.checkGate("CheckGate", u, gate, 0)
	}
	return c.checkGate("CheckGate", u, gate, c.flagsFor(o))
}

func (c *Client) flagsOrZero() uint32 {
	if c == nil {
		return 0
	}
	return c.flags
}

func (c *Client) checkGate(op string, u *User, gate string, flags uint32) (bool, error) {
	ch, err := c.get()
	if err != nil {
		return false, err
	}
	uh, err := u.get()
	if err != nil {
		return false, err
	}
	s := getScratch()
	token := nextToken()
	// Pre-set the output to a value that cannot pass the checks below, so an output the library
	// did not write is caught too.
	s.gate = gateResult{token: ^token, value: 0xff}
	st := c.lib.callCheckGate(ch, uh, gate, flags, token, s)
	res := s.gate
	putScratch(s)
	runtime.KeepAlive(u)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return false, c.callErr(op, st, nameMessage(st, "gate", gate), u)
	}
	if res.token != token {
		return false, mismatch(op, "token")
	}
	if res.value > 1 {
		return false, mismatch(op, "value")
	}
	return res.value == 1, nil
}

// evalJSON runs a JSON evaluation call into dst, retrying with a larger buffer when the result
// does not fit, and checks that the result carries this call's token (out parameter and JSON
// member) and entity name.
func (c *Client) evalJSON(op string, sym func(*library) uintptr, u *User, name string, flags uint32,
	dst any, echo func() (token, name string)) error {
	ch, err := c.get()
	if err != nil {
		return err
	}
	uh, err := u.get()
	if err != nil {
		return err
	}
	fn := sym(c.lib)
	s := getScratch()
	defer putScratch(s)
	var st int32
	var token uint64
	for attempt := 0; ; attempt++ {
		token = nextToken() // a fresh token for every attempt
		s.tokenOut = ^token
		s.lenOut = 0
		st = c.lib.callEvalJSON(fn, ch, uh, name, flags, token, s)
		if Code(st) == CodeBufferTooSmall && attempt < 4 {
			s.grow(s.lenOut)
			continue
		}
		break
	}
	runtime.KeepAlive(u)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr(op, st, nameMessage(st, entityArg(op), name), u)
	}
	return decodeChecked(op, s, token, name, dst, echo)
}

// entityArg names the entity-name argument of an evaluation, for messages.
func entityArg(op string) string {
	switch op {
	case "GetFeatureGate":
		return "gate"
	case "GetDynamicConfig":
		return "config"
	case "GetExperiment":
		return "experiment"
	case "GetLayer":
		return "layer"
	}
	return "name"
}

// decodeChecked decodes s.buf[:s.lenOut] into dst after checking the out-parameter token, then
// checks the JSON's token and name. dst is filled from a copy; the scratch can be reused after.
func decodeChecked(op string, s *scratch, token uint64, name string, dst any, echo func() (string, string)) error {
	if s.tokenOut != token {
		return mismatch(op, "token_out")
	}
	if s.lenOut > uintptr(len(s.buf)) {
		return mismatch(op, "length")
	}
	if err := json.Unmarshal(s.buf[:s.lenOut], dst); err != nil {
		return &Error{Op: op, Code: CodeInvalidArgument, Message: "decoding the library's answer: " + err.Error()}
	}
	tok, gotName := echo()
	if n, err := strconv.ParseUint(tok, 10, 64); err != nil || n != token {
		return mismatch(op, "JSON token")
	}
	if gotName != name {
		return mismatch(op, "name")
	}
	return nil
}

// GetFeatureGate returns a gate's full result, logging a gate exposure when the client logs
// exposures.
func (c *Client) GetFeatureGate(u *User, gate string) (FeatureGate, error) {
	return c.GetFeatureGateWithOptions(u, gate, nil)
}

// GetFeatureGateWithOptions is GetFeatureGate with per-call options.
func (c *Client) GetFeatureGateWithOptions(u *User, gate string, o *EvaluationOptions) (FeatureGate, error) {
	var w struct {
		FeatureGate
		Token string `json:"token"`
	}
	if c == nil {
		_, err := c.get()
		return FeatureGate{}, err
	}
	err := c.evalJSON("GetFeatureGate", func(l *library) uintptr { return l.getFeatureGate }, u, gate,
		c.flagsFor(o), &w, func() (string, string) { return w.Token, w.Name })
	if err != nil {
		return FeatureGate{}, err
	}
	return w.FeatureGate, nil
}

// GetDynamicConfig returns a dynamic config, logging a config exposure when the client logs
// exposures.
func (c *Client) GetDynamicConfig(u *User, config string) (DynamicConfig, error) {
	return c.GetDynamicConfigWithOptions(u, config, nil)
}

// GetDynamicConfigWithOptions is GetDynamicConfig with per-call options.
func (c *Client) GetDynamicConfigWithOptions(u *User, config string, o *EvaluationOptions) (DynamicConfig, error) {
	return c.getConfig("GetDynamicConfig", func(l *library) uintptr { return l.getDynamicConfig }, u, config, o)
}

// GetExperiment returns an experiment, logging an experiment exposure when the client logs
// exposures.
func (c *Client) GetExperiment(u *User, experiment string) (Experiment, error) {
	return c.GetExperimentWithOptions(u, experiment, nil)
}

// GetExperimentWithOptions is GetExperiment with per-call options.
func (c *Client) GetExperimentWithOptions(u *User, experiment string, o *EvaluationOptions) (Experiment, error) {
	dc, err := c.getConfig("GetExperiment", func(l *library) uintptr { return l.getExperiment }, u, experiment, o)
	return Experiment{dc}, err
}

func (c *Client) getConfig(op string, sym func(*library) uintptr, u *User, name string, o *EvaluationOptions) (DynamicConfig, error) {
	var w struct {
		DynamicConfig
		Token string `json:"token"`
	}
	if c == nil {
		_, err := c.get()
		return DynamicConfig{}, err
	}
	err := c.evalJSON(op, sym, u, name, c.flagsFor(o), &w, func() (string, string) { return w.Token, w.Name })
	if err != nil {
		return DynamicConfig{}, err
	}
	return w.DynamicConfig, nil
}

// Layer is a layer's result. Read parameters with Get or the typed getters: each read of a
// parameter the layer has logs that parameter's exposure (when the client logs exposures and the
// layer was not fetched with DisableExposureLogging).
//
// The exposure logged is that of the evaluation this Layer holds — the one its values come from —
// even if specs or overrides changed since GetLayer: a layer fetched with exposure logging on
// holds a library layer handle (gatehouse_layer_open) to that evaluation. Close releases it early;
// otherwise a cleanup releases it once no copy of the Layer is reachable. Copies of a Layer share
// the handle. The zero Layer has no parameters.
type Layer struct {
	Name                          string              `json:"name"`
	RuleID                        string              `json:"rule_id"`
	IDType                        string              `json:"id_type"`
	GroupName                     string              `json:"group_name"`
	AllocatedExperimentName       string              `json:"allocated_experiment_name"`
	IsExperimentActive            bool                `json:"is_experiment_active"`
	ExplicitParameters            []string            `json:"explicit_parameters"`
	EvaluationDetails             EvaluationDetails   `json:"details"`
	SecondaryExposures            []SecondaryExposure `json:"secondary_exposures"`
	UndelegatedSecondaryExposures []SecondaryExposure `json:"undelegated_secondary_exposures"`

	values map[string]any
	h      *layerHandle // nil: reads log nothing
}

// layerHandle owns one library layer handle; Layer values share it through a pointer, so the
// cleanup runs when the last copy is unreachable.
type layerHandle struct {
	handle  atomic.Uint64 // 0 once released
	lib     *library
	cleanup runtime.Cleanup
}

type layerRelease struct {
	l *library
	h uint64
}

func releaseLayer(r layerRelease) { r.l.callHandle(r.l.layerRelease, r.h) }

// GetLayer returns a layer. It logs nothing itself: its getters log parameter exposures.
func (c *Client) GetLayer(u *User, layer string) (Layer, error) {
	return c.GetLayerWithOptions(u, layer, nil)
}

// GetLayerWithOptions is GetLayer with per-call options (DisableExposureLogging applies to the
// layer's getters).
func (c *Client) GetLayerWithOptions(u *User, layer string, o *EvaluationOptions) (Layer, error) {
	var w struct {
		Layer
		Value map[string]any `json:"value"`
		Token string         `json:"token"`
	}
	if c == nil {
		_, err := c.get()
		return Layer{}, err
	}
	flags := c.flagsFor(o)
	echo := func() (string, string) { return w.Token, w.Layer.Name }
	if !c.logsExposures || flags&flagDisableExposureLogging != 0 {
		// Reads log nothing: no handle needed.
		err := c.evalJSON("GetLayer", func(l *library) uintptr { return l.getLayer }, u, layer, flags, &w, echo)
		if err != nil {
			return Layer{}, err
		}
		l := w.Layer
		l.values = w.Value
		return l, nil
	}
	h, err := c.openLayer(u, layer, flags, &w, echo)
	if err != nil {
		return Layer{}, err
	}
	l := w.Layer
	l.values = w.Value
	l.h = h
	return l, nil
}

// openLayer runs gatehouse_layer_open (with the buffer retry; no handle is issued on
// GATEHOUSE_BUFFER_TOO_SMALL), checks the result like evalJSON and wraps the layer handle. A
// handle whose result fails the checks is released at once.
func (c *Client) openLayer(u *User, name string, flags uint32, dst any, echo func() (string, string)) (*layerHandle, error) {
	const op = "GetLayer"
	ch, err := c.get()
	if err != nil {
		return nil, err
	}
	uh, err := u.get()
	if err != nil {
		return nil, err
	}
	s := getScratch()
	defer putScratch(s)
	var st int32
	var token uint64
	for attempt := 0; ; attempt++ {
		token = nextToken()
		s.tokenOut = ^token
		s.lenOut = 0
		s.handle = 0
		st = c.lib.callLayerOpen(ch, uh, name, flags, token, s)
		if Code(st) == CodeBufferTooSmall && attempt < 4 {
			s.grow(s.lenOut)
			continue
		}
		break
	}
	runtime.KeepAlive(u)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return nil, c.callErr(op, st, nameMessage(st, "layer", name), u)
	}
	id := s.handle
	if err := decodeChecked(op, s, token, name, dst, echo); err != nil {
		c.lib.callHandle(c.lib.layerRelease, id)
		return nil, err
	}
	h := &layerHandle{lib: c.lib}
	h.handle.Store(id)
	h.cleanup = runtime.AddCleanup(h, releaseLayer, layerRelease{c.lib, id})
	return h, nil
}

// Close releases the layer's evaluation in the library. Values stay readable; later reads log
// nothing, and Get returns ErrClosed with the value. Closing twice (or a Layer that holds no
// handle, or the zero Layer) is harmless.
func (l Layer) Close() error {
	h := l.h
	if h == nil {
		return nil
	}
	id := h.handle.Swap(0)
	if id == 0 {
		return nil
	}
	h.cleanup.Stop()
	if st := h.lib.callHandle(h.lib.layerRelease, id); st != int32(CodeOK) {
		return statusError("Layer.Close", st, "")
	}
	return nil
}

// Keys lists the layer's parameter names (reading the list logs nothing).
func (l Layer) Keys() []string {
	keys := make([]string, 0, len(l.values))
	for k := range l.values {
		keys = append(keys, k)
	}
	return keys
}

// Get returns a parameter's value and logs its exposure. A parameter the layer lacks gives an
// error matching ErrNotFound and logs nothing. If logging the exposure fails (the client was
// shut down, the Layer closed), Get returns the value together with that error (ErrClosed).
func (l Layer) Get(param string) (any, error) {
	v, ok := l.values[param]
	if !ok {
		return nil, &Error{Op: "Layer.Get", Code: CodeNotFound, Message: "layer `" + l.Name + "` has no parameter `" + param + "`"}
	}
	if err := l.logParam(param); err != nil {
		return v, err
	}
	return v, nil
}

// logParam logs one parameter exposure through gatehouse_layer_log_param, from the evaluation
// the layer handle holds (nothing to do without a handle: the layer logs nothing).
func (l Layer) logParam(param string) error {
	h := l.h
	if h == nil {
		return nil
	}
	id := h.handle.Load()
	if id == 0 {
		return ErrClosed
	}
	st := h.lib.callLayerLogParam(id, param)
	runtime.KeepAlive(h)
	switch Code(st) {
	case CodeOK:
		return nil
	case CodeShutDown:
		return ErrClosed
	case CodeInvalidHandle:
		if h.handle.Load() == 0 {
			return ErrClosed // closed concurrently
		}
	}
	return statusError("Layer.Get", st, nameMessage(st, "param", param))
}

// GetString returns the string parameter, or fallback when it is missing or not a string. A
// hit logs the parameter's exposure (logging errors are ignored here; Get returns them).
func (l Layer) GetString(param, fallback string) string {
	if v, ok := l.values[param].(string); ok {
		l.logHit(param)
		return v
	}
	return fallback
}

// GetNumber returns the number parameter, or fallback.
func (l Layer) GetNumber(param string, fallback float64) float64 {
	if v, ok := l.values[param].(float64); ok {
		l.logHit(param)
		return v
	}
	return fallback
}

// GetBool returns the boolean parameter, or fallback.
func (l Layer) GetBool(param string, fallback bool) bool {
	if v, ok := l.values[param].(bool); ok {
		l.logHit(param)
		return v
	}
	return fallback
}

// GetSlice returns the array parameter, or fallback.
func (l Layer) GetSlice(param string, fallback []any) []any {
	if v, ok := l.values[param].([]any); ok {
		l.logHit(param)
		return v
	}
	return fallback
}

// GetMap returns the object parameter, or fallback.
func (l Layer) GetMap(param string, fallback map[string]any) map[string]any {
	if v, ok := l.values[param].(map[string]any); ok {
		l.logHit(param)
		return v
	}
	return fallback
}

func (l Layer) logHit(param string) { _ = l.logParam(param) }
