package gatehouse

import (
	"encoding/json"
	"reflect"
	"runtime"
)

// Local overrides. Each change is one atomic swap in the library: concurrent evaluations see the
// state before or after it. An override applies to everyone when id is "", else to the user whose
// userID or a custom ID value equals id. Overridden results carry rule ID "override" and reason
// "LocalOverride:Recognized".

// OverrideGate makes gate evaluate to value.
func (c *Client) OverrideGate(gate string, value bool, id string) error {
	h, err := c.get()
	if err != nil {
		return err
	}
	if err := checkUTF8("OverrideGate", "gate", gate, "id", id); err != nil {
		return err
	}
	st := c.lib.callOverrideGate(h, gate, value, id)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr("OverrideGate", st, "", nil)
	}
	return nil
}

// OverrideDynamicConfig makes config evaluate to value.
func (c *Client) OverrideDynamicConfig(config string, value map[string]any, id string) error {
	return c.overrideValue("OverrideDynamicConfig", func(l *library) uintptr { return l.overrideDynamicConfig }, config, value, id)
}

// OverrideExperiment makes experiment evaluate to value.
func (c *Client) OverrideExperiment(experiment string, value map[string]any, id string) error {
	return c.overrideValue("OverrideExperiment", func(l *library) uintptr { return l.overrideExperiment }, experiment, value, id)
}

// OverrideLayer makes layer evaluate to value.
func (c *Client) OverrideLayer(layer string, value map[string]any, id string) error {
	return c.overrideValue("OverrideLayer", func(l *library) uintptr { return l.overrideLayer }, layer, value, id)
}

func (c *Client) overrideValue(op string, sym func(*library) uintptr, name string, value map[string]any, id string) error {
	h, err := c.get()
	if err != nil {
		return err
	}
	if err := checkUTF8(op, "name", name, "id", id); err != nil {
		return err
	}
	if err := checkValueUTF8(op, "value", reflect.ValueOf(value), 0); err != nil {
		return err
	}
	if value == nil {
		value = map[string]any{}
	}
	data, err := json.Marshal(value)
	if err != nil {
		return &Error{Op: op, Code: CodeInvalidArgument, Message: "value: " + err.Error()}
	}
	s := getScratch()
	defer putScratch(s)
	st := c.lib.callOverrideValue(sym(c.lib), h, name, data, id, s)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr(op, st, s.message(), nil)
	}
	return nil
}

// OverrideExperimentByGroupName puts users in experiment's group.
func (c *Client) OverrideExperimentByGroupName(experiment, group, id string) error {
	h, err := c.get()
	if err != nil {
		return err
	}
	if err := checkUTF8("OverrideExperimentByGroupName", "experiment", experiment, "group", group, "id", id); err != nil {
		return err
	}
	st := c.lib.callOverrideByGroup(h, experiment, group, id)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr("OverrideExperimentByGroupName", st, "", nil)
	}
	return nil
}

// RemoveOverride removes the override of kind and name for id, or every override of that name
// when id is "".
func (c *Client) RemoveOverride(kind Kind, name, id string) error {
	h, err := c.get()
	if err != nil {
		return err
	}
	if err := checkUTF8("RemoveOverride", "name", name, "id", id); err != nil {
		return err
	}
	st := c.lib.callRemoveOverride(h, kind, name, id)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr("RemoveOverride", st, "", nil)
	}
	return nil
}

// RemoveAllOverrides removes every override.
func (c *Client) RemoveAllOverrides() error {
	h, err := c.get()
	if err != nil {
		return err
	}
	st := c.lib.callHandle(c.lib.removeAllOverrides, h)
	runtime.KeepAlive(c)
	if st != int32(CodeOK) {
		return c.callErr("RemoveAllOverrides", st, "", nil)
	}
	return nil
}

// Overrides lists every override as JSON:
// {"gate"|"config"|"experiment"|"layer": {name: {"global": value, "ids": {id: value}}}} (a gate
// override's value is a boolean, a group override is {"group": name}).
func (c *Client) Overrides() (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.bufCall("Overrides", func(l *library) uintptr { return l.getOverrides }, &raw)
	return raw, err
}
