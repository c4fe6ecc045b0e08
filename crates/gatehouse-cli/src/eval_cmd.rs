//! `gatehouse eval`.

use crate::args::Flags;
use crate::CliError;
use gatehouse::events::{EventOptions, EventSink};
use gatehouse::{Client, IdListSource, Options, SpecSource, User};
use gatehouse_core::country::CountryTable;
use gatehouse_core::report::ALL_KINDS;
use gatehouse_core::{IdList, IdLists, Kind};
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

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
    "specs-url",
    "sdk-key",
    "users",
    "user",
    "environment",
    "only",
    "country-table",
    "id-list",
    "events-file",
    "events-url",
];
const SWITCHES: &[&str] = &["log-exposures"];
const SDK_KEY_ENV: &str = "GATEHOUSE_SDK_KEY";
/// Flushing at the end waits at most this long for the event sink.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(args: &[String]) -> Result<(), CliError> {
    let flags = Flags::parse_with_switches(args, FLAGS, SWITCHES)?;
    let kinds = parse_kinds(flags.one("only")?)?;
    let sdk_key = flags
        .one("sdk-key")?
        .map(str::to_owned)
        .or_else(|| std::env::var(SDK_KEY_ENV).ok().filter(|k| !k.is_empty()));

    let (source, origin, example) = match (flags.one("specs")?, flags.one("specs-url")?) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage(
                "give either `--specs` or `--specs-url`, not both".into(),
            ))
        }
        (Some(path), None) => (SpecSource::File(path.into()), path.to_owned(), false),
        (None, Some(url)) => {
            let key = sdk_key.clone().ok_or_else(|| {
                CliError::Usage(format!(
                    "`--specs-url` needs `--sdk-key KEY` (or {SDK_KEY_ENV})"
                ))
            })?;
            let source = SpecSource::Url {
                url: url.to_owned(),
                sdk_key: key,
            };
            (source, url.to_owned(), false)
        }
        (None, None) => (
            SpecSource::Json(EXAMPLE_SPECS.to_owned()),
            "examples/specs.json".to_owned(),
            true,
        ),
    };
    let users = match (flags.one("users")?, flags.one("user")?) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage(
                "give either `--users` or `--user`, not both".into(),
            ))
        }
        (Some(path), None) => parse_users(&read(path)?, path)?,
        (None, Some(json)) => parse_users(json, "--user")?,
        (None, None) if example => parse_users(EXAMPLE_USERS, "examples/users.jsonl")?,
        (None, None) => {
            return Err(CliError::Usage(
                "`--specs`/`--specs-url` need `--users FILE` or `--user JSON`".into(),
            ))
        }
    };

    let mut id_lists = load_id_lists(&flags.all("id-list"))?;
    if example && !id_lists.contains_key(EXAMPLE_ID_LIST.0) {
        id_lists.insert(
            EXAMPLE_ID_LIST.0.to_owned(),
            IdList::parse(EXAMPLE_ID_LIST.1),
        );
    }
    let mut options = Options::from_json(String::new());
    options.specs = source;
    options.sync_interval = None;
    options.init_timeout = Duration::from_secs(10);
    options.environment = flags.one("environment")?.map(str::to_owned);
    options.country_table = load_country(flags.one("country-table")?)?.map(Arc::new);
    options.id_lists = IdListSource::InMemory(Arc::new(id_lists));
    options.events = event_options(&flags, sdk_key.as_deref())?;
    let logging = options.events.is_some();

    let client = Client::new(options).map_err(|e| CliError::Failed(e.to_string()))?;
    client.initialize().map_err(|e| {
        CliError::Failed(match e {
            // A file error names its path already.
            gatehouse::Error::Io { .. } => e.to_string(),
            _ => format!("{origin}: {e}"),
        })
    })?;
    for warning in client.spec_warnings() {
        eprintln!("gatehouse: warning: {origin}: {warning}");
    }

    let names: Vec<(Kind, Vec<String>)> =
        kinds.iter().map(|&k| (k, client.spec_names(k))).collect();
    let printed = print_report(&client, &users, &names, logging);
    // Events are flushed (and losses reported) even when printing stopped
    // early, e.g. on a closed pipe; a lost event outranks a closed pipe.
    finish(&client, logging)?;
    printed
}

fn print_report(
    client: &Client,
    users: &[(usize, User)],
    names: &[(Kind, Vec<String>)],
    logging: bool,
) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for (index, user) in users {
        for (kind, names) in names {
            for name in names {
                let line = client
                    .report_line(user, *index, *kind, name)
                    .map_err(|e| CliError::Failed(e.to_string()))?;
                writeln!(out, "{line}")?;
                if logging {
                    client.expose(user, *kind, name);
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Flush the events and say what happened to them; a lost event fails the run.
fn finish(client: &Client, logging: bool) -> Result<(), CliError> {
    let flushed = client.shutdown(SHUTDOWN_TIMEOUT);
    if !logging {
        return Ok(());
    }
    let c = client.counters();
    eprintln!(
        "gatehouse: exposures: {} logged, {} deduplicated; events: {} sent, {} dropped",
        c.exposures_queued, c.exposures_deduped, c.events_sent, c.events_dropped
    );
    if let Err(e) = flushed {
        return Err(CliError::Failed(format!("events not delivered: {e}")));
    }
    if c.events_dropped > 0 {
        let why = client
            .last_event_error()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(CliError::Failed(format!(
            "{} events could not be delivered{why}",
            c.events_dropped
        )));
    }
    Ok(())
}

fn event_options(flags: &Flags, sdk_key: Option<&str>) -> Result<Option<EventOptions>, CliError> {
    let sink = match (flags.one("events-file")?, flags.one("events-url")?) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage(
                "give either `--events-file` or `--events-url`, not both".into(),
            ))
        }
        (Some(path), None) => Some(EventSink::File(path.into())),
        (None, Some(url)) => {
            let key = sdk_key.ok_or_else(|| {
                CliError::Usage(format!(
                    "`--events-url` needs `--sdk-key KEY` (or {SDK_KEY_ENV})"
                ))
            })?;
            Some(EventSink::Http {
                url: url.to_owned(),
                sdk_key: key.to_owned(),
            })
        }
        (None, None) => None,
    };
    match (flags.switch("log-exposures"), sink) {
        (true, Some(sink)) => {
            let mut o = EventOptions::new(sink);
            // A batch tool: wait for room rather than drop, and retry
            // quickly rather than wait a minute.
            o.block_when_full = true;
            o.retry_backoff = Duration::from_millis(200);
            o.max_backoff = Duration::from_secs(2);
            Ok(Some(o))
        }
        (true, None) => Err(CliError::Usage(
            "`--log-exposures` needs `--events-file FILE` or `--events-url URL`".into(),
        )),
        (false, Some(_)) => Err(CliError::Usage(
            "`--events-file`/`--events-url` need `--log-exposures`".into(),
        )),
        (false, None) => Ok(None),
    }
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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
