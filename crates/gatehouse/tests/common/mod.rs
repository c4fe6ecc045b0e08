//! Shared inputs for the runtime tests: the repository's example specs and
//! users, payload variants, and expected answers computed with
//! `gatehouse_core` directly (single-threaded, without the runtime).

#![allow(dead_code)] // Each test file uses a different part of this module.

use gatehouse_core::report::environment_map;
use gatehouse_core::{evaluate, parse_specs, EvalEnv, IdLists, Kind, User as CoreUser};
use serde_json::Value;
use std::collections::HashMap;

pub fn repo_file_path(rel: &str) -> String {
    format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"))
}

pub fn repo_file(rel: &str) -> String {
    let path = format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn example_specs() -> String {
    repo_file("examples/specs.json")
}

pub fn example_users() -> Vec<Value> {
    repo_file("examples/users.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("example user"))
        .collect()
}

/// The example specs with `time` set, and (variant B) every rule id of
/// every gate suffixed with `_b` and every gate's default flipped, so that
/// answers from A and B are told apart.
pub fn variant(specs: &str, time: u64, b: bool, filler_gates: usize) -> String {
    let mut v: Value = serde_json::from_str(specs).expect("specs");
    v["time"] = time.into();
    let gates = v["feature_gates"].as_object_mut().expect("gates");
    if b {
        for gate in gates.values_mut() {
            let default = gate["defaultValue"].as_bool().unwrap_or(false);
            gate["defaultValue"] = (!default).into();
            for rule in gate["rules"].as_array_mut().expect("rules") {
                let id = rule["id"].as_str().expect("id").to_owned();
                rule["id"] = format!("{id}_b").into();
            }
        }
    }
    // Filler makes the payload slow to parse (for the no-stall check).
    if let Some(template) = gates.values().next().cloned() {
        for i in 0..filler_gates {
            gates.insert(format!("zz_filler_{i}"), template.clone());
        }
    }
    v.to_string()
}

/// [`variant`] plus `n` gates with one regex condition each: small on the
/// wire, slow to load (every regex is compiled when the specs load).
pub fn slow_to_load_variant(specs: &str, time: u64, b: bool, n: usize) -> String {
    let mut v: Value = serde_json::from_str(&variant(specs, time, b, 0)).expect("specs");
    let template = v["feature_gates"]["dark_mode"].clone();
    for i in 0..n {
        let cond = format!("zzc{i}");
        v["condition_map"][&cond] = serde_json::json!({
            "type": "user_field",
            "targetValue": format!("^(qa|dev|ops){i}-[a-z]{{1,{}}}(x|y|z)*\\d{{2,9}}$", i % 40 + 1),
            "operator": "str_matches",
            "field": "email",
            "additionalValues": {},
            "idType": "userID"
        });
        let mut gate = template.clone();
        gate["rules"] = serde_json::json!([{
            "name": "slow", "passPercentage": 100, "conditions": [cond],
            "returnValue": true, "id": format!("zzr{i}"), "salt": "s", "idType": "userID"
        }]);
        v["feature_gates"][format!("zz_filler_{i}")] = gate;
    }
    v.to_string()
}

/// (value, rule id) of every gate for every user, from `gatehouse_core`.
pub fn expected_gates(specs: &str, users: &[Value]) -> Vec<HashMap<String, (bool, String)>> {
    let snapshot = parse_specs(specs).expect("specs parse");
    let env_map = environment_map(&snapshot, None);
    let lists = IdLists::new();
    let env = EvalEnv {
        environment: env_map.as_ref(),
        id_lists: Some(&lists),
        now_ms: gatehouse_core::report::now_ms(),
        ..EvalEnv::default()
    };
    users
        .iter()
        .map(|u| {
            let user = CoreUser::from_json(u).expect("user");
            snapshot
                .names(Kind::Gate)
                .into_iter()
                .filter(|n| !n.starts_with("zz_filler_"))
                .map(|name| {
                    let e = evaluate(&snapshot, &user, Kind::Gate, name, &env);
                    (name.to_owned(), (e.bool_value, e.rule_id.to_owned()))
                })
                .collect()
        })
        .collect()
}

/// Resident memory of this process in KiB (Linux).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}
