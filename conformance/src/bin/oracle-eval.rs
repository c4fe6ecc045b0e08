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

/// One user per line; blank lines are only allowed at the end of the file.
fn parse_users_jsonl(path: &str, text: &str) -> Result<Vec<Value>, String> {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if line.trim().is_empty() {
                return Err(format!("{path}:{}: blank line", i + 1));
            }
            let user: Value = serde_json::from_str(line)
                .map_err(|e| format!("{path}:{}: invalid JSON: {e}", i + 1))?;
            if !user.is_object() {
                return Err(format!("{path}:{}: a user must be a JSON object", i + 1));
            }
            Ok(user)
        })
        .collect()
}

fn run() -> Result<Vec<String>, (u8, String)> {
    let usage = |e: String| (2, e);
    let args = parse_args(std::env::args().skip(1)).map_err(usage)?;
    let specs = read(&args.specs).map_err(usage)?;
    let users = match &args.users {
        None => vec![Value::Object(serde_json::Map::new())],
        Some(UsersArg::File(path)) => {
            parse_users_jsonl(path, &read(path).map_err(usage)?).map_err(usage)?
        }
        Some(UsersArg::Inline(json)) => {
            let user: Value = serde_json::from_str(json)
                .map_err(|e| usage(format!("--user: invalid JSON: {e}")))?;
            if !user.is_object() {
                return Err(usage("--user: a user must be a JSON object".to_string()));
            }
            vec![user]
        }
    };
    let mut id_lists = Vec::new();
    for (name, file) in &args.id_lists {
        id_lists.push((name.clone(), read(file).map_err(usage)?));
    }
    let options = OracleOptions {
        environment: args.environment,
        id_lists,
    };
    oracle_report(&specs, &users, &options).map_err(|e| (1, e))
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
