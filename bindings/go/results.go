package gatehouse

// EvaluationDetails tell how a result came to be.
type EvaluationDetails struct {
	// Reason: "Network:Recognized", "Bootstrap:Unrecognized", "LocalOverride:Recognized",
	// "Uninitialized", "Error:…".
	Reason     string  `json:"reason"`
	LCUT       uint64  `json:"lcut"`        // the specs' time (0 without specs)
	ReceivedAt uint64  `json:"received_at"` // when those specs were applied, ms since the epoch
	Version    *uint32 `json:"version"`     // the spec's version, if it has one
}

// SecondaryExposure is a gate evaluated on the way to a result (pass_gate/fail_gate conditions,
// holdouts).
type SecondaryExposure struct {
	Gate      string `json:"gate"`
	GateValue string `json:"gateValue"` // "true" or "false"
	RuleID    string `json:"ruleID"`
}

// FeatureGate is a gate's full result.
type FeatureGate struct {
	Name               string              `json:"name"`
	Value              bool                `json:"value"`
	RuleID             string              `json:"rule_id"`
	IDType             string              `json:"id_type"`
	EvaluationDetails  EvaluationDetails   `json:"details"`
	SecondaryExposures []SecondaryExposure `json:"secondary_exposures"`
}

// DynamicConfig is a dynamic config's result.
type DynamicConfig struct {
	Name               string              `json:"name"`
	Value              map[string]any      `json:"value"`
	RuleID             string              `json:"rule_id"`
	IDType             string              `json:"id_type"`
	GroupName          string              `json:"group_name"` // experiments: the user's group ("" if none)
	Passed             bool                `json:"passed"`
	IsExperimentActive bool                `json:"is_experiment_active"`
	IsUserInExperiment bool                `json:"is_user_in_experiment"`
	EvaluationDetails  EvaluationDetails   `json:"details"`
	SecondaryExposures []SecondaryExposure `json:"secondary_exposures"`
}

// Experiment is an experiment's result: the fields of a DynamicConfig, with GroupName set for
// users in the experiment.
type Experiment struct {
	DynamicConfig
}

// Get returns a value by key.
func (c DynamicConfig) Get(key string) (any, bool) {
	v, ok := c.Value[key]
	return v, ok
}

// GetString returns the string at key, or fallback when it is missing or not a string.
func (c DynamicConfig) GetString(key, fallback string) string {
	return getString(c.Value, key, fallback)
}

// GetNumber returns the number at key, or fallback.
func (c DynamicConfig) GetNumber(key string, fallback float64) float64 {
	return getNumber(c.Value, key, fallback)
}

// GetBool returns the boolean at key, or fallback.
func (c DynamicConfig) GetBool(key string, fallback bool) bool {
	return getBool(c.Value, key, fallback)
}

// GetSlice returns the array at key, or fallback.
func (c DynamicConfig) GetSlice(key string, fallback []any) []any {
	return getSlice(c.Value, key, fallback)
}

// GetMap returns the object at key, or fallback.
func (c DynamicConfig) GetMap(key string, fallback map[string]any) map[string]any {
	return getMap(c.Value, key, fallback)
}

func getString(m map[string]any, k, fallback string) string {
	if v, ok := m[k].(string); ok {
		return v
	}
	return fallback
}

func getNumber(m map[string]any, k string, fallback float64) float64 {
	if v, ok := m[k].(float64); ok {
		return v
	}
	return fallback
}

func getBool(m map[string]any, k string, fallback bool) bool {
	if v, ok := m[k].(bool); ok {
		return v
	}
	return fallback
}

func getSlice(m map[string]any, k string, fallback []any) []any {
	if v, ok := m[k].([]any); ok {
		return v
	}
	return fallback
}

func getMap(m map[string]any, k string, fallback map[string]any) map[string]any {
	if v, ok := m[k].(map[string]any); ok {
		return v
	}
	return fallback
}

// ClientStatus is a client's sync status (Client.Status).
type ClientStatus struct {
	Source        string   `json:"source"` // file path, "memory", or URL with the SDK key redacted
	Ready         bool     `json:"ready"`  // specs are loaded
	LCUT          uint64   `json:"lcut"`
	UpdatedAt     uint64   `json:"updated_at"` // ms since the epoch
	AgeMs         uint64   `json:"age_ms"`
	LastError     string   `json:"last_error"`
	LastErrorAt   uint64   `json:"last_error_at"`
	LastAttemptAt uint64   `json:"last_attempt_at"`
	IDLists       int      `json:"id_lists"`
	Counters      Counters `json:"counters"`
}

// Counters are the client's running totals.
type Counters struct {
	Evaluations          uint64 `json:"evaluations"`
	ExposuresQueued      uint64 `json:"exposures_queued"`
	ExposuresDeduped     uint64 `json:"exposures_deduped"`
	EventsQueued         uint64 `json:"events_queued"`
	EventsSent           uint64 `json:"events_sent"`
	EventsDropped        uint64 `json:"events_dropped"`
	EventBatchesFailed   uint64 `json:"event_batches_failed"`
	SpecUpdatesApplied   uint64 `json:"spec_updates_applied"`
	SpecUpdatesFailed    uint64 `json:"spec_updates_failed"`
	SpecUpdatesUnchanged uint64 `json:"spec_updates_unchanged"`
	IDListUpdatesFailed  uint64 `json:"id_list_updates_failed"`
}
