//! # gatehouse-conformance: the differential-testing harness of gatehouse
//!
//! gatehouse must evaluate Statsig `download_config_specs` ("dcs-v2") payloads exactly like the
//! reference server core, the `statsig-rust` crate pinned at `=0.24.0` (the "oracle"). This crate
//! runs both engines on the same specs and users and compares their reports line by line.
//!
//! Both engines print the canonical report of `docs/EVAL-FORMAT.md`: one JSON object per
//! (user, entity), keys sorted recursively, compact. The pieces:
//!
//! - [`oracle`]: [`oracle::oracle_report`] drives a real `statsig_rust::Statsig` instance fully
//!   offline (specs through the bootstrap specs adapter, a no-op event logging adapter, ID lists
//!   served from memory by an in-process network provider, country lookup loaded and waited for,
//!   exposure logging disabled on every call) and turns its typed results into report lines.
//! - [`users`]: deterministic generators of varied users in the reference's user JSON shape,
//!   optionally seeded with target values harvested from a spec's `condition_map`.
//! - [`diff`]: field-by-field comparison of two reports with per-field mismatch counts.
//! - [`fixtures`]: locating the reference package (its `tests/data/` fixtures, its ID list and its
//!   country table) in the local cargo registry.
//! - [`plan`]: the entity order of EVAL-FORMAT.md, shared by everything above.
//! - the `oracle-eval` binary: the oracle with the same flags as `gatehouse eval`; the `gen-users`
//!   binary prints generated users as JSONL.
//!
//! The gatehouse side is `gatehouse_core::report::eval_report`; `tests/fixtures.rs` asserts that
//! the two reports are identical on every fixture the reference accepts, and
//! `tests/oracle_sanity.rs` proves the oracle side against results published in
//! `dcs-semantics.md` §3.11. See `docs/CONFORMANCE.md`.
//!
//! ## Canonical JSON
//! `serde_json` is built with `preserve_order` in this crate (the reference enables it, and
//! features unify), so `serde_json::Map` keeps insertion order. Never rely on `Value::to_string`
//! for canonical output: use [`canonical`], which sorts object keys recursively (byte order).

pub mod diff;
pub mod fixtures;
pub mod oracle;
pub mod plan;
pub mod specgen;
pub mod users;

use serde_json::{Map, Value};

/// A copy of `value` in which every object's keys are sorted by byte order, recursively.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::with_capacity(map.len());
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The canonical text of `value`: keys sorted recursively (byte order), no insignificant
/// whitespace, numbers as `serde_json` prints them.
pub fn canonical(value: &Value) -> String {
    sorted(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_recursively_and_is_compact() {
        let mut inner = Map::new();
        inner.insert("z".into(), json!(1));
        inner.insert("a".into(), json!([{"y": true, "b": null}]));
        let mut outer = Map::new();
        outer.insert("b".into(), Value::Object(inner));
        outer.insert("B".into(), json!("x"));
        outer.insert("a".into(), json!(1.5));
        assert_eq!(
            canonical(&Value::Object(outer)),
            r#"{"B":"x","a":1.5,"b":{"a":[{"b":null,"y":true}],"z":1}}"#
        );
    }

    #[test]
    fn canonical_uses_byte_order() {
        let v = json!({"é": 1, "z": 2, "Z": 3, "_": 4});
        assert_eq!(canonical(&v), r#"{"Z":3,"_":4,"z":2,"é":1}"#);
    }
}
