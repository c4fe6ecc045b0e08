//! Exposure and custom events in the reference's shape (dcs-semantics §9.2),
//! and their dedupe keys (§9.3).

use crate::results::{exposures_json, SecondaryExposure};
use serde_json::{json, Map, Value};
use std::hash::{DefaultHasher, Hash, Hasher};

pub(crate) const GATE_EXPOSURE: &str = "statsig::gate_exposure";
pub(crate) const CONFIG_EXPOSURE: &str = "statsig::config_exposure";
pub(crate) const LAYER_EXPOSURE: &str = "statsig::layer_exposure";

/// The metadata every exposure carries after its own keys.
pub(crate) struct Common<'a> {
    pub reason: &'a str,
    pub lcut: Option<u64>,
    pub received_at: Option<u64>,
    pub version: Option<u32>,
    pub override_config_name: Option<&'a str>,
}

impl Common<'_> {
    fn add_to(&self, m: &mut Map<String, Value>) {
        m.insert("reason".into(), self.reason.into());
        if let Some(l) = self.lcut {
            m.insert("lcut".into(), l.to_string().into());
        }
        if let Some(r) = self.received_at {
            m.insert("receivedAt".into(), r.to_string().into());
        }
        if let Some(v) = self.version {
            m.insert("configVersion".into(), v.to_string().into());
        }
        if let Some(o) = self.override_config_name {
            m.insert("overrideConfigName".into(), o.into());
        }
    }
}

/// One event object's text.
pub(crate) fn event(
    name: &str,
    value: Value,
    metadata: Value,
    statsig_metadata: Value,
    user_json: &str,
    time: u64,
    secondary: Value,
) -> String {
    // The user is already JSON text: splice it rather than re-parse it.
    let head = json!({
        "eventName": name,
        "value": value,
        "metadata": metadata,
        "statsigMetadata": statsig_metadata,
        "time": time,
        "secondaryExposures": secondary,
    })
    .to_string();
    format!("{},\"user\":{user_json}}}", &head[..head.len() - 1])
}

pub(crate) fn gate_exposure(
    name: &str,
    value: bool,
    rule_id: &str,
    common: &Common<'_>,
    secondary: &[SecondaryExposure],
    user_json: &str,
    time: u64,
) -> String {
    let mut m = Map::new();
    m.insert("gate".into(), name.into());
    m.insert("gateValue".into(), value.to_string().into());
    m.insert("ruleID".into(), rule_id.into());
    common.add_to(&mut m);
    event(
        GATE_EXPOSURE,
        Value::Null,
        Value::Object(m),
        json!({}),
        user_json,
        time,
        exposures_json(secondary),
    )
}

/// `rule_passed` is `Some` for dynamic configs, `None` for experiments.
pub(crate) fn config_exposure(
    name: &str,
    rule_id: &str,
    rule_passed: Option<bool>,
    common: &Common<'_>,
    secondary: &[SecondaryExposure],
    user_json: &str,
    time: u64,
) -> String {
    let mut m = Map::new();
    m.insert("config".into(), name.into());
    m.insert("ruleID".into(), rule_id.into());
    if let Some(p) = rule_passed {
        m.insert("rulePassed".into(), p.to_string().into());
    }
    common.add_to(&mut m);
    event(
        CONFIG_EXPOSURE,
        Value::Null,
        Value::Object(m),
        json!({}),
        user_json,
        time,
        exposures_json(secondary),
    )
}

/// The layer-specific metadata of a parameter exposure.
pub(crate) struct LayerParam<'a> {
    pub layer: &'a str,
    pub rule_id: &'a str,
    pub parameter: &'a str,
    pub is_explicit: bool,
    pub allocated_experiment: &'a str,
}

pub(crate) fn layer_exposure(
    p: &LayerParam<'_>,
    common: &Common<'_>,
    secondary: &[SecondaryExposure],
    user_json: &str,
    time: u64,
) -> String {
    let mut m = Map::new();
    m.insert("config".into(), p.layer.into());
    m.insert("ruleID".into(), p.rule_id.into());
    m.insert("parameterName".into(), p.parameter.into());
    m.insert(
        "isExplicitParameter".into(),
        p.is_explicit.to_string().into(),
    );
    m.insert("allocatedExperiment".into(), p.allocated_experiment.into());
    common.add_to(&mut m);
    event(
        LAYER_EXPOSURE,
        Value::Null,
        Value::Object(m),
        json!({}),
        user_json,
        time,
        exposures_json(secondary),
    )
}

/// A custom event (`log_event`): metadata values as given (strings).
pub(crate) fn custom_event(
    name: &str,
    value: Value,
    metadata: Option<Map<String, Value>>,
    user_json: &str,
    time: u64,
) -> String {
    let metadata = metadata.map_or(Value::Null, Value::Object);
    event(
        name,
        value,
        metadata,
        Value::Null,
        user_json,
        time,
        Value::Null,
    )
}

/// What tells apart exposures of one spec, rule and user (§9.3).
#[derive(Clone, Copy, Hash)]
pub(crate) enum Discriminator<'a> {
    /// A gate's value, a dynamic config's `passed`, an experiment's
    /// `is_user_in_experiment`.
    Flag(bool),
    /// A layer parameter's name.
    Parameter(&'a str),
}

/// The dedupe key of an exposure, as the reference's
/// (`ExposureSamplingKey`): spec name, the evaluation's rule id (a layer's
/// own rule id, also for parameters with their own), user identity and
/// discriminator. The event kind is not part of it: a gate and a dynamic
/// config of the same name, rule id and flag share a key, as in the reference.
pub(crate) fn dedupe_key(
    name: &str,
    rule_id: &str,
    identity: u64,
    discriminator: Discriminator<'_>,
) -> u128 {
    let mut a = DefaultHasher::new();
    (name, rule_id, identity, discriminator).hash(&mut a);
    let mut b = DefaultHasher::new();
    (discriminator, identity, rule_id, name, 0x9e37_79b9u32).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}
