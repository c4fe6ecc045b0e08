//! Event sinks: where batches go, and the one delivery function the
//! flusher calls.

use super::http::HttpSink;
use crate::Error;
use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A callback that receives one batch of events (each a JSON object text).
/// `Err(message)` means the delivery failed and the batch is retried.
///
/// It runs on the pipeline's thread and must not call `flush` or
/// `shutdown` of the logger it serves (those calls return an error).
/// A panic in it drops the batch (counted) and the pipeline goes on.
pub type BatchCallback = dyn Fn(&[String]) -> Result<(), String> + Send + Sync;

/// Where events are delivered.
#[derive(Clone)]
pub enum EventSink {
    /// POST `{"events": [...], "statsigMetadata": {...}}`, gzip-compressed,
    /// with the reference's headers, to a log_event endpoint.
    Http {
        /// The endpoint, used exactly as given (e.g.
        /// `https://events.statsigapi.net/v1/log_event`).
        url: String,
        /// The server SDK key, sent as `STATSIG-API-KEY`.
        sdk_key: String,
    },
    /// Append one event per line (NDJSON) to a file.
    File(PathBuf),
    /// Hand each batch to a callback (tests, bindings).
    Callback(Arc<BatchCallback>),
}

impl fmt::Debug for EventSink {
    /// Shows the URL or path; never the SDK key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventSink::Http { url, .. } => f.debug_struct("Http").field("url", url).finish(),
            EventSink::File(path) => f.debug_tuple("File").field(path).finish(),
            EventSink::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

/// Why a batch is sent (the `flushType` of the HTTP body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FlushKind {
    /// The flush interval passed with a partial batch queued.
    MaxTime,
    /// A full batch was queued.
    FullBatch,
    /// A full batch was queued while the queue was at `max_queue`.
    Limit,
    /// `flush()` was called.
    Manual,
    /// `shutdown()` was called.
    Shutdown,
}

impl FlushKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            FlushKind::MaxTime => "scheduled:max_time",
            FlushKind::FullBatch => "scheduled:full_batch",
            FlushKind::Limit => "limit",
            FlushKind::Manual => "manual",
            FlushKind::Shutdown => "shutdown",
        }
    }
}

/// One delivery attempt of a batch.
pub(super) struct Attempt {
    /// Why the batch was formed.
    pub kind: FlushKind,
    /// Failed attempts of this batch so far (0 on the first).
    pub retry: u32,
    /// Time left before a shutdown deadline, if one applies.
    pub time_left: Option<Duration>,
}

/// A sink ready to deliver (the HTTP agent built, the session id fixed).
pub(super) enum Deliverer {
    Http(HttpSink),
    File(PathBuf),
    Callback(Arc<BatchCallback>),
}

impl Deliverer {
    /// Prepares `sink`; `request_timeout` bounds one HTTP delivery.
    pub(super) fn new(sink: &EventSink, request_timeout: Duration) -> Result<Deliverer, Error> {
        Ok(match sink {
            EventSink::Http { url, sdk_key } => {
                Deliverer::Http(HttpSink::new(url, sdk_key, request_timeout)?)
            }
            EventSink::File(path) => Deliverer::File(path.clone()),
            EventSink::Callback(f) => Deliverer::Callback(f.clone()),
        })
    }

    /// Delivers one batch. `Err(Error::Sink { retryable, .. })` on failure;
    /// a panic inside the sink is a non-retryable failure.
    pub(super) fn deliver(&self, batch: &[String], at: &Attempt) -> Result<(), Error> {
        match catch_unwind(AssertUnwindSafe(|| self.deliver_inner(batch, at))) {
            Ok(r) => r,
            Err(_) => Err(Error::Sink {
                message: "the event sink panicked; batch dropped".to_string(),
                retryable: false,
            }),
        }
    }

    fn deliver_inner(&self, batch: &[String], at: &Attempt) -> Result<(), Error> {
        match self {
            Deliverer::Http(h) => h.deliver(batch, at),
            Deliverer::File(path) => append_lines(path, batch),
            Deliverer::Callback(f) => f(batch).map_err(|message| Error::Sink {
                message: format!("callback: {message}"),
                retryable: true,
            }),
        }
    }
}

/// Appends the batch as NDJSON with one write. A raw line break inside an
/// event can only be JSON whitespace, so it is replaced by a space to keep
/// one event per line.
fn append_lines(path: &PathBuf, batch: &[String]) -> Result<(), Error> {
    let mut buf = String::with_capacity(batch.iter().map(|e| e.len() + 1).sum());
    for event in batch {
        if event.contains(['\n', '\r']) {
            buf.extend(event.chars().map(|c| match c {
                '\n' | '\r' => ' ',
                c => c,
            }));
        } else {
            buf.push_str(event);
        }
        buf.push('\n');
    }
    let fail = |e: std::io::Error| Error::Sink {
        message: format!("{}: {e}", path.display()),
        retryable: true,
    };
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(fail)?;
    file.write_all(buf.as_bytes()).map_err(fail)?;
    file.flush().map_err(fail)
}
