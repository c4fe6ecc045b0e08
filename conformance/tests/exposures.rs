//! Exposure events: the gatehouse runtime (`crates/gatehouse`) against the reference's own event
//! logger (statsig-rust 0.24.0, dcs-semantics §9).
//!
//! Both engines get the same specs, environment, country table and ID lists, then the same
//! sequence of calls with exposure logging on: `get_feature_gate`, `get_dynamic_config`,
//! `get_experiment`, and `get_layer` followed by a read of every parameter, for every entity of
//! the payload (and one unknown name per kind), for every user. The reference's events are
//! captured by an `EventLoggingAdapter` (`oracle_instance_with_events`) after its dedupe and
//! sampling; gatehouse's by an `EventSink::Callback`. Both are flushed at the end.
//!
//! The events are compared as multisets of canonical JSON (the reference delivers batches from
//! concurrent flush tasks, so its order is not the call order), after normalising only what
//! cannot be equal:
//! - `time` (when the call ran) and `metadata.receivedAt` (when the specs were loaded): their
//!   presence and type are kept, their value is replaced.
//!
//! Everything else must be equal: `eventName`, `value`, every `metadata` key and value, the
//! per-event `statsigMetadata` (`{}` without sampling), the logged `user` (no
//! `privateAttributes`, the SDK's `statsigEnvironment` added when the user has none) and
//! `secondaryExposures`. Equal multisets mean the dedupe decisions agree as well: generated users
//! share identities (same `userID` and custom IDs, other fields differing), so both sides drop the
//! same repeats.
//!
//! The fixtures have no exposure sampling (eval_proj's `sdk_configs.sampling_mode` is `"none"`,
//! the example has no `sdk_configs`), which gatehouse does not implement. Each run stays far below
//! the reference's 60 s dedupe window and 100 000-key dedupe set, so neither engine forgets a key
//! in the middle of a run.
//!
//! Run with `--nocapture` to see the number of events compared per run.

use gatehouse::events::{EventOptions, EventSink};
use gatehouse::{CallOptions, Client, IdListSource, Options, User};
use gatehouse_conformance::canonical;
use gatehouse_conformance::fixtures::{country_table, read_data_file};
use gatehouse_conformance::oracle::{oracle_instance_with_events, user_from_json, OracleOptions};
use gatehouse_conformance::plan::{entity_plan, Kind};
use gatehouse_conformance::users::generate_users_for_specs;
use gatehouse_core::country::CountryTable;
use gatehouse_core::{IdList, IdLists};
use serde_json::{json, Value};
use statsig_rust::{
    DynamicConfigEvaluationOptions, ExperimentEvaluationOptions, FeatureGateEvaluationOptions,
    LayerEvaluationOptions,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const EXAMPLE_SPECS: &str = include_str!("../../examples/specs.json");
const EXAMPLE_USERS: &str = include_str!("../../examples/users.jsonl");
const BETA_TESTERS: &str = include_str!("../../examples/id_lists/beta_testers.txt");

const GATE_EXPOSURE: &str = "statsig::gate_exposure";
const CONFIG_EXPOSURE: &str = "statsig::config_exposure";
const LAYER_EXPOSURE: &str = "statsig::layer_exposure";

/// The reference forgets every dedupe key 60 s after its instance started; a run must end well
/// before that for the comparison to be exact.
const DEDUPE_WINDOW_MARGIN: Duration = Duration::from_secs(50);

/// One call of the sequence both engines run.
#[derive(Clone, Debug)]
enum Call {
    Gate(String),
    Config(String),
    Experiment(String),
    /// `get_layer`, then every parameter read once (names in byte order).
    Layer(String),
}

/// Every entity of `specs` in report order, then one unknown name per kind (the reference logs
/// `Unrecognized` gates, configs and experiments too; an unknown layer has no parameter to read).
fn calls_for(specs: &str) -> Vec<Call> {
    let parsed: Value = serde_json::from_str(specs).expect("specs are JSON");
    let mut calls: Vec<Call> = entity_plan(&parsed)
        .expect("entity plan")
        .into_iter()
        .map(|e| match e.kind {
            Kind::Gate => Call::Gate(e.name),
            Kind::Config => Call::Config(e.name),
            Kind::Experiment => Call::Experiment(e.name),
            Kind::Layer => Call::Layer(e.name),
        })
        .collect();
    calls.extend([
        Call::Gate("gatehouse_no_such_gate".into()),
        Call::Config("gatehouse_no_such_config".into()),
        Call::Experiment("gatehouse_no_such_experiment".into()),
        Call::Layer("gatehouse_no_such_layer".into()),
    ]);
    calls
}

/// Users written for what events carry: private attributes (never logged), custom IDs (dedupe
/// identity), a user's own `statsigEnvironment` (kept instead of the SDK's), numeric and missing
/// user IDs, and pairs that share a dedupe identity while other fields differ.
fn hand_written_users() -> Vec<Value> {
    vec![
        json!({}),
        json!({"userID": "hw-private", "email": "shown@statsig.com",
               "privateAttributes": {"email": "hidden@statsig.com", "tier": "gold"},
               "custom": {"plan": "pro"}}),
        json!({"userID": "hw-private", "email": "other@example.com",
               "privateAttributes": {"ip": "8.8.8.8"}}),
        json!({"userID": "hw-ids", "customIDs": {"companyID": "c-1", "stableID": "s-1"}}),
        json!({"userID": "hw-ids", "customIDs": {"companyID": "c-1", "stableID": "s-2"}}),
        json!({"customIDs": {"stableID": "only-stable"}}),
        json!({"customIDs": {"companyID": "only-company", "CompanyID": "upper"}}),
        json!({"userID": "hw-env", "statsigEnvironment": {"tier": "staging"}}),
        json!({"userID": "hw-env-2", "statsigEnvironment": {"tier": "production", "region": "eu"},
               "privateAttributes": {"country": "DE"}, "country": "US"}),
        json!({"userID": 42, "email": "numeric@statsig.com", "custom": {"age": 31}}),
        json!({"userID": "", "ip": "1.2.3.4", "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"}),
    ]
}

fn eval_proj_specs() -> &'static str {
    static SPECS: OnceLock<String> = OnceLock::new();
    SPECS.get_or_init(|| read_data_file("eval_proj_dcs.json").expect("eval_proj_dcs.json"))
}

fn eval_proj_id_lists() -> Vec<(String, String)> {
    let list = read_data_file("company_id_list").expect("company_id_list");
    vec![("company_id_list".to_string(), list)]
}

fn example_users() -> Vec<Value> {
    EXAMPLE_USERS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("examples/users.jsonl: one object per line"))
        .collect()
}

fn example_id_lists() -> Vec<(String, String)> {
    vec![("beta_testers".to_string(), BETA_TESTERS.to_string())]
}

fn country_table_arc() -> Arc<CountryTable> {
    static TABLE: OnceLock<Arc<CountryTable>> = OnceLock::new();
    Arc::clone(TABLE.get_or_init(|| {
        let bytes = country_table().expect("reference country table");
        Arc::new(CountryTable::parse(&bytes).expect("country table parses"))
    }))
}

/// What both engines are set up with.
struct Setup<'a> {
    label: &'a str,
    specs: &'a str,
    environment: Option<&'a str>,
    id_lists: Vec<(String, String)>,
}

fn is_exposure(event: &Value) -> bool {
    matches!(
        event.get("eventName").and_then(Value::as_str),
        Some(GATE_EXPOSURE | CONFIG_EXPOSURE | LAYER_EXPOSURE)
    )
}

/// The reference's exposure events for `calls` × `users`, each call made `repeat` times in a row.
/// `disable` turns exposure logging off on every call.
fn oracle_events(
    setup: &Setup<'_>,
    users: &[Value],
    calls: &[Call],
    repeat: usize,
    disable: bool,
) -> Vec<Value> {
    let options = OracleOptions {
        environment: setup.environment.map(str::to_string),
        id_lists: setup.id_lists.clone(),
    };
    let started = Instant::now();
    let (instance, captured) = oracle_instance_with_events(setup.specs, &options, |o| o)
        .unwrap_or_else(|e| panic!("{}: the reference failed: {e}", setup.label));
    let statsig = instance.statsig();
    for (i, user) in users.iter().enumerate() {
        let user = user_from_json(user)
            .unwrap_or_else(|e| panic!("{}: user {i}: the reference: {e}", setup.label));
        for call in calls {
            for _ in 0..repeat {
                match call {
                    Call::Gate(name) => {
                        let o = FeatureGateEvaluationOptions {
                            disable_exposure_logging: disable,
                        };
                        statsig.get_feature_gate_with_options(&user, name, o);
                    }
                    Call::Config(name) => {
                        let o = DynamicConfigEvaluationOptions {
                            disable_exposure_logging: disable,
                        };
                        statsig.get_dynamic_config_with_options(&user, name, o);
                    }
                    Call::Experiment(name) => {
                        let o = ExperimentEvaluationOptions {
                            disable_exposure_logging: disable,
                            ..ExperimentEvaluationOptions::default()
                        };
                        statsig.get_experiment_with_options(&user, name, o);
                    }
                    Call::Layer(name) => {
                        let o = LayerEvaluationOptions {
                            disable_exposure_logging: disable,
                            ..LayerEvaluationOptions::default()
                        };
                        let layer = statsig.get_layer_with_options(&user, name, o);
                        let mut params: Vec<&String> = layer.__value.keys().collect();
                        params.sort();
                        for param in params {
                            // Logs this parameter's exposure (as `get` does).
                            layer.get_raw_value(param);
                        }
                    }
                }
            }
        }
    }
    instance.flush_events();
    instance.shutdown();
    let elapsed = started.elapsed();
    assert!(
        elapsed < DEDUPE_WINDOW_MARGIN,
        "{}: the reference run took {elapsed:?}; its dedupe set may have been reset mid-run \
         (use fewer users)",
        setup.label
    );
    captured.take().into_iter().filter(is_exposure).collect()
}

/// gatehouse's exposure events for the same sequence as [`oracle_events`].
fn gatehouse_events(
    setup: &Setup<'_>,
    users: &[Value],
    calls: &[Call],
    repeat: usize,
    disable: bool,
) -> Vec<Value> {
    let delivered: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = {
        let delivered = Arc::clone(&delivered);
        EventSink::Callback(Arc::new(move |batch: &[String]| {
            delivered
                .lock()
                .map_err(|_| "poisoned".to_string())?
                .extend(batch.iter().cloned());
            Ok(())
        }))
    };
    let lists: IdLists = setup
        .id_lists
        .iter()
        .map(|(name, contents)| (name.clone(), IdList::parse(contents)))
        .collect();
    let mut options = Options::from_json(setup.specs);
    options.events = Some(EventOptions::new(sink));
    options.environment = setup.environment.map(str::to_string);
    options.country_table = Some(country_table_arc());
    options.id_lists = IdListSource::InMemory(Arc::new(lists));
    let client = Client::new(options).expect("gatehouse client");
    client.initialize().expect("gatehouse initialize");
    let opts = CallOptions {
        disable_exposure_logging: disable,
    };
    for (i, user) in users.iter().enumerate() {
        let user = User::from_json(user)
            .unwrap_or_else(|e| panic!("{}: user {i}: gatehouse: {e}", setup.label));
        for call in calls {
            for _ in 0..repeat {
                match call {
                    Call::Gate(name) => {
                        client.get_feature_gate_with(&user, name, opts);
                    }
                    Call::Config(name) => {
                        client.get_dynamic_config_with(&user, name, opts);
                    }
                    Call::Experiment(name) => {
                        client.get_experiment_with(&user, name, opts);
                    }
                    Call::Layer(name) => {
                        let layer = client.get_layer_with(&user, name, opts);
                        let mut params: Vec<&String> = layer.values().keys().collect();
                        params.sort();
                        for param in params {
                            layer.get(param);
                        }
                    }
                }
            }
        }
    }
    client.flush().expect("gatehouse flush");
    client
        .shutdown(Duration::from_secs(10))
        .expect("gatehouse shutdown");
    let counters = client.counters();
    assert_eq!(
        counters.events_dropped, 0,
        "{}: gatehouse dropped events",
        setup.label
    );
    let texts = std::mem::take(&mut *delivered.lock().expect("delivered events"));
    texts
        .iter()
        .map(|t| serde_json::from_str::<Value>(t).expect("gatehouse events are JSON"))
        .filter(is_exposure)
        .collect()
}

/// `event` with the fields that legitimately differ replaced by placeholders (their presence and
/// JSON type still compared).
fn normalise(event: &Value) -> Value {
    let mut event = event.clone();
    if let Some(time) = event.get_mut("time") {
        if time.is_u64() {
            *time = json!("<time>");
        }
    }
    if let Some(received_at) = event
        .get_mut("metadata")
        .and_then(|m| m.get_mut("receivedAt"))
    {
        if received_at
            .as_str()
            .is_some_and(|s| s.parse::<u64>().is_ok())
        {
            *received_at = json!("<receivedAt>");
        }
    }
    event
}

/// What an event is about, to pair up differing events in failure messages.
fn event_key(event: &Value) -> String {
    let m = &event["metadata"];
    canonical(&json!([
        event["eventName"],
        event["user"],
        m.get("gate").or_else(|| m.get("config")),
        m.get("parameterName"),
    ]))
}

/// Per event name, how many events.
fn counts_by_name(events: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        let v: Value = serde_json::from_str(e).expect("canonical JSON");
        let name = v["eventName"].as_str().unwrap_or("?").to_string();
        *counts.entry(name).or_default() += 1;
    }
    counts
}

/// Asserts that the two event lists are equal as multisets after normalisation, with a report of
/// the differing events (paired by [`event_key`]) otherwise. Returns the per-name counts.
fn assert_same_events(
    label: &str,
    expected: &[Value],
    actual: &[Value],
) -> BTreeMap<String, usize> {
    let mut exp: Vec<String> = expected.iter().map(|e| canonical(&normalise(e))).collect();
    let mut act: Vec<String> = actual.iter().map(|e| canonical(&normalise(e))).collect();
    exp.sort();
    act.sort();
    let exp_counts = counts_by_name(&exp);
    if exp == act {
        return exp_counts;
    }

    // Multiset differences.
    let mut balance: BTreeMap<&str, i64> = BTreeMap::new();
    for e in &exp {
        *balance.entry(e).or_default() += 1;
    }
    for a in &act {
        *balance.entry(a).or_default() -= 1;
    }
    let mut only_ref: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut only_gh: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (text, n) in &balance {
        let v: Value = serde_json::from_str(text).expect("canonical JSON");
        let side = if *n > 0 { &mut only_ref } else { &mut only_gh };
        for _ in 0..n.unsigned_abs() {
            side.entry(event_key(&v)).or_default().push(text);
        }
    }
    let n_ref: usize = only_ref.values().map(Vec::len).sum();
    let n_gh: usize = only_gh.values().map(Vec::len).sum();
    let mut report = format!(
        "{label}: exposure events differ: reference {} events {:?}, gatehouse {} events {:?}; \
         {n_ref} only in the reference, {n_gh} only in gatehouse\n",
        exp.len(),
        exp_counts,
        act.len(),
        counts_by_name(&act),
    );
    let keys: std::collections::BTreeSet<&String> = only_ref.keys().chain(only_gh.keys()).collect();
    for key in keys.into_iter().take(12) {
        report.push_str(&format!("-- {key}\n"));
        for e in only_ref.get(key).into_iter().flatten().take(2) {
            report.push_str(&format!("   reference: {e}\n"));
        }
        for e in only_gh.get(key).into_iter().flatten().take(2) {
            report.push_str(&format!("   gatehouse: {e}\n"));
        }
    }
    panic!("{report}");
}

/// Runs both engines and compares their exposure events; returns the per-name counts.
fn compare(setup: &Setup<'_>, users: &[Value], calls: &[Call]) -> BTreeMap<String, usize> {
    let t = Instant::now();
    let expected = oracle_events(setup, users, calls, 1, false);
    let oracle_time = t.elapsed();
    let t = Instant::now();
    let actual = gatehouse_events(setup, users, calls, 1, false);
    let gatehouse_time = t.elapsed();
    let counts = assert_same_events(setup.label, &expected, &actual);
    println!(
        "{}: {} users × {} calls: {} exposure events equal {:?} (reference {:.1} s, gatehouse {:.1} s)",
        setup.label,
        users.len(),
        calls.len(),
        expected.len(),
        counts,
        oracle_time.as_secs_f64(),
        gatehouse_time.as_secs_f64(),
    );
    // Not vacuous: every kind of exposure was logged.
    for name in [GATE_EXPOSURE, CONFIG_EXPOSURE, LAYER_EXPOSURE] {
        assert!(
            counts.get(name).copied().unwrap_or(0) > users.len(),
            "{}: too few {name} events: {counts:?}",
            setup.label
        );
    }
    counts
}

fn with_hand_written(mut users: Vec<Value>) -> Vec<Value> {
    users.extend(hand_written_users());
    users
}

#[test]
fn exposures_equal_the_reference_on_eval_proj() {
    let specs = eval_proj_specs();
    let users = with_hand_written(generate_users_for_specs(specs, 0xE0_5E, 250));
    let setup = Setup {
        label: "eval_proj",
        specs,
        environment: None,
        id_lists: eval_proj_id_lists(),
    };
    compare(&setup, &users, &calls_for(specs));
}

#[test]
fn exposures_equal_the_reference_on_eval_proj_with_an_environment() {
    let specs = eval_proj_specs();
    let users = with_hand_written(generate_users_for_specs(specs, 0x57A6, 80));
    let setup = Setup {
        label: "eval_proj (staging)",
        specs,
        environment: Some("staging"),
        id_lists: eval_proj_id_lists(),
    };
    compare(&setup, &users, &calls_for(specs));
}

#[test]
fn exposures_equal_the_reference_on_the_example() {
    let mut users = example_users();
    users.extend(generate_users_for_specs(EXAMPLE_SPECS, 0xE8A4, 250));
    let users = with_hand_written(users);
    for environment in [None, Some("production")] {
        let label = format!("examples/specs.json (environment {environment:?})");
        let setup = Setup {
            label: &label,
            specs: EXAMPLE_SPECS,
            environment,
            id_lists: example_id_lists(),
        };
        compare(&setup, &users, &calls_for(EXAMPLE_SPECS));
    }
}

/// The same gate checked three times for one user gives one exposure on both sides; so do three
/// reads of one layer parameter and three calls of every other entity.
#[test]
fn repeated_calls_log_one_exposure() {
    let specs = eval_proj_specs();
    let setup = Setup {
        label: "dedupe",
        specs,
        environment: None,
        id_lists: eval_proj_id_lists(),
    };
    let one_user = [json!({"userID": "dedupe-user", "email": "a@statsig.com"})];
    let gate = [Call::Gate("test_public".into())];
    let expected = oracle_events(&setup, &one_user, &gate, 3, false);
    let actual = gatehouse_events(&setup, &one_user, &gate, 3, false);
    assert_eq!(expected.len(), 1, "reference: {expected:?}");
    assert_eq!(actual.len(), 1, "gatehouse: {actual:?}");
    assert_same_events("gate ×3", &expected, &actual);

    // Every entity three times for a few users (two share a dedupe identity: same userID, another
    // email): the same events as calling once.
    let users = [
        json!({"userID": "dedupe-user", "email": "a@statsig.com"}),
        json!({"userID": "dedupe-user", "email": "b@example.com"}),
        json!({"userID": "other", "customIDs": {"companyID": "c"}}),
    ];
    let calls = calls_for(specs);
    let once = oracle_events(&setup, &users, &calls, 1, false);
    let thrice = oracle_events(&setup, &users, &calls, 3, false);
    let gh_thrice = gatehouse_events(&setup, &users, &calls, 3, false);
    assert_same_events("reference ×1 vs ×3", &once, &thrice);
    assert_same_events("all entities ×3", &thrice, &gh_thrice);
    println!("dedupe: {} exposure events equal", thrice.len());
}

/// With exposure logging disabled per call neither engine logs an exposure.
#[test]
fn disabled_exposure_logging_logs_no_exposure() {
    let specs = eval_proj_specs();
    let setup = Setup {
        label: "disabled",
        specs,
        environment: None,
        id_lists: eval_proj_id_lists(),
    };
    let users = hand_written_users();
    let calls = calls_for(specs);
    let expected = oracle_events(&setup, &users, &calls, 1, true);
    let actual = gatehouse_events(&setup, &users, &calls, 1, true);
    assert!(expected.is_empty(), "reference: {} events", expected.len());
    assert!(actual.is_empty(), "gatehouse: {} events", actual.len());
}

/// The reference's dedupe key (dcs-semantics §9.3) has no event kind, and a layer parameter's key
/// carries the layer's own rule id, not the parameter's: a gate and a dynamic config of one name
/// (both `default`, both false) share a key, and so do a merged layer's parameter reads that come
/// from different rules for two users with one identity (same `userID`, another email). Both
/// engines log 2 of these 6 exposures.
#[test]
fn dedupe_keys_are_the_references() {
    let specs = json!({
        "has_updates": true, "time": 1_700_000_000_000u64, "response_format": "dcs-v2",
        "company_id": "gatehouse", "experiment_to_layer": {},
        "feature_gates": {"shared": {
            "type": "feature_gate", "salt": "s-gate", "enabled": true, "defaultValue": false,
            "rules": [], "idType": "userID", "entity": "feature_gate"}},
        "dynamic_configs": {"shared": {
            "type": "dynamic_config", "salt": "s-config", "enabled": true,
            "defaultValue": {"a": 1}, "rules": [], "idType": "userID",
            "entity": "dynamic_config"}},
        "layer_configs": {"merged": {
            "type": "dynamic_config", "salt": "s-layer", "enabled": true,
            "defaultValue": {"p": 0}, "idType": "userID", "entity": "layer",
            "useNewLayerEval": true,
            "rules": [
                {"name": "a", "passPercentage": 100, "conditions": ["email_a"],
                 "returnValue": {"p": 1}, "id": "rule_a", "salt": "rule_a", "idType": "userID"},
                {"name": "all", "passPercentage": 100, "conditions": ["everyone"],
                 "returnValue": {"p": 2}, "id": "rule_all", "salt": "rule_all",
                 "idType": "userID"}]}},
        "condition_map": {
            "email_a": {"type": "user_field", "targetValue": ["a@statsig.com"],
                        "operator": "any", "field": "email", "additionalValues": {},
                        "idType": "userID"},
            "everyone": {"type": "public", "targetValue": null, "operator": null,
                         "field": null, "additionalValues": {}, "idType": "userID"}}
    })
    .to_string();
    let setup = Setup {
        label: "dedupe keys",
        specs: &specs,
        environment: None,
        id_lists: Vec::new(),
    };
    let users = [
        json!({"userID": "same", "email": "a@statsig.com"}),
        json!({"userID": "same", "email": "b@statsig.com"}),
    ];
    let calls = [
        Call::Gate("shared".into()),
        Call::Config("shared".into()),
        Call::Layer("merged".into()),
    ];
    let expected = oracle_events(&setup, &users, &calls, 1, false);
    let actual = gatehouse_events(&setup, &users, &calls, 1, false);
    let counts = assert_same_events(setup.label, &expected, &actual);
    assert_eq!(
        counts,
        BTreeMap::from([
            (GATE_EXPOSURE.to_string(), 1),
            (LAYER_EXPOSURE.to_string(), 1)
        ]),
        "{expected:#?}"
    );
}
