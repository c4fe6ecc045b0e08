//! The options JSON of `gatehouse_client_new` → [`gatehouse::Options`].
//!
//! Pure marshalling: every key maps to one runtime option; the runtime
//! validates values. Unknown keys are rejected with their name.

use crate::status::Error;
use gatehouse::events::{EventOptions, EventSink};
use gatehouse::{IdListSource, Options};
use gatehouse_core::country::CountryTable;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsJson {
    specs_file: Option<String>,
    specs_url: Option<String>,
    /// A dcs-v2 payload: a JSON object, or a string holding its text.
    specs_json: Option<Value>,
    sdk_key: Option<String>,
    environment: Option<String>,
    init_timeout_ms: Option<u64>,
    /// 0 disables background polling.
    sync_interval_ms: Option<u64>,
    http_timeout_ms: Option<u64>,
    id_list_files: Option<BTreeMap<String, String>>,
    id_lists_url: Option<String>,
    id_list_sync_interval_ms: Option<u64>,
    country_table_file: Option<String>,
    dedupe_max_keys: Option<usize>,
    dedupe_ttl_ms: Option<u64>,
    events: Option<EventsJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsJson {
    file: Option<String>,
    url: Option<String>,
    sdk_key: Option<String>,
    batch_size: Option<usize>,
    flush_interval_ms: Option<u64>,
    max_queue: Option<usize>,
    max_retries: Option<u32>,
    retry_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    request_timeout_ms: Option<u64>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::InvalidOptions(message.into())
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// The options key (as the caller wrote it) of a runtime option name.
/// Every runtime `Error::Options` that `Client::new` can return from these
/// options is listed; another name is shown as it is.
fn key_of(runtime_option: &str) -> &str {
    match runtime_option {
        "init_timeout" => "init_timeout_ms",
        "sync_interval" => "sync_interval_ms",
        "http_timeout" => "http_timeout_ms",
        "id_list_sync_interval" => "id_list_sync_interval_ms",
        "id_lists" => "id_lists_url",
        "dedupe_ttl" => "dedupe_ttl_ms",
        "events" => "events.file",
        "batch_size" => "events.batch_size",
        "max_queue" => "events.max_queue",
        "flush_interval" => "events.flush_interval_ms",
        "request_timeout" => "events.request_timeout_ms",
        "retry_backoff" => "events.retry_backoff_ms",
        "max_backoff" => "events.max_backoff_ms",
        "max_retries" => "events.max_retries",
        "sink.sdk_key" => "events.sdk_key",
        "sink.url" => "events.url",
        other => other,
    }
}

/// A `Client::new` error as the options error the caller can act on: a
/// runtime option error names the options key, e.g. `init_timeout_ms`.
pub(crate) fn runtime_error(e: gatehouse::Error) -> Error {
    match e {
        gatehouse::Error::Options { option, message } => {
            bad(format!("`{}`: {message}", key_of(option)))
        }
        gatehouse::Error::Sink { message, .. } => bad(format!("`events`: {message}")),
        e => bad(e.to_string()),
    }
}

/// A deserialization error, naming the key path the caller wrote once.
fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    if path == "." {
        return bad(format!("options JSON: {inner}"));
    }
    // serde says "unknown field `k`, expected one of …"; the path names `k`.
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        let rest = rest.split_once("`, ").map_or("", |(_, r)| r);
        return bad(format!("`{path}`: unknown key; {rest}"));
    }
    bad(format!("`{path}`: {inner}"))
}

/// Parse the options JSON.
pub(crate) fn parse(text: &str) -> Result<Options, Error> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let o: OptionsJson = serde_path_to_error::deserialize(de).map_err(json_error)?;
    let mut options = source(&o)?;
    if let Some(env) = o.environment {
        options.environment = Some(env);
    }
    if let Some(v) = o.init_timeout_ms {
        options.init_timeout = ms(v);
    }
    if let Some(v) = o.sync_interval_ms {
        options.sync_interval = (v > 0).then(|| ms(v));
    }
    if let Some(v) = o.http_timeout_ms {
        options.http_timeout = ms(v);
    }
    options.id_lists = match (o.id_list_files, o.id_lists_url) {
        (Some(_), Some(_)) => return Err(bad("give `id_list_files` or `id_lists_url`, not both")),
        (Some(files), None) => IdListSource::Files(
            files
                .into_iter()
                .map(|(name, path)| (name, PathBuf::from(path)))
                .collect(),
        ),
        (None, Some(url)) => IdListSource::Manifest {
            url,
            sdk_key: required_key(o.sdk_key.as_deref(), "id_lists_url")?,
        },
        (None, None) => IdListSource::None,
    };
    if let Some(v) = o.id_list_sync_interval_ms {
        options.id_list_sync_interval = ms(v);
    }
    if let Some(path) = o.country_table_file {
        let bytes =
            std::fs::read(&path).map_err(|e| bad(format!("`country_table_file`: {path}: {e}")))?;
        let table = CountryTable::parse(&bytes)
            .map_err(|e| bad(format!("`country_table_file`: {path}: {e}")))?;
        options.country_table = Some(Arc::new(table));
    }
    if let Some(v) = o.dedupe_max_keys {
        options.dedupe_max_keys = v;
    }
    if let Some(v) = o.dedupe_ttl_ms {
        options.dedupe_ttl = ms(v);
    }
    if let Some(ev) = o.events {
        options.events = Some(events(ev, o.sdk_key.as_deref())?);
    }
    Ok(options)
}

fn required_key(key: Option<&str>, with: &str) -> Result<String, Error> {
    match key {
        Some(k) if !k.is_empty() => Ok(k.to_owned()),
        _ => Err(bad(format!("`{with}` needs `sdk_key`"))),
    }
}

fn source(o: &OptionsJson) -> Result<Options, Error> {
    match (&o.specs_file, &o.specs_url, &o.specs_json) {
        (Some(path), None, None) => Ok(Options::from_file(path)),
        (None, Some(url), None) => Ok(Options::from_url(
            url,
            &required_key(o.sdk_key.as_deref(), "specs_url")?,
        )),
        (None, None, Some(Value::String(text))) => Ok(Options::from_json(text.clone())),
        (None, None, Some(v @ Value::Object(_))) => Ok(Options::from_json(v.to_string())),
        (None, None, Some(_)) => Err(bad(
            "`specs_json`: must be a JSON object or a string holding one",
        )),
        _ => Err(bad(
            "give exactly one spec source: `specs_file`, `specs_url` (with `sdk_key`) or `specs_json`",
        )),
    }
}

fn events(ev: EventsJson, top_key: Option<&str>) -> Result<EventOptions, Error> {
    let sink = match (ev.file, ev.url) {
        (Some(path), None) => EventSink::File(PathBuf::from(path)),
        (None, Some(url)) => EventSink::Http {
            url,
            sdk_key: required_key(ev.sdk_key.as_deref().or(top_key), "events.url")?,
        },
        _ => return Err(bad("`events`: give exactly one of `file` or `url`")),
    };
    let mut e = EventOptions::new(sink);
    if let Some(v) = ev.batch_size {
        e.batch_size = v;
    }
    if let Some(v) = ev.flush_interval_ms {
        e.flush_interval = ms(v);
    }
    if let Some(v) = ev.max_queue {
        e.max_queue = v;
    }
    if let Some(v) = ev.max_retries {
        e.max_retries = v;
    }
    if let Some(v) = ev.retry_backoff_ms {
        e.retry_backoff = ms(v);
    }
    if let Some(v) = ev.max_backoff_ms {
        e.max_backoff = ms(v);
    }
    if let Some(v) = ev.request_timeout_ms {
        e.request_timeout = ms(v);
    }
    // Checked here, in the caller's keys and units (the runtime's own
    // message speaks of its Duration fields).
    if e.max_backoff < e.retry_backoff {
        return Err(bad(format!(
            "`events.max_backoff_ms` ({}) must be at least `events.retry_backoff_ms` ({})",
            e.max_backoff.as_millis(),
            e.retry_backoff.as_millis()
        )));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        match parse(text) {
            Err(Error::InvalidOptions(m)) => m,
            Err(e) => panic!("unexpected {e:?}"),
            Ok(_) => panic!("accepted {text}"),
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        assert!(message(r#"{"specs_file":"x","specz":1}"#).contains("specz"));
        let m = message(r#"{"specs_file":"x","events":{"file":"e","bogus":1}}"#);
        assert!(m.contains("bogus"), "{m}");
    }

    #[test]
    fn unknown_keys_are_named_once_with_their_path() {
        let m = message(r#"{"specs_file":"x","specz":1}"#);
        assert!(
            m.starts_with("`specz`: unknown key; expected one of `specs_file`"),
            "{m}"
        );
        assert_eq!(m.matches("specz").count(), 1, "{m}");
        let m = message(r#"{"specs_file":"x","events":{"file":"e","bogus":1}}"#);
        assert!(
            m.starts_with("`events.bogus`: unknown key; expected one of `file`"),
            "{m}"
        );
        assert_eq!(m.matches("bogus").count(), 1, "{m}");
    }

    #[test]
    fn value_errors_name_the_key_as_written() {
        let m = message(r#"{"specs_file":"x","init_timeout_ms":"soon"}"#);
        assert!(
            m.starts_with("`init_timeout_ms`: invalid type: string"),
            "{m}"
        );
        let m = message(r#"{"specs_file":"x","events":{"file":"e","batch_size":-1}}"#);
        assert!(m.starts_with("`events.batch_size`: invalid value"), "{m}");
        let m = message(r#"{"specs_file":"x","events":{"file":"e","max_backoff_ms":10}}"#);
        assert_eq!(
            m,
            "`events.max_backoff_ms` (10) must be at least `events.retry_backoff_ms` (1000)"
        );
        assert!(
            message("7").starts_with("options JSON: invalid type: integer `7`, expected struct")
        );
    }

    /// Every runtime option error `Client::new` gives for these options
    /// names the options key, not the runtime's field name.
    #[test]
    fn runtime_option_errors_name_the_options_key() {
        let cases = [
            (
                r#"{"specs_file":"x","init_timeout_ms":0}"#,
                "`init_timeout_ms`: must be positive",
            ),
            (
                r#"{"specs_file":"x","http_timeout_ms":0}"#,
                "`http_timeout_ms`: must be positive",
            ),
            (
                r#"{"specs_file":"x","id_list_sync_interval_ms":0}"#,
                "`id_list_sync_interval_ms`: must be positive",
            ),
            (
                r#"{"specs_file":"x","dedupe_max_keys":0}"#,
                "`dedupe_max_keys`: must be at least 1",
            ),
            (
                r#"{"specs_url":"ftp://x","sdk_key":"k"}"#,
                "`specs_url`: must start with http:// or https://",
            ),
            (
                r#"{"specs_file":"x","id_lists_url":"file:///m","sdk_key":"k"}"#,
                "`id_lists_url`: the manifest URL must start with http:// or https://",
            ),
            (
                r#"{"specs_file":"x","events":{"file":"e","batch_size":0}}"#,
                "`events.batch_size`: must be greater than zero",
            ),
            (
                r#"{"specs_file":"x","events":{"file":"e","max_queue":0}}"#,
                "`events.max_queue`: must be greater than zero",
            ),
            (
                r#"{"specs_file":"x","events":{"file":"e","flush_interval_ms":0}}"#,
                "`events.flush_interval_ms`: must be greater than zero",
            ),
            (
                r#"{"specs_file":"x","events":{"file":"e","request_timeout_ms":0}}"#,
                "`events.request_timeout_ms`: must be greater than zero",
            ),
            (
                r#"{"specs_file":"x","events":{"file":"e","retry_backoff_ms":0}}"#,
                "`events.retry_backoff_ms`: must be greater than zero",
            ),
            (
                r#"{"specs_file":"x","events":{"url":"http://e","sdk_key":"  "}}"#,
                "`events.sdk_key`: an HTTP sink needs the SDK key",
            ),
            (
                r#"{"specs_file":"x","events":{"file":"/nonexistent-dir/e.ndjson"}}"#,
                "`events.file`: the events file's directory does not exist",
            ),
        ];
        for (text, want) in cases {
            let options = parse(text).expect("parses");
            let got = match gatehouse::Client::new(options).map_err(runtime_error) {
                Err(Error::InvalidOptions(m)) => m,
                Err(e) => panic!("{text}: unexpected {e:?}"),
                Ok(_) => panic!("{text}: accepted"),
            };
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn sources_and_durations_map() {
        let o = parse(r#"{"specs_file":"s.json","sync_interval_ms":0,"init_timeout_ms":5}"#)
            .expect("valid");
        assert!(o.sync_interval.is_none());
        assert_eq!(o.init_timeout, Duration::from_millis(5));
        assert!(message(r#"{"specs_url":"http://x"}"#).contains("sdk_key"));
        assert!(message(r#"{}"#).contains("exactly one"));
        let o =
            parse(r#"{"specs_json":{"feature_gates":{}},"events":{"file":"e","batch_size":3}}"#)
                .expect("valid");
        assert_eq!(o.events.map(|e| e.batch_size), Some(3));
    }
}
