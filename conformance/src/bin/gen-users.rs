//! `gen-users`: prints generated users as JSONL (one canonical user per line), e.g. to feed
//! `oracle-eval --users` and `gatehouse eval --users` by hand.
//!
//! ```text
//! gen-users [--specs FILE] [--seed N] [--count N] [--malformed-ips]
//! ```
//! With `--specs`, target values of the spec are planted (`generate_users_for_specs`);
//! `--malformed-ips` prints the gatehouse-only users whose IPs panic the reference.

use gatehouse_conformance::users::{generate_users, generate_users_for_specs, malformed_ip_users};
use std::io::Write;
use std::process::ExitCode;

fn run() -> Result<Vec<serde_json::Value>, String> {
    let mut specs = None;
    let mut seed: u64 = 1;
    let mut count: usize = 100;
    let mut malformed = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--specs" => {
                let path = value("--specs")?;
                specs = Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read {path}: {e}"))?,
                );
            }
            "--seed" => {
                seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?;
            }
            "--count" => {
                count = value("--count")?
                    .parse()
                    .map_err(|e| format!("--count: {e}"))?;
            }
            "--malformed-ips" => malformed = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: gen-users [--specs FILE] [--seed N] \
                     [--count N] [--malformed-ips]"
                ))
            }
        }
    }
    Ok(match (malformed, specs) {
        (true, _) => malformed_ip_users(),
        (false, Some(specs)) => generate_users_for_specs(&specs, seed, count),
        (false, None) => generate_users(seed, count),
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(users) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for user in &users {
                if writeln!(out, "{}", gatehouse_conformance::canonical(user)).is_err() {
                    return ExitCode::from(1);
                }
            }
            if out.flush().is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("gen-users: {message}");
            ExitCode::from(2)
        }
    }
}
