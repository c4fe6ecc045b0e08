//! Owned results of the typed calls, as applications and bindings see them.

use serde_json::{json, Map, Value};

/// How a result came to be (the reference's `EvaluationDetails`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationDetails {
    /// `Network:Recognized`, `Bootstrap:Unrecognized`, `LocalOverride:Recognized`,
    /// `Uninitialized`, `Error:…`.
    pub reason: String,
    /// The specs' `time`, when specs were used.
    pub lcut: Option<u64>,
    /// When those specs were applied (ms since the epoch).
    pub received_at: Option<u64>,
    /// The spec's version, if it has one.
    pub version: Option<u32>,
}

impl EvaluationDetails {
    fn to_json(&self) -> Value {
        json!({
            "reason": self.reason,
            "lcut": self.lcut,
            "received_at": self.received_at,
            "version": self.version,
        })
    }
}

/// A gate evaluated by a secondary path (`pass_gate`/`fail_gate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecondaryExposure {
    pub gate: String,
    pub gate_value: bool,
    pub rule_id: String,
}

impl SecondaryExposure {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "gate": self.gate,
            "gateValue": if self.gate_value { "true" } else { "false" },
            "ruleID": self.rule_id,
        })
    }
}

pub(crate) fn exposures_json(list: &[SecondaryExposure]) -> Value {
    Value::Array(list.iter().map(SecondaryExposure::to_json).collect())
}

/// A feature gate's result.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureGate {
    pub name: String,
    pub value: bool,
    pub rule_id: String,
    pub id_type: String,
    pub details: EvaluationDetails,
    pub secondary_exposures: Vec<SecondaryExposure>,
}

impl FeatureGate {
    /// `{"name", "value", "rule_id", "id_type", "details", "secondary_exposures"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "value": self.value,
            "rule_id": self.rule_id,
            "id_type": self.id_type,
            "details": self.details.to_json(),
            "secondary_exposures": exposures_json(&self.secondary_exposures),
        })
    }
}

/// A dynamic config's or an experiment's result.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicConfig {
    pub name: String,
    pub value: Map<String, Value>,
    pub rule_id: String,
    pub id_type: String,
    /// Experiments: the group the user is in.
    pub group_name: Option<String>,
    /// Whether a rule passed (configs) — the reference's internal `passed`.
    pub passed: bool,
    pub is_experiment_active: bool,
    pub is_user_in_experiment: bool,
    pub details: EvaluationDetails,
    pub secondary_exposures: Vec<SecondaryExposure>,
}

/// An experiment's result (the same fields as a config).
pub type Experiment = DynamicConfig;

impl DynamicConfig {
    /// The result as JSON (field names as in the struct).
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "value": self.value,
            "rule_id": self.rule_id,
            "id_type": self.id_type,
            "group_name": self.group_name,
            "passed": self.passed,
            "is_experiment_active": self.is_experiment_active,
            "is_user_in_experiment": self.is_user_in_experiment,
            "details": self.details.to_json(),
            "secondary_exposures": exposures_json(&self.secondary_exposures),
        })
    }
}
