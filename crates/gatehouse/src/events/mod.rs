//! The event pipeline: a bounded queue, batching, a background flusher
//! with retries and backoff, and the sinks (HTTP, NDJSON file, callback).
//!
//! Events enter as finished JSON objects (one `String` each, the reference's
//! event shape, dcs-semantics §9.2). Building them (and dedupe) is the
//! client's job; this module only guarantees delivery or a counted drop.
//!
//! - [`EventLogger`]: the bounded queue and its one background thread
//!   (`gatehouse-events`): batching, ordered delivery, retries with
//!   exponential backoff, `flush`, `shutdown`, and counters for every
//!   event accepted, sent or dropped.
//! - [`EventSink`]: HTTP (the reference's gzip `log_event` POST), an NDJSON
//!   file, or a callback.
//! - [`Dedupe`]: the sharded, bounded exposure-dedupe set the client uses
//!   before enqueueing exposures.
//!
//! Delivery guarantee: each accepted event is delivered once, in arrival
//! order, or dropped and counted (queue full, retries exhausted, a
//! non-retryable sink error, shutdown timeout), never both. The one
//! exception is a retry after an attempt that failed on the client's side
//! although the server got the request (a timeout, a lost response): that
//! batch may arrive twice.

mod dedupe;
mod flusher;
mod http;
mod logger;
mod lru;
mod queue;
mod sink;

pub use dedupe::{Dedupe, SHARDING_MIN_KEYS};
pub use logger::EventLogger;
pub use sink::{BatchCallback, EventSink};

use std::time::Duration;

/// How the event pipeline batches, retries and where it delivers.
#[derive(Clone, Debug)]
pub struct EventOptions {
    /// Where events go.
    pub sink: EventSink,
    /// Events per batch; a full batch is flushed at once. Default 500.
    pub batch_size: usize,
    /// A partial batch is flushed after this long. Default 10 s.
    pub flush_interval: Duration,
    /// Events held at most: queued, plus the batch being delivered or
    /// awaiting retry ("in flight"). When full, the oldest queued event is
    /// dropped and counted; when every held event is in flight, the
    /// incoming one is. In-flight events are never dropped to make room.
    /// Default 100 000.
    pub max_queue: usize,
    /// Delivery attempts per batch after the first. Default 5.
    pub max_retries: u32,
    /// First retry delay, doubled per attempt up to `max_backoff`. Default 1 s.
    pub retry_backoff: Duration,
    /// Largest retry delay. Default 60 s.
    pub max_backoff: Duration,
    /// Timeout of one HTTP delivery. Default 10 s.
    pub request_timeout: Duration,
    /// When the queue is full, make `enqueue` wait for room instead of
    /// dropping: back-pressure for batch tools where nothing may be lost.
    /// It waits as long as the sink takes (retries and backoff included),
    /// but never where the wait could not end: after shutdown, once the
    /// event thread has stopped, or on the event thread itself (a callback
    /// sink calling `enqueue`) it drops as when false. Default false.
    pub block_when_full: bool,
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
            block_when_full: false,
        }
    }
}
