//! Event sinks.

use std::path::PathBuf;
use std::sync::Arc;

/// A callback that receives one batch of events (each a JSON object text).
/// `Err(message)` means the delivery failed and the batch is retried.
pub type BatchCallback = dyn Fn(&[String]) -> Result<(), String> + Send + Sync;

/// Where events are delivered.
#[derive(Clone)]
pub enum EventSink {
    /// POST `{"events": [...], "statsigMetadata": {...}}`, gzip-compressed,
    /// with the reference's headers, to a log_event endpoint.
    Http { url: String, sdk_key: String },
    /// Append one event per line (NDJSON) to a file.
    File(PathBuf),
    /// Hand each batch to a callback (tests, bindings).
    Callback(Arc<BatchCallback>),
}
