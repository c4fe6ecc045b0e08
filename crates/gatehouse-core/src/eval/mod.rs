//! Evaluation: one call evaluates one spec for one user against a snapshot.
//!
//! The algorithm follows dcs-semantics §3 as corrected for the oracle
//! (statsig-rust 0.24.0) by dcs-semantics-0.24-delta.md: nested gates run
//! in an isolated result (D1), at most 64 levels deep; unsupported results
//! keep what was accumulated (D2); new layer evaluation keeps undelegated
//! exposures (D3); ID-list conditions add a reason suffix (D5).
//!
//! Results borrow names, rule ids and values from the snapshot: an
//! evaluation allocates only its exposure lists.

mod engine;

use crate::country::CountryTable;
use crate::idlist::IdLists;
use crate::overrides::Overrides;
use crate::spec::{Kind, Snapshot};
use crate::user::User;
use crate::value::DynValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Everything an evaluation reads besides the specs and the user.
#[derive(Debug, Default)]
pub struct EvalEnv<'a> {
    /// The SDK environment (`{"tier": "staging"}`), read by `environment_field`.
    pub environment: Option<&'a HashMap<String, DynValue>>,
    /// The IP → country table; without it, `ip_based` country conditions see
    /// no country and the reason becomes `CountryLookupNotLoaded:Recognized`.
    pub country: Option<&'a CountryTable>,
    /// ID lists for `in_segment_list` conditions.
    pub id_lists: Option<&'a IdLists>,
    /// Wall-clock time in ms since the epoch, for `current_time` conditions.
    pub now_ms: i64,
    /// Local overrides, consulted before every spec (top level, nested
    /// gates, delegated experiments).
    pub overrides: Option<&'a Overrides>,
}

/// How an evaluation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The spec exists and was evaluated.
    Recognized,
    /// No spec of that name.
    Unrecognized,
    /// A condition type or operator is not supported, or a condition key is missing.
    Unsupported,
    /// Nested gates went deeper than 64 levels.
    DepthExceeded,
}

/// A secondary exposure: a gate evaluated on the way to the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondaryExposure<'s> {
    pub gate: &'s str,
    pub gate_value: bool,
    pub rule_id: &'s str,
}

/// The result of evaluating one spec for one user.
#[derive(Clone, Debug)]
pub struct Evaluation<'s> {
    pub kind: Kind,
    pub outcome: Outcome,
    /// Gate value; for configs, whether a rule passed (`passed`).
    pub bool_value: bool,
    /// Config/experiment/layer value; `None` reads as `{}`.
    pub json_value: Option<JsonValue<'s>>,
    /// Matched rule id, `default`, `disabled`, or `""`.
    pub rule_id: &'s str,
    pub id_type: &'s str,
    pub group_name: Option<&'s str>,
    pub is_experiment_active: bool,
    pub is_user_in_experiment: bool,
    pub is_in_layer: bool,
    pub explicit_parameters: Option<&'s [String]>,
    /// Layers: the experiment the user was delegated to.
    pub allocated_experiment_name: Option<&'s str>,
    pub secondary_exposures: Vec<SecondaryExposure<'s>>,
    pub undelegated_secondary_exposures: Option<Vec<SecondaryExposure<'s>>>,
    /// New layer evaluation: parameter → rule id that set it.
    pub parameter_rule_ids: Option<Vec<(String, &'s str)>>,
    pub version: Option<u32>,
    pub sampling_rate: Option<u64>,
    pub forward_all_exposures: Option<bool>,
    /// A nested gate without a sampling rate was seen (exposure sampling).
    pub has_seen_analytical_gates: bool,
    /// `CountryLookupNotLoaded` when an IP condition needed a missing table.
    pub override_reason: Option<&'static str>,
    /// `IdListInMemory` when an ID-list condition was consulted.
    pub id_list_source: Option<&'static str>,
    /// The spec that answered through a server-side config mapping
    /// (exposure metadata `overrideConfigName`).
    pub override_config_name: Option<&'s str>,
}

/// A result value: borrowed from the specs, or built (new layer evaluation).
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue<'s> {
    Borrowed(&'s Value),
    /// Boxed: built values are rare, and a small result moves cheaply.
    Owned(Box<Map<String, Value>>),
}

impl JsonValue<'_> {
    /// The value as an object, if it is one.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            JsonValue::Borrowed(v) => v.as_object(),
            JsonValue::Owned(m) => Some(m),
        }
    }
}

impl<'s> Evaluation<'s> {
    /// The evaluation details reason for specs from `source` (e.g. `Bootstrap`),
    /// exactly as the reference spells it.
    pub fn reason(&self, source: &str) -> String {
        match self.outcome {
            Outcome::DepthExceeded => "Error:Statsig Evaluation Depth Exceeded".to_owned(),
            Outcome::Unrecognized => format!("{source}:Unrecognized"),
            _ if self.override_reason.is_some() => {
                format!("{}:Recognized", self.override_reason.unwrap_or_default())
            }
            Outcome::Unsupported => format!("{source}:Unsupported"),
            Outcome::Recognized => match self.id_list_source {
                Some(s) => format!("{source}:Recognized:{s}"),
                None => format!("{source}:Recognized"),
            },
        }
    }

    /// The details `lcut`: the snapshot time, or `None` after an error.
    pub fn lcut(&self, snapshot: &Snapshot) -> Option<u64> {
        match self.outcome {
            Outcome::DepthExceeded => None,
            _ => Some(snapshot.time()),
        }
    }

    /// The value as an object, `{}` when there is none.
    pub fn value_object(&self) -> Map<String, Value> {
        self.json_value
            .as_ref()
            .and_then(JsonValue::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

/// Evaluate the spec `name` of `kind` for `user`.
pub fn evaluate<'s>(
    snapshot: &'s Snapshot,
    user: &User,
    kind: Kind,
    name: &str,
    env: &EvalEnv<'_>,
) -> Evaluation<'s> {
    engine::evaluate(snapshot, user, kind, name, env)
}

/// A gate's value alone: the same evaluation as [`evaluate`] without
/// building secondary exposures, for callers that log no exposure.
pub fn check_gate(snapshot: &Snapshot, user: &User, name: &str, env: &EvalEnv<'_>) -> bool {
    engine::gate_value(snapshot, user, name, env)
}
