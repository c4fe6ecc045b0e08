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

/// Parse the options JSON.
pub(crate) fn parse(text: &str) -> Result<Options, Error> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let o: OptionsJson = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." => bad(e.inner().to_string()),
            _ => bad(format!("`{path}`: {}", e.inner())),
        }
    })?;
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
