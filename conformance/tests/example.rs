//! Differential conformance on the example that `gatehouse eval` runs by default
//! (`examples/specs.json`, `examples/users.jsonl`, ID list `examples/id_lists/beta_testers.txt`
//! as `beta_testers`): the reference (statsig-rust 0.24.0) and gatehouse must print identical
//! reports.
//!
//! - `example_matches_reference`: exactly what `gatehouse eval` prints with no flags (no
//!   environment, no country table on the gatehouse side: every example user carries `country`,
//!   so no IP lookup is needed, while the reference always has its table loaded).
//! - `example_matches_reference_in_environments`: the same users under SDK environment tiers.
//! - `example_specs_with_generated_users`: the example specs for users generated from the
//!   specs' own target values (gatehouse gets the reference's country table).
//!
//! The reference also has to accept every example entity: no line may be `Unrecognized` or
//! `Unsupported`, which would mean the reference skipped a spec the example relies on.

use gatehouse_conformance::diff::diff_reports;
use gatehouse_conformance::fixtures::country_table;
use gatehouse_conformance::oracle::{oracle_report, OracleOptions};
use gatehouse_conformance::plan::entity_plan;
use gatehouse_conformance::users::generate_users_for_specs;
use serde_json::Value;

const SPECS: &str = include_str!("../../examples/specs.json");
const USERS: &str = include_str!("../../examples/users.jsonl");
const BETA_TESTERS: &str = include_str!("../../examples/id_lists/beta_testers.txt");

fn users() -> Vec<Value> {
    USERS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("examples/users.jsonl: a JSON object per line"))
        .collect()
}

fn id_lists() -> Vec<(String, String)> {
    vec![("beta_testers".to_string(), BETA_TESTERS.to_string())]
}

fn entity_count() -> usize {
    let specs: Value = serde_json::from_str(SPECS).expect("examples/specs.json is JSON");
    let count = entity_plan(&specs).expect("entity plan").len();
    let declared: usize = ["feature_gates", "dynamic_configs", "layer_configs"]
        .iter()
        .map(|k| specs[*k].as_object().expect(k).len())
        .sum();
    assert_eq!(count, declared, "every spec of the example is in the plan");
    count
}

/// Runs both engines and asserts identical reports; returns the oracle's lines.
fn compare(
    users: &[Value],
    environment: Option<&str>,
    country: Option<&[u8]>,
    label: &str,
) -> Vec<String> {
    let options = OracleOptions {
        environment: environment.map(str::to_string),
        id_lists: id_lists(),
    };
    let expected = oracle_report(SPECS, users, &options)
        .unwrap_or_else(|e| panic!("{label}: the reference failed: {e}"));
    assert_eq!(
        expected.len(),
        users.len() * entity_count(),
        "{label}: reference line count"
    );
    let actual =
        gatehouse_core::report::eval_report(SPECS, users, environment, country, &id_lists())
            .unwrap_or_else(|e| panic!("{label}: gatehouse failed: {e}"));
    let summary = diff_reports(&expected, &actual, 20);
    if !summary.is_identical() {
        let mut involved: Vec<u64> = summary
            .differences
            .iter()
            .filter_map(|d| d.user_index)
            .collect();
        involved.sort_unstable();
        involved.dedup();
        let users_text: Vec<String> = involved
            .iter()
            .filter_map(|&i| users.get(i as usize).map(|u| format!("  user {i}: {u}")))
            .collect();
        panic!(
            "{label}: gatehouse disagrees with the reference\n{summary}users involved:\n{}",
            users_text.join("\n")
        );
    }
    expected
}

fn assert_all_recognized(lines: &[String], label: &str) {
    for line in lines {
        let v: Value = serde_json::from_str(line).expect("report line is JSON");
        let reason = v["details"]["reason"].as_str().unwrap_or("");
        assert!(
            reason.starts_with("Bootstrap:Recognized"),
            "{label}: the reference did not recognize an example entity: {line}"
        );
    }
}

#[test]
fn example_matches_reference() {
    let users = users();
    assert_eq!(users.len(), 12);
    let lines = compare(&users, None, None, "example");
    assert_all_recognized(&lines, "example");
    // The ID list is really used: some evaluations carry the in-memory ID-list suffix and the
    // listed beta testers (users 6 and 10) pass the segment.
    let segment: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["name"] == "segment:beta_testers")
        .collect();
    let passing: Vec<u64> = segment
        .iter()
        .filter(|v| v["value"] == true)
        .map(|v| v["user_index"].as_u64().unwrap())
        .collect();
    assert_eq!(passing, vec![6, 10]);
    // Every user with a userID gets the ID-list reason suffix (user 8, the anonymous crawler,
    // has no unit id, so the condition returns before recording a source).
    for v in &segment {
        let expected = if v["user_index"] == 8 {
            "Bootstrap:Recognized"
        } else {
            "Bootstrap:Recognized:IdListInMemory"
        };
        assert_eq!(v["details"]["reason"], expected, "{v}");
    }
}

#[test]
fn example_matches_reference_in_environments() {
    let users = users();
    for tier in ["staging", "production"] {
        let lines = compare(&users, Some(tier), None, tier);
        assert_all_recognized(&lines, tier);
    }
}

#[test]
fn example_specs_with_generated_users() {
    let table = country_table().unwrap_or_else(|e| panic!("{e}"));
    let users = generate_users_for_specs(SPECS, 0x4841_5242_4f52, 300);
    compare(&users, None, Some(&table), "generated users");
}
