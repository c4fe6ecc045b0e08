//! Evaluation semantics on small hand-written specs. Every expected value
//! comes from dcs-semantics.md / dcs-semantics-0.24-delta.md (whose cases
//! were verified against the reference) or from a hand computation shown
//! next to it.

use gatehouse_core::{evaluate, parse_specs, EvalEnv, Evaluation, Kind, Outcome, Snapshot, User};
use serde_json::{json, Value};

/// A rule: (id, pass %, condition keys, return value).
fn rule(id: &str, pct: f64, conds: &[&str], ret: Value) -> Value {
    json!({"name": id, "id": id, "passPercentage": pct, "conditions": conds,
           "returnValue": ret, "idType": "userID"})
}

fn gate(rules: Vec<Value>) -> Value {
    json!({"type": "feature_gate", "salt": "s", "defaultValue": false, "enabled": true,
           "rules": rules, "idType": "userID", "entity": "feature_gate"})
}

fn payload(gates: Value, configs: Value, layers: Value, conds: Value) -> Snapshot {
    let p = json!({"feature_gates": gates, "dynamic_configs": configs, "layer_configs": layers,
                   "condition_map": conds, "experiment_to_layer": {}, "has_updates": true,
                   "time": 123});
    parse_specs(&p.to_string()).expect("test specs parse")
}

fn pass(gate: &str) -> Value {
    json!({"type": "pass_gate", "targetValue": gate, "idType": "userID"})
}

fn eval<'s>(snap: &'s Snapshot, kind: Kind, name: &str, user: Value) -> Evaluation<'s> {
    let user = User::from_json(&user).expect("test user parses");
    evaluate(snap, &user, kind, name, &EvalEnv::default())
}

fn expos(e: &Evaluation<'_>) -> Vec<(String, bool, String)> {
    e.secondary_exposures
        .iter()
        .map(|x| (x.gate.to_owned(), x.gate_value, x.rule_id.to_owned()))
        .collect()
}

fn x(g: &str, v: bool, r: &str) -> (String, bool, String) {
    (g.to_owned(), v, r.to_owned())
}

/// The base spec set of delta D1/D2: g_match passes with rule r_gm, g2 with r_g2.
fn base_conds() -> Value {
    json!({
        "public": {"type": "public", "idType": "userID"},
        "p_gm": pass("g_match"),
        "p_g2": pass("g2"),
        "p_u": pass("U"),
        "p_missing": pass("missing"),
        "unknown_op": {"type": "user_field", "field": "email", "operator": "no_such_op",
                       "targetValue": ["a"], "idType": "userID"},
        "nobody": {"type": "unit_id", "operator": "any", "targetValue": ["nobody"], "idType": "userID"},
        "p_grouped": pass("grouped_gate"),
    })
}

#[test]
fn pass_percentage_uses_spec_salt_rule_salt_and_unit() {
    // dcs-semantics §4.2: H(spec salt . rule salt . unit) % 10000 is 9222 for
    // unit "9" (fails 50%) and 4917 for "a_user" (passes 50%).
    let mut r = rule("r50", 50.0, &["public"], json!(true));
    r["salt"] = json!("7826bf70-af49-433a-9fd7-3826e90f7e0a");
    let mut g = gate(vec![r]);
    g["salt"] = json!("3d0f5df9-18c7-46fe-8b31-268d756c3459");
    let snap = payload(json!({"g": g}), json!({}), json!({}), base_conds());
    let e = eval(&snap, Kind::Gate, "g", json!({"userID": "9"}));
    assert_eq!((e.bool_value, e.rule_id), (false, "r50"));
    let e = eval(&snap, Kind::Gate, "g", json!({"userID": "a_user"}));
    assert_eq!((e.bool_value, e.rule_id), (true, "r50"));
    assert_eq!(e.reason("Bootstrap"), "Bootstrap:Recognized");
    assert_eq!(e.lcut(&snap), Some(123));
}

#[test]
fn unknown_spec_is_unrecognized_with_empty_rule() {
    let snap = payload(json!({}), json!({}), json!({}), json!({}));
    let e = eval(&snap, Kind::Gate, "nope", json!({"userID": "1"}));
    assert_eq!(e.outcome, Outcome::Unrecognized);
    assert_eq!((e.bool_value, e.rule_id, e.id_type), (false, "", ""));
    assert_eq!(e.reason("Bootstrap"), "Bootstrap:Unrecognized");
}

#[test]
fn missing_nested_gate_records_nothing() {
    // Delta D1c: [pass_gate g_match, pass_gate missing] records only g_match.
    let snap = payload(
        json!({
            "g_match": gate(vec![rule("r_gm", 100.0, &["public"], json!(true))]),
            "parent": gate(vec![rule("r_p", 100.0, &["p_gm", "p_missing"], json!(true))]),
            "inverted": gate(vec![rule("r_i", 100.0, &["f_missing"], json!(true))]),
        }),
        json!({}),
        json!({}),
        {
            let mut c = base_conds();
            c["f_missing"] =
                json!({"type": "fail_gate", "targetValue": "missing", "idType": "userID"});
            c
        },
    );
    let e = eval(&snap, Kind::Gate, "parent", json!({"userID": "1"}));
    assert_eq!(expos(&e), vec![x("g_match", true, "r_gm")]);
    assert!(!e.bool_value);
    // fail_gate on a missing gate passes.
    let e = eval(&snap, Kind::Gate, "inverted", json!({"userID": "1"}));
    assert_eq!((e.bool_value, e.rule_id), (true, "r_i"));
    assert!(expos(&e).is_empty());
}

#[test]
fn unsupported_nested_gate_keeps_parent_state() {
    // Delta D2: gate [pass_gate g_match, pass_gate U], U = [pass_gate g2, <unknown op>]
    // → true, rule r_gm, exposures [g_match, g2]; reason Unsupported.
    // And gate [<unknown op>, pass_gate g2] → false, rule r_g2, [g2].
    let snap = payload(
        json!({
            "g_match": gate(vec![rule("r_gm", 100.0, &["public"], json!(true))]),
            "g2": gate(vec![rule("r_g2", 100.0, &["public"], json!(true))]),
            "U": gate(vec![rule("r_u", 100.0, &["p_g2", "unknown_op"], json!(true))]),
            "first": gate(vec![rule("r_f", 100.0, &["p_gm", "p_u"], json!(true))]),
            "second": gate(vec![rule("r_s", 100.0, &["unknown_op", "p_g2"], json!(true))]),
        }),
        json!({}),
        json!({}),
        base_conds(),
    );
    let e = eval(&snap, Kind::Gate, "first", json!({"userID": "1"}));
    assert_eq!(e.outcome, Outcome::Unsupported);
    assert_eq!((e.bool_value, e.rule_id), (true, "r_gm"));
    assert_eq!(
        expos(&e),
        vec![x("g_match", true, "r_gm"), x("g2", true, "r_g2")]
    );
    assert_eq!(e.reason("Bootstrap"), "Bootstrap:Unsupported");
    let e = eval(&snap, Kind::Gate, "second", json!({"userID": "1"}));
    assert_eq!((e.bool_value, e.rule_id), (false, "r_g2"));
    assert_eq!(expos(&e), vec![x("g2", true, "r_g2")]);
}

#[test]
fn nested_gate_fields_do_not_leak_into_parent() {
    // Delta D1a: experiment isActive true, only rule [pass_gate G, unit_id any
    // ["nobody"]], G's matching rule has groupName "gate_group" → group null,
    // is_experiment_active true.
    let mut grouped = rule("r_grp", 100.0, &["public"], json!(true));
    grouped["groupName"] = json!("gate_group");
    grouped["isExperimentGroup"] = json!(true);
    let exp = json!({"type": "dynamic_config", "salt": "s", "defaultValue": {"a": 1},
        "enabled": true, "idType": "userID", "entity": "experiment", "isActive": true,
        "rules": [rule("r_exp", 100.0, &["p_grouped", "nobody"], json!({"a": 2}))]});
    let snap = payload(
        json!({"grouped_gate": gate(vec![grouped])}),
        json!({"exp": exp}),
        json!({}),
        base_conds(),
    );
    let e = eval(&snap, Kind::Experiment, "exp", json!({"userID": "1"}));
    assert_eq!(e.rule_id, "default");
    assert_eq!(e.group_name, None);
    assert!(e.is_experiment_active);
    assert!(!e.is_user_in_experiment);
    assert_eq!(e.value_object().get("a"), Some(&json!(1)));
    assert_eq!(expos(&e), vec![x("grouped_gate", true, "r_grp")]);
}

#[test]
fn depth_limit_is_64_nested_levels() {
    // Delta D1f: a top-level gate followed by a chain of 64 nested gates works;
    // a chain of 65 fails with `Error:Statsig Evaluation Depth Exceeded`.
    let mut gates = serde_json::Map::new();
    let mut conds = serde_json::Map::new();
    conds.insert(
        "public".into(),
        json!({"type": "public", "idType": "userID"}),
    );
    // g0 → g1 → … → g65; g65 is public.
    for i in 0..66 {
        let cond = if i == 65 {
            "public".to_owned()
        } else {
            format!("to{}", i + 1)
        };
        conds.insert(format!("to{}", i + 1), pass(&format!("g{}", i + 1)));
        gates.insert(
            format!("g{i}"),
            gate(vec![rule(&format!("r{i}"), 100.0, &[&cond], json!(true))]),
        );
    }
    let snap = payload(
        Value::Object(gates),
        json!({}),
        json!({}),
        Value::Object(conds),
    );
    // g1 → g65 is a chain of 64 nested gates.
    let e = eval(&snap, Kind::Gate, "g1", json!({"userID": "1"}));
    assert_eq!(e.outcome, Outcome::Recognized);
    assert_eq!((e.bool_value, e.rule_id), (true, "r1"));
    assert_eq!(e.secondary_exposures.len(), 64);
    // g0 → g65 is 65 nested gates.
    let e = eval(&snap, Kind::Gate, "g0", json!({"userID": "1"}));
    assert_eq!(e.outcome, Outcome::DepthExceeded);
    assert_eq!((e.bool_value, e.rule_id, e.id_type), (false, "default", ""));
    assert_eq!(
        e.reason("Bootstrap"),
        "Error:Statsig Evaluation Depth Exceeded"
    );
    assert_eq!(e.lcut(&snap), None);
}

#[test]
fn layer_delegation_and_undelegated_exposures() {
    // dcs-semantics §3.6: undelegated = the layer's own exposures; final =
    // layer's + the experiment's; explicit parameters from the experiment.
    let exp = json!({"type": "dynamic_config", "salt": "s", "defaultValue": {"p": 0},
        "enabled": true, "idType": "userID", "entity": "experiment", "isActive": true,
        "hasSharedParams": true, "explicitParameters": ["p"],
        "rules": [{"name": "c", "id": "r_ctl", "passPercentage": 100.0, "conditions": ["p_g2"],
                   "returnValue": {"p": 1}, "idType": "userID", "groupName": "Control",
                   "isExperimentGroup": true}]});
    let layer = json!({"type": "dynamic_config", "salt": "ls", "defaultValue": {"p": -1, "q": 5},
        "enabled": true, "idType": "userID", "entity": "layer",
        "rules": [{"name": "a", "id": "r_layer", "passPercentage": 100.0, "conditions": ["p_gm"],
                   "returnValue": {}, "idType": "userID", "configDelegate": "exp"}]});
    let snap = payload(
        json!({
            "g_match": gate(vec![rule("r_gm", 100.0, &["public"], json!(true))]),
            "g2": gate(vec![rule("r_g2", 100.0, &["public"], json!(true))]),
        }),
        json!({"exp": exp}),
        json!({"layer": layer}),
        base_conds(),
    );
    let e = eval(&snap, Kind::Layer, "layer", json!({"userID": "1"}));
    assert_eq!(e.rule_id, "r_ctl");
    assert_eq!(e.group_name, Some("Control"));
    assert_eq!(e.allocated_experiment_name, Some("exp"));
    assert_eq!(
        e.explicit_parameters.map(|p| p.to_vec()),
        Some(vec!["p".to_owned()])
    );
    assert_eq!(e.value_object().get("p"), Some(&json!(1)));
    assert_eq!(
        expos(&e),
        vec![x("g_match", true, "r_gm"), x("g2", true, "r_g2")]
    );
    let undelegated: Vec<_> = e.undelegated_secondary_exposures.unwrap_or_default();
    assert_eq!(undelegated.len(), 1);
    assert_eq!(undelegated[0].gate, "g_match");
}

#[test]
fn new_layer_eval_keeps_undelegated_exposures_and_rule_ids() {
    // Delta D3: useNewLayerEval layer with rule [pass_gate g_match] → undelegated
    // [g_match]; parameters from the rule get its id, the rest "default".
    let layer = json!({"type": "dynamic_config", "salt": "ls", "defaultValue": {"a": 0, "b": 0},
        "enabled": true, "idType": "userID", "entity": "layer", "useNewLayerEval": true,
        "rules": [rule("r_a", 100.0, &["p_gm"], json!({"a": 1}))]});
    let snap = payload(
        json!({"g_match": gate(vec![rule("r_gm", 100.0, &["public"], json!(true))])}),
        json!({}),
        json!({"nl": layer}),
        base_conds(),
    );
    let e = eval(&snap, Kind::Layer, "nl", json!({"userID": "1"}));
    assert_eq!(e.rule_id, "default");
    assert_eq!(
        e.value_object(),
        json!({"a": 1, "b": 0})
            .as_object()
            .cloned()
            .unwrap_or_default()
    );
    let mut ids = e.parameter_rule_ids.clone().unwrap_or_default();
    ids.sort();
    assert_eq!(
        ids,
        vec![("a".to_owned(), "r_a"), ("b".to_owned(), "default")]
    );
    let undelegated = e.undelegated_secondary_exposures.unwrap_or_default();
    assert_eq!(undelegated.len(), 1);
    assert_eq!(undelegated[0].gate, "g_match");
}

#[test]
fn disabled_spec_falls_through_with_disabled_rule() {
    let mut g = gate(vec![]);
    g["enabled"] = json!(false);
    g["defaultValue"] = json!(true);
    let snap = payload(json!({"g": g}), json!({}), json!({}), json!({}));
    let e = eval(&snap, Kind::Gate, "g", json!({"userID": "1"}));
    assert_eq!(
        (e.bool_value, e.rule_id, e.id_type),
        (true, "disabled", "userID")
    );
}

#[test]
fn malformed_spec_is_skipped_with_a_path() {
    let p = json!({"feature_gates": {"bad": {"type": "feature_gate"}, "good": gate(vec![])},
        "dynamic_configs": {}, "layer_configs": {}, "condition_map": {},
        "experiment_to_layer": {}, "has_updates": true, "time": 1});
    let snap = parse_specs(&p.to_string()).expect("parses");
    // Still listed, and unrecognized, as the reference reports it.
    assert_eq!(snap.names(Kind::Gate), vec!["bad", "good"]);
    assert_eq!(snap.entity(Kind::Gate, "bad"), Some(""));
    let e = eval(&snap, Kind::Gate, "bad", json!({"userID": "1"}));
    assert_eq!((e.outcome, e.rule_id), (Outcome::Unrecognized, ""));
    assert_eq!(snap.warnings().len(), 1);
    assert!(
        snap.warnings()[0].contains("feature_gates.bad"),
        "{:?}",
        snap.warnings()
    );
}

#[test]
fn malformed_condition_rejects_the_payload_with_its_path() {
    let p = json!({"feature_gates": {}, "dynamic_configs": {}, "layer_configs": {},
        "condition_map": {"123": {"type": 5, "idType": "userID"}},
        "experiment_to_layer": {}, "has_updates": true, "time": 1});
    let err = parse_specs(&p.to_string())
        .expect_err("must fail")
        .to_string();
    assert!(err.contains("condition_map.123.type"), "{err}");
}

#[test]
fn shared_sub_gates_do_not_explode() {
    // g_i has two conditions that both pass_gate g_{i+1}; g_40 is public. No
    // rule has a samplingRate, so the reference re-evaluates every reference
    // (2^40 evaluations) and its exposure list doubles per level. gatehouse
    // memoizes and caps each list at 10,000 entries (docs/CONFORMANCE.md).
    let mut gates = serde_json::Map::new();
    let mut conds = serde_json::Map::new();
    conds.insert(
        "public".into(),
        json!({"type": "public", "idType": "userID"}),
    );
    for i in 0..=40 {
        let next = format!("to{}", i + 1);
        conds.insert(next.clone(), pass(&format!("g{}", i + 1)));
        conds.insert(format!("{next}b"), pass(&format!("g{}", i + 1)));
        let keys: Vec<String> = if i == 40 {
            vec!["public".into()]
        } else {
            vec![next.clone(), format!("{next}b")]
        };
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        gates.insert(
            format!("g{i}"),
            gate(vec![rule(&format!("r{i}"), 100.0, &keys, json!(true))]),
        );
    }
    let snap = payload(
        Value::Object(gates),
        json!({}),
        json!({}),
        Value::Object(conds),
    );
    let start = std::time::Instant::now();
    let e = eval(&snap, Kind::Gate, "g0", json!({"userID": "1"}));
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    assert_eq!((e.bool_value, e.rule_id), (true, "r0"));
    assert_eq!(e.secondary_exposures.len(), 10_000);
    // Post-order: the deepest gate comes first.
    assert_eq!(e.secondary_exposures[0].gate, "g40");
    // g38 → two references to g39 (each: g40, g39) then g39 twice: the
    // shape below the cap is still the reference's.
    let e = eval(&snap, Kind::Gate, "g38", json!({"userID": "1"}));
    let names: Vec<&str> = e.secondary_exposures.iter().map(|x| x.gate).collect();
    assert_eq!(names, vec!["g40", "g40", "g39", "g40", "g40", "g39"]);
}

#[test]
fn user_agent_and_ip_are_looked_up_like_fields() {
    // dcs-semantics §6.2 applied to `userAgent` and `ip` (as the reference's
    // UA and country lookups do): an empty top-level userAgent is absent, and
    // custom/privateAttributes values count.
    let conds = json!({
        "os_null": {"type": "ua_based", "field": "os_name", "operator": "eq", "targetValue": null,
                     "idType": "userID"},
        "ff": {"type": "ua_based", "field": "browser_name", "operator": "any",
               "targetValue": ["Firefox"], "idType": "userID"},
    });
    let snap = payload(
        json!({
            "no_os": gate(vec![rule("r_null", 100.0, &["os_null"], json!(true))]),
            "firefox": gate(vec![rule("r_ff", 100.0, &["ff"], json!(true))]),
        }),
        json!({}),
        json!({}),
        conds,
    );
    let e = eval(
        &snap,
        Kind::Gate,
        "no_os",
        json!({"userID": "x", "userAgent": ""}),
    );
    assert_eq!((e.bool_value, e.rule_id), (true, "r_null"));
    let ff = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0";
    let e = eval(
        &snap,
        Kind::Gate,
        "firefox",
        json!({"custom": {"useragent": ff}}),
    );
    assert_eq!((e.bool_value, e.rule_id), (true, "r_ff"));
    let e = eval(
        &snap,
        Kind::Gate,
        "firefox",
        json!({"privateAttributes": {"userAgent": ff}}),
    );
    assert!(e.bool_value);
}

#[test]
fn experiment_group_cycle_resolves_to_no_group() {
    // Experiment E's only rule asks for E's own group. Evaluating E resolves
    // the condition by evaluating E again, whose condition finds E already on
    // the resolution path: no group (delta D4), so `any ["g"]` is false at
    // both levels and E falls through to "default".
    let exp = json!({"type": "dynamic_config", "salt": "s", "defaultValue": {"v": 0},
        "enabled": true, "idType": "userID", "entity": "experiment", "isActive": true,
        "rules": [{"name": "r", "id": "r_self", "passPercentage": 100.0, "conditions": ["self"],
                   "returnValue": {"v": 1}, "idType": "userID", "groupName": "g"}]});
    let conds = json!({"self": {"type": "experiment_group", "field": "E", "operator": "any",
                                "targetValue": ["g"], "idType": "userID"}});
    let snap = payload(json!({}), json!({"E": exp}), json!({}), conds);
    let e = eval(&snap, Kind::Experiment, "E", json!({"userID": "1"}));
    assert_eq!(e.outcome, Outcome::Recognized);
    assert_eq!((e.rule_id, e.group_name), ("default", None));
}

#[test]
fn payload_must_be_an_object() {
    // serde alone would accept the fields as an array.
    let arr = r#"[{}, {}, {}, {}, {}, true, 1]"#;
    let err = parse_specs(arr).expect_err("array rejected").to_string();
    assert!(err.contains("must be a JSON object"), "{err}");
    let err = parse_specs("").expect_err("empty rejected").to_string();
    assert!(err.contains("found nothing"), "{err}");
}

#[test]
fn payload_without_updates_is_rejected() {
    let p = json!({"feature_gates": {}, "dynamic_configs": {}, "layer_configs": {},
        "condition_map": {}, "experiment_to_layer": {}, "has_updates": false, "time": 1});
    let err = parse_specs(&p.to_string())
        .expect_err("must fail")
        .to_string();
    assert!(err.contains("`has_updates`"), "{err}");
}

#[test]
fn config_mapping_hands_the_spec_to_its_target() {
    // dcs-semantics §11.1: a passing mapping rule (pass % 100) answers spec
    // `old` by evaluating `new`; a rule starting in the far future is skipped.
    let mut p = json!({
        "feature_gates": {
            "old": gate(vec![rule("r_old", 100.0, &["public"], json!(false))]),
            "new": gate(vec![rule("r_new", 100.0, &["public"], json!(true))]),
            "later": gate(vec![rule("r_later", 100.0, &["public"], json!(false))]),
        },
        "dynamic_configs": {}, "layer_configs": {},
        "condition_map": {"public": {"type": "public", "idType": "userID"}},
        "experiment_to_layer": {}, "has_updates": true, "time": 1,
        "override_rules": {"m": rule("r_map", 100.0, &["public"], json!(true))},
        "overrides": {
            "old": [{"new_config_name": "new", "rules": [{"rule_name": "m"}]}],
            "later": [{"new_config_name": "new", "rules": [{"rule_name": "m", "start_time": 9_000_000_000_000_i64}]}],
        },
    });
    let snap = parse_specs(&p.to_string()).expect("parses");
    let e = eval(&snap, Kind::Gate, "old", json!({"userID": "1"}));
    assert_eq!((e.bool_value, e.rule_id), (true, "r_new"));
    let e = eval(&snap, Kind::Gate, "later", json!({"userID": "1"}));
    assert_eq!((e.bool_value, e.rule_id), (false, "r_later"));
    // A mapping rule at 0 % never maps.
    p["override_rules"]["m"]["passPercentage"] = json!(0.0);
    let snap = parse_specs(&p.to_string()).expect("parses");
    let e = eval(&snap, Kind::Gate, "old", json!({"userID": "1"}));
    assert_eq!(e.rule_id, "r_old");
}
