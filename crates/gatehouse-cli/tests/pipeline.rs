//! `gatehouse eval` running the whole runtime pipeline against a live
//! loopback endpoint: specs from `--specs-url`, exposures to
//! `--events-url` or `--events-file`.

#[path = "../../gatehouse/tests/support/mod.rs"]
mod support;

use serde_json::Value;
use std::process::{Command, Output};
use support::{Reply, Server};

const KEY: &str = "secret-cli-key";
const SPECS: &str = include_str!("../../../examples/specs.json");

fn repo(rel: &str) -> String {
    format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn gatehouse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env_remove("GATEHOUSE_SDK_KEY")
        .env_remove("GATEHOUSE_COUNTRY_TABLE")
        .output()
        .expect("run gatehouse")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "gatehouse failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn specs_server() -> Server {
    let server = Server::start();
    server.set(
        &format!("/v2/download_config_specs/{KEY}.json"),
        Reply::json(SPECS),
    );
    server.set("/v1/log_event", Reply::json(r#"{"success":true}"#));
    server
}

#[test]
fn specs_url_output_equals_specs_file_output_but_for_the_source() {
    let server = specs_server();
    let users = repo("examples/users.jsonl");
    let url = format!("{}/v2/download_config_specs", server.url());
    let from_url = stdout(&gatehouse(&[
        "eval",
        "--specs-url",
        &url,
        "--sdk-key",
        KEY,
        "--users",
        &users,
    ]));
    let from_file = stdout(&gatehouse(&[
        "eval",
        "--specs",
        &repo("examples/specs.json"),
        "--users",
        &users,
    ]));
    assert!(
        from_url.lines().count() > 300,
        "{}",
        from_url.lines().count()
    );
    assert!(from_url.contains("\"reason\":\"Network:Recognized"));
    assert!(!from_url.contains("Bootstrap:"));
    assert_eq!(from_url.replace("\"Network:", "\"Bootstrap:"), from_file);
    let request = &server.requests_to("/v2/download_config_specs/")[0];
    assert_eq!(request.header("STATSIG-API-KEY"), Some(KEY));
}

#[test]
fn exposures_reach_the_events_endpoint() {
    let server = specs_server();
    let users = repo("examples/users.jsonl");
    let url = format!("{}/v2/download_config_specs", server.url());
    let events_url = format!("{}/v1/log_event", server.url());
    let out = gatehouse(&[
        "eval",
        "--specs-url",
        &url,
        "--sdk-key",
        KEY,
        "--users",
        &users,
        "--only",
        "gate",
        "--log-exposures",
        "--events-url",
        &events_url,
    ]);
    let report = stdout(&out);
    let events: Vec<Value> = server
        .requests_to("/v1/log_event")
        .iter()
        .flat_map(|r| {
            r.body_json()["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    // The 12 example users have distinct identities: one exposure per line.
    assert_eq!(events.len(), report.lines().count());
    for (line, event) in report.lines().zip(&events) {
        let line: Value = serde_json::from_str(line).expect("report line");
        assert_eq!(event["eventName"], "statsig::gate_exposure");
        assert_eq!(event["metadata"]["gate"], line["name"]);
        assert_eq!(event["metadata"]["ruleID"], line["rule_id"]);
        assert_eq!(
            event["metadata"]["gateValue"],
            line["value"].as_bool().expect("bool").to_string()
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("events: {} sent, 0 dropped", events.len())),
        "{stderr}"
    );
}

#[test]
fn exposures_go_to_an_ndjson_file() {
    let dir = std::env::temp_dir().join(format!("gatehouse-cli-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("events.ndjson");
    let _ = std::fs::remove_file(&file);
    let out = gatehouse(&[
        "eval",
        "--log-exposures",
        "--events-file",
        file.to_str().expect("utf-8 path"),
    ]);
    let report = stdout(&out);
    let text = std::fs::read_to_string(&file).expect("events file");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    let gates = report
        .lines()
        .filter(|l| l.contains("\"kind\":\"gate\""))
        .count();
    let gate_events = events
        .iter()
        .filter(|e| e["eventName"] == "statsig::gate_exposure")
        .count();
    assert_eq!(gate_events, gates);
    assert!(events
        .iter()
        .any(|e| e["eventName"] == "statsig::layer_exposure"));
    assert!(events
        .iter()
        .any(|e| e["eventName"] == "statsig::config_exposure"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pipeline_flags_are_checked() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["eval", "--specs-url", "http://127.0.0.1:9/x"],
            "--sdk-key",
        ),
        (&["eval", "--log-exposures"], "--events-file"),
        (&["eval", "--events-file", "/tmp/x"], "--log-exposures"),
        (
            &[
                "eval",
                "--specs",
                "a",
                "--specs-url",
                "http://b",
                "--sdk-key",
                "k",
            ],
            "not both",
        ),
    ];
    for (args, needle) in cases {
        let out = gatehouse(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    // An unreachable endpoint fails clearly, without printing the key.
    let out = gatehouse(&[
        "eval",
        "--specs-url",
        "http://127.0.0.1:9/v2/download_config_specs",
        "--sdk-key",
        KEY,
        "--users",
        &repo("examples/users.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(KEY), "{stderr}");
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
    // A missing specs file is named once; a specs file that does not parse
    // is named before the parse error.
    let missing = std::env::temp_dir().join("gatehouse-no-such-specs.json");
    let missing = missing.to_str().expect("UTF-8 temp dir");
    let out = gatehouse(&["eval", "--specs", missing, "--user", r#"{"userID":"1"}"#]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("gatehouse: {missing}: ")),
        "{stderr}"
    );
    assert_eq!(stderr.matches(missing).count(), 1, "{stderr}");
    let users = repo("examples/users.jsonl");
    let out = gatehouse(&["eval", "--specs", &users, "--user", r#"{"userID":"1"}"#]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("gatehouse: {users}: ")),
        "{stderr}"
    );
}

#[test]
fn a_closed_stdout_still_reports_lost_events() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let server = Server::start();
    server.set("/v1/log_event", Reply::status(500));
    let events_url = format!("{}/v1/log_event", server.url());
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "eval",
            "--log-exposures",
            "--events-url",
            &events_url,
            "--sdk-key",
            KEY,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("one line");
    // The reader goes away after one line, like `| head -1`.
    let out = child.wait_with_output().expect("wait");
    assert!(first.starts_with('{'), "{first}");
    assert_eq!(out.status.code(), Some(1), "lost events must fail the run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not be delivered") || stderr.contains("not delivered"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY), "{stderr}");
}

#[test]
fn a_users_file_with_a_byte_order_mark_is_read() {
    let dir = std::env::temp_dir().join(format!("gatehouse-cli-bom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let users = dir.join("users.jsonl");
    std::fs::write(&users, "\u{feff}{\"userID\":\"bom\"}\n").expect("write");
    let out = gatehouse(&[
        "eval",
        "--specs",
        &repo("examples/specs.json"),
        "--users",
        users.to_str().expect("utf-8"),
        "--only",
        "gate",
    ]);
    assert!(stdout(&out).lines().count() > 10);
    let _ = std::fs::remove_dir_all(&dir);
}
