//! `--swap`: per-call gate latency while the specs are replaced under the evaluating threads.
//!
//! `threads` threads (default 2) call gatehouse `check_gate` in the usual loop; every call
//! loads the current snapshot from an `ArcSwap<Snapshot>` and is timed on its own (load +
//! evaluation) into a per-thread log-bucket histogram (pre-allocated, no locks). One more thread
//! parses a fresh copy of the specs every 100 ms and swaps it in.
//!
//! Where the old snapshot is dropped: `ArcSwap::swap` returns it after converting every
//! outstanding reader guard into a real reference count, and no reader can reach it afterwards.
//! The swapping thread then waits (yielding) until it holds the only reference and drops it
//! itself, so the free of a whole snapshot never runs on an evaluating thread. How often it had
//! to wait is reported as `drops_deferred`.

use super::{median, print_json, proc_field, round2, Args};
use arc_swap::ArcSwap;
use gatehouse_conformance::fixtures::country_table;
use gatehouse_conformance::users::generate_users_for_specs;
use gatehouse_core::country::CountryTable;
use gatehouse_core::report::{environment_map, now_ms};
use gatehouse_core::{check_gate, parse_specs, EvalEnv, IdLists, Kind, Snapshot, User};
use serde_json::json;
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const SWAP_EVERY: Duration = Duration::from_millis(100);
const TARGET_NS: u64 = 100_000;

pub fn run(args: &Args) -> Result<(), String> {
    let text = args.read_specs()?;
    let first = parse_specs(&text).map_err(|e| format!("gatehouse: {e}"))?;
    let names: Vec<String> = first
        .names(Kind::Gate)
        .into_iter()
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err("the specs have no gates".to_string());
    }
    let country = CountryTable::parse(&country_table()?).map_err(|e| e.to_string())?;
    let id_lists = IdLists::new();
    let env_map = environment_map(&first, None);
    let env = EvalEnv {
        environment: env_map.as_ref(),
        country: Some(&country),
        id_lists: Some(&id_lists),
        now_ms: now_ms(),
        overrides: None,
    };
    let users = generate_users_for_specs(&text, args.seed, args.users)
        .iter()
        .map(|u| User::from_json(u).map_err(|e| format!("gatehouse user: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let threads = args.threads.iter().copied().max().unwrap_or(2);

    let ctx = Ctx {
        text: &text,
        users: &users,
        names: &names,
        env: &env,
        threads,
        seconds: args.seconds,
    };
    let specs = args.specs_path()?;
    let specs = specs.file_name().map(|n| n.to_string_lossy().into_owned());
    let cell = ArcSwap::from_pointee(first);
    for (phase, swap) in [("control: parse, no swap", false), ("swap", true)] {
        let (all, stats) = run_phase(&ctx, &cell, swap);
        print_json(&json!({
            "mode": "swap",
            "phase": phase,
            "specs": specs,
            "threads": threads,
            "seconds": args.seconds,
            "parses": stats.parse_ms.len(),
            "swaps": if swap { stats.parse_ms.len() } else { 0 },
            "calls": all.total,
            "p50_ns": all.percentile(0.50),
            "p99_ns": all.percentile(0.99),
            "p999_ns": all.percentile(0.999),
            "max_ns": all.max,
            "calls_over_100us": all.over_target,
            "evaluator_preemptions": all.preemptions,
            "parse_ms_median": round2(median(&stats.parse_ms)),
            "drop_ms_median": round2(median(&stats.drop_ms)),
            "drops_deferred": stats.drops_deferred,
            "max_wait_for_readers_us": round2(stats.max_wait_us),
            "old_snapshot_dropped_on": "swapping thread",
        }));
    }
    Ok(())
}

struct Ctx<'a> {
    text: &'a str,
    users: &'a [User],
    names: &'a [String],
    env: &'a EvalEnv<'a>,
    threads: usize,
    seconds: f64,
}

/// One phase: the evaluating threads run until the swapping thread has spent `seconds` parsing
/// a fresh snapshot every 100 ms and swapping it in (`swap`) or just dropping it (the control:
/// the same CPU load without the swap).
fn run_phase(ctx: &Ctx<'_>, cell: &ArcSwap<Snapshot>, swap: bool) -> (Histogram, SwapStats) {
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new(ctx.threads + 1);
    std::thread::scope(|s| {
        let evaluators: Vec<_> = (0..ctx.threads)
            .map(|t| {
                let (stop, barrier) = (&stop, &barrier);
                s.spawn(move || {
                    let (users, names) = (ctx.users, ctx.names);
                    let mut hist = Histogram::new();
                    let offset = t * 7919;
                    let mut i = 0usize;
                    barrier.wait();
                    let switches = involuntary_switches();
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..256 {
                            let user = &users[(i + offset) % users.len()];
                            let name = &names[i % names.len()];
                            let start = Instant::now();
                            let snapshot = cell.load();
                            black_box(check_gate(&snapshot, user, name, ctx.env));
                            drop(snapshot);
                            hist.record(start.elapsed().as_nanos() as u64);
                            i += 1;
                        }
                    }
                    hist.preemptions = involuntary_switches() - switches;
                    hist
                })
            })
            .collect();
        let swapper = s.spawn(|| {
            let mut stats = SwapStats::default();
            barrier.wait();
            let start = Instant::now();
            let mut next = start + SWAP_EVERY;
            while start.elapsed().as_secs_f64() < ctx.seconds {
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
                next += SWAP_EVERY;
                let t = Instant::now();
                let fresh = Arc::new(parse_specs(ctx.text).expect("the specs parsed once already"));
                stats.parse_ms.push(t.elapsed().as_secs_f64() * 1e3);
                let old = if swap { cell.swap(fresh) } else { fresh };
                let wait = Instant::now();
                if Arc::strong_count(&old) > 1 {
                    stats.drops_deferred += 1;
                    while Arc::strong_count(&old) > 1 {
                        std::thread::yield_now();
                    }
                }
                stats.max_wait_us = stats.max_wait_us.max(wait.elapsed().as_secs_f64() * 1e6);
                let t = Instant::now();
                drop(old);
                stats.drop_ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            stop.store(true, Ordering::Relaxed);
            stats
        });
        let mut all = Histogram::new();
        for h in evaluators {
            all.merge(&h.join().expect("an evaluating thread panicked"));
        }
        (all, swapper.join().expect("the swapping thread panicked"))
    })
}

#[derive(Default)]
struct SwapStats {
    parse_ms: Vec<f64>,
    drop_ms: Vec<f64>,
    drops_deferred: u64,
    max_wait_us: f64,
}

/// This thread's `nonvoluntary_ctxt_switches` (times the scheduler preempted it).
fn involuntary_switches() -> u64 {
    proc_field(
        Path::new("/proc/thread-self/status"),
        "nonvoluntary_ctxt_switches",
    )
}

/// Log-bucket latency histogram: exact below 64 ns, then 32 buckets per power of two (≤ 3.2 %
/// relative error); percentiles report a bucket's upper bound, `max` is exact.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
    over_target: u64,
    preemptions: u64,
}

const SUB_BITS: u32 = 5;
const LINEAR: u64 = 1 << (SUB_BITS + 1);

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: vec![0; 2048],
            total: 0,
            max: 0,
            over_target: 0,
            preemptions: 0,
        }
    }

    #[inline]
    fn index(v: u64) -> usize {
        if v < LINEAR {
            return v as usize;
        }
        let e = 63 - v.leading_zeros(); // ≥ SUB_BITS + 1
        let top = v >> (e - SUB_BITS); // in [32, 64)
        (LINEAR + u64::from(e - SUB_BITS - 1) * 32 + (top - 32)) as usize
    }

    fn upper_bound(index: usize) -> u64 {
        let index = index as u64;
        if index < LINEAR {
            return index;
        }
        let k = index - LINEAR;
        let e = k / 32 + u64::from(SUB_BITS) + 1;
        ((k % 32 + 33) << (e - u64::from(SUB_BITS))) - 1
    }

    #[inline]
    fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.total += 1;
        self.max = self.max.max(ns);
        self.over_target += u64::from(ns > TARGET_NS);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
        self.over_target += other.over_target;
        self.preemptions += other.preemptions;
    }

    fn percentile(&self, q: f64) -> u64 {
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::upper_bound(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn buckets_are_monotone_and_bound_their_values() {
        let mut last = 0;
        for v in (0..100_000u64).chain([1 << 20, 1 << 40, u64::MAX >> 1]) {
            let i = Histogram::index(v);
            assert!(i >= last && i < 2048, "index of {v}");
            assert!(Histogram::upper_bound(i) >= v, "upper bound of {v}");
            if v > 64 {
                assert!(Histogram::upper_bound(i) as f64 <= v as f64 * 1.032 + 1.0);
            }
            last = i;
        }
    }
}
