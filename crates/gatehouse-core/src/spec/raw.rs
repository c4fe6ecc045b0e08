//! The wire shape of a dcs-v2 payload (dcs-semantics §1.3–§1.6), as serde
//! structs. Only what evaluation needs is kept; unknown keys are ignored.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;

/// One table of specs, each kept as its JSON text until compiled.
pub(crate) type RawTable = HashMap<String, Box<RawValue>>;

/// Top level. `feature_gates`, `dynamic_configs` and `layer_configs` stay raw
/// text so that one malformed spec can be skipped, as the reference does,
/// and so that no JSON tree of the whole payload is ever built.
#[derive(Deserialize)]
pub(crate) struct RawPayload {
    pub feature_gates: RawTable,
    pub dynamic_configs: RawTable,
    pub layer_configs: RawTable,
    pub condition_map: HashMap<String, RawCondition>,
    #[allow(dead_code)] // required by the reference, informational only
    pub experiment_to_layer: Value,
    pub has_updates: bool,
    pub time: u64,
    #[serde(default)]
    pub checksum: Option<String>,
    #[serde(default)]
    pub default_environment: Option<String>,
    #[serde(default)]
    pub app_id: Option<Value>,
    #[serde(default)]
    pub overrides: Option<HashMap<String, Vec<RawMapping>>>,
    #[serde(default)]
    pub override_rules: Option<HashMap<String, RawRule>>,
}

/// Server-side config mapping (dcs-semantics §11.1).
#[derive(Deserialize)]
pub(crate) struct RawMapping {
    pub new_config_name: String,
    pub rules: Vec<RawMappingRule>,
}

#[derive(Deserialize)]
pub(crate) struct RawMappingRule {
    pub rule_name: String,
    #[serde(default)]
    pub start_time: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawSpec {
    #[allow(dead_code)] // required on the wire, unused by evaluation
    #[serde(rename = "type")]
    pub spec_type: String,
    pub salt: String,
    /// Kept as text: identical values are parsed once and shared.
    pub default_value: Box<RawValue>,
    pub enabled: bool,
    pub rules: Vec<RawRule>,
    pub id_type: String,
    pub entity: String,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub has_shared_params: Option<bool>,
    #[serde(default)]
    pub explicit_parameters: Option<Vec<String>>,
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub forward_all_exposures: Option<bool>,
    #[serde(default)]
    pub use_new_layer_eval: Option<bool>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawRule {
    #[allow(dead_code)] // required on the wire, unused by evaluation
    pub name: String,
    pub pass_percentage: f64,
    /// Kept as text: identical values are parsed once and shared.
    pub return_value: Box<RawValue>,
    pub id: String,
    #[serde(default)]
    pub salt: Option<String>,
    pub conditions: Vec<String>,
    pub id_type: String,
    #[serde(default)]
    pub group_name: Option<String>,
    #[serde(default)]
    pub config_delegate: Option<String>,
    #[serde(default)]
    pub is_experiment_group: Option<bool>,
    #[serde(default)]
    pub sampling_rate: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawCondition {
    #[serde(rename = "type")]
    pub condition_type: String,
    #[serde(default)]
    pub target_value: Option<Value>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub additional_values: Option<HashMap<String, String>>,
    pub id_type: String,
}
