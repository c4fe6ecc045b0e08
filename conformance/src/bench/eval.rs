//! Evaluation throughput, gatehouse vs the reference, same specs, users and loop.
//!
//! Call `i` of thread `t` uses user `(i + 7919 t) % N` and entity `i % E` (the entities of the
//! kind, sorted by name). Gates: gatehouse `check_gate` vs `check_gate_with_options`; experiments
//! and layers: gatehouse `evaluate` vs `get_experiment_with_options` / `get_layer_with_options`;
//! exposure logging off on the reference. Runs alternate reference, gatehouse, reference, …

use super::{median, print_json, round2, Args};
use gatehouse_conformance::fixtures::country_table;
use gatehouse_conformance::oracle::{oracle_instance, user_from_json, OracleOptions};
use gatehouse_conformance::plan::{self, entity_plan};
use gatehouse_conformance::users::generate_users_for_specs;
use gatehouse_core::country::CountryTable;
use gatehouse_core::report::{environment_map, now_ms};
use gatehouse_core::{check_gate, evaluate, parse_specs, EvalEnv, IdLists, Kind, User};
use serde_json::{json, Value};
use statsig_rust::{
    ExperimentEvaluationOptions, FeatureGateEvaluationOptions, LayerEvaluationOptions, Statsig,
    StatsigUser,
};
use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

/// Pairs checked for equal results before anything is timed.
const GUARD_PAIRS: usize = 200;
/// Per-thread offset into the users, so that threads do not walk in lockstep.
const THREAD_OFFSET: usize = 7919;

pub fn run(args: &Args) -> Result<(), String> {
    let text = args.read_specs()?;
    let (kind, plan_kind) = match args.kind.as_str() {
        "gate" => (Kind::Gate, plan::Kind::Gate),
        "experiment" => (Kind::Experiment, plan::Kind::Experiment),
        "layer" => (Kind::Layer, plan::Kind::Layer),
        other => {
            return Err(format!(
                "--kind: expected gate|experiment|layer, got {other:?}"
            ))
        }
    };
    let specs_value: Value =
        serde_json::from_str(&text).map_err(|e| format!("specs: invalid JSON: {e}"))?;
    let names: Vec<String> = entity_plan(&specs_value)?
        .into_iter()
        .filter(|p| p.kind == plan_kind)
        .map(|p| p.name)
        .collect();
    drop(specs_value);
    if names.is_empty() {
        return Err(format!("the specs have no {} entities", args.kind));
    }

    // gatehouse: the snapshot and the environment `gatehouse eval` would use (country table on,
    // no ID lists, the payload's default environment).
    let snapshot = parse_specs(&text).map_err(|e| format!("gatehouse: {e}"))?;
    let country = CountryTable::parse(&country_table()?).map_err(|e| e.to_string())?;
    let id_lists = IdLists::new();
    let env_map = environment_map(&snapshot, None);
    let env = EvalEnv {
        environment: env_map.as_ref(),
        country: Some(&country),
        id_lists: Some(&id_lists),
        now_ms: now_ms(),
        overrides: None,
    };

    // The same users for both, built once.
    let users_json = generate_users_for_specs(&text, args.seed, args.users);
    let gh_users = users_json
        .iter()
        .map(|u| User::from_json(u).map_err(|e| format!("gatehouse user: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let ref_users = users_json
        .iter()
        .map(user_from_json)
        .collect::<Result<Vec<_>, _>>()?;

    let oracle = oracle_instance(&text, &OracleOptions::default())?;
    let statsig: &Statsig = oracle.statsig();
    let result = (|| {
        let reference =
            |u: usize, e: usize| reference_call(statsig, kind, &ref_users[u], &names[e]);
        let gatehouse = |u: usize, e: usize| {
            let user = &gh_users[u];
            match kind {
                Kind::Gate => GateOrRule::Gate(check_gate(&snapshot, user, &names[e], &env)),
                _ => GateOrRule::Rule(
                    evaluate(&snapshot, user, kind, &names[e], &env)
                        .rule_id
                        .into(),
                ),
            }
        };
        guard(&reference, &gatehouse, args.users, names.len())?;

        let runs = args.runs.unwrap_or(3);
        let mut rows = Vec::new();
        for &threads in &args.threads {
            let (mut r_ns, mut g_ns, mut r_agg, mut g_agg) = (vec![], vec![], vec![], vec![]);
            for _ in 0..runs {
                for (engine, ns, agg) in [(0, &mut r_ns, &mut r_agg), (1, &mut g_ns, &mut g_agg)] {
                    let times = if engine == 0 {
                        timed(threads, args.calls, args.users, names.len(), |u, e| {
                            reference_timed(statsig, kind, &ref_users[u], &names[e])
                        })
                    } else {
                        timed(threads, args.calls, args.users, names.len(), |u, e| {
                            let user = &gh_users[u];
                            if kind == Kind::Gate {
                                black_box(check_gate(&snapshot, user, &names[e], &env));
                            } else {
                                black_box(evaluate(&snapshot, user, kind, &names[e], &env));
                            }
                        })
                    };
                    let wall = times.iter().copied().fold(0.0, f64::max);
                    ns.push(times.iter().sum::<f64>() / times.len() as f64 / args.calls as f64);
                    agg.push((threads * args.calls) as f64 / wall * 1e3);
                }
            }
            rows.push((
                threads,
                median(&r_ns),
                median(&g_ns),
                median(&r_agg),
                median(&g_agg),
            ));
        }
        let one = rows.iter().find(|r| r.0 == 1).copied();
        for (threads, r_ns, g_ns, r_agg, g_agg) in rows {
            let mut line = json!({
                "threads": threads,
                "kind": args.kind,
                "users": args.users,
                "entities": names.len(),
                "calls_per_thread": args.calls,
                "runs": runs,
                "reference_ns_per_call": round2(r_ns),
                "gatehouse_ns_per_call": round2(g_ns),
                "ratio": (g_ns / r_ns * 1e4).round() / 1e4,
                "reference_mcalls_per_s": round2(r_agg),
                "gatehouse_mcalls_per_s": round2(g_agg),
            });
            if let Some((_, _, _, r1, g1)) = one {
                line["gatehouse_scaling"] = json!(round2(g_agg / g1));
                line["reference_scaling"] = json!(round2(r_agg / r1));
            }
            print_json(&line);
        }
        Ok(())
    })();
    oracle.shutdown();
    result
}

#[derive(Debug, PartialEq, Eq)]
enum GateOrRule {
    Gate(bool),
    Rule(String),
}

fn reference_call(statsig: &Statsig, kind: Kind, user: &StatsigUser, name: &str) -> GateOrRule {
    match kind {
        Kind::Gate => GateOrRule::Gate(statsig.check_gate_with_options(user, name, GATE_OPTS)),
        Kind::Experiment => GateOrRule::Rule(
            statsig
                .get_experiment_with_options(user, name, experiment_opts())
                .rule_id,
        ),
        _ => GateOrRule::Rule(
            statsig
                .get_layer_with_options(user, name, layer_opts())
                .rule_id,
        ),
    }
}

/// The timed reference call: the result is only `black_box`ed, never inspected.
#[inline(always)]
fn reference_timed(statsig: &Statsig, kind: Kind, user: &StatsigUser, name: &str) {
    match kind {
        Kind::Gate => {
            black_box(statsig.check_gate_with_options(user, name, GATE_OPTS));
        }
        Kind::Experiment => {
            black_box(statsig.get_experiment_with_options(user, name, experiment_opts()));
        }
        _ => {
            black_box(statsig.get_layer_with_options(user, name, layer_opts()));
        }
    }
}

const GATE_OPTS: FeatureGateEvaluationOptions = FeatureGateEvaluationOptions {
    disable_exposure_logging: true,
};

fn experiment_opts() -> ExperimentEvaluationOptions {
    ExperimentEvaluationOptions {
        disable_exposure_logging: true,
        ..ExperimentEvaluationOptions::default()
    }
}

fn layer_opts() -> LayerEvaluationOptions {
    LayerEvaluationOptions {
        disable_exposure_logging: true,
        ..LayerEvaluationOptions::default()
    }
}

/// The first [`GUARD_PAIRS`] (user, entity) pairs of thread 0's loop give the same gate value /
/// rule id on both engines.
fn guard(
    reference: &impl Fn(usize, usize) -> GateOrRule,
    gatehouse: &impl Fn(usize, usize) -> GateOrRule,
    users: usize,
    entities: usize,
) -> Result<(), String> {
    let mismatches: Vec<String> = (0..GUARD_PAIRS)
        .filter_map(|i| {
            let (u, e) = (i % users, i % entities);
            let (r, g) = (reference(u, e), gatehouse(u, e));
            (r != g).then(|| format!("user {u}, entity #{e}: reference {r:?}, gatehouse {g:?}"))
        })
        .collect();
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(format!(
        "correctness guard failed: {} of the first {GUARD_PAIRS} pairs differ, nothing timed:\n  {}",
        mismatches.len(),
        mismatches.iter().take(10).cloned().collect::<Vec<_>>().join("\n  ")
    ))
}

/// One timed run on `threads` threads (started on a barrier); each thread's elapsed ns.
fn timed(
    threads: usize,
    calls: usize,
    users: usize,
    entities: usize,
    call: impl Fn(usize, usize) + Sync,
) -> Vec<f64> {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, call) = (&barrier, &call);
                s.spawn(move || {
                    let offset = t * THREAD_OFFSET;
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..calls {
                        call((i + offset) % users, i % entities);
                    }
                    start.elapsed().as_nanos() as f64
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .collect()
    })
}
