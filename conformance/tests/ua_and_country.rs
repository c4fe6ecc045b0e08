//! UA parsing and IP → country lookup against the reference's own data.
//!
//! Reads the files of the `statsig-rust` 0.24.0 package in the cargo registry
//! (found at run time under `$CARGO_HOME/registry/src/*/`):
//!
//! * `tests/data/ua_string_cases.json`: 20 UAs with all four expected fields;
//! * `tests/data/test_must_pass_user_agents.txt`: 227 UAs whose OS family and
//!   browser family must match (dcs-semantics §12.2; `None` = `Other`);
//! * `tests/data/test_user_agents.txt`: 11 127 UAs, all four fields compared
//!   with the reference parser itself (public as
//!   `statsig_rust::evaluation::user_agent_parsing::statsig_uaparser`);
//! * `resources/ip_supalite.table`: the §7.1 lookup vectors.

use std::path::{Path, PathBuf};

use gatehouse_core::country::CountryTable;
use gatehouse_core::ua::{parse_user_agent, UserAgentInfo};
use statsig_rust::evaluation::user_agent_parsing::statsig_uaparser::UaParser;

const REFERENCE_PACKAGE: &str = "statsig-rust-0.24.0";

/// The unpacked reference package: `$CARGO_HOME/registry/src/<index>/statsig-rust-0.24.0`
/// (`CARGO_HOME` defaults to `~/.cargo`).
fn reference_dir() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let registry = cargo_home.join("registry").join("src");
    let entries = std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", registry.display()));
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path().join(REFERENCE_PACKAGE))
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .collect();
    found.sort();
    found.into_iter().next().unwrap_or_else(|| {
        panic!(
            "{REFERENCE_PACKAGE} not found under {}/*/",
            registry.display()
        )
    })
}

fn read_reference(relative: &str) -> String {
    let path = reference_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn fields(info: &UserAgentInfo) -> [&str; 4] {
    [
        &info.os_name,
        &info.os_version,
        &info.browser_name,
        &info.browser_version,
    ]
}

/// Rows of a `UserAgent|OsFamily|OsMajor|…|BrowserFamily|…` file: (UA, OS family, browser family).
fn pipe_rows(text: &str) -> Vec<(&str, &str, &str)> {
    let mut lines = text.lines();
    let header = lines.next().expect("empty file");
    assert!(
        header.starts_with("UserAgent|OsFamily|"),
        "unexpected header {header:?}"
    );
    lines
        .filter(|line| !line.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('|').collect();
            assert_eq!(cols.len(), 11, "bad row {line:?}");
            (cols[0], cols[1], cols[6])
        })
        .collect()
}

fn family(expected: &str) -> &str {
    if expected == "None" {
        "Other"
    } else {
        expected
    }
}

#[test]
fn ua_string_cases_all_four_fields() {
    let text = read_reference("tests/data/ua_string_cases.json");
    let cases: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("ua_string_cases.json is a JSON object");
    assert_eq!(cases.len(), 20);
    let mut failures = Vec::new();
    for (ua, expected) in &cases {
        let want = ["osName", "osVersion", "browserName", "browserVersion"].map(|key| {
            expected[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} of {ua:?}"))
        });
        let info = parse_user_agent(ua);
        if fields(&info) != want {
            failures.push(format!("{ua}\n  want {want:?}\n  got  {:?}", fields(&info)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 20 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn must_pass_user_agents_os_and_browser_family() {
    let text = read_reference("tests/data/test_must_pass_user_agents.txt");
    let rows = pipe_rows(&text);
    assert_eq!(rows.len(), 227);
    let mut failures = Vec::new();
    for (ua, os, browser) in rows {
        let info = parse_user_agent(ua);
        let want = [family(os), family(browser)];
        let got = [info.os_name.as_str(), info.browser_name.as_str()];
        if got != want {
            failures.push(format!("{ua}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 227 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn all_test_user_agents_match_the_reference_parser() {
    let text = read_reference("tests/data/test_user_agents.txt");
    let rows = pipe_rows(&text);
    assert_eq!(rows.len(), 11_127);
    let mut failures = Vec::new();
    for (ua, _, _) in rows {
        let os = UaParser::parse_os(ua);
        let browser = UaParser::parse_browser(ua);
        let zero = || "0.0.0".to_string();
        let want = [
            os.name.to_string(),
            os.version.get_version_string().unwrap_or_else(zero),
            browser.name.to_string(),
            browser.version.get_version_string().unwrap_or_else(zero),
        ];
        let info = parse_user_agent(ua);
        if fields(&info) != want.each_ref().map(String::as_str) {
            failures.push(format!("{ua}\n  want {want:?}\n  got  {:?}", fields(&info)));
        }
    }
    let shown: Vec<&String> = failures.iter().take(20).collect();
    assert!(
        failures.is_empty(),
        "{} of 11127 differ; first ones:\n{shown:#?}",
        failures.len()
    );
}

#[test]
fn reference_country_table_vectors() {
    let path = reference_dir().join("resources").join("ip_supalite.table");
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert_eq!(bytes.len(), 417_307);
    let table = CountryTable::parse(&bytes).expect("the reference table parses");
    assert_eq!(table.len(), 198_578);
    assert_eq!(table.lookup("1.0.0.0"), Some("US"));
    assert_eq!(table.lookup("8.8.8.8"), Some("US"));
    assert_eq!(table.lookup("81.2.69.142"), Some("GB"));
    assert_eq!(table.lookup("127.0.0.1"), None);
    assert_eq!(table.lookup("0.0.0.0"), None);
    // Malformed input: the reference panics on the first; we answer None.
    for ip in [
        "999.1.1.1",
        "1.2.3",
        "a.b.c.d",
        "::1",
        "1.2.3.4.5",
        "-1.0.0.0",
        "",
    ] {
        assert_eq!(table.lookup(ip), None, "{ip:?}");
    }
}
