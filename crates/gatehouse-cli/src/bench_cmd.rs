//! `gatehouse bench`: evaluation throughput with exposure logging off.
//!
//! Gates are measured through `check_gate` (the value only, as a check
//! with exposure logging off needs), other kinds through `evaluate` (the
//! full result). Each thread runs the same loop over (user, entity) pairs: call `i` uses
//! user `(i + offset) % users` and entity `i % entities`, where `offset`
//! differs per thread so that threads do not walk in lockstep. Every run is
//! timed per thread; the medians over runs are printed as one JSON line per
//! thread count.

use crate::args::Flags;
use crate::CliError;
use gatehouse_core::report::{canonical, environment_map, now_ms};
use gatehouse_core::{check_gate, evaluate, parse_specs, EvalEnv, Kind, Snapshot, User};
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

/// More threads than this measure the scheduler, not gatehouse.
const MAX_THREADS: usize = 256;

const FLAGS: &[&str] = &[
    "specs",
    "users",
    "threads",
    "calls",
    "runs",
    "kind",
    "environment",
];

pub fn run(args: &[String]) -> Result<(), CliError> {
    let flags = Flags::parse(args, FLAGS)?;
    let specs_path = flags
        .one("specs")?
        .ok_or_else(|| CliError::Usage("`bench` needs `--specs FILE`".into()))?;
    let text = std::fs::read_to_string(specs_path)
        .map_err(|e| CliError::Failed(format!("cannot read {specs_path}: {e}")))?;
    let snapshot =
        parse_specs(&text).map_err(|e| CliError::Failed(format!("{specs_path}: {e}")))?;
    let users = load_users(flags.one("users")?.unwrap_or("1000"))?;
    let threads = parse_list(flags.one("threads")?.unwrap_or("1,2"), "threads")?;
    if let Some(t) = threads.iter().find(|&&t| t > MAX_THREADS) {
        return Err(CliError::Usage(format!(
            "`--threads`: {t} is more than {MAX_THREADS}"
        )));
    }
    let calls = parse_num(flags.one("calls")?.unwrap_or("1000000"), "calls")?;
    let runs = parse_num(flags.one("runs")?.unwrap_or("3"), "runs")?;
    let kind = match flags.one("kind")?.unwrap_or("gate") {
        "gate" => Kind::Gate,
        "config" => Kind::Config,
        "experiment" => Kind::Experiment,
        "layer" => Kind::Layer,
        other => return Err(CliError::Usage(format!("`--kind`: unknown kind `{other}`"))),
    };
    let names = snapshot.names(kind);
    if names.is_empty() {
        return Err(CliError::Failed(format!(
            "{specs_path}: no {} entities",
            kind.as_str()
        )));
    }
    let env_map = environment_map(&snapshot, flags.one("environment")?);
    let env = EvalEnv {
        environment: env_map.as_ref(),
        country: None,
        id_lists: None,
        now_ms: now_ms(),
        overrides: None,
    };
    for &t in &threads {
        let mut per_call_ns = Vec::new();
        let mut aggregate = Vec::new();
        for _ in 0..runs {
            let times = run_once(&snapshot, &users, kind, &names, &env, t, calls)?;
            let mean_ns = times.iter().sum::<f64>() / times.len() as f64 / calls as f64;
            let wall = times.iter().cloned().fold(0.0, f64::max);
            per_call_ns.push(mean_ns);
            aggregate.push((t * calls) as f64 / wall * 1e3);
        }
        let line = json!({
            "threads": t,
            "kind": kind.as_str(),
            "users": users.len(),
            "entities": names.len(),
            "calls_per_thread": calls,
            "runs": runs,
            "median_per_thread_ns_per_call": round2(median(&mut per_call_ns)),
            "median_aggregate_mcalls_per_s": round2(median(&mut aggregate)),
        });
        crate::print_out(&format!("{}\n", canonical(&line)))?;
    }
    Ok(())
}

/// One timed run on `threads` threads; each thread's elapsed ns.
///
/// Threads wait on a barrier that every spawned thread reaches; if a thread
/// cannot be spawned, the ones already started are released and the run
/// fails with an error instead of waiting forever.
fn run_once(
    snapshot: &Snapshot,
    users: &[User],
    kind: Kind,
    names: &[&str],
    env: &EvalEnv<'_>,
    threads: usize,
    calls: usize,
) -> Result<Vec<f64>, CliError> {
    let go = std::sync::RwLock::new(());
    let start_gate = go
        .write()
        .map_err(|_| CliError::Failed("bench: lock poisoned".into()))?;
    std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(threads);
        let mut spawn_error = None;
        for t in 0..threads {
            let go = &go;
            let spawned = std::thread::Builder::new().spawn_scoped(s, move || {
                let offset = t * 7919;
                // Start together: every worker blocks until the gate opens.
                drop(go.read());
                let start = Instant::now();
                for i in 0..calls {
                    let user = &users[(i + offset) % users.len()];
                    let name = names[i % names.len()];
                    if kind == Kind::Gate {
                        black_box(check_gate(snapshot, user, name, env));
                    } else {
                        black_box(evaluate(snapshot, user, kind, name, env));
                    }
                }
                start.elapsed().as_nanos() as f64
            });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    spawn_error = Some(e);
                    break;
                }
            }
        }
        drop(start_gate);
        let times: Vec<f64> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or(0.0))
            .collect();
        match spawn_error {
            Some(e) => Err(CliError::Failed(format!(
                "bench: could not start thread {} of {threads}: {e}",
                times.len() + 1
            ))),
            None => Ok(times),
        }
    })
}

/// `N` generates N users; anything else is a JSON-lines file.
fn load_users(arg: &str) -> Result<Vec<User>, CliError> {
    if let Ok(n) = arg.parse::<usize>() {
        if n == 0 {
            return Err(CliError::Usage("`--users` must be at least 1".into()));
        }
        return Ok((0..n).map(synthetic_user).collect());
    }
    let text = std::fs::read_to_string(arg)
        .map_err(|e| CliError::Failed(format!("cannot read {arg}: {e}")))?;
    let mut users = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        users.push(
            User::from_json_str(line)
                .map_err(|e| CliError::Failed(format!("{arg}: line {}: {e}", i + 1)))?,
        );
    }
    if users.is_empty() {
        return Err(CliError::Failed(format!("{arg}: no users")));
    }
    Ok(users)
}

/// A deterministic, varied user: the same N users in every run and tool.
pub fn synthetic_user(i: usize) -> User {
    let browsers = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    ];
    let countries = ["US", "GB", "DE", "IN", "BR", "JP"];
    let user = json!({
        "userID": format!("user_{i}"),
        "email": format!("user{i}@{}", if i % 5 == 0 { "statsig.com" } else { "example.com" }),
        "country": countries[i % countries.len()],
        "appVersion": format!("1.{}.{}", i % 4, i % 10),
        "userAgent": browsers[i % browsers.len()],
        "ip": format!("{}.{}.{}.{}", 1 + i % 200, (i / 7) % 256, (i / 13) % 256, i % 251),
        "locale": if i % 2 == 0 { "en_US" } else { "de_DE" },
        "customIDs": {"companyID": format!("company_{}", i % 50), "stableID": format!("stable-{i}")},
        "custom": {"level": i % 12, "tier": if i % 3 == 0 { "premium" } else { "free" }},
    });
    // Invariant: the object above has only valid field types.
    User::from_json(&user).unwrap_or_default()
}

fn parse_num(s: &str, what: &str) -> Result<usize, CliError> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(CliError::Usage(format!(
            "`--{what}` must be a positive integer, got `{s}`"
        ))),
    }
}

fn parse_list(s: &str, what: &str) -> Result<Vec<usize>, CliError> {
    s.split(',').map(|p| parse_num(p.trim(), what)).collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
