//! Local overrides (dcs-semantics §11.1 with delta D1b) against the
//! reference: the same overrides set on both engines, then every entity of
//! the fixture evaluated for every user, every report field compared.

use gatehouse_conformance::diff::diff_reports;
use gatehouse_conformance::fixtures::{country_table, read_data_file};
use gatehouse_conformance::oracle::{oracle_instance, OracleOptions};
use gatehouse_conformance::users::generate_users_for_specs;
use gatehouse_core::country::CountryTable;
use gatehouse_core::report::snapshot_report;
use gatehouse_core::{parse_specs, EvalEnv, Kind, OverrideValue, Overrides, User};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// One override, as both engines take it.
enum Op {
    Gate(&'static str, bool, Option<&'static str>),
    Config(&'static str, Value, Option<&'static str>),
    Experiment(&'static str, Value, Option<&'static str>),
    Group(&'static str, &'static str, Option<&'static str>),
    Layer(&'static str, Value, Option<&'static str>),
}

fn map(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().expect("override values are objects")
}

fn hash_map(v: &Value) -> HashMap<String, Value> {
    map(v).into_iter().collect()
}

fn ops() -> Vec<Op> {
    vec![
        // A gate also used as a nested gate (delta D1b: the parent keeps
        // its own reason, the nested value and exposure change).
        Op::Gate("test_public", false, None),
        Op::Gate("test_email", true, Some("u_over")),
        Op::Gate("global_holdout", true, Some("c_over")),
        // A gate that does not exist: recognized through the override.
        Op::Gate("no_such_gate_override", true, None),
        Op::Config("test_custom_config", json!({"over": 1}), None),
        Op::Config("test_email_config", json!({"mine": "yes"}), Some("u_over")),
        Op::Experiment(
            "test_experiment_no_targeting",
            json!({"exp": "over"}),
            Some("42"),
        ),
        Op::Group("test_exp_random_id", "Test", None),
        Op::Group("test_exp_random_id_allocated", "No Such Group", None),
        // A layer's delegated experiment.
        Op::Experiment("test_exp_with_layers", json!({"delegated": true}), None),
        Op::Layer("test_layer_with_no_exp", json!({"layer": "over"}), None),
        Op::Layer("random_id_layer", json!({"p": 2}), Some("c_over")),
    ]
}

fn users(specs: &str) -> Vec<Value> {
    let mut users = vec![
        json!({"userID": "u_over", "email": "a@statsig.com"}),
        json!({"userID": "someone", "customIDs": {"companyID": "c_over"}}),
        json!({"userID": "u_over", "customIDs": {"companyID": "c_over"}}),
        json!({"userID": 42}),
        json!({"customIDs": {"stableID": "c_over"}}),
        json!({}),
    ];
    users.extend(generate_users_for_specs(specs, 5, 40));
    users
}

#[test]
fn overrides_equal_the_reference_on_eval_proj() {
    let specs = read_data_file("eval_proj_dcs.json").expect("fixture");
    let users = users(&specs);

    let mut overrides = Overrides::new();
    let oracle = oracle_instance(&specs, &OracleOptions::default()).expect("oracle");
    let statsig = oracle.statsig();
    for op in ops() {
        let applied = match op {
            Op::Gate(name, v, id) => {
                statsig.override_gate(name, v, id);
                overrides.set(Kind::Gate, name, OverrideValue::Gate(v), id)
            }
            Op::Config(name, v, id) => {
                statsig.override_dynamic_config(name, hash_map(&v), id);
                overrides.set(Kind::Config, name, OverrideValue::Value(map(&v)), id)
            }
            Op::Experiment(name, v, id) => {
                statsig.override_experiment(name, hash_map(&v), id);
                overrides.set(Kind::Experiment, name, OverrideValue::Value(map(&v)), id)
            }
            Op::Group(name, group, id) => {
                statsig.override_experiment_by_group_name(name, group, id);
                let v = OverrideValue::Group(group.to_owned());
                overrides.set(Kind::Experiment, name, v, id)
            }
            Op::Layer(name, v, id) => {
                statsig.override_layer(name, hash_map(&v), id);
                overrides.set(Kind::Layer, name, OverrideValue::Value(map(&v)), id)
            }
        };
        assert!(applied);
    }

    let expected = oracle.report(&specs, &users);
    oracle.shutdown();
    let expected = expected.expect("oracle report");

    let snapshot = parse_specs(&specs).expect("specs parse");
    let table = CountryTable::parse(&country_table().expect("table")).expect("table parses");
    let env = EvalEnv {
        country: Some(&table),
        overrides: Some(&overrides),
        now_ms: gatehouse_core::report::now_ms(),
        ..EvalEnv::default()
    };
    let gh_users: Vec<User> = users
        .iter()
        .map(|u| User::from_json(u).expect("user"))
        .collect();
    let actual = snapshot_report(&snapshot, &gh_users, &env);

    let diff = diff_reports(&expected, &actual, 20);
    assert!(diff.is_identical(), "{diff}");
    // The overrides are visible in the results (the test is not vacuous).
    let overridden = actual
        .iter()
        .filter(|l| l.contains("\"rule_id\":\"override\""))
        .count();
    assert!(overridden > users.len() * 5, "{overridden}");
    assert!(actual
        .iter()
        .any(|l| l.contains("LocalOverride:Recognized") && l.contains("\"kind\":\"layer\"")));
}
