//! Local overrides (dcs-semantics §11.1): values set by the application
//! that replace an evaluation, for everyone or for one user ID.
//!
//! An [`Overrides`] is plain data; the runtime keeps one behind an atomic
//! pointer and replaces it on change, so evaluation reads it without locks.
//! Evaluation consults it first, for the top-level spec, for nested gates
//! and for a layer's delegated experiment.

use crate::spec::Kind;
use crate::user::User;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// What an override sets.
#[derive(Clone, Debug, PartialEq)]
pub enum OverrideValue {
    /// A gate's value.
    Gate(bool),
    /// A config's, experiment's or layer's whole value.
    Value(Map<String, Value>),
    /// An experiment answered with the return value of the rule whose
    /// `groupName` this is (an empty value when no rule has it).
    Group(String),
}

/// Overrides of one spec: the global one and those per user ID.
#[derive(Clone, Debug, Default)]
struct Entry {
    global: Option<OverrideValue>,
    by_id: HashMap<String, OverrideValue>,
}

impl Entry {
    fn is_empty(&self) -> bool {
        self.global.is_none() && self.by_id.is_empty()
    }
}

/// Every local override, by kind and spec name.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    tables: [HashMap<String, Entry>; 4],
}

fn slot(kind: Kind) -> usize {
    match kind {
        Kind::Gate => 0,
        Kind::Config => 1,
        Kind::Experiment => 2,
        Kind::Layer => 3,
    }
}

impl Overrides {
    /// No overrides.
    pub fn new() -> Overrides {
        Overrides::default()
    }

    /// Whether there are none (evaluation then skips the lookup).
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(HashMap::is_empty)
    }

    /// Set an override of `kind`/`name`, for `id` (a user ID or custom ID
    /// value) or for everyone. A [`OverrideValue::Gate`] belongs with
    /// [`Kind::Gate`], a [`OverrideValue::Group`] with [`Kind::Experiment`];
    /// a mismatched pair is stored and never applies (returns false).
    pub fn set(&mut self, kind: Kind, name: &str, value: OverrideValue, id: Option<&str>) -> bool {
        let fits = matches!(
            (kind, &value),
            (Kind::Gate, OverrideValue::Gate(_))
                | (Kind::Experiment, OverrideValue::Group(_))
                | (
                    Kind::Config | Kind::Experiment | Kind::Layer,
                    OverrideValue::Value(_)
                )
        );
        if !fits {
            return false;
        }
        let entry = self.tables[slot(kind)].entry(name.to_owned()).or_default();
        match id {
            Some(id) => {
                entry.by_id.insert(id.to_owned(), value);
            }
            None => entry.global = Some(value),
        }
        true
    }

    /// Remove the override of `kind`/`name` for `id`, or every override of
    /// that name when `id` is `None` (the reference's `remove_*`).
    pub fn remove(&mut self, kind: Kind, name: &str, id: Option<&str>) {
        let table = &mut self.tables[slot(kind)];
        match id {
            None => {
                table.remove(name);
            }
            Some(id) => {
                if let Some(entry) = table.get_mut(name) {
                    entry.by_id.remove(id);
                    if entry.is_empty() {
                        table.remove(name);
                    }
                }
            }
        }
    }

    /// Remove every override.
    pub fn clear(&mut self) {
        self.tables.iter_mut().for_each(HashMap::clear);
    }

    /// The override that applies to `user`: the one for the user's
    /// `userID` string; else the first custom ID value (in key order) that
    /// has one; else the global one.
    pub fn lookup(&self, kind: Kind, name: &str, user: &User) -> Option<&OverrideValue> {
        let entry = self.tables[slot(kind)].get(name)?;
        if !entry.by_id.is_empty() {
            let by_user_id = user.user_id_string().and_then(|id| entry.by_id.get(id));
            let found =
                by_user_id.or_else(|| user.custom_id_strings().find_map(|id| entry.by_id.get(id)));
            if found.is_some() {
                return found;
            }
        }
        entry.global.as_ref()
    }

    /// Every override as JSON, for status pages and bindings:
    /// `{"gate": {name: {"global": v, "ids": {id: v}}}, …}`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        for kind in [Kind::Gate, Kind::Config, Kind::Experiment, Kind::Layer] {
            let mut names = Map::new();
            for (name, entry) in &self.tables[slot(kind)] {
                let mut e = Map::new();
                if let Some(v) = &entry.global {
                    e.insert("global".into(), value_json(v));
                }
                let ids: Map<String, Value> = entry
                    .by_id
                    .iter()
                    .map(|(id, v)| (id.clone(), value_json(v)))
                    .collect();
                e.insert("ids".into(), Value::Object(ids));
                names.insert(name.clone(), Value::Object(e));
            }
            out.insert(kind.as_str().into(), Value::Object(names));
        }
        Value::Object(out)
    }
}

fn value_json(v: &OverrideValue) -> Value {
    match v {
        OverrideValue::Gate(b) => Value::Bool(*b),
        OverrideValue::Value(v) => Value::Object(v.clone()),
        OverrideValue::Group(g) => serde_json::json!({ "group": g }),
    }
}
