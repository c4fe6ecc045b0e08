//! The pieces of `bench-compare` (see `src/bin/bench-compare.rs`): flags, shared setup and
//! statistics, and one module per mode.

pub mod eval;
pub mod load;
pub mod swap;

use gatehouse_conformance::fixtures::reference_data_dir;
use std::path::{Path, PathBuf};

pub const USAGE: &str = "usage:
  bench-compare --specs FILE [--users N] [--threads 1,2] [--calls N] [--runs 3]
                [--kind gate|experiment|layer] [--seed N]
  bench-compare --load --specs FILE [--runs 5]
  bench-compare --swap [--specs FILE] [--seconds 5] [--threads 2] [--users N]
A bare FILE name that does not exist is looked up in the reference's tests/data/
(e.g. `--specs eval_proj_dcs.json`).";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Eval,
    Load,
    Swap,
    /// Hidden: one load measurement in this process (`--load-child gatehouse|reference`).
    LoadChild(load::Engine),
}

#[derive(Clone, Debug)]
pub struct Args {
    pub mode: Mode,
    pub specs: Option<PathBuf>,
    pub users: usize,
    pub threads: Vec<usize>,
    pub calls: usize,
    pub runs: Option<usize>,
    pub kind: String,
    pub seed: u64,
    pub seconds: f64,
}

impl Args {
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut args = Args {
            mode: Mode::Eval,
            specs: None,
            users: 1000,
            threads: vec![1, 2],
            calls: 500_000,
            runs: None,
            kind: "gate".to_string(),
            seed: 1,
            seconds: 5.0,
        };
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--specs" => args.specs = Some(resolve_specs(&value()?)),
                "--users" => args.users = positive(&value()?, "--users")?,
                "--threads" => {
                    args.threads = value()?
                        .split(',')
                        .map(|t| positive(t.trim(), "--threads"))
                        .collect::<Result<_, _>>()?
                }
                "--calls" => args.calls = positive(&value()?, "--calls")?,
                "--runs" => args.runs = Some(positive(&value()?, "--runs")?),
                "--kind" => args.kind = value()?,
                "--seed" => args.seed = positive(&value()?, "--seed")? as u64,
                "--seconds" => {
                    let v = value()?;
                    args.seconds = v
                        .parse::<f64>()
                        .ok()
                        .filter(|s| *s > 0.0)
                        .ok_or_else(|| format!("--seconds: not a positive number: {v}"))?;
                }
                "--load" => args.mode = Mode::Load,
                "--swap" => args.mode = Mode::Swap,
                "--load-child" => args.mode = Mode::LoadChild(load::Engine::parse(&value()?)?),
                "-h" | "--help" => return Err(USAGE.to_string()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        Ok(args)
    }

    /// The specs path; `--swap` defaults to the reference's `perf_proj_dcs.json`.
    pub fn specs_path(&self) -> Result<PathBuf, String> {
        match (&self.specs, self.mode) {
            (Some(p), _) => Ok(p.clone()),
            (None, Mode::Swap) => Ok(resolve_specs("perf_proj_dcs.json")),
            (None, _) => Err(format!("--specs FILE is required\n{USAGE}")),
        }
    }

    pub fn read_specs(&self) -> Result<String, String> {
        let path = self.specs_path()?;
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }
}

/// `name` itself if it exists, else the reference's `tests/data/name` if that exists.
fn resolve_specs(name: &str) -> PathBuf {
    let path = PathBuf::from(name);
    if path.exists() || path.components().count() != 1 {
        return path;
    }
    match reference_data_dir() {
        Ok(dir) if dir.join(name).is_file() => dir.join(name),
        _ => path,
    }
}

fn positive(s: &str, what: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{what} must be a positive integer, got {s:?}")),
    }
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Prints a JSON line with keys sorted.
pub fn print_json(value: &serde_json::Value) {
    println!("{}", gatehouse_conformance::canonical(value));
}

/// A `kB` field of `/proc/self/status` (`VmRSS`, `VmHWM`); 0 when unavailable.
pub fn proc_status_kb(field: &str) -> u64 {
    proc_field(Path::new("/proc/self/status"), field)
}

/// The first number of a `Field: value` line of a `/proc` status file; 0 when unavailable.
pub fn proc_field(path: &Path, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
