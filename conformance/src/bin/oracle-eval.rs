//! `oracle-eval`: the reference (statsig-rust 0.24.0) with the flags of `gatehouse eval`.
//!
//! ```text
//! oracle-eval --specs FILE [--users FILE.jsonl | --user JSON] [--environment TIER]
//!             [--id-list NAME=FILE ...]
//! ```
//! Prints the report of docs/EVAL-FORMAT.md on stdout. Without `--users`/`--user` the single
//! user `{}` is evaluated. Exit status 2 on bad usage or input, 1 when the reference rejects
//! the input or panics (e.g. on `ip` `999.1.1.1`).

use gatehouse_conformance::oracle::{oracle_report, OracleOptions};
use serde_json::Value;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: oracle-eval --specs FILE [--users FILE.jsonl | --user JSON] \
[--environment TIER] [--id-list NAME=FILE ...]";

struct Args {
    specs: String,
    users: Option<UsersArg>,
    environment: Option<String>,
    id_lists: Vec<(String, String)>,
}

enum UsersArg {
    File(String),
    Inline(String),
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut specs = None;
    let mut users = None;
    let mut environment = None;
    let mut id_lists = Vec::new();
    while let Some(flag) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--specs" => specs = Some(value("--specs")?),
            "--users" | "--user" if users.is_some() => {
                return Err("give at most one of --users and --user".to_string())
            }
            "--users" => users = Some(UsersArg::File(value("--users")?)),
            "--user" => users = Some(UsersArg::Inline(value("--user")?)),
            "--environment" => environment = Some(value("--environment")?),
            "--id-list" => {
                let spec = value("--id-list")?;
                let (name, file) = spec
                    .split_once('=')
                    .filter(|(name, file)| !name.is_empty() && !file.is_empty())
                    .ok_or_else(|| format!("--id-list expects NAME=FILE, got {spec:?}"))?;
                id_lists.push((name.to_string(), file.to_string()));
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let specs = specs.ok_or_else(|| "--specs FILE is required".to_string())?;
    Ok(Args {
        specs,
        users,
        environment,
        id_lists,
    })
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// One user per line, with its 0-based line number; blank lines are skipped
/// but keep their number, as `gatehouse eval` does (`user_index` is the line).
fn parse_users_jsonl(path: &str, text: &str) -> Result<Vec<(usize, Value)>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let user: Value = serde_json::from_str(line)
                .map_err(|e| format!("{path}:{}: invalid JSON: {e}", i + 1))?;
            if !user.is_object() {
                return Err(format!("{path}:{}: a user must be a JSON object", i + 1));
            }
            Ok((i, user))
        })
        .collect()
}

/// Replace each line's `user_index` (a position in the users given to the
/// oracle) with the user's line number in the file.
fn renumber(lines: Vec<String>, line_of: &[usize]) -> Result<Vec<String>, String> {
    lines
        .into_iter()
        .map(|line| {
            let mut v: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
            let pos = v["user_index"].as_u64().unwrap_or(0) as usize;
            v["user_index"] = Value::from(line_of.get(pos).copied().unwrap_or(pos));
            Ok(gatehouse_conformance::canonical(&v))
        })
        .collect()
}

fn run() -> Result<Vec<String>, (u8, String)> {
    // Exit codes as `gatehouse eval`: 2 for bad usage, 1 for bad input.
    let usage = |e: String| (2, e);
    let input = |e: String| (1, e);
    let args = parse_args(std::env::args().skip(1)).map_err(usage)?;
    let specs = read(&args.specs).map_err(input)?;
    let numbered = match &args.users {
        None => vec![(0, Value::Object(serde_json::Map::new()))],
        Some(UsersArg::File(path)) => {
            parse_users_jsonl(path, &read(path).map_err(input)?).map_err(input)?
        }
        Some(UsersArg::Inline(json)) => {
            let user: Value = serde_json::from_str(json)
                .map_err(|e| input(format!("--user: invalid JSON: {e}")))?;
            if !user.is_object() {
                return Err(input("--user: a user must be a JSON object".to_string()));
            }
            vec![(0, user)]
        }
    };
    let line_of: Vec<usize> = numbered.iter().map(|(i, _)| *i).collect();
    let users: Vec<Value> = numbered.into_iter().map(|(_, u)| u).collect();
    let mut id_lists = Vec::new();
    for (name, file) in &args.id_lists {
        id_lists.push((name.clone(), read(file).map_err(input)?));
    }
    let options = OracleOptions {
        environment: args.environment,
        id_lists,
    };
    let lines = oracle_report(&specs, &users, &options).map_err(input)?;
    renumber(lines, &line_of).map_err(input)
}

fn main() -> ExitCode {
    // Reference panics are caught by `oracle_report` and reported as one-line errors; keep the
    // default hook's multi-line message and backtrace off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    match run() {
        Ok(lines) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for line in lines {
                if writeln!(out, "{line}").is_err() {
                    return ExitCode::from(1);
                }
            }
            if out.flush().is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("oracle-eval: {message}");
            ExitCode::from(code)
        }
    }
}
