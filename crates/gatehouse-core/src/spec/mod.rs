//! Specs compiled into an immutable [`Snapshot`].
//!
//! Loading does all the work evaluation would otherwise repeat: rule
//! conditions are resolved from `condition_map` keys to indices, nested gate
//! and delegate names to spec indices, field names to lookup keys, and each
//! operator's target to a [`Comparison`] (regexes compiled, versions parsed,
//! sets lowercased).

mod compile;
mod raw;

use crate::hash::{Key, PrefixHash};
use crate::ops::Comparison;
use crate::value::DynValue;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Name → index maps, with a fast non-cryptographic hasher (names come
/// from the trusted spec payload).
pub(crate) type NameMap = HashMap<Box<str>, u32, rustc_hash::FxBuildHasher>;

pub use compile::parse_specs;

/// Which table a spec lives in, and which call evaluates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `feature_gates`: gates, segments, holdouts.
    Gate,
    /// `dynamic_configs` entries whose entity is not `experiment`.
    Config,
    /// `dynamic_configs` entries whose entity is `experiment`.
    Experiment,
    /// `layer_configs`.
    Layer,
}

impl Kind {
    /// The name used in reports: `gate`, `config`, `experiment`, `layer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gate => "gate",
            Kind::Config => "config",
            Kind::Experiment => "experiment",
            Kind::Layer => "layer",
        }
    }
}

/// An immutable, compiled spec payload. `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) time: u64,
    pub(crate) checksum: Option<String>,
    pub(crate) default_environment: Option<String>,
    pub(crate) app_id: DynValue,
    /// The empty value, lent out for absent fields.
    pub(crate) null: DynValue,
    /// `user_bucket` values 0..1000, built at load only when some condition
    /// needs them, so that a bucket costs no allocation per evaluation.
    pub(crate) buckets: Vec<DynValue>,
    pub(crate) specs: Vec<Spec>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) gates: NameMap,
    /// `dynamic_configs`, experiments included.
    pub(crate) configs: NameMap,
    pub(crate) layers: NameMap,
    pub(crate) warnings: Vec<String>,
    /// Specs that failed to parse: listed by [`Snapshot::names`], never found.
    pub(crate) skipped: Vec<Skipped>,
    /// Server-side config mappings by spec name (any table).
    pub(crate) mappings: HashMap<Box<str>, Vec<Mapping>>,
}

/// A spec that was skipped while loading.
#[derive(Debug)]
pub(crate) struct Skipped {
    pub kind: Kind,
    pub name: Box<str>,
    /// Its `entity` string if it had one, else `""`.
    pub entity: Box<str>,
}

/// One config mapping of a spec: when one of its rules passes, the spec is
/// answered by evaluating `target` instead (dcs-semantics §11.1).
#[derive(Debug)]
pub(crate) struct Mapping {
    pub target: Box<str>,
    /// (start time in ms, the rule from `override_rules` if it exists).
    pub rules: Vec<(i64, Option<Rule>)>,
}

impl Snapshot {
    /// The payload's `time` (the "lcut").
    pub fn time(&self) -> u64 {
        self.time
    }
    /// The payload's `checksum`, if any.
    pub fn checksum(&self) -> Option<&str> {
        self.checksum.as_deref()
    }
    /// The payload's `default_environment`, if any.
    pub fn default_environment(&self) -> Option<&str> {
        self.default_environment.as_deref()
    }
    /// Specs that were skipped while loading, each with the JSON path and
    /// reason (the reference skips a malformed spec and loads the rest).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// Names of every spec of `kind`, sorted by bytes. Skipped (malformed)
    /// specs are listed too: evaluating one gives `Unrecognized`, as the
    /// reference reports them.
    pub fn names(&self, kind: Kind) -> Vec<&str> {
        let mut names: Vec<&str> = match kind {
            Kind::Gate => self.gates.keys().map(|k| &**k).collect(),
            Kind::Layer => self.layers.keys().map(|k| &**k).collect(),
            Kind::Config | Kind::Experiment => self
                .configs
                .iter()
                .filter(|(_, &i)| {
                    (&*self.specs[i as usize].entity == "experiment") == (kind == Kind::Experiment)
                })
                .map(|(k, _)| &**k)
                .collect(),
        };
        names.extend(
            self.skipped
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| &*s.name),
        );
        names.sort_unstable();
        names
    }
    /// The `entity` string of a spec (`feature_gate`, `segment`, `experiment`, …).
    pub fn entity(&self, kind: Kind, name: &str) -> Option<&str> {
        match self.lookup(kind, name) {
            Some(i) => Some(&self.specs[i as usize].entity),
            None => self
                .skipped
                .iter()
                .find(|s| s.kind == kind && &*s.name == name)
                .map(|s| &*s.entity),
        }
    }
    pub(crate) fn lookup(&self, kind: Kind, name: &str) -> Option<u32> {
        match kind {
            Kind::Gate => self.gates.get(name),
            Kind::Config | Kind::Experiment => self.configs.get(name),
            Kind::Layer => self.layers.get(name),
        }
        .copied()
    }
}

/// A unit-id type with its lowercase form precomputed (dcs-semantics §6.3).
#[derive(Debug, Clone)]
pub(crate) struct IdType {
    pub raw: Key,
    /// `raw` lowercased; `None` when equal to `raw`.
    pub lower: Option<Key>,
    pub is_user_id: bool,
}

impl IdType {
    pub(crate) fn new(raw: &str) -> IdType {
        let lower = raw.to_lowercase();
        IdType {
            is_user_id: lower == "userid",
            lower: (lower != raw).then(|| Key::new(&lower)),
            raw: Key::new(raw),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Spec {
    pub name: Box<str>,
    pub salt: Box<str>,
    /// Shared with every identical value in the payload.
    pub default_value: Arc<Value>,
    /// `defaultValue` is literally `true`.
    pub default_bool: bool,
    pub enabled: bool,
    pub rules: Vec<Rule>,
    pub id_type: Box<str>,
    pub entity: Box<str>,
    pub is_active: Option<bool>,
    pub has_shared_params: Option<bool>,
    pub explicit_parameters: Option<Vec<String>>,
    pub version: Option<u32>,
    pub forward_all_exposures: Option<bool>,
    pub use_new_layer_eval: bool,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub id: Box<str>,
    /// `salt` if present (even empty), else `id`.
    pub salt: Box<str>,
    /// `spec salt . rule salt .` absorbed (the rule's own spec's salt).
    pub hash_prefix: PrefixHash,
    pub pass_percentage: f64,
    /// Shared with every identical value in the payload.
    pub return_value: Arc<Value>,
    /// `returnValue` is not literally `false`.
    pub return_bool: bool,
    /// Indices into `Snapshot::conditions`; `None` for a key missing from `condition_map`.
    pub conditions: Vec<Option<u32>>,
    pub id_type: IdType,
    pub group_name: Option<Box<str>>,
    pub is_experiment_group: Option<bool>,
    /// The delegate's index in `specs` when it names an existing dynamic config.
    pub config_delegate: Option<(Box<str>, u32)>,
    pub sampling_rate: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Condition {
    pub kind: ConditionKind,
    pub id_type: IdType,
}

#[derive(Debug)]
pub(crate) enum ConditionKind {
    Public,
    /// `pass_gate` / `fail_gate`: the gate name (empty if the target is not a
    /// string) and its index among specs if it exists.
    Gate {
        name: Box<str>,
        spec: Option<u32>,
        invert: bool,
    },
    /// Every other supported type with a supported operator.
    Compare {
        left: Left,
        cmp: Comparison,
    },
    /// `in_segment_list` / `not_in_segment_list`.
    IdList {
        left: Left,
        list: Option<Box<str>>,
        negate: bool,
    },
    /// Unknown type, missing or unknown operator.
    Unsupported,
}

/// How the left-hand value of a condition is obtained (dcs-semantics §5.1).
#[derive(Debug)]
pub(crate) enum Left {
    User(Option<FieldKey>),
    Environment(Option<FieldKey>),
    UserAgent(Option<FieldKey>, Option<UaField>),
    /// The flag: the field is exactly `country`, so the IP table may answer.
    Ip(Option<FieldKey>, bool),
    CurrentTime,
    /// `user_bucket`: `salt .` absorbed.
    UserBucket(PrefixHash),
    UnitId,
    TargetApp,
    ExperimentGroup(Option<u32>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UaField {
    OsName,
    OsVersion,
    BrowserName,
    BrowserVersion,
}

/// A user field name with everything its lookup needs (dcs-semantics §6.2).
#[derive(Debug)]
pub(crate) struct FieldKey {
    pub raw: Key,
    /// `raw` lowercased; `None` when equal to `raw` (one lookup suffices).
    pub lower: Option<Key>,
    /// The top-level field that `lower` names, if any.
    pub top: Option<TopField>,
    /// The alias (`user_id`, `app_version`, `user_agent`), if any.
    pub alias: Option<TopField>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopField {
    UserId,
    Email,
    Ip,
    Country,
    Locale,
    AppVersion,
    UserAgent,
}
