//! Proves the oracle side of the harness: results published in dcs-semantics.md §3.11 and the
//! reference's own `tests/expected_evaluation_tests.rs` / `tests/check_gate_tests.rs`, reproduced
//! through `oracle_report`, plus its robustness contract (rejections, panics, reuse).

use gatehouse_conformance::fixtures::read_data_file;
use gatehouse_conformance::oracle::{oracle_report, OracleOptions};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

/// Report lines indexed by (user_index, kind, name).
struct Report(HashMap<(u64, String, String), Value>);

impl Report {
    fn run(specs: &str, users: &[Value], opts: &OracleOptions) -> Report {
        let lines = oracle_report(specs, users, opts).expect("oracle run");
        let mut map = HashMap::new();
        for line in &lines {
            let v: Value = serde_json::from_str(line).expect("line is JSON");
            let key = (
                v["user_index"].as_u64().expect("user_index"),
                v["kind"].as_str().expect("kind").to_string(),
                v["name"].as_str().expect("name").to_string(),
            );
            assert!(map.insert(key, v).is_none(), "duplicate line {line}");
        }
        Report(map)
    }

    fn get(&self, user: u64, kind: &str, name: &str) -> &Value {
        self.0
            .get(&(user, kind.to_string(), name.to_string()))
            .unwrap_or_else(|| panic!("no line for user {user} {kind} {name}"))
    }
}

fn eval_proj() -> String {
    read_data_file("eval_proj_dcs.json").expect("eval_proj_dcs.json")
}

fn full_user() -> Value {
    // build_full_user() of the reference's tests/expected_evaluation_tests.rs
    json!({
        "userID": "a_user",
        "appVersion": "1.3",
        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_1 like Mac OS X) AppleWebKit/603.1.30 (KHTML, like Gecko) Version/10.0 Mobile/14E304 Safari/602.1",
        "ip": "1.0.0.0",
        "locale": "en_US",
        "email": "a_user@statsig.com",
        "country": "US",
        "custom": {"level": 9},
        "customIDs": {"companyID": "123", "stableID": ""}
    })
}

#[test]
fn eval_proj_published_results() {
    let specs = eval_proj();
    let lcut: u64 = serde_json::from_str::<Value>(&specs).expect("json")["time"]
        .as_u64()
        .expect("time");
    let users = vec![
        json!({"userID": "9"}),                                     // 0
        json!({"userID": "random_user_99"}),                        // 1
        json!({"userID": "user-not-in-layer-holdout"}),             // 2
        json!({"customIDs": {"companyID": "123", "stableID": ""}}), // 3
        json!({"userID": "a_user", "appVersion": "1.3"}),           // 4
        full_user(),                                                // 5
        json!({
            "userID": "123",
            "appVersion": "1.3",
            "ip": "1.0.0.0",
            "locale": "en_US",
            "userAgent": "Mozilla/5.0 (Windows NT 5.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.5414.87 ADG/11.0.4060 Safari/537.36"
        }), // 6
    ];
    let report = Report::run(&specs, &users, &OracleOptions::default());

    // §3.11
    let g = report.get(0, "gate", "test_50_50");
    assert_eq!(g["value"], json!(false));
    assert_eq!(g["rule_id"], json!("6U5gYSQ2jRCDWvfPzKSQY9"));
    assert_eq!(g["id_type"], json!("userID"));
    assert_eq!(g["entity"], json!("feature_gate"));
    assert_eq!(
        g["details"],
        json!({"lcut": lcut, "reason": "Bootstrap:Recognized"})
    );
    assert_eq!(
        g["secondary_exposures"],
        json!([{"gate": "global_holdout", "gateValue": "false", "ruleID": "3QoA4ncNdVGBaMt3N1KYjz:0.50:1"}])
    );

    let g = report.get(0, "gate", "test_null_operator");
    assert_eq!(g["value"], json!(true));
    assert_eq!(g["rule_id"], json!("5kiqP6V3pTnL6GCbm5Vgtg"));

    assert_eq!(report.get(4, "gate", "test_version")["value"], json!(false));

    // §3.11 says rule `default`, but the spec is `enabled: false`, so the fall-through rule id
    // is `disabled` (§3.4 step 5); the reference's own test only checks the value.
    let g = report.get(3, "gate", "test_holdout_default_value_gate");
    assert_eq!(g["value"], json!(true));
    assert_eq!(g["rule_id"], json!("disabled"));

    let e = report.get(0, "experiment", "targeted_exp_in_layer_with_holdout");
    assert_eq!(e["rule_id"], json!("layerAssignment"));
    assert_eq!(
        e["value"],
        json!({"exp_val": "shipped_test", "layer_val": "layer_default"})
    );
    assert_eq!(e["is_in_layer"], json!(true));

    let e = report.get(0, "experiment", "test_exp_5050_targeting");
    assert_eq!(e["rule_id"], json!("targetingGate"));
    assert_eq!(e["group_name"], Value::Null);
    assert_eq!(e["value"], json!({}));
    assert_eq!(e["is_user_in_experiment"], json!(false));

    let l = report.get(2, "layer", "Basic_test_layer");
    assert_eq!(l["rule_id"], json!("54QJztEPRLXK7ZCvXeY9q4"));
    assert_eq!(l["group_name"], json!("Control"));
    assert_eq!(
        l["allocated_experiment_name"],
        json!("test_experiment_no_targeting")
    );

    let l = report.get(1, "layer", "layer_with_many_params");
    assert_eq!(l["rule_id"], json!("7kGqF9fGepadpGpchGP5TK"));
    assert_eq!(l["group_name"], json!("Control"));
    assert_eq!(l["value"]["a_string"], json!("control"));
    assert_eq!(l["entity"], json!("layer"));

    let l = report.get(0, "layer", "layer_with_many_params");
    assert_eq!(l["rule_id"], json!("default"));
    assert_eq!(l["value"]["a_string"], json!("layer"));
    assert_eq!(l["allocated_experiment_name"], Value::Null);
    assert_eq!(l["parameter_rule_ids"], Value::Null);

    // tests/expected_evaluation_tests.rs
    assert_eq!(
        report.get(5, "gate", "test_string_comparisons")["value"],
        json!(true)
    );
    assert_eq!(
        report.get(3, "gate", "test_nested_gate_condition")["value"],
        json!(true)
    );
    assert_eq!(
        report.get(5, "gate", "test_any_with_number_value")["value"],
        json!(true)
    );
    let g = report.get(6, "gate", "test_many_rules");
    assert_eq!(g["value"], json!(true));
    assert_eq!(g["rule_id"], json!("6p3sVhzePA0Ybcf5r9fwDl"));

    // Every line has every field of EVAL-FORMAT.md.
    let common = [
        "user_index",
        "kind",
        "name",
        "entity",
        "value",
        "rule_id",
        "id_type",
        "details",
        "secondary_exposures",
    ];
    for line in report.0.values() {
        let extra: &[&str] = match line["kind"].as_str().expect("kind") {
            "gate" => &[],
            "config" => &["passed"],
            "experiment" => &[
                "group_name",
                "is_experiment_active",
                "is_user_in_experiment",
                "is_in_layer",
                "explicit_parameters",
                "undelegated_secondary_exposures",
            ],
            "layer" => &[
                "group_name",
                "allocated_experiment_name",
                "explicit_parameters",
                "undelegated_secondary_exposures",
                "parameter_rule_ids",
            ],
            other => panic!("unknown kind {other}"),
        };
        let keys: Vec<&String> = line.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), common.len() + extra.len(), "{line}");
        for key in common.iter().chain(extra) {
            assert!(line.get(*key).is_some(), "{key} missing in {line}");
        }
    }
}

#[test]
fn eval_proj_id_lists() {
    let specs = eval_proj();
    let list = read_data_file("company_id_list").expect("company_id_list");
    let users = vec![
        json!({"userID": "u", "customIDs": {"companyID": "marcos_1"}}), // in the list
        json!({"userID": "u", "customIDs": {"companyID": "not-listed"}}),
        json!({"userID": "u"}),
    ];
    let with_list = OracleOptions {
        environment: None,
        id_lists: vec![("company_id_list".to_string(), list)],
    };
    let report = Report::run(&specs, &users, &with_list);
    let seg = report.get(0, "gate", "segment:company_id_list");
    assert_eq!(seg["value"], json!(true));
    assert_eq!(seg["rule_id"], json!("id_list"));
    assert_eq!(
        seg["details"]["reason"],
        json!("Bootstrap:Recognized:IdListInMemory")
    );
    assert_eq!(
        report.get(1, "gate", "segment:company_id_list")["value"],
        json!(false)
    );
    // A parent gate inherits the source from the nested segment (both of test_id_list's
    // pass_gate conditions run, no short-circuit)…
    assert_eq!(
        report.get(0, "gate", "test_id_list")["details"]["reason"],
        json!("Bootstrap:Recognized:IdListInMemory")
    );
    // …but test_not_in_id_list matches its first rule (fail_gate segment:user_id_list) and
    // never reaches the company list.
    assert_eq!(
        report.get(0, "gate", "test_not_in_id_list")["details"]["reason"],
        json!("Bootstrap:Recognized")
    );
    // No unit id: the condition returns before recording a source (delta D5).
    assert_eq!(
        report.get(2, "gate", "segment:company_id_list")["details"]["reason"],
        json!("Bootstrap:Recognized")
    );

    // Without the list the member is not in it, but the source suffix stays.
    let report = Report::run(&specs, &users, &OracleOptions::default());
    let seg = report.get(0, "gate", "segment:company_id_list");
    assert_eq!(seg["value"], json!(false));
    assert_eq!(
        seg["details"]["reason"],
        json!("Bootstrap:Recognized:IdListInMemory")
    );
}

#[test]
fn check_gate_perf_environments() {
    // tests/check_gate_tests.rs
    let specs = read_data_file("check_gate_perf_dcs.json").expect("check_gate_perf_dcs.json");
    let user = json!({
        "customIDs": {"hubID": "some-service-123"},
        "custom": {"flavor": "chocolate", "region": "somewhere", "service": "some-service"}
    });
    let run = |tier: &str| {
        let opts = OracleOptions {
            environment: Some(tier.to_string()),
            id_lists: Vec::new(),
        };
        Report::run(&specs, std::slice::from_ref(&user), &opts)
    };
    assert_eq!(
        run("staging").get(0, "gate", "many_rules")["value"],
        json!(true)
    );
    assert_eq!(
        run("development").get(0, "gate", "public_dev_only")["value"],
        json!(true)
    );
    assert_eq!(
        run("production").get(0, "gate", "public_dev_only")["value"],
        json!(false)
    );
}

#[test]
fn oracle_rejects_bad_input() {
    let dcs_error = read_data_file("dcs_error.json").expect("dcs_error.json");
    let err = oracle_report(&dcs_error, &[json!({})], &OracleOptions::default())
        .expect_err("dcs_error.json must be rejected");
    assert!(!err.is_empty());

    let specs = read_data_file("dcs_missing_gates.json").expect("dcs_missing_gates.json");
    let err = oracle_report(
        &specs,
        &[json!({}), json!("not a user")],
        &OracleOptions::default(),
    )
    .expect_err("a string is not a user");
    assert!(err.starts_with("user 1:"), "{err}");
    let err = oracle_report(
        &specs,
        &[json!({"customIDs": "not a map"})],
        &OracleOptions::default(),
    )
    .expect_err("customIDs must be a map");
    assert!(err.starts_with("user 0:"), "{err}");
    assert!(oracle_report("not json", &[], &OracleOptions::default()).is_err());
}

#[test]
fn oracle_survives_reference_panics() {
    // `999.1.1.1` makes the reference's country lookup index out of bounds.
    let specs = eval_proj();
    let users = vec![
        json!({"userID": "ok"}),
        json!({"userID": "x", "ip": "999.1.1.1"}),
    ];
    let err = oracle_report(&specs, &users, &OracleOptions::default())
        .expect_err("the reference panics on 999.1.1.1");
    assert!(err.contains("panicked on user 1"), "{err}");
    // …and the next run in the same process still works.
    let lines = oracle_report(&specs, &users[..1], &OracleOptions::default()).expect("rerun");
    assert!(!lines.is_empty());
}

#[test]
fn oracle_is_reusable_and_deterministic() {
    let specs = read_data_file("check_gate_perf_dcs.json").expect("check_gate_perf_dcs.json");
    let list = read_data_file("company_id_list").expect("company_id_list");
    let users = vec![
        json!({"userID": "a", "customIDs": {"hubID": "h"}}),
        json!({}),
    ];
    let opts = OracleOptions {
        environment: Some("staging".to_string()),
        id_lists: vec![("company_id_list".to_string(), list)],
    };
    let first = oracle_report(&specs, &users, &opts).expect("first run");
    let start = Instant::now();
    for i in 0..120 {
        let again = oracle_report(&specs, &users, &opts).expect("repeated run");
        assert_eq!(again, first, "run {i} differs");
    }
    eprintln!(
        "120 sequential oracle instances: {:.1} ms each",
        start.elapsed().as_secs_f64() * 1000.0 / 120.0
    );
}

#[test]
fn oracle_runs_concurrently() {
    let specs = read_data_file("demo_proj_dcs.json").expect("demo_proj_dcs.json");
    let users = gatehouse_conformance::users::generate_users_for_specs(&specs, 11, 40);
    let expected = oracle_report(&specs, &users, &OracleOptions::default()).expect("run");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| oracle_report(&specs, &users, &OracleOptions::default())))
            .collect();
        for handle in handles {
            assert_eq!(handle.join().expect("thread").expect("run"), expected);
        }
    });
}

#[tokio::test]
async fn oracle_works_inside_a_tokio_runtime() {
    let specs = read_data_file("dcs_missing_gates.json").expect("dcs_missing_gates.json");
    let lines = oracle_report(&specs, &[json!({"userID": "x"})], &OracleOptions::default())
        .expect("run from async context");
    assert_eq!(lines.len(), 4);
}
