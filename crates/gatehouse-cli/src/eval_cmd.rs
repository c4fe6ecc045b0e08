//! `gatehouse eval`.

use crate::args::Flags;
use crate::CliError;
use gatehouse_core::country::CountryTable;
use gatehouse_core::report::{environment_map, now_ms, report_line, ALL_KINDS, BOOTSTRAP_SOURCE};
use gatehouse_core::{evaluate, parse_specs, EvalEnv, IdList, IdLists, Kind, User};
use std::io::{BufWriter, Write};

const EXAMPLE_SPECS: &str = include_str!("../../../examples/specs.json");
const EXAMPLE_USERS: &str = include_str!("../../../examples/users.jsonl");
/// The example's ID list, loaded as `beta_testers` when no `--specs` is given.
const EXAMPLE_ID_LIST: (&str, &str) = (
    "beta_testers",
    include_str!("../../../examples/id_lists/beta_testers.txt"),
);
const COUNTRY_ENV: &str = "GATEHOUSE_COUNTRY_TABLE";

const FLAGS: &[&str] = &[
    "specs",
    "users",
    "user",
    "environment",
    "only",
    "country-table",
    "id-list",
];

pub fn run(args: &[String]) -> Result<(), CliError> {
    let flags = Flags::parse(args, FLAGS)?;
    let kinds = parse_kinds(flags.one("only")?)?;

    let (specs_text, specs_name) = match flags.one("specs")? {
        Some(path) => (read(path)?, path.to_owned()),
        None => (EXAMPLE_SPECS.to_owned(), "examples/specs.json".to_owned()),
    };
    let users = match (flags.one("users")?, flags.one("user")?) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage(
                "give either `--users` or `--user`, not both".into(),
            ))
        }
        (Some(path), None) => parse_users(&read(path)?, path)?,
        (None, Some(json)) => parse_users(json, "--user")?,
        (None, None) if flags.one("specs")?.is_none() => {
            parse_users(EXAMPLE_USERS, "examples/users.jsonl")?
        }
        (None, None) => {
            return Err(CliError::Usage(
                "`--specs` needs `--users FILE` or `--user JSON`".into(),
            ))
        }
    };

    let snapshot =
        parse_specs(&specs_text).map_err(|e| CliError::Failed(format!("{specs_name}: {e}")))?;
    for warning in snapshot.warnings() {
        eprintln!("gatehouse: warning: {specs_name}: {warning}");
    }

    let country = load_country(flags.one("country-table")?)?;
    let mut id_lists = load_id_lists(&flags.all("id-list"))?;
    if flags.one("specs")?.is_none() && !id_lists.contains_key(EXAMPLE_ID_LIST.0) {
        id_lists.insert(
            EXAMPLE_ID_LIST.0.to_owned(),
            IdList::parse(EXAMPLE_ID_LIST.1),
        );
    }
    let env_map = environment_map(&snapshot, flags.one("environment")?);
    let env = EvalEnv {
        environment: env_map.as_ref(),
        country: country.as_ref(),
        id_lists: Some(&id_lists),
        now_ms: now_ms(),
        overrides: None,
    };

    let names: Vec<(Kind, Vec<&str>)> = kinds.iter().map(|&k| (k, snapshot.names(k))).collect();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for (index, user) in &users {
        for (kind, names) in &names {
            for name in names {
                let eval = evaluate(&snapshot, user, *kind, name, &env);
                writeln!(
                    out,
                    "{}",
                    report_line(&snapshot, *index, name, &eval, BOOTSTRAP_SOURCE)
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn read(path: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Failed(format!("cannot read {path}: {e}")))
}

fn parse_kinds(only: Option<&str>) -> Result<Vec<Kind>, CliError> {
    let Some(only) = only else {
        return Ok(ALL_KINDS.to_vec());
    };
    let mut kinds = Vec::new();
    for part in only.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let kind = ALL_KINDS
            .iter()
            .copied()
            .find(|k| k.as_str() == part)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "`--only`: unknown kind `{part}` (expected gate, config, experiment, layer)"
                ))
            })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        return Err(CliError::Usage("`--only` names no kind".into()));
    }
    // Report order is fixed whatever the flag's order.
    kinds.sort();
    Ok(kinds)
}

/// Users from JSON lines; blank lines are skipped but keep their number.
fn parse_users(text: &str, origin: &str) -> Result<Vec<(usize, User)>, CliError> {
    let mut users = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let user = User::from_json_str(line)
            .map_err(|e| CliError::Failed(format!("{origin}: line {}: {e}", i + 1)))?;
        users.push((i, user));
    }
    if users.is_empty() {
        return Err(CliError::Failed(format!("{origin}: no users")));
    }
    Ok(users)
}

fn load_country(flag: Option<&str>) -> Result<Option<CountryTable>, CliError> {
    let from_env = std::env::var(COUNTRY_ENV).ok().filter(|v| !v.is_empty());
    let (path, origin) = match (flag, &from_env) {
        (Some(p), _) => (p.to_owned(), "--country-table"),
        (None, Some(p)) => (p.clone(), COUNTRY_ENV),
        (None, None) => return Ok(None),
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::Failed(format!("{origin}: cannot read {path}: {e}")))?;
    CountryTable::parse(&bytes)
        .map(Some)
        .map_err(|e| CliError::Failed(format!("{origin}: {path}: {e}")))
}

fn load_id_lists(specs: &[&str]) -> Result<IdLists, CliError> {
    let mut lists = IdLists::new();
    for spec in specs {
        let (name, path) = spec
            .split_once('=')
            .filter(|(n, p)| !n.is_empty() && !p.is_empty())
            .ok_or_else(|| CliError::Usage(format!("`--id-list {spec}`: expected NAME=FILE")))?;
        lists
            .entry(name.to_owned())
            .or_default()
            .apply(&read(path)?);
    }
    Ok(lists)
}
