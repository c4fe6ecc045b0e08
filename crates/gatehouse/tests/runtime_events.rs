//! Exposures through the client into a real loopback log_event server:
//! shape, dedupe, delivery across sink outages, shutdown flush, and a
//! memory bound with a new user on every call.

mod common;
mod support;

use common::{example_specs, example_users, expected_gates, rss_kib};
use gatehouse::events::{EventOptions, EventSink};
use gatehouse::{Client, Options, User};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{Recorded, Reply, Server};

const KEY: &str = "secret-events-key";

fn client_logging_to(server: &Server, specs: &str) -> Client {
    let mut options = Options::from_json(specs);
    let mut events = EventOptions::new(EventSink::Http {
        url: format!("{}/v1/log_event", server.url()),
        sdk_key: KEY.into(),
    });
    events.flush_interval = Duration::from_millis(50);
    events.retry_backoff = Duration::from_millis(20);
    events.max_backoff = Duration::from_millis(100);
    events.max_retries = 20;
    options.events = Some(events);
    let client = Client::new(options).expect("client");
    client.initialize().expect("initialize");
    client
}

/// Events in requests the server answered with 2xx.
fn delivered(requests: &[Recorded], accepted: &dyn Fn(&Recorded) -> bool) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r.path() == "/v1/log_event" && accepted(r))
        .flat_map(|r| {
            r.body_json()["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn gate_exposures_have_the_reference_shape_and_are_deduplicated() {
    let specs = example_specs();
    let users = example_users();
    let expected = expected_gates(&specs, &users);
    let server = Server::start();
    server.set("/v1/log_event", Reply::json(r#"{"success": true}"#));
    let client = client_logging_to(&server, &specs);
    let gh_users: Vec<User> = users
        .iter()
        .map(|u| User::from_json(u).expect("user"))
        .collect();
    let names: Vec<String> = expected[0].keys().cloned().collect();
    for _ in 0..3 {
        for user in &gh_users {
            for name in &names {
                client.check_gate(user, name);
            }
        }
    }
    client.flush().expect("flush");
    let events = delivered(&server.requests(), &|_| true);
    let unique = gh_users.len() * names.len();
    assert_eq!(
        events.len(),
        unique,
        "one exposure per (user, gate): repeats deduplicated"
    );
    let c = client.counters();
    assert_eq!(c.exposures_queued as usize, unique);
    assert_eq!(c.exposures_deduped as usize, 2 * unique);
    assert_eq!(c.events_sent as usize, unique);

    // Every exposure carries the single-threaded core answer.
    let mut by_key: HashMap<(String, String), &Value> = HashMap::new();
    for e in &events {
        assert_eq!(e["eventName"], "statsig::gate_exposure");
        let uid = e["user"]["userID"].as_str().unwrap_or("").to_owned();
        let gate = e["metadata"]["gate"].as_str().expect("gate").to_owned();
        by_key.insert((uid, gate), e);
    }
    for (u, user) in users.iter().enumerate() {
        let uid = user["userID"].as_str().unwrap_or("").to_owned();
        for name in &names {
            let e = by_key[&(uid.clone(), name.clone())];
            let (value, rule_id) = &expected[u][name];
            let m = &e["metadata"];
            assert_eq!(m["gateValue"], value.to_string(), "{uid} {name}");
            assert_eq!(m["ruleID"], rule_id.as_str(), "{uid} {name}");
            let reason = m["reason"].as_str().expect("reason");
            assert!(reason.starts_with("Bootstrap:Recognized"), "{reason}");
            assert_eq!(m["lcut"], "1751371200000");
            assert!(e["secondaryExposures"].is_array());
            assert!(e["time"].as_u64().is_some());
            assert!(e["user"].get("privateAttributes").is_none());
        }
    }
    let request = &server.requests_to("/v1/log_event")[0];
    assert_eq!(request.header("STATSIG-API-KEY"), Some(KEY));
    assert_eq!(request.header("Content-Encoding"), Some("gzip"));
    client.shutdown(Duration::from_secs(5)).expect("shutdown");
}

#[test]
fn config_layer_and_custom_events_have_the_reference_shape() {
    let specs = example_specs();
    let server = Server::start();
    server.set("/v1/log_event", Reply::json("{}"));
    let client = client_logging_to(&server, &specs);
    let user = User::from_json(&json!({
        "userID": "shape-user",
        "privateAttributes": {"secret": "never logged"},
        "custom": {"plan": "Pro"}
    }))
    .expect("user");
    let names = client.spec_names(gatehouse::Kind::Experiment);
    let experiment = client.get_experiment(&user, &names[0]);
    let layers = client.spec_names(gatehouse::Kind::Layer);
    let layer = client.get_layer(&user, &layers[0]);
    let param = layer
        .values()
        .keys()
        .next()
        .cloned()
        .expect("a layer parameter");
    layer.get(&param);
    client
        .log_event(&user, "add_to_cart", json!(12.5), None)
        .expect("custom event");
    client
        .shutdown(Duration::from_secs(5))
        .expect("shutdown flushes");
    let events = delivered(&server.requests(), &|_| true);
    let find = |name: &str| {
        events
            .iter()
            .find(|e| e["eventName"] == name)
            .unwrap_or_else(|| panic!("no {name} in {events:?}"))
    };
    let config = find("statsig::config_exposure");
    assert_eq!(config["metadata"]["config"], names[0].as_str());
    assert_eq!(config["metadata"]["ruleID"], experiment.rule_id.as_str());
    assert!(
        config["metadata"].get("rulePassed").is_none(),
        "experiments carry no rulePassed"
    );
    let layer_event = find("statsig::layer_exposure");
    assert_eq!(layer_event["metadata"]["config"], layers[0].as_str());
    assert_eq!(layer_event["metadata"]["parameterName"], param.as_str());
    let custom = find("add_to_cart");
    assert_eq!(custom["value"], json!(12.5));
    assert_eq!(custom["secondaryExposures"], Value::Null);
    for e in &events {
        assert!(e["user"].get("privateAttributes").is_none(), "{e}");
        assert_eq!(e["user"]["custom"]["plan"], "Pro");
    }
}

#[test]
fn events_survive_a_sink_outage_exactly_once() {
    let specs = example_specs();
    let server = Server::start();
    let answered = Arc::new(AtomicU64::new(0));
    {
        let answered = Arc::clone(&answered);
        server.set_handler(Arc::new(move |r| {
            if r.path() != "/v1/log_event" {
                return Reply::status(404);
            }
            // The first five deliveries fail; then the sink is back.
            if answered.fetch_add(1, Ordering::SeqCst) < 5 {
                Reply::status(503)
            } else {
                Reply::json(r#"{"success": true}"#)
            }
        }));
    }
    let client = client_logging_to(&server, &specs);
    let gates = client.spec_names(gatehouse::Kind::Gate);
    let n_users = 60;
    for i in 0..n_users {
        let user = User::from_json(&json!({ "userID": format!("outage-{i}") })).expect("user");
        for g in &gates {
            client.check_gate(&user, g);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    client
        .shutdown(Duration::from_secs(20))
        .expect("shutdown delivers");
    // Requests are answered in arrival order: the first five failed.
    let requests = server.requests_to("/v1/log_event");
    let accepted: Vec<Recorded> = requests.iter().skip(5).cloned().collect();
    let events = delivered(&accepted, &|_| true);
    let total = n_users * gates.len();
    assert_eq!(events.len(), total, "every exposure delivered once");
    let mut keys: Vec<String> = events
        .iter()
        .map(|e| format!("{}|{}", e["user"]["userID"], e["metadata"]["gate"]))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "no duplicates");
    let c = client.counters();
    assert_eq!(c.events_sent as usize, total, "{c:?}");
    assert_eq!(c.events_dropped, 0, "{c:?}");
    assert!(c.event_batches_failed >= 5, "{c:?}");
}

#[test]
fn memory_stays_flat_with_a_new_user_on_every_call() {
    let specs = example_specs();
    let seen = Arc::new(AtomicU64::new(0));
    let mut options = Options::from_json(specs);
    let mut events = {
        let seen = Arc::clone(&seen);
        EventOptions::new(EventSink::Callback(Arc::new(move |batch: &[String]| {
            seen.fetch_add(batch.len() as u64, Ordering::Relaxed);
            Ok(())
        })))
    };
    events.flush_interval = Duration::from_millis(20);
    options.events = Some(events);
    options.dedupe_max_keys = 50_000;
    let client = Client::new(options).expect("client");
    client.initialize().expect("initialize");

    let calls = 1_000_000u64;
    let mut rss_after_warmup = 0;
    for i in 0..calls {
        let user = User::from_json(&json!({
            "userID": format!("user-{i}"),
            "customIDs": {"stableID": format!("s-{i}")},
            "custom": {"plan": "Pro", "lifetime_orders": i % 50}
        }))
        .expect("user");
        client.check_gate(&user, "dark_mode");
        if i == 200_000 {
            client.flush().expect("flush");
            rss_after_warmup = rss_kib();
        }
    }
    client.flush().expect("flush");
    let rss_end = rss_kib();
    let c = client.counters();
    client.shutdown(Duration::from_secs(5)).expect("shutdown");
    assert_eq!(
        c.exposures_queued, calls,
        "every new user is a new exposure"
    );
    assert_eq!(
        seen.load(Ordering::Relaxed),
        calls,
        "every exposure delivered"
    );
    assert_eq!(c.events_dropped, 0);
    // 800,000 further calls with new users add no per-user state.
    let growth_kib = rss_end.saturating_sub(rss_after_warmup);
    assert!(
        growth_kib < 32 * 1024,
        "resident memory grew {growth_kib} KiB after warm-up ({rss_after_warmup} → {rss_end})"
    );
    assert!(rss_end < 256 * 1024, "resident memory {rss_end} KiB");
}

#[test]
fn shutdown_fails_when_events_were_lost_on_the_way_out() {
    let mut options = Options::from_json(example_specs());
    let mut events = EventOptions::new(EventSink::Http {
        url: "http://127.0.0.1:9/v1/log_event".into(),
        sdk_key: KEY.into(),
    });
    events.max_retries = 1;
    events.retry_backoff = Duration::from_millis(10);
    events.max_backoff = Duration::from_millis(10);
    options.events = Some(events);
    let client = Client::new(options).expect("client");
    client.initialize().expect("initialize");
    let user = User::from_json(&json!({"userID": "lost"})).expect("user");
    client.check_gate(&user, "dark_mode");
    let err = client
        .shutdown(Duration::from_secs(5))
        .expect_err("the only event could not be delivered");
    assert!(err.to_string().contains("could not be delivered"), "{err}");
    assert!(!err.to_string().contains(KEY), "{err}");
    assert_eq!(client.counters().events_dropped, 1);
    assert!(matches!(client.flush(), Err(gatehouse::Error::ShutDown)));
}

#[test]
fn an_unusable_events_file_is_an_options_error() {
    let missing_dir = std::env::temp_dir().join("gatehouse-no-such-dir-xyz/events.ndjson");
    for path in [missing_dir, std::env::temp_dir(), std::path::PathBuf::new()] {
        let mut options = Options::from_json(example_specs());
        options.events = Some(EventOptions::new(EventSink::File(path.clone())));
        match Client::new(options) {
            Err(gatehouse::Error::Options { option, .. }) => assert_eq!(option, "events"),
            Err(e) => panic!("{path:?}: {e}"),
            Ok(_) => panic!("{path:?}: accepted"),
        }
    }
}

#[test]
fn log_event_accepts_only_string_number_or_null_values() {
    let dir = std::env::temp_dir().join(format!("gatehouse-log-event-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("events.ndjson");
    let mut options = Options::from_json(example_specs());
    options.events = Some(EventOptions::new(EventSink::File(file.clone())));
    let client = Client::new(options).expect("client");
    client.initialize().expect("initialize");
    let user = User::from_json(&json!({"userID": "event-values"})).expect("user");
    for (value, kind) in [
        (json!(true), "a boolean"),
        (json!([1, 2]), "an array"),
        (json!({"a": 1}), "an object"),
    ] {
        let err = client
            .log_event(&user, "bad_value", value.clone(), None)
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            format!(
                "option `value`: an event value must be a string, a number or null, not {kind}"
            ),
            "{value}"
        );
    }
    for value in [json!("text"), json!(7), json!(2.5), Value::Null] {
        client
            .log_event(&user, "good_value", value, None)
            .expect("accepted");
    }
    // The same check without an event sink: the argument is wrong either way.
    let quiet = Client::new(Options::from_json(example_specs())).expect("client");
    assert!(quiet.log_event(&user, "x", json!([1]), None).is_err());
    assert!(quiet.log_event(&user, "x", json!(1), None).is_ok());
    // An empty name is refused the same way, with and without a sink.
    for c in [&client, &quiet] {
        let err = c
            .log_event(&user, "", json!(1), None)
            .expect_err("empty name refused");
        assert_eq!(
            err.to_string(),
            "option `event_name`: an event needs a name"
        );
    }
    client.shutdown(Duration::from_secs(5)).expect("shutdown");
    let text = std::fs::read_to_string(&file).expect("events file");
    let values: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("event JSON"))
        .map(|e| {
            assert_eq!(e["eventName"], "good_value", "only the accepted events");
            e["value"].clone()
        })
        .collect();
    assert_eq!(
        values,
        vec![json!("text"), json!(7), json!(2.5), Value::Null]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_layer_says_whether_it_logs_and_whether_its_client_was_shut_down() {
    let dir = std::env::temp_dir().join(format!("gatehouse-layer-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut options = Options::from_json(example_specs());
    options.events = Some(EventOptions::new(EventSink::File(dir.join("e.ndjson"))));
    let client = Client::new(options).expect("client");
    client.initialize().expect("initialize");
    let user = User::from_json(&json!({"userID": "layer-logs"})).expect("user");
    let logging = client.get_layer(&user, "search");
    let quiet = client.get_layer_with(
        &user,
        "search",
        gatehouse::CallOptions {
            disable_exposure_logging: true,
        },
    );
    assert!(logging.logs_exposures());
    assert!(!quiet.logs_exposures());
    assert!(!logging.is_client_shut_down() && !client.is_shut_down());
    client.shutdown(Duration::from_secs(5)).expect("shutdown");
    assert!(client.is_shut_down());
    assert!(logging.is_client_shut_down());
    assert!(!quiet.is_client_shut_down(), "a layer that logs nothing");
    let _ = std::fs::remove_dir_all(&dir);
}
