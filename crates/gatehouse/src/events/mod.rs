//! The event pipeline: a bounded queue, batching, a background flusher
//! with retries and backoff, and the sinks (HTTP, NDJSON file, callback).
//!
//! Events enter as finished JSON objects (one `String` each, the reference's
//! event shape, dcs-semantics §9.2). Building them (and dedupe) is the
//! client's job; this module only guarantees delivery or a counted drop.
//!
//! INTERFACE CONTRACT (implemented by the events helper; keep signatures):

mod dedupe;
mod logger;
mod sink;

pub use dedupe::Dedupe;
pub use logger::EventLogger;
pub use sink::EventSink;

use std::time::Duration;

/// How the event pipeline batches, retries and where it delivers.
#[derive(Clone)]
pub struct EventOptions {
    /// Where events go.
    pub sink: EventSink,
    /// Events per batch; a full batch is flushed at once. Default 500.
    pub batch_size: usize,
    /// A partial batch is flushed after this long. Default 10 s.
    pub flush_interval: Duration,
    /// Events held at most (queued plus awaiting retry). When full, the
    /// oldest event is dropped and counted. Default 100 000.
    pub max_queue: usize,
    /// Delivery attempts per batch after the first. Default 5.
    pub max_retries: u32,
    /// First retry delay, doubled per attempt up to `max_backoff`. Default 1 s.
    pub retry_backoff: Duration,
    /// Largest retry delay. Default 60 s.
    pub max_backoff: Duration,
    /// Timeout of one HTTP delivery. Default 10 s.
    pub request_timeout: Duration,
}

impl EventOptions {
    /// Defaults with the given sink.
    pub fn new(sink: EventSink) -> EventOptions {
        EventOptions {
            sink,
            batch_size: 500,
            flush_interval: Duration::from_secs(10),
            max_queue: 100_000,
            max_retries: 5,
            retry_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
        }
    }
}
