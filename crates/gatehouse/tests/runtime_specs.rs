//! Spec sync through the client against a real loopback server: swaps
//! under concurrent evaluation, and every kind of bad payload.

mod common;
mod support;

use common::{example_specs, example_users, expected_gates, variant};
use gatehouse::{CallOptions, Client, Error, Options, User};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Reply, Server};

const KEY: &str = "secret-test-key";
const NO_LOG: CallOptions = CallOptions {
    disable_exposure_logging: true,
};

fn url_client(server: &Server, tweak: impl FnOnce(&mut Options)) -> Client {
    let mut options = Options::from_url(&format!("{}/v2/download_config_specs", server.url()), KEY);
    tweak(&mut options);
    Client::new(options).expect("client")
}

#[test]
fn swaps_under_concurrent_evaluation_are_never_torn_and_never_stall() {
    let specs = example_specs();
    let users = example_users();
    const BASE: u64 = 1_000_000;
    // Payload k has time BASE + k; even k carry variant A, odd k variant B.
    let slow = 400;
    let payload_a = common::slow_to_load_variant(&specs, 0, false, slow);
    let payload_b = common::slow_to_load_variant(&specs, 0, true, slow);
    let load_started = Instant::now();
    gatehouse_core::parse_specs(&payload_b).expect("parses");
    let load_time = load_started.elapsed();
    eprintln!("one load: {load_time:?}");
    let expect_a = expected_gates(&payload_a, &users);
    let expect_b = expected_gates(&payload_b, &users);
    let differing: usize = expect_a
        .iter()
        .zip(&expect_b)
        .map(|(a, b)| a.iter().filter(|(n, v)| b[*n] != **v).count())
        .sum();
    assert!(differing > 100, "variants must differ: {differing}");

    // Every evaluation bumps `calls`. The server notes `calls` when it
    // serves payload k, the readers when one of them first sees it: the
    // difference is how many evaluations completed while payload k was
    // downloaded, parsed and compiled.
    let calls = Arc::new(AtomicU64::new(0));
    let at_served = Arc::new(Mutex::new(HashMap::<u64, u64>::new()));
    let at_seen = Arc::new(Mutex::new(HashMap::<u64, u64>::new()));
    let newest = Arc::new(AtomicU64::new(0));

    let served = Arc::new(AtomicU64::new(0));
    let server = Server::start();
    {
        let (served, calls, at_served) = (served.clone(), calls.clone(), at_served.clone());
        let (a, b) = (payload_a.clone(), payload_b.clone());
        server.set_handler(Arc::new(move |_req| {
            let k = served.fetch_add(1, Ordering::SeqCst);
            let text = if k % 2 == 0 { &a } else { &b };
            let text = text.replacen("\"time\":0", &format!("\"time\":{}", BASE + k), 1);
            let reply = Reply::json(&text);
            lock(&at_served).insert(k, calls.load(Ordering::SeqCst));
            reply
        }));
    }
    let client = url_client(&server, |o| {
        o.sync_interval = Some(Duration::from_millis(5));
    });
    client.initialize().expect("initialize");

    let stop = Arc::new(AtomicBool::new(false));
    let names: Vec<String> = expect_a[0].keys().cloned().collect();
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let client = client.clone();
            let users = users.clone();
            let names = names.clone();
            let (ea, eb) = (expect_a.clone(), expect_b.clone());
            let (stop, calls_all) = (stop.clone(), calls.clone());
            let (newest, at_seen) = (newest.clone(), at_seen.clone());
            std::thread::spawn(move || {
                let users: Vec<User> = users
                    .iter()
                    .map(|u| User::from_json(u).expect("user"))
                    .collect();
                let (mut calls, mut seen_a, mut seen_b) = (0u64, 0u64, 0u64);
                let mut slowest = Duration::ZERO;
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let u = i % users.len();
                    let name = &names[(i / users.len()) % names.len()];
                    let started = Instant::now();
                    let gate = client.get_feature_gate_with(&users[u], name, NO_LOG);
                    slowest = slowest.max(started.elapsed());
                    let done = calls_all.fetch_add(1, Ordering::SeqCst) + 1;
                    let lcut = gate.details.lcut.expect("lcut");
                    let k = lcut - BASE;
                    if newest.fetch_max(k, Ordering::SeqCst) < k {
                        lock(&at_seen).insert(k, done);
                    }
                    let expected = if k % 2 == 0 { &ea[u] } else { &eb[u] };
                    assert_eq!(
                        (gate.value, gate.rule_id.clone()),
                        expected[name],
                        "user {u} gate {name} at lcut {lcut}: a torn or foreign result"
                    );
                    if k % 2 == 0 {
                        seen_a += 1;
                    } else {
                        seen_b += 1;
                    }
                    calls += 1;
                    i += 3;
                }
                (calls, seen_a, seen_b, slowest)
            })
        })
        .collect();
    // Run until several swaps happened (at least 1.5 s, at most 20 s).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20)
        && (started.elapsed() < Duration::from_millis(1500)
            || client.counters().spec_updates_applied < 6)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    let (mut total, mut seen_a, mut seen_b) = (0, 0, 0);
    for t in threads {
        let (c, a, b, m) = t.join().expect("evaluating thread");
        total += c;
        seen_a += a;
        seen_b += b;
        slowest = slowest.max(m);
    }
    let counters = client.counters();
    client.shutdown(Duration::from_secs(5)).expect("shutdown");
    assert!(counters.spec_updates_applied >= 6, "{counters:?}");
    assert_eq!(counters.spec_updates_failed, 0, "{counters:?}");
    assert!(
        seen_a > 0 && seen_b > 0,
        "both variants served: {seen_a} {seen_b}"
    );
    assert!(total > 10_000, "{total}");
    // Evaluations went on while each new payload was being fetched and
    // parsed (a reader waiting for the update would complete ~0 calls in
    // that window). Measured per swap; scheduling noise cannot fake it.
    let (served, seen) = (lock(&at_served).clone(), lock(&at_seen).clone());
    let windows: Vec<u64> = seen
        .iter()
        .filter_map(|(k, at)| Some(at.saturating_sub(*served.get(k)?)))
        .collect();
    assert!(windows.len() >= 4, "swaps observed: {windows:?}");
    // The payload is small on the wire and slow to load (regexes), so the
    // window is mostly loading. At the run's average rate, a quarter of a
    // load's worth of calls is the bar; a reader that waited for loading
    // would complete only the few calls of the transfer.
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let bar = (rate * load_time.as_secs_f64() / 4.0) as u64;
    let busy = windows.iter().filter(|&&w| w >= bar).count();
    eprintln!("load {load_time:?}, rate {rate:.0}/s, bar {bar}, windows {windows:?}");
    assert!(
        busy * 4 >= windows.len() * 3,
        "calls completed while updates were loaded, per swap: {windows:?} (bar {bar})"
    );
    assert!(slowest < Duration::from_secs(2), "a call took {slowest:?}");
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn bad_payloads_keep_the_last_good_specs_and_are_counted() {
    let specs = example_specs();
    let good = variant(&specs, 2_000, false, 0);
    let server = Server::start();
    let prefix = "/v2/download_config_specs/";
    server.set(prefix, Reply::json(&good));
    let client = url_client(&server, |o| {
        o.sync_interval = None;
        o.http_timeout = Duration::from_millis(300);
    });
    client.initialize().expect("initialize");
    let user = User::from_json(&example_users()[0]).expect("user");
    let gate = "dark_mode";
    let before = client.get_feature_gate_with(&user, gate, NO_LOG);
    assert_eq!(before.details.lcut, Some(2_000));
    assert_eq!(before.details.reason, "Network:Recognized");

    let cases: Vec<(&str, Reply)> = vec![
        ("HTTP 500", Reply::status(500).body("oops")),
        ("garbage", Reply::json("this is not json")),
        ("truncated", Reply::json(&good[..good.len() / 2])),
        ("cut connection", Reply::json(&good).truncate(100)),
        ("older time", Reply::json(&variant(&specs, 1_000, true, 0))),
        ("not dcs-v2", Reply::json(r#"{"feature_gates": 5}"#)),
        ("timeout", Reply::json(&good).delay(Duration::from_secs(2))),
    ];
    for (i, (label, reply)) in cases.into_iter().enumerate() {
        server.set(prefix, reply);
        let result = client.refresh();
        assert!(result.is_err(), "{label}: accepted");
        if label == "older time" {
            let e = result.as_ref().expect_err("checked");
            assert!(e.to_string().contains("older"), "{e}");
        }
        let status = client.status();
        assert_eq!(status.counters.spec_updates_failed, i as u64 + 1, "{label}");
        let err = status.last_error.expect("last error recorded");
        let shown = result.expect_err("checked above").to_string();
        assert_eq!(err, shown, "{label}: status shows the latest error");
        assert!(!err.contains(KEY), "{label}: SDK key leaked: {err}");
        let after = client.get_feature_gate_with(&user, gate, NO_LOG);
        assert_eq!(after, before, "{label}: last good specs lost");
        assert_eq!(status.lcut, Some(2_000), "{label}");
    }

    // No-change answers are counted as unchanged, not failed.
    server.set(prefix, Reply::json(r#"{"has_updates": false}"#));
    client.refresh().expect("no update");
    server.set(prefix, Reply::status(304));
    client.refresh().expect("not modified");
    let c = client.counters();
    assert_eq!(c.spec_updates_unchanged, 2, "{c:?}");

    // A newer good payload replaces the specs.
    server.set(prefix, Reply::json(&variant(&specs, 3_000, true, 0)));
    client.refresh().expect("newer payload");
    let after = client.get_feature_gate_with(&user, gate, NO_LOG);
    assert_eq!(after.details.lcut, Some(3_000));
    let expect_b =
        &common::expected_gates(&variant(&specs, 3_000, true, 0), &example_users()[..1])[0];
    assert_eq!((after.value, after.rule_id.clone()), expect_b[gate]);
    assert_ne!(after.rule_id, before.rule_id, "variant B renames rule ids");
    // Requests carried the sync query of the specs held at the time.
    let last = server.requests().pop().expect("requests");
    assert_eq!(last.query_param("sinceTime"), Some("2000"));
    assert_eq!(last.header("STATSIG-API-KEY"), Some(KEY));
    client.shutdown(Duration::from_secs(1)).expect("shutdown");
}

#[test]
fn a_client_started_while_the_source_is_down_recovers_by_polling() {
    let specs = example_specs();
    let server = Server::start();
    let prefix = "/v2/download_config_specs/";
    server.set(prefix, Reply::status(503));
    let client = url_client(&server, |o| {
        o.sync_interval = Some(Duration::from_millis(20));
        o.init_timeout = Duration::from_millis(500);
    });
    let err = client.initialize().expect_err("source down");
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err}");
    let user = User::from_json(&example_users()[0]).expect("user");
    let gate = client.get_feature_gate_with(&user, "dark_mode", NO_LOG);
    assert_eq!(gate.details.reason, "Uninitialized");
    assert!(!client.status().ready);

    server.set(prefix, Reply::json(&variant(&specs, 5_000, false, 0)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !client.status().ready && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = client.status();
    assert!(status.ready, "{status:?}");
    assert_eq!(status.lcut, Some(5_000));
    let gate = client.get_feature_gate_with(&user, "dark_mode", NO_LOG);
    assert_eq!(gate.details.reason, "Network:Recognized");
    client.shutdown(Duration::from_secs(1)).expect("shutdown");
}

#[test]
fn a_spec_file_is_reloaded_when_it_changes() {
    let specs = example_specs();
    let dir = std::env::temp_dir().join(format!("gatehouse-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("specs.json");
    std::fs::write(&path, variant(&specs, 10, false, 0)).expect("write");
    let mut options = Options::from_file(&path);
    options.sync_interval = Some(Duration::from_millis(20));
    let client = Client::new(options).expect("client");
    client.initialize().expect("initialize");
    assert_eq!(client.status().lcut, Some(10));

    // A broken write keeps the last good specs.
    std::fs::write(&path, "{ broken").expect("write");
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.counters().spec_updates_failed == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(client.counters().spec_updates_failed >= 1);
    assert_eq!(client.status().lcut, Some(10));

    std::fs::write(&path, variant(&specs, 20, true, 0)).expect("write");
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.status().lcut != Some(20) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(client.status().lcut, Some(20));
    client.shutdown(Duration::from_secs(1)).expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_first_answer_without_specs_fails_initialization() {
    for reply in [
        Reply::json(r#"{"has_updates": false}"#),
        Reply::status(204),
        Reply::status(304),
    ] {
        let server = Server::start();
        server.set("/v2/download_config_specs/", reply);
        let client = url_client(&server, |o| o.sync_interval = None);
        let err = client.initialize().expect_err("no specs were loaded");
        assert!(err.to_string().contains("no specs are loaded"), "{err}");
        assert!(!client.status().ready);
        assert_eq!(client.counters().spec_updates_failed, 1);
    }
}

#[test]
fn a_slow_first_load_is_an_init_timeout_and_shutdown_does_not_wait_for_it() {
    let server = Server::start();
    let good = variant(&example_specs(), 7, false, 0);
    server.set(
        "/v2/download_config_specs/",
        Reply::json(&good).delay(Duration::from_secs(3)),
    );
    let client = url_client(&server, |o| {
        o.init_timeout = Duration::from_millis(200);
        o.sync_interval = Some(Duration::from_millis(10));
    });
    let started = Instant::now();
    let err = client.initialize().expect_err("too slow");
    assert!(
        matches!(err, Error::InitTimeout { waited_ms: 200, .. }),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The sync thread is now inside a slow request; shutdown keeps its bound.
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    client
        .shutdown(Duration::from_millis(300))
        .expect("shutdown");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(client.refresh(), Err(Error::ShutDown)));
}

#[test]
fn redirects_are_not_followed_and_the_key_never_shows() {
    let server = Server::start();
    server.set(
        "/v2/download_config_specs/",
        Reply::status(302).header("Location", "http://127.0.0.1:9/elsewhere"),
    );
    let client = url_client(&server, |o| o.sync_interval = None);
    let err = client.initialize().expect_err("a redirect is an error");
    assert!(matches!(err, Error::Http { status: 302, .. }), "{err}");
    assert_eq!(server.requests().len(), 1, "the redirect was not followed");
    let debug = format!("{:?}", Options::from_url("http://x", KEY).specs);
    assert!(!debug.contains(KEY), "{debug}");
    let status = format!("{:?}", client.status());
    assert!(!status.contains(KEY), "{status}");
}

#[test]
fn a_query_in_the_base_url_stays_a_query() {
    let server = Server::start();
    let good = variant(&example_specs(), 7, false, 0);
    server.set("/v2/download_config_specs/", Reply::json(&good));
    let mut options = Options::from_url(
        &format!("{}/v2/download_config_specs?region=eu", server.url()),
        KEY,
    );
    options.sync_interval = None;
    let client = Client::new(options).expect("client");
    client.initialize().expect("initialize");
    let request = &server.requests()[0];
    assert_eq!(
        request.path(),
        format!("/v2/download_config_specs/{KEY}.json")
    );
    assert_eq!(request.query_param("region"), Some("eu"));
}

/// An option name and a change that makes it invalid.
type BadOption = (&'static str, Box<dyn Fn(&mut Options)>);

#[test]
fn invalid_options_are_rejected_by_name() {
    let cases: Vec<BadOption> = vec![
        (
            "http_timeout",
            Box::new(|o| o.http_timeout = Duration::ZERO),
        ),
        (
            "init_timeout",
            Box::new(|o| o.init_timeout = Duration::ZERO),
        ),
        (
            "sync_interval",
            Box::new(|o| o.sync_interval = Some(Duration::ZERO)),
        ),
        (
            "id_list_sync_interval",
            Box::new(|o| o.id_list_sync_interval = Duration::ZERO),
        ),
        ("dedupe_max_keys", Box::new(|o| o.dedupe_max_keys = 0)),
        (
            "id_lists",
            Box::new(|o| {
                o.id_lists = gatehouse::IdListSource::Manifest {
                    url: "ftp://x".into(),
                    sdk_key: KEY.into(),
                }
            }),
        ),
        (
            "specs_url",
            Box::new(|o| {
                o.specs = gatehouse::SpecSource::Url {
                    url: "file:///x".into(),
                    sdk_key: KEY.into(),
                }
            }),
        ),
    ];
    for (option, tweak) in cases {
        let mut o = Options::from_url("http://127.0.0.1:9/dcs", KEY);
        tweak(&mut o);
        match Client::new(o) {
            Err(Error::Options { option: got, .. }) => assert_eq!(got, option),
            Err(e) => panic!("{option}: {e}"),
            Ok(_) => panic!("{option}: accepted"),
        }
    }
}

#[test]
fn id_list_files_missing_at_first_are_loaded_by_a_later_initialize() {
    let dir = std::env::temp_dir().join(format!("gatehouse-idl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let list = dir.join("beta_testers.txt");
    let _ = std::fs::remove_file(&list);
    let mut options = Options::from_json(example_specs());
    options.id_lists = gatehouse::IdListSource::Files(vec![("beta_testers".into(), list.clone())]);
    let client = Client::new(options).expect("client");
    let err = client.initialize().expect_err("the list file is missing");
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(client.status().last_error.is_some());
    assert_eq!(client.status().id_lists, 0);
    std::fs::copy(
        common::repo_file_path("examples/id_lists/beta_testers.txt"),
        &list,
    )
    .expect("copy");
    client.initialize().expect("the file is there now");
    assert_eq!(client.status().id_lists, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_manifest_is_loaded_within_the_init_timeout_and_its_failure_is_reported() {
    let server = Server::start();
    let good = variant(&example_specs(), 7, false, 0);
    server.set("/v2/download_config_specs/", Reply::json(&good));
    server.set(
        "/v1/get_id_lists",
        Reply::json("{}").delay(Duration::from_secs(3)),
    );
    let client = url_client(&server, |o| {
        o.sync_interval = None;
        o.init_timeout = Duration::from_millis(300);
        o.id_lists = gatehouse::IdListSource::Manifest {
            url: format!("{}/v1/get_id_lists", server.url()),
            sdk_key: KEY.into(),
        };
    });
    let started = Instant::now();
    let err = client.initialize().expect_err("the manifest timed out");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, Error::Http { status: 0, .. }), "{err}");
    assert!(client.status().ready, "the specs loaded");
    assert_eq!(client.counters().id_list_updates_failed, 1);
}
