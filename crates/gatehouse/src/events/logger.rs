//! The queue and the background flusher: the public handle.
//!
//! `enqueue` only takes a short lock and pushes (with `block_when_full` it
//! may wait for room); the thread `gatehouse-events` does all I/O (see
//! `flusher.rs` for batching, order and retries).
//!
//! Bound: at most `max_queue` events are held, counting the batch being
//! delivered or awaiting retry ("in flight"). When full, `enqueue` drops
//! the oldest *queued* event to make room; when every held event is in
//! flight it drops the incoming one instead. An in-flight event is never
//! dropped by `enqueue`: only the flusher resolves its batch, so
//! `events_sent` is exactly what the sink accepted. Both kinds of drop
//! count in `events_queued` and `events_dropped`. With `block_when_full`,
//! `enqueue` first waits for room (on `Shared::room`) when it safely can.
//!
//! Once the flusher has booked a change (all counter updates happen under
//! the state lock), `events_queued == events_sent + events_dropped +
//! pending()` exactly. Events refused after shutdown are the one
//! exception: they count in `events_dropped` only.

use super::flusher::Flusher;
use super::queue::{Shared, State};
use super::sink::Deliverer;
use super::{EventOptions, EventSink};
use crate::{Counters, Error};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

/// How long `Drop` lets the pipeline deliver before dropping what is left.
const DROP_TIMEOUT: Duration = Duration::from_millis(200);

/// How long `shutdown` waits past its timeout for a delivery already on the
/// wire before leaving the thread to finish on its own.
const JOIN_GRACE: Duration = Duration::from_millis(250);

/// The event pipeline of one client: a bounded queue drained by one
/// background thread.
///
/// Dropping it without [`EventLogger::shutdown`] runs `shutdown` with a
/// 200 ms timeout: what is not delivered within 200 ms (plus up to 250 ms
/// for a delivery already on the wire) is dropped and counted, and no
/// error is reported to anyone. Call `shutdown` to choose the timeout and
/// see the result. (Dropped by its own callback sink, it cannot wait for
/// itself: its thread gets the same 200 ms and is detached.)
pub struct EventLogger {
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    max_queue: usize,
    batch_size: usize,
    block_when_full: bool,
    thread_id: ThreadId,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl EventLogger {
    /// Start the flusher thread.
    ///
    /// Errors: `Error::Options`, naming the option, for a zero
    /// `batch_size`, `max_queue`, `flush_interval`, `request_timeout` or
    /// `retry_backoff`, a `max_backoff` below `retry_backoff`, and for an
    /// HTTP sink an empty `sdk_key` or a URL that is not http(s);
    /// `Error::Sink` when the thread cannot be spawned.
    pub fn start(options: EventOptions, counters: Arc<Counters>) -> Result<EventLogger, Error> {
        validate(&options)?;
        let sink = Deliverer::new(&options.sink, options.request_timeout)?;
        let shared = Arc::new(Shared::new());
        let (max_queue, batch_size) = (options.max_queue, options.batch_size);
        let block_when_full = options.block_when_full;
        let flusher = Flusher::new(counters.clone(), options, sink);
        let thread_shared = shared.clone();
        let handle = thread::Builder::new()
            .name("gatehouse-events".to_string())
            .spawn(move || flusher.run(thread_shared))
            .map_err(|e| Error::Sink {
                message: format!("cannot start the event thread: {e}"),
                retryable: false,
            })?;
        Ok(EventLogger {
            shared,
            counters,
            max_queue,
            batch_size,
            block_when_full,
            thread_id: handle.thread().id(),
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Queue one event (a JSON object text). Takes a short lock and never
    /// waits for I/O, unless `block_when_full` makes it wait for room.
    ///
    /// At `max_queue` held events, the oldest *queued* event is dropped to
    /// make room, or the incoming one when every held event is in a batch
    /// being delivered or awaiting retry (both counted in `events_queued`
    /// and `events_dropped`). With `block_when_full`, it first waits until
    /// there is room instead, except when waiting could never end: after
    /// shutdown, once the event thread has stopped, or when called from the
    /// sink itself (a callback sink on the event thread); then it drops as
    /// above. After shutdown the event is dropped (counted in
    /// `events_dropped` only).
    pub fn enqueue(&self, event: String) {
        let mut st = self.shared.lock();
        if self.block_when_full && st.held() >= self.max_queue && self.may_wait(&st) {
            // Make sure the flusher is at work on the full queue.
            self.shared.wake.notify_one();
            while st.held() >= self.max_queue && !st.closed && !st.stopped {
                st = self
                    .shared
                    .room
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        if st.closed {
            drop(st);
            Counters::inc(&self.counters.events_dropped);
            return;
        }
        Counters::inc(&self.counters.events_queued);
        st.accepted += 1;
        if st.held() >= self.max_queue {
            Counters::inc(&self.counters.events_dropped);
            if st.queue.pop_front().is_none() {
                // Everything held is in flight: the incoming event goes.
                return;
            }
            // The oldest queued event went. The flusher was woken when the
            // queue filled; waking it on every event would only spin it.
            st.queue.push_back(event);
            return;
        }
        st.queue.push_back(event);
        // Wake the flusher when a batch fills, or when the queue fills
        // (`max_queue` below `batch_size`).
        let wake = st.queue.len() == self.batch_size || st.held() == self.max_queue;
        drop(st);
        if wake {
            self.shared.wake.notify_one();
        }
    }

    /// Whether a full `enqueue` may wait for room: the flusher is running
    /// and will resolve its batch (or be stopped), and this is not its own
    /// thread.
    fn may_wait(&self, st: &State) -> bool {
        !st.closed && !st.stopped && thread::current().id() != self.thread_id
    }

    /// The text of the last failed delivery attempt (an HTTP status with
    /// the server's answer, a connection error, a file error, a callback's
    /// `Err`), kept after later successes; `None` if no attempt failed.
    /// Useful to say why events were dropped. The HTTP sink's messages
    /// never contain the SDK key.
    pub fn last_error(&self) -> Option<String> {
        self.shared.lock().last_error.clone()
    }

    /// Try to deliver everything queued before this call, now.
    ///
    /// Returns `Ok(())` at once if all of it is already delivered or
    /// dropped. Otherwise the event thread makes one pass (after finishing
    /// a delivery already on the wire): batch after batch in order, each
    /// tried once immediately, a batch waiting for a retry too (its backoff
    /// is skipped).
    ///
    /// - All delivered: `Ok(())`. Events dropped earlier (queue overflow)
    ///   do not make it an error.
    /// - A batch fails for good (a non-retryable error, or that was its
    ///   last retry): it is dropped and counted, the pass goes on with the
    ///   next batch, and the result is `Err`.
    /// - A batch fails and may be retried: it stays queued, with every
    ///   later event behind it, for the usual retries with backoff; the pass
    ///   ends and this returns `Err` at once. It does **not** wait until
    ///   that batch is delivered or dropped: check [`EventLogger::pending`],
    ///   flush again, or `shutdown`.
    ///
    /// The error is `Error::Sink` with the last failure of the pass (its
    /// `retryable` is the sink's verdict on that error, not whether the
    /// batch was kept). If `shutdown` starts meanwhile, this returns its
    /// outcome (`Err` if events were lost at its timeout). After shutdown:
    /// `Ok(())` when nothing is held. From a callback sink (on the event
    /// thread) it returns `Err` at once without doing anything.
    pub fn flush(&self) -> Result<(), Error> {
        self.not_on_flusher("flush")?;
        let mut st = self.shared.lock();
        let target = st.accepted;
        if st.resolved_below() >= target {
            return Ok(());
        }
        if st.stopped {
            return Err(stopped_error());
        }
        st.flush_req += 1;
        let req = st.flush_req;
        st.flush_target = st.flush_target.max(target);
        self.shared.wake.notify_one();
        loop {
            if st.flush_ack >= req {
                return match &st.flush_err {
                    Some(e) => Err(e.clone()),
                    None => Ok(()),
                };
            }
            if st.stopped {
                // Shutdown took over and resolved everything.
                return if st.lost_at_stop == 0 {
                    Ok(())
                } else {
                    Err(lost_error(st.lost_at_stop))
                };
            }
            st = self
                .shared
                .done
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Flush everything and stop the thread. Later enqueues are dropped and
    /// counted, and so are those waiting for room (`block_when_full`).
    ///
    /// Delivers (with retries and backoff) until everything is delivered or
    /// `timeout` passes; what is left then is dropped and counted, and the
    /// result is `Err(Error::Sink { .. })` naming how many. A delivery on the
    /// wire at the timeout is waited for a further 250 ms; past that the
    /// thread is left to finish on its own (it drops and counts what is
    /// left) and the result is an error. A second call is a no-op `Ok`.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        self.not_on_flusher("shutdown")?;
        let Some(handle) = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let dropped_before = self.counters.snapshot().events_dropped;
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        st.closed = true;
        st.deadline = Some(deadline);
        self.shared.wake.notify_all();
        // `enqueue` calls waiting for room give up (the event is dropped).
        self.shared.room.notify_all();
        let give_up = deadline + JOIN_GRACE;
        while !st.stopped {
            let now = Instant::now();
            if now >= give_up {
                return Err(Error::Sink {
                    message: "shutdown: a delivery was still in progress at the timeout; \
                              the event thread was left to finish it"
                        .to_string(),
                    retryable: false,
                });
            }
            st = self
                .shared
                .done
                .wait_timeout(st, give_up - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let lost = st.lost_at_stop;
        drop(st);
        if handle.join().is_err() {
            return Err(stopped_error());
        }
        // Anything dropped while shutting down — still held at the deadline,
        // or given up after failed deliveries — fails the shutdown.
        let dropped = self.counters.snapshot().events_dropped - dropped_before;
        if dropped > lost {
            let why = self.last_error().unwrap_or_default();
            return Err(Error::Sink {
                message: format!("{dropped} events could not be delivered during shutdown: {why}"),
                retryable: false,
            });
        }
        if lost > 0 {
            return Err(lost_error(lost));
        }
        Ok(())
    }

    /// Events held now: queued, or in a batch being delivered or awaiting
    /// retry. Never more than `max_queue`.
    pub fn pending(&self) -> usize {
        self.shared.lock().held()
    }

    fn not_on_flusher(&self, call: &str) -> Result<(), Error> {
        if thread::current().id() == self.thread_id {
            return Err(Error::Sink {
                message: format!("{call} called from the event sink itself"),
                retryable: false,
            });
        }
        Ok(())
    }
}

impl Drop for EventLogger {
    /// Never blocks: the thread that drops the last handle may be one that
    /// was evaluating (it happened to hold the last reference to a released
    /// client). The event thread is told to deliver what it can within
    /// [`DROP_TIMEOUT`] and stop, and is left to do so on its own. Losses
    /// are in the counters; there is no one to report an error to.
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        if !st.closed {
            st.closed = true;
            st.deadline = Some(Instant::now() + DROP_TIMEOUT);
        }
        drop(st);
        self.shared.wake.notify_all();
        self.shared.room.notify_all();
    }
}

/// The checks of [`EventLogger::start`].
fn validate(options: &EventOptions) -> Result<(), Error> {
    let bad = |option: &'static str, message: &str| {
        Err(Error::Options {
            option,
            message: message.to_string(),
        })
    };
    let zero = "must be greater than zero";
    if options.batch_size == 0 {
        return bad("batch_size", zero);
    }
    if options.max_queue == 0 {
        return bad("max_queue", zero);
    }
    if options.flush_interval.is_zero() {
        return bad("flush_interval", zero);
    }
    if options.request_timeout.is_zero() {
        return bad("request_timeout", zero);
    }
    if options.retry_backoff.is_zero() {
        return bad("retry_backoff", zero);
    }
    if options.max_backoff < options.retry_backoff {
        return bad(
            "max_backoff",
            &format!(
                "must be at least retry_backoff ({:?}), is {:?}",
                options.retry_backoff, options.max_backoff
            ),
        );
    }
    if let EventSink::Http { sdk_key, .. } = &options.sink {
        if sdk_key.trim().is_empty() {
            return bad("sink.sdk_key", "an HTTP sink needs the SDK key");
        }
    }
    Ok(())
}

fn stopped_error() -> Error {
    Error::Sink {
        message: "the event thread stopped unexpectedly".to_string(),
        retryable: false,
    }
}

fn lost_error(n: u64) -> Error {
    Error::Sink {
        message: format!("{n} events were not delivered before the shutdown timeout"),
        retryable: false,
    }
}
