//! Differential conformance on random payloads: gatehouse vs the reference on specs built by
//! `gatehouse_conformance::specgen` (every condition type × every operator, coercion edge cases,
//! nested gates, segments, holdouts, experiments, layers with delegation and new layer eval).
//!
//! For each seed in `GATEHOUSE_RANDOM_SEED..GATEHOUSE_RANDOM_SEED + GATEHOUSE_RANDOM_SPECS`
//! (defaults 0 and [`DEFAULT_SEEDS`]): one payload, 20–50 users (`specgen::users_for_payload`),
//! the reference's country table, ID list `random_id_list` filled with some of the users' ids,
//! and an environment that rotates with the seed (none, staging, production, development). The
//! two reports must be identical.
//!
//! On a mismatch the seed, the diff summary and a reproduction directory
//! (`target/random-specs-failure-<seed>/`: specs.json, users.jsonl, the ID list and the
//! commands) are printed. Reference panics are findings, not failures: the seed is skipped with a
//! note and counted. `GATEHOUSE_CONFORMANCE_REPORT_ONLY=1` prints mismatches without failing.
//!
//! ```sh
//! GATEHOUSE_RANDOM_SPECS=5000 cargo test -p gatehouse-conformance --release --test random_specs -- --nocapture
//! ```

use gatehouse_conformance::diff::{diff_reports, DiffSummary};
use gatehouse_conformance::fixtures::country_table;
use gatehouse_conformance::oracle::{oracle_report, OracleOptions};
use gatehouse_conformance::plan::entity_plan;
use gatehouse_conformance::specgen::{
    id_list_ids, random_payload, users_for_payload, SpecSize, CONDITION_TYPES, ID_LIST_NAME,
    OPERATORS,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Seeds per default run: sized so the test takes well under 60 s in `--release` on 2 busy
/// cores (see docs/CONFORMANCE.md, "Random specs").
const DEFAULT_SEEDS: u64 = 300;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        _ => default,
    }
}

fn report_only() -> bool {
    std::env::var_os("GATEHOUSE_CONFORMANCE_REPORT_ONLY").is_some_and(|v| v != "0")
}

fn environment_for(seed: u64) -> Option<&'static str> {
    match seed % 6 {
        0 => Some("staging"),
        1 => Some("production"),
        2 => Some("development"),
        _ => None,
    }
}

fn users_for_seed(seed: u64) -> usize {
    20 + (seed.wrapping_mul(7) % 31) as usize
}

/// The ID-list file for `ids`: one `+<first 8 chars of base64 SHA-256>` line each, then a
/// `-` (removal) line for every fifth id, with a few lines both parsers must skip or ignore
/// (a too-short line, a blank line, a line with another first character).
fn id_list_file(ids: &[String]) -> String {
    let key =
        |id: &String| String::from_utf8_lossy(&gatehouse_core::hash::id_list_key(id)).into_owned();
    let mut file: String = ids.iter().map(|id| format!("+{}\n", key(id))).collect();
    file.push_str("+\n\n#not-an-entry\n");
    for id in ids.iter().skip(3).step_by(5) {
        file.push_str(&format!("-{}\n", key(id)));
    }
    file
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            manifest.parent().unwrap_or(manifest).join("target")
        },
        PathBuf::from,
    )
}

/// Writes the inputs of a failing seed and returns the directory.
fn write_failure(
    seed: u64,
    specs: &Value,
    users: &[Value],
    list: &str,
    environment: Option<&str>,
    what: &str,
) -> PathBuf {
    let dir = target_dir().join(format!("random-specs-failure-{seed}"));
    let _ = std::fs::create_dir_all(&dir);
    let pretty = serde_json::to_string_pretty(specs).unwrap_or_else(|_| specs.to_string());
    let _ = std::fs::write(dir.join("specs.json"), pretty);
    let users_text: String = users.iter().map(|u| format!("{u}\n")).collect();
    let _ = std::fs::write(dir.join("users.jsonl"), users_text);
    let _ = std::fs::write(dir.join(ID_LIST_NAME), list);
    let env_flag = environment.map_or_else(String::new, |e| format!(" --environment {e}"));
    let d = dir.display();
    let commands = format!(
        "# seed {seed}: {what}\n\
         cargo run -p gatehouse-conformance --release --bin oracle-eval -- --specs {d}/specs.json \
         --users {d}/users.jsonl{env_flag} --id-list {ID_LIST_NAME}={d}/{ID_LIST_NAME} > {d}/oracle.jsonl\n\
         cargo run --release -p gatehouse-cli -- eval --specs {d}/specs.json --users {d}/users.jsonl\
         {env_flag} --id-list {ID_LIST_NAME}={d}/{ID_LIST_NAME} \
         --country-table $CARGO_HOME/registry/src/*/statsig-rust-0.24.0/resources/ip_supalite.table \
         > {d}/gatehouse.jsonl\n\
         diff {d}/oracle.jsonl {d}/gatehouse.jsonl\n"
    );
    let _ = std::fs::write(dir.join("REPRODUCE.sh"), commands);
    dir
}

/// What the oracle's results say about the generated conditions: per operator / condition type,
/// in how many (user, entity) lines a rule using it matched (so the condition passed) and in how
/// many a single-condition rule using it was evaluated and failed; plus the reasons seen.
#[derive(Default)]
struct Stats {
    passes: BTreeMap<String, (u64, u64)>,
    reasons: BTreeMap<String, u64>,
    /// Lines showing a feature: delegated layers, group names, secondary exposures, …
    features: BTreeMap<&'static str, u64>,
    gate_values: (u64, u64),
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for (k, (p, f)) in other.passes {
            let e = self.passes.entry(k).or_default();
            e.0 += p;
            e.1 += f;
        }
        for (k, n) in other.reasons {
            *self.reasons.entry(k).or_default() += n;
        }
        for (k, n) in other.features {
            *self.features.entry(k).or_default() += n;
        }
        self.gate_values.0 += other.gate_values.0;
        self.gate_values.1 += other.gate_values.1;
    }

    fn credit(&mut self, condition: Option<&Value>, passed: bool) {
        let Some(c) = condition else { return };
        let kind = c.get("type").and_then(Value::as_str).unwrap_or("?");
        let mut labels = vec![format!("type {kind}")];
        if let Some(op) = c.get("operator").and_then(Value::as_str) {
            if !matches!(kind, "public" | "pass_gate" | "fail_gate") {
                labels.push(format!("op {op}"));
            }
        }
        for label in labels {
            let e = self.passes.entry(label).or_default();
            if passed {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }

    /// Credits the conditions of the rules that `expected` shows were evaluated.
    fn tally(&mut self, payload: &Value, expected: &[String]) {
        let conditions = &payload["condition_map"];
        for line in expected {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let reason = v["details"]["reason"].as_str().unwrap_or("?");
            let reason = reason.strip_prefix("Bootstrap:").unwrap_or(reason);
            *self.reasons.entry(reason.to_string()).or_default() += 1;
            let kind = v["kind"].as_str().unwrap_or("");
            let features = [
                ("delegated layer", !v["allocated_experiment_name"].is_null()),
                ("group_name", !v["group_name"].is_null()),
                (
                    "is_user_in_experiment",
                    v["is_user_in_experiment"] == Value::Bool(true),
                ),
                (
                    "secondary_exposures",
                    v["secondary_exposures"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty()),
                ),
                (
                    "undelegated_secondary_exposures",
                    v["undelegated_secondary_exposures"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty()),
                ),
                ("parameter_rule_ids", v["parameter_rule_ids"].is_object()),
                ("config passed", v["passed"] == Value::Bool(true)),
            ];
            for (feature, present) in features {
                if present {
                    *self.features.entry(feature).or_default() += 1;
                }
            }
            if kind == "gate" {
                if v["value"] == Value::Bool(true) {
                    self.gate_values.0 += 1;
                } else {
                    self.gate_values.1 += 1;
                }
            }
            if !reason.starts_with("Recognized") || !v["allocated_experiment_name"].is_null() {
                continue;
            }
            let section = match kind {
                "gate" => "feature_gates",
                "layer" => "layer_configs",
                _ => "dynamic_configs",
            };
            let spec = &payload[section][v["name"].as_str().unwrap_or("")];
            if spec.get("useNewLayerEval") == Some(&Value::Bool(true)) {
                continue;
            }
            let Some(rules) = spec["rules"].as_array() else {
                continue;
            };
            let rule_id = v["rule_id"].as_str().unwrap_or("");
            let matching: Vec<usize> = (0..rules.len())
                .filter(|&i| rules[i]["id"] == rule_id)
                .collect();
            let matched = match (rule_id, matching.as_slice()) {
                ("default" | "disabled", []) => None,
                (_, [i]) => Some(*i),
                _ => continue,
            };
            let end = matched.map_or(rules.len(), |m| m + 1);
            for (i, rule) in rules[..end].iter().enumerate() {
                let keys = rule["conditions"].as_array().map_or(&[][..], Vec::as_slice);
                let passed = Some(i) == matched;
                if passed || keys.len() == 1 {
                    for key in keys {
                        self.credit(conditions.get(key.as_str().unwrap_or("")), passed);
                    }
                }
            }
        }
    }
}

enum Outcome {
    /// Lines compared, all identical.
    Agree(usize),
    /// The reference panicked (a finding, not a failure).
    OraclePanic(String),
    /// A mismatch or an error; the message says which.
    Fail { lines: usize, message: String },
}

fn run_seed(seed: u64, table: &[u8], stats: &mut Stats) -> Outcome {
    let payload = random_payload(seed, SpecSize::for_seed(seed));
    let specs = payload.to_string();
    let users = users_for_payload(&payload, seed, users_for_seed(seed));
    let list = id_list_file(&id_list_ids(&users, seed));
    let lists = vec![(ID_LIST_NAME.to_string(), list.clone())];
    let environment = environment_for(seed);
    let entities = match entity_plan(&payload) {
        Ok(plan) => plan.len(),
        Err(e) => {
            return Outcome::Fail {
                lines: 0,
                message: format!("seed {seed}: generator produced an invalid payload: {e}"),
            }
        }
    };

    let options = OracleOptions {
        environment: environment.map(str::to_string),
        id_lists: lists.clone(),
    };
    let expected = match oracle_report(&specs, &users, &options) {
        Ok(lines) => lines,
        Err(e) if e.contains("panicked") => {
            let dir = write_failure(seed, &payload, &users, &list, environment, &e);
            return Outcome::OraclePanic(format!("seed {seed}: {e} (inputs in {})", dir.display()));
        }
        Err(e) => {
            let dir = write_failure(seed, &payload, &users, &list, environment, &e);
            return Outcome::Fail {
                lines: 0,
                message: format!(
                    "seed {seed}: the reference refused the generated input (generator bug?): \
                     {e}\n  inputs: {}",
                    dir.display()
                ),
            };
        }
    };
    stats.tally(&payload, &expected);
    if expected.len() != users.len() * entities {
        return Outcome::Fail {
            lines: 0,
            message: format!(
                "seed {seed}: oracle printed {} lines for {} users x {entities} entities",
                expected.len(),
                users.len()
            ),
        };
    }
    let actual =
        match gatehouse_core::report::eval_report(&specs, &users, environment, Some(table), &lists)
        {
            Ok(lines) => lines,
            Err(e) => {
                let dir = write_failure(
                    seed,
                    &payload,
                    &users,
                    &list,
                    environment,
                    "gatehouse error",
                );
                return Outcome::Fail {
                    lines: expected.len(),
                    message: format!(
                        "seed {seed}: gatehouse failed: {e}\n  inputs: {}",
                        dir.display()
                    ),
                };
            }
        };
    let summary: DiffSummary = diff_reports(&expected, &actual, 8);
    if summary.is_identical() {
        return Outcome::Agree(expected.len());
    }
    let dir = write_failure(seed, &payload, &users, &list, environment, "reports differ");
    Outcome::Fail {
        lines: expected.len(),
        message: format!(
            "seed {seed} (environment {environment:?}, {} users x {entities} entities): \
             gatehouse disagrees with the reference\n  inputs: {}\n{summary}",
            users.len(),
            dir.display()
        ),
    }
}

#[test]
fn random_specs_agree_with_the_reference() {
    let start = env_u64("GATEHOUSE_RANDOM_SEED", 0);
    let count = env_u64("GATEHOUSE_RANDOM_SPECS", DEFAULT_SEEDS);
    let table = country_table().unwrap_or_else(|e| panic!("{e}"));
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);

    let t = Instant::now();
    let next = AtomicU64::new(start);
    let end = start.saturating_add(count);
    let results: Mutex<Vec<(u64, Outcome)>> = Mutex::new(Vec::new());
    let stats = Mutex::new(Stats::default());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::SeqCst);
                if seed >= end {
                    break;
                }
                let mut seed_stats = Stats::default();
                let outcome = run_seed(seed, &table, &mut seed_stats);
                stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .merge(seed_stats);
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((seed, outcome));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(seed, _)| *seed);

    let (mut lines, mut agreeing, mut panics, mut failures) =
        (0usize, 0usize, Vec::new(), Vec::new());
    for (_, outcome) in results {
        match outcome {
            Outcome::Agree(n) => {
                lines += n;
                agreeing += n;
            }
            Outcome::OraclePanic(note) => panics.push(note),
            Outcome::Fail { lines: n, message } => {
                lines += n;
                failures.push(message);
            }
        }
    }
    let stats = stats.into_inner().unwrap_or_else(|p| p.into_inner());
    eprintln!(
        "oracle results: gates true {} / false {}; reasons {:?}; lines with {:?}",
        stats.gate_values.0, stats.gate_values.1, stats.reasons, stats.features
    );
    eprintln!("condition outcomes (lines where it passed / failed as a rule's only condition):");
    for (label, (p, f)) in &stats.passes {
        eprintln!("  {label:<32} {p:>8} {f:>8}");
    }
    // Guard against generator regressions: on a full default run every operator and every
    // condition type must both pass and fail somewhere.
    let mut never = Vec::new();
    if count >= DEFAULT_SEEDS {
        let labels = OPERATORS
            .iter()
            .map(|op| format!("op {op}"))
            .chain(CONDITION_TYPES.iter().map(|t| format!("type {t}")));
        for label in labels {
            let (p, f) = stats.passes.get(&label).copied().unwrap_or_default();
            // `public` cannot fail.
            if p == 0 || (f == 0 && label != "type public") {
                never.push(format!("{label} (passed {p}, failed {f})"));
            }
        }
    }
    for note in &panics {
        eprintln!("note: reference panic, seed skipped: {note}");
    }
    eprintln!(
        "random specs: seeds {start}..{end}: {} agreeing seeds, {} failing, {} skipped \
         (reference panics); {lines} lines compared, {agreeing} in agreeing seeds; {:.1} s \
         on {threads} threads",
        count as usize - failures.len() - panics.len(),
        failures.len(),
        panics.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(
        never.is_empty(),
        "the generator no longer exercises both outcomes of: {never:?}"
    );
    if !failures.is_empty() {
        let message = format!(
            "{} of {count} random payloads disagree:\n{}",
            failures.len(),
            failures.join("\n")
        );
        if report_only() {
            eprintln!("{message}");
        } else {
            panic!("{message}");
        }
    }
}
