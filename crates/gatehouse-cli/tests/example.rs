//! The first thing a newcomer runs: `gatehouse eval` with no flags, which evaluates the embedded
//! example (`examples/specs.json`, `examples/users.jsonl`, ID list
//! `examples/id_lists/beta_testers.txt` loaded as `beta_testers`).
//!
//! These tests check the shape of the report and a handful of values derived BY HAND from the
//! example files (not snapshots of our own output). The full differential check against the
//! reference core is `conformance/tests/example.rs`.
//!
//! Hashes quoted below: `H(s)` = first 8 bytes of SHA-256(s), big-endian (dcs-semantics §4.1);
//! a rule passes its pass percentage iff `H(specSalt.ruleSalt.unitID) % 10000 < pct * 100`;
//! `user_bucket` = `H(salt.unitID) % 1000`. They were computed with
//! `printf %s 'STRING' | sha256sum | cut -c1-16` and converted to decimal.

use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;

const SPECS: &str = include_str!("../../../examples/specs.json");
const USERS: &str = include_str!("../../../examples/users.jsonl");
const LCUT: u64 = 1_751_371_200_000;

/// Report lines by (user_index, kind, name).
struct Report {
    lines: Vec<Value>,
    by_key: HashMap<(u64, String, String), Value>,
}

impl Report {
    fn get(&self, user: u64, kind: &str, name: &str) -> &Value {
        self.by_key
            .get(&(user, kind.to_string(), name.to_string()))
            .unwrap_or_else(|| panic!("no report line for user {user} {kind} {name}"))
    }
}

fn run_eval(args: &[&str]) -> Report {
    let output = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("eval")
        .args(args)
        .output()
        .expect("run gatehouse");
    assert!(
        output.status.success(),
        "gatehouse eval {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let mut lines = Vec::new();
    let mut by_key = HashMap::new();
    for (i, text) in stdout.lines().enumerate() {
        let line: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("line {} is not JSON ({e}): {text}", i + 1));
        let key = (
            line["user_index"].as_u64().expect("user_index"),
            line["kind"].as_str().expect("kind").to_string(),
            line["name"].as_str().expect("name").to_string(),
        );
        assert!(
            by_key.insert(key.clone(), line.clone()).is_none(),
            "duplicate line for {key:?}"
        );
        lines.push(line);
    }
    Report { lines, by_key }
}

fn example_counts() -> (usize, usize) {
    let specs: Value = serde_json::from_str(SPECS).expect("examples/specs.json is JSON");
    let entities: usize = ["feature_gates", "dynamic_configs", "layer_configs"]
        .iter()
        .map(|k| specs[*k].as_object().expect(k).len())
        .sum();
    let users = USERS.lines().filter(|l| !l.trim().is_empty()).count();
    (users, entities)
}

fn exposure(gate: &str, value: bool, rule: &str) -> Value {
    serde_json::json!({"gate": gate, "gateValue": value.to_string(), "ruleID": rule})
}

fn assert_gate(report: &Report, user: u64, name: &str, value: bool, rule_id: &str) {
    let line = report.get(user, "gate", name);
    assert_eq!(
        line["value"],
        Value::Bool(value),
        "user {user} gate {name}: {line}"
    );
    assert_eq!(line["rule_id"], rule_id, "user {user} gate {name}: {line}");
}

#[test]
fn example_report_shape() {
    let report = run_eval(&[]);
    let (users, entities) = example_counts();
    assert_eq!(users, 12, "examples/users.jsonl");
    assert_eq!(entities, 38, "examples/specs.json");
    assert_eq!(report.lines.len(), users * entities);

    let kinds = ["gate", "config", "experiment", "layer"];
    for line in &report.lines {
        let kind = line["kind"].as_str().unwrap();
        assert!(kinds.contains(&kind), "{line}");
        assert!(line["rule_id"].is_string(), "{line}");
        assert!(line["id_type"].is_string(), "{line}");
        assert!(line["secondary_exposures"].is_array(), "{line}");
        // Every entity of the example is recognized (nothing skipped, nothing unsupported).
        let reason = line["details"]["reason"].as_str().unwrap();
        assert!(
            reason == "Bootstrap:Recognized" || reason == "Bootstrap:Recognized:IdListInMemory",
            "{line}"
        );
        assert_eq!(line["details"]["lcut"], LCUT, "{line}");
        if kind == "gate" {
            assert!(line["value"].is_boolean(), "{line}");
        } else {
            assert!(line["value"].is_object(), "{line}");
        }
    }
    // Report order: users in input order, then kinds, then names in byte order.
    let order: Vec<(u64, usize, String)> = report
        .lines
        .iter()
        .map(|l| {
            let kind = kinds.iter().position(|k| *k == l["kind"]).unwrap();
            (
                l["user_index"].as_u64().unwrap(),
                kind,
                l["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn example_gates_by_hand() {
    let r = run_eval(&[]);

    // employees, rule 1: email str_ends_with_any ["@harborgoods.com"]; user 0 is
    // maya.chen@harborgoods.com.
    assert_gate(&r, 0, "employees", true, "q5Sdd0AWEiL3cdMJZNc890");
    // rule 2: unit_id (userID) any ["u_contractor_77", "u_contractor_81"].
    assert_gate(&r, 10, "employees", true, "GfUVGyJ7qHOi2IW3Unvnkc");
    assert_gate(&r, 1, "employees", false, "default"); // jordan.price@gmail.com

    // dark_mode (idType stableID): rule 1 pass_gate employees, rule 2 public at 25.5%.
    // Spec salt 772b975d-707c-4dd5-8375-348cca58ae6f, rule salt NfSyqiXaBUR4i3HteqNdQt.
    // User 4, stableID 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9:
    //   H = 11668004636084050111, % 10000 = 111 < 2550 -> passes.
    // User 1, stableID f3a9c2d1-0e4b-4c7a-8d65-91b2e7f40c38:
    //   H = 92410905954922837, % 10000 = 2837 >= 2550 -> fails (the rule still matched).
    assert_gate(&r, 4, "dark_mode", true, "NfSyqiXaBUR4i3HteqNdQt");
    assert_gate(&r, 1, "dark_mode", false, "NfSyqiXaBUR4i3HteqNdQt");
    assert_eq!(r.get(4, "gate", "dark_mode")["id_type"], "stableID");
    assert_eq!(
        r.get(4, "gate", "dark_mode")["secondary_exposures"],
        Value::Array(vec![exposure("employees", false, "default")])
    );
    // Staff get it through rule 1, whatever their hash.
    assert_gate(&r, 0, "dark_mode", true, "s5zlcm6wq4oIvyn7TdXpO5");

    // growth_holdout (entity holdout): public at 10%, spec salt
    // 97d729d9-e870-4ce7-b6e1-424723e0e88d, rule salt nEgzkb0I1zkqlDGeRHViM1.
    // User 2 (u_30955): H % 10000 = 544 < 1000 -> held out. User 0 (u_1001_maya): 1455 -> not.
    assert_gate(
        &r,
        2,
        "growth_holdout",
        true,
        "nEgzkb0I1zkqlDGeRHViM1:10.00:3",
    );
    assert_gate(
        &r,
        0,
        "growth_holdout",
        false,
        "nEgzkb0I1zkqlDGeRHViM1:10.00:3",
    );
    assert_eq!(r.get(2, "gate", "growth_holdout")["entity"], "holdout");

    // Nested chain: one_click_checkout -> express_shipping -> (supported_shipping_region,
    // NOT fraud_risk_block). 50% with spec salt 05345e3e-abda-4d0b-bc68-2a053a4eff73, rule salt
    // 5EF3Xwudi86dcU44C2cLUh. User 3 (u_41288, GB, risk 12.5, saved card):
    //   H % 10000 = 2348 < 5000 -> true. User 1 (u_20417, US): 7460 -> false, same rule.
    let chain = Value::Array(vec![
        exposure("supported_shipping_region", true, "dKYkEPvulpNEVOcE6NvCoY"),
        exposure("fraud_risk_block", false, "default"),
        exposure("express_shipping", true, "bOedj7DThnEoUMJbJSXC3H"),
    ]);
    assert_gate(&r, 3, "one_click_checkout", true, "5EF3Xwudi86dcU44C2cLUh");
    assert_eq!(
        r.get(3, "gate", "one_click_checkout")["secondary_exposures"],
        chain
    );
    assert_gate(&r, 1, "one_click_checkout", false, "5EF3Xwudi86dcU44C2cLUh");
    // User 5 (BR, risk_score 92): no supported region, fraud block by "High risk score".
    assert_gate(&r, 5, "fraud_risk_block", true, "teahqMC3dURxuN6kfjLUSU");
    assert_gate(&r, 5, "express_shipping", false, "default");

    // Disabled spec with no rules.
    assert_gate(&r, 0, "gift_wrapping", false, "disabled");

    // app_update_prompt: appVersion version_eq "4.1.3" (user 2), version_lt "4.0" (user 6, 3.9.2).
    assert_gate(&r, 2, "app_update_prompt", true, "JTKhvMR4gfJ4GrBMCngoiH");
    assert_gate(&r, 6, "app_update_prompt", true, "o8URLwYtnUGvGQFoEt3DjU");
    assert_gate(&r, 0, "app_update_prompt", false, "default"); // 4.6.0

    // legacy_browser_notice: Firefox 115.0 on Ubuntu (user 3); iPad on iOS 14.8 (user 6).
    assert_gate(
        &r,
        3,
        "legacy_browser_notice",
        true,
        "WQMCMH8FI0mJVXPRb0eXSR",
    );
    assert_gate(
        &r,
        6,
        "legacy_browser_notice",
        true,
        "QZjo3PeC6xsJJe1PxCI0Yp",
    );
    assert_gate(&r, 10, "legacy_browser_notice", false, "default"); // Firefox 127

    // wholesale_portal (idType companyID): is_wholesale eq true, company_tier neq "trial",
    // target_app any ["harbor-storefront-server"] (the payload's app_id).
    assert_gate(&r, 4, "wholesale_portal", true, "Vx04NkjahORxruG6VtEh0T");
    assert_gate(&r, 11, "wholesale_portal", false, "default"); // company_tier "trial"
    assert_eq!(r.get(4, "gate", "wholesale_portal")["id_type"], "companyID");

    // seasonal_sale_banner: rule 1 is `on` 2021-11-26 (never again true); rule 2 is the window
    // after 2024-01-01 and before 2100-01-01 for locales starting with en/de.
    assert_gate(
        &r,
        1,
        "seasonal_sale_banner",
        true,
        "uSWCmXPJ98jTUSGTVTIwV1",
    ); // en_US
    assert_gate(&r, 4, "seasonal_sale_banner", false, "default"); // fr_CA
}

#[test]
fn example_id_list_by_hand() {
    // beta_testers.txt holds +wcv+csTY (u_beta_5521) and +S1GMIFqr (u_contractor_77);
    // u_41288's key YgOWet2A is added and then removed (`-YgOWet2A`).
    // (key = first 8 chars of base64(SHA-256(userID)).)
    let list = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/id_lists/beta_testers.txt"
    );
    let flag = format!("beta_testers={list}");
    for report in [run_eval(&[]), run_eval(&["--id-list", &flag])] {
        let r = &report;
        assert_gate(r, 6, "segment:beta_testers", true, "wKYT0rvvcex7T55T7hniCX");
        assert_gate(
            r,
            10,
            "segment:beta_testers",
            true,
            "wKYT0rvvcex7T55T7hniCX",
        );
        assert_gate(r, 3, "segment:beta_testers", false, "default");
        assert_eq!(
            r.get(6, "gate", "segment:beta_testers")["details"]["reason"],
            "Bootstrap:Recognized:IdListInMemory"
        );
        // Segments never show up in secondary exposures.
        let beta = r.get(6, "gate", "beta_program");
        assert_eq!(beta["value"], true, "{beta}");
        assert_eq!(beta["secondary_exposures"], Value::Array(vec![]), "{beta}");
        // release_notes_popup: not_in_segment_list beta_testers AND appVersion >= 4.6.
        assert_gate(r, 11, "release_notes_popup", true, "PTsgCDrSUZGKOAaHKJbOqL");
        assert_gate(r, 10, "release_notes_popup", false, "default"); // 4.6.2 but a beta tester
    }
}

#[test]
fn example_experiments_and_layers_by_hand() {
    let r = run_eval(&[]);

    // checkout_redesign: override -> holdout -> targetingGate -> groups by user_bucket
    // (salt 864544a4-edf5-4255-b2ec-3d8c855a9b5b; Control < 334, One Page < 667, Accordion < 1000).
    let maya = r.get(0, "experiment", "checkout_redesign");
    assert_eq!(
        maya["rule_id"], "ioFzUxzIgOWrLVwDEZKzqh:userID:id_override",
        "{maya}"
    );
    assert_eq!(maya["group_name"], "One Page", "{maya}");
    assert_eq!(maya["value"]["layout"], "one_page", "{maya}");
    assert_eq!(maya["is_user_in_experiment"], false, "{maya}");
    assert_eq!(maya["is_experiment_active"], true, "{maya}");
    // User 1 (u_20417): bucket H(salt.u_20417) % 1000 = 931 -> Accordion.
    let jordan = r.get(1, "experiment", "checkout_redesign");
    assert_eq!(jordan["rule_id"], "7WGilCiwzUzGMcD8bRB79t", "{jordan}");
    assert_eq!(jordan["group_name"], "Accordion", "{jordan}");
    assert_eq!(jordan["is_user_in_experiment"], true, "{jordan}");
    // User 5 fails express_shipping -> targetingGate, default value, no group.
    let risky = r.get(5, "experiment", "checkout_redesign");
    assert_eq!(risky["rule_id"], "targetingGate", "{risky}");
    assert_eq!(risky["group_name"], Value::Null, "{risky}");
    assert_eq!(risky["value"]["layout"], "classic", "{risky}");
    // experiment_group condition: the tooltip follows the checkout_redesign group.
    assert_gate(
        &r,
        1,
        "checkout_tips_tooltip",
        true,
        "1NypGbGHS4EdA8c46B19C1",
    );
    assert_gate(&r, 5, "checkout_tips_tooltip", false, "default");

    let draft = r.get(0, "experiment", "free_shipping_threshold_test");
    assert_eq!(draft["rule_id"], "prestart", "{draft}");
    assert_eq!(draft["is_experiment_active"], false, "{draft}");

    let returns = r.get(0, "config", "holiday_returns_policy");
    assert_eq!(returns["rule_id"], "disabled", "{returns}");
    assert_eq!(returns["passed"], false, "{returns}");
    assert_eq!(returns["value"]["return_window_days"], 30, "{returns}");

    // Layer "search": growth_holdout rule, then delegation by layer bucket
    // (salt d3c6e172-26f6-494b-8a2b-4f45b3113194). User 0: layer bucket 16 < 500 ->
    // search_ranking_v3, whose bucket (salt 1604df8d-5b6d-46ee-ad06-c75609188fc9) is 722 ->
    // Semantic.
    let search = r.get(0, "layer", "search");
    assert_eq!(
        search["allocated_experiment_name"], "search_ranking_v3",
        "{search}"
    );
    assert_eq!(search["group_name"], "Semantic", "{search}");
    assert_eq!(search["rule_id"], "zoREvKfXHKgQb6WQM0mkwx", "{search}");
    assert_eq!(search["value"]["ranking_model"], "semantic_v3", "{search}");
    assert_eq!(
        search["explicit_parameters"],
        serde_json::json!(["ranking_model", "boost_in_stock"])
    );
    let holdout_expo = exposure("growth_holdout", false, "nEgzkb0I1zkqlDGeRHViM1:10.00:3");
    assert_eq!(
        search["undelegated_secondary_exposures"],
        Value::Array(vec![holdout_expo])
    );
    // The experiment itself agrees when evaluated directly.
    let ranking = r.get(0, "experiment", "search_ranking_v3");
    assert_eq!(ranking["group_name"], "Semantic", "{ranking}");
    assert_eq!(ranking["is_in_layer"], true, "{ranking}");
    // User 2 is in the holdout: the layer's holdout rule matches, nothing is delegated.
    let held = r.get(2, "layer", "search");
    assert_eq!(held["rule_id"], "vsEzfIYP06bs3oCxKmuLpI", "{held}");
    assert_eq!(held["allocated_experiment_name"], Value::Null, "{held}");

    // Layer "product_page" (useNewLayerEval): parameters merged from several rules.
    let pdp = r.get(0, "layer", "product_page");
    assert!(pdp["parameter_rule_ids"].is_object(), "{pdp}");
    assert_eq!(pdp["value"]["gallery_style"], "spin_360", "{pdp}"); // staff preview rule
    let search_8 = r.get(8, "layer", "search"); // Googlebot: no userID, unit id ""
    assert_eq!(search_8["id_type"], "userID", "{search_8}");
}
