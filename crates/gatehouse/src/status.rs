//! The status query: where specs come from and how fresh they are.

use crate::client::{now_ms_u64, Inner};
use crate::options::SpecSource;
use crate::CounterSnapshot;
use serde_json::{json, Value};

/// A client's sync status at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The spec source: a file path, `memory`, or the URL (SDK key redacted).
    pub source: String,
    /// Whether specs are loaded.
    pub ready: bool,
    /// The loaded specs' `time`.
    pub lcut: Option<u64>,
    /// When the loaded specs were applied (ms since the epoch).
    pub updated_at: Option<u64>,
    /// Milliseconds since then.
    pub age_ms: Option<u64>,
    /// The last sync failure (specs or ID lists), if any since start.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<u64>,
    /// When the last spec sync was attempted.
    pub last_attempt_at: Option<u64>,
    /// ID lists loaded.
    pub id_lists: usize,
    /// Counters at the same instant.
    pub counters: CounterSnapshot,
}

impl Status {
    pub(crate) fn read(inner: &Inner) -> Status {
        let state = inner.store.load_full();
        let record = inner.store.sync_record();
        let now = now_ms_u64();
        let specs = state.specs.as_deref();
        let source = match &inner.options.specs {
            SpecSource::File(p) => p.display().to_string(),
            SpecSource::Json(_) => "memory".to_owned(),
            SpecSource::Url { url, .. } => format!("{}/<sdk-key>.json", url.trim_end_matches('/')),
        };
        Status {
            source,
            ready: specs.is_some(),
            lcut: specs.map(|s| s.snapshot.time()),
            updated_at: specs.map(|s| s.received_at),
            age_ms: specs.map(|s| now.saturating_sub(s.received_at)),
            last_error: record.last_error,
            last_error_at: record.last_error_at,
            last_attempt_at: record.last_attempt_at,
            id_lists: state.id_lists.len(),
            counters: inner.counters.snapshot(),
        }
    }

    /// The status as JSON (field names as in the struct; counters nested).
    pub fn to_json(&self) -> Value {
        let c = &self.counters;
        json!({
            "source": self.source,
            "ready": self.ready,
            "lcut": self.lcut,
            "updated_at": self.updated_at,
            "age_ms": self.age_ms,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "last_attempt_at": self.last_attempt_at,
            "id_lists": self.id_lists,
            "counters": {
                "evaluations": c.evaluations,
                "exposures_queued": c.exposures_queued,
                "exposures_deduped": c.exposures_deduped,
                "events_queued": c.events_queued,
                "events_sent": c.events_sent,
                "events_dropped": c.events_dropped,
                "event_batches_failed": c.event_batches_failed,
                "spec_updates_applied": c.spec_updates_applied,
                "spec_updates_failed": c.spec_updates_failed,
                "spec_updates_unchanged": c.spec_updates_unchanged,
                "id_list_updates_failed": c.id_list_updates_failed,
            },
        })
    }
}
