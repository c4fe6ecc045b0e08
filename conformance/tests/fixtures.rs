//! Differential conformance: gatehouse vs the reference on the reference's own fixtures.
//!
//! For every dcs-v2 fixture of `statsig-rust-0.24.0/tests/data/` that the reference accepts,
//! users are generated from the fixture's own target values (1,000; 50 for the 9 MB
//! perf_proj_dcs.json) and split into four runs: no environment (55%), then `staging`,
//! `development` and `production` (15% each). Every run passes the reference's
//! `company_id_list` as ID list `company_id_list` (the list eval_proj_dcs.json's
//! `in_segment_list` condition names) and gatehouse gets the reference's country table. The two
//! reports must be identical.
//!
//! Set `GATEHOUSE_CONFORMANCE_REPORT_ONLY=1` to print the agreement summaries without failing.
//! Run with `--nocapture` to see per-fixture timings.

use gatehouse_conformance::diff::{diff_reports, DiffSummary};
use gatehouse_conformance::fixtures::{country_table, read_data_file, reference_data_dir};
use gatehouse_conformance::oracle::{oracle_report, OracleOptions};
use gatehouse_conformance::plan::entity_plan;
use gatehouse_conformance::users::{generate_users_for_specs, malformed_ip_users};
use serde_json::Value;
use std::time::Instant;

/// Fixtures the reference accepts, with the number of generated users.
const FIXTURES: &[(&str, usize)] = &[
    ("eval_proj_dcs.json", 1000),
    ("demo_proj_dcs.json", 1000),
    ("check_gate_perf_dcs.json", 1000),
    ("perf_proj_dcs.json", 50),
    ("big_number_dcs.json", 1000),
    ("shared_dict_original_dcs.json", 1000),
    ("dcs_cmab_exposure_rule_id.json", 1000),
    ("dcs_missing_gates.json", 1000),
    ("dcs_non_case_sensitive.json", 1000),
    ("dcs_target_app_filtering.json", 1000),
    ("dcs_target_app_filtering_hashed_keys.json", 1000),
    ("dcs_user_agent_versions.json", 1000),
    ("dcs_with_analytical_exposure_sampling.json", 1000),
    ("dcs_with_checksum.json", 1000),
    ("dcs_with_sampling.json", 1000),
    ("dcs_with_sdk_configs.json", 1000),
];

/// `tests/data/*.json` files that are not dcs-v2 payloads the reference accepts.
const NOT_SPECS: &[&str] = &[
    "dcs_error.json",
    "get_id_lists.json",
    "shared_dict_dict_only.json",
    "shared_dict_response_uncompressed.json",
    "shared_dict_response_with_dict.json",
    "shared_dict_response_without_dict.json",
    "ua_string_cases.json",
];

/// (environment, share of the users in percent).
const ENVIRONMENT_SPLIT: &[(Option<&str>, usize)] = &[
    (None, 55),
    (Some("staging"), 15),
    (Some("development"), 15),
    (Some("production"), 15),
];

fn report_only() -> bool {
    std::env::var_os("GATEHOUSE_CONFORMANCE_REPORT_ONLY").is_some_and(|v| v != "0")
}

fn id_lists() -> Vec<(String, String)> {
    let list = read_data_file("company_id_list").expect("company_id_list");
    vec![("company_id_list".to_string(), list)]
}

/// Seeds differ per fixture so the same user set is not reused everywhere.
fn seed_for(file: &str) -> u64 {
    file.bytes().fold(0xC0FF_EE00_u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

fn run_fixture(file: &str, n_users: usize) {
    let specs = read_data_file(file).unwrap_or_else(|e| panic!("{e}"));
    let table = country_table().unwrap_or_else(|e| panic!("{e}"));
    let lists = id_lists();
    let entities = entity_plan(&serde_json::from_str::<Value>(&specs).expect("fixture JSON"))
        .expect("fixture plan")
        .len();
    let seed = seed_for(file);
    let users = generate_users_for_specs(&specs, seed, n_users);

    let mut total = DiffSummary::default();
    let mut failures = Vec::new();
    let (mut oracle_ms, mut gatehouse_ms) = (0.0, 0.0);
    let mut start_user = 0;
    for (i, (environment, percent)) in ENVIRONMENT_SPLIT.iter().enumerate() {
        let end_user = if i + 1 == ENVIRONMENT_SPLIT.len() {
            n_users
        } else {
            (start_user + n_users * percent / 100).min(n_users)
        };
        let chunk = &users[start_user..end_user];
        start_user = end_user;
        if chunk.is_empty() {
            continue;
        }

        let options = OracleOptions {
            environment: environment.map(str::to_string),
            id_lists: lists.clone(),
        };
        let t = Instant::now();
        let expected = oracle_report(&specs, chunk, &options)
            .unwrap_or_else(|e| panic!("{file}: the oracle failed: {e}"));
        oracle_ms += t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(
            expected.len(),
            chunk.len() * entities,
            "{file}: oracle line count"
        );

        let t = Instant::now();
        let actual =
            gatehouse_core::report::eval_report(&specs, chunk, *environment, Some(&table), &lists)
                .unwrap_or_else(|e| panic!("{file}: gatehouse failed: {e}"));
        gatehouse_ms += t.elapsed().as_secs_f64() * 1000.0;

        // user_index restarts at 0 in every chunk on both sides.
        let summary = diff_reports(&expected, &actual, 15);
        if !summary.is_identical() {
            failures.push(format!(
                "-- environment {environment:?} (users {}..{}):\n{summary}",
                end_user - chunk.len(),
                end_user
            ));
        }
        total.expected_lines += summary.expected_lines;
        total.actual_lines += summary.actual_lines;
        total.equal_lines += summary.equal_lines;
        total.total_differences += summary.total_differences;
        for (field, n) in summary.field_mismatches {
            *total.field_mismatches.entry(field).or_default() += n;
        }
    }

    eprintln!(
        "{file}: {n_users} users (seed {seed}) x {entities} entities: agreement {}/{} lines; \
         oracle {oracle_ms:.0} ms, gatehouse {gatehouse_ms:.0} ms",
        total.equal_lines, total.expected_lines
    );
    if !failures.is_empty() {
        let message = format!(
            "{file}: gatehouse disagrees with the reference on {} of {} lines \
             (users: gen-users --specs {file} --seed {seed} --count {n_users}; \
             mismatches per field: {:?})\n{}",
            total.expected_lines - total.equal_lines,
            total.expected_lines,
            total.field_mismatches,
            failures.join("\n")
        );
        if report_only() {
            eprintln!("{message}");
        } else {
            panic!("{message}");
        }
    }
}

macro_rules! fixture_tests {
    ($($test:ident => $index:expr,)*) => {$(
        #[test]
        fn $test() {
            let (file, users) = FIXTURES[$index];
            run_fixture(file, users);
        }
    )*};
}

fixture_tests! {
    eval_proj => 0,
    demo_proj => 1,
    check_gate_perf => 2,
    perf_proj => 3,
    big_number => 4,
    shared_dict_original => 5,
    cmab_exposure_rule_id => 6,
    missing_gates => 7,
    non_case_sensitive => 8,
    target_app_filtering => 9,
    target_app_filtering_hashed_keys => 10,
    user_agent_versions => 11,
    analytical_exposure_sampling => 12,
    with_checksum => 13,
    with_sampling => 14,
    with_sdk_configs => 15,
}

/// Every JSON fixture is either compared above or known not to be a dcs-v2 payload the
/// reference accepts, so new fixtures in a future reference cannot be skipped silently.
#[test]
fn every_fixture_is_classified() {
    let dir = reference_data_dir().expect("reference data dir");
    let mut unclassified = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("read tests/data") {
        let name = entry.expect("dir entry").file_name();
        let name = name.to_string_lossy();
        if !name.ends_with(".json") {
            continue;
        }
        let known = FIXTURES.iter().any(|(f, _)| *f == name) || NOT_SPECS.contains(&&*name);
        if !known {
            unclassified.push(name.to_string());
        }
    }
    assert!(
        unclassified.is_empty(),
        "unclassified fixtures: {unclassified:?}"
    );

    for file in NOT_SPECS {
        let text = read_data_file(file).expect("fixture");
        assert!(
            oracle_report(&text, &[], &OracleOptions::default()).is_err(),
            "{file} is accepted by the reference: move it to FIXTURES"
        );
    }
}

/// Gatehouse-only: IPs that panic the reference must not panic gatehouse.
#[test]
fn gatehouse_survives_malformed_ips() {
    let specs = read_data_file("eval_proj_dcs.json").expect("eval_proj_dcs.json");
    let table = country_table().expect("country table");
    let users = malformed_ip_users();
    let entities = entity_plan(&serde_json::from_str::<Value>(&specs).expect("json"))
        .expect("plan")
        .len();
    let lines = gatehouse_core::report::eval_report(&specs, &users, None, Some(&table), &[])
        .expect("gatehouse evaluates users with malformed IPs");
    let message = format!(
        "gatehouse printed {} lines for {} users x {entities} entities",
        lines.len(),
        users.len()
    );
    if report_only() {
        eprintln!("{message}");
    } else {
        assert_eq!(lines.len(), users.len() * entities, "{message}");
    }
    // test_country is `ip_based country any ["US","CA"]`: a malformed IP has
    // no country, so users with only an IP fail it (docs/CONFORMANCE.md).
    for line in &lines {
        let v: Value = serde_json::from_str(line).expect("line parses");
        if v["name"] == "test_country" && v["user_index"].as_u64().is_some_and(|i| i % 3 == 0) {
            assert_eq!(v["value"], Value::Bool(false), "{line}");
            assert_eq!(v["rule_id"], "default", "{line}");
        }
    }
}
