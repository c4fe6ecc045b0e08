//! User-side values with precomputed facets (dcs-semantics §2.1, §2.3).
//!
//! STUB: interface only; the implementation is being written.

use serde_json::Value;

/// A user-side ("left") value: the JSON it came from plus the facets every
/// operator needs, computed once when the user is built.
#[derive(Clone, Debug, Default)]
pub struct DynValue {
    json: Value,
    string: Option<String>,
}

impl DynValue {
    /// The empty value (missing field / JSON null): no facets.
    pub fn null() -> Self {
        Self::default()
    }
    /// Facets of a user JSON value per §2.1.
    pub fn from_json(v: &Value) -> Self {
        DynValue { json: v.clone(), string: v.as_str().map(str::to_owned) }
    }
    /// A value with only an int facet (used for `current_time`).
    pub fn int_only(i: i64) -> Self {
        DynValue { json: Value::from(i), string: None }
    }
    /// The string facet, if any.
    pub fn string_facet(&self) -> Option<&str> {
        self.string.as_deref()
    }
    /// True for the empty value (JSON null / missing).
    pub fn is_null(&self) -> bool {
        self.json.is_null()
    }
}
