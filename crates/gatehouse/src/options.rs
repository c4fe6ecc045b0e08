//! Client options.

use crate::events::EventOptions;
use gatehouse_core::country::CountryTable;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where specs come from. `Debug` never shows the SDK key.
#[derive(Clone)]
pub enum SpecSource {
    /// A dcs-v2 JSON file (the default). With polling on, the file is
    /// re-read when its modification time or size changes.
    File(PathBuf),
    /// A dcs-v2 endpoint: `{url}/{sdk_key}.json` with the SDK key header
    /// and `sinceTime`/`checksum` queries (dcs-semantics §1.1).
    Url { url: String, sdk_key: String },
    /// A payload held in memory (tests, embedding). Never polled.
    Json(String),
}

/// Where ID lists come from. `Debug` never shows the SDK key.
#[derive(Clone, Default)]
pub enum IdListSource {
    /// No ID lists: `in_segment_list` conditions see empty lists.
    #[default]
    None,
    /// Files in the `+id`/`-id` line format, by list name. Read once at initialize.
    Files(Vec<(String, PathBuf)>),
    /// Lists already in memory (tests, embedding, the CLI's example).
    InMemory(Arc<gatehouse_core::IdLists>),
    /// A `get_id_lists` manifest URL, polled every `id_list_sync_interval`.
    Manifest { url: String, sdk_key: String },
}

impl fmt::Debug for SpecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecSource::File(p) => f.debug_tuple("File").field(p).finish(),
            SpecSource::Url { url, .. } => f
                .debug_struct("Url")
                .field("url", url)
                .field("sdk_key", &"<sdk-key>")
                .finish(),
            SpecSource::Json(text) => write!(f, "Json(<{} bytes>)", text.len()),
        }
    }
}

impl fmt::Debug for IdListSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdListSource::None => f.write_str("None"),
            IdListSource::Files(files) => f.debug_tuple("Files").field(files).finish(),
            IdListSource::InMemory(lists) => write!(f, "InMemory(<{} lists>)", lists.len()),
            IdListSource::Manifest { url, .. } => f
                .debug_struct("Manifest")
                .field("url", url)
                .field("sdk_key", &"<sdk-key>")
                .finish(),
        }
    }
}

/// Everything a [`crate::Client`] is built from. Start from
/// [`Options::from_file`] or [`Options::from_url`] and adjust fields.
#[derive(Clone)]
pub struct Options {
    /// Where specs come from.
    pub specs: SpecSource,
    /// The initial load gives up after this long (default 3 s).
    pub init_timeout: Duration,
    /// Background polling of the spec source; `None` disables it
    /// (default: 10 s for URLs, 10 s for files, never for `Json`).
    pub sync_interval: Option<Duration>,
    /// Timeout of one HTTP request after initialization (default 10 s).
    pub http_timeout: Duration,
    /// Where ID lists come from (default none).
    pub id_lists: IdListSource,
    /// Manifest polling interval (default 60 s).
    pub id_list_sync_interval: Duration,
    /// IP → country table for `ip_based` conditions (default none:
    /// `CountryLookupNotLoaded` reasons).
    pub country_table: Option<Arc<CountryTable>>,
    /// SDK environment tier (`{"tier": …}`); default: the payload's
    /// `default_environment`.
    pub environment: Option<String>,
    /// Exposure and event logging; `None` logs nothing (default).
    pub events: Option<EventOptions>,
    /// Exposure dedupe: at most this many keys are remembered (default 100 000).
    pub dedupe_max_keys: usize,
    /// Exposure dedupe window (default 60 s).
    pub dedupe_ttl: Duration,
}

impl Options {
    /// Options with specs from a file and every default.
    pub fn from_file(path: impl Into<PathBuf>) -> Options {
        Options::with_source(SpecSource::File(path.into()))
    }

    /// Options with specs from a dcs-v2 endpoint and every default.
    pub fn from_url(url: &str, sdk_key: &str) -> Options {
        Options::with_source(SpecSource::Url {
            url: url.to_owned(),
            sdk_key: sdk_key.to_owned(),
        })
    }

    /// Options with specs held in memory (no polling).
    pub fn from_json(json: impl Into<String>) -> Options {
        let mut o = Options::with_source(SpecSource::Json(json.into()));
        o.sync_interval = None;
        o
    }

    fn with_source(specs: SpecSource) -> Options {
        Options {
            specs,
            init_timeout: Duration::from_secs(3),
            sync_interval: Some(Duration::from_secs(10)),
            http_timeout: Duration::from_secs(10),
            id_lists: IdListSource::None,
            id_list_sync_interval: Duration::from_secs(60),
            country_table: None,
            environment: None,
            events: None,
            dedupe_max_keys: 100_000,
            dedupe_ttl: Duration::from_secs(60),
        }
    }
}

/// Per-call options.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallOptions {
    /// Log no exposure for this call.
    pub disable_exposure_logging: bool,
}
