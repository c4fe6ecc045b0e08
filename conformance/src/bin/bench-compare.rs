//! `bench-compare`: gatehouse vs the reference core (statsig-rust 0.24.0), side by side.
//!
//! ```text
//! bench-compare --specs FILE [--users N] [--threads 1,2] [--calls N] [--runs 3]
//!               [--kind gate|experiment|layer] [--seed N]
//! bench-compare --load --specs FILE [--runs 5]
//! bench-compare --swap [--specs FILE] [--seconds 5] [--threads 2] [--users N]
//! ```
//! - default mode: evaluation time per call and aggregate throughput of both engines on the
//!   same specs, users and loop, after a correctness guard (`bench/eval.rs`);
//! - `--load`: spec load time and resident memory, in child processes (`bench/load.rs`);
//! - `--swap`: gatehouse per-call latency while the snapshot is replaced every 100 ms
//!   (`bench/swap.rs`).
//!
//! Output: JSON lines on stdout. See docs/BENCHMARKS.md.

#[path = "../bench/mod.rs"]
mod bench;

use bench::{Args, Mode};
use std::process::ExitCode;

fn main() -> ExitCode {
    let result = Args::parse(std::env::args().skip(1)).and_then(|args| match args.mode {
        Mode::Eval => bench::eval::run(&args),
        Mode::Load => bench::load::run(&args),
        Mode::Swap => bench::swap::run(&args),
        Mode::LoadChild(engine) => bench::load::child(&args, engine),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench-compare: {message}");
            ExitCode::FAILURE
        }
    }
}
