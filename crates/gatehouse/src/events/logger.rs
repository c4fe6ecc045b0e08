//! The queue and the background flusher: the public handle.
//!
//! `enqueue` only takes a short lock and pushes; the thread `gatehouse-events`
//! does all I/O (see `flusher.rs` for batching, order and retries).
//!
//! Bound: at most `max_queue` events are held, counting the batch being
//! delivered or awaiting retry. When full, the oldest held event is dropped
//! (counted in `events_dropped`) to make room, even one in a batch on the
//! wire at that moment. At any instant
//! `events_queued == events_sent + events_dropped + pending()`, where
//! events refused after shutdown count only as dropped.

use super::flusher::Flusher;
use super::queue::Shared;
use super::sink::Deliverer;
use super::EventOptions;
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
/// background thread. Dropping it shuts it down with a short timeout
/// (200 ms); call [`EventLogger::shutdown`] to choose the timeout.
pub struct EventLogger {
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    max_queue: usize,
    batch_size: usize,
    thread_id: ThreadId,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl EventLogger {
    /// Start the flusher thread.
    ///
    /// Errors: `Error::Options` for a zero `batch_size`, `max_queue` or
    /// `flush_interval`, or an HTTP sink URL that is not http(s);
    /// `Error::Sink` when the thread cannot be spawned.
    pub fn start(options: EventOptions, counters: Arc<Counters>) -> Result<EventLogger, Error> {
        let zero = |option: &'static str| Error::Options {
            option,
            message: "must be greater than zero".to_string(),
        };
        if options.batch_size == 0 {
            return Err(zero("batch_size"));
        }
        if options.max_queue == 0 {
            return Err(zero("max_queue"));
        }
        if options.flush_interval.is_zero() {
            return Err(zero("flush_interval"));
        }
        let sink = Deliverer::new(&options.sink, options.request_timeout)?;
        let shared = Arc::new(Shared::new());
        let (max_queue, batch_size) = (options.max_queue, options.batch_size);
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
            thread_id: handle.thread().id(),
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Queue one event (a JSON object text). Never blocks on I/O.
    ///
    /// At `max_queue` held events the oldest is dropped (counted). After
    /// shutdown the event is dropped (counted in `events_dropped` only).
    pub fn enqueue(&self, event: String) {
        let mut st = self.shared.lock();
        if st.closed {
            drop(st);
            Counters::inc(&self.counters.events_dropped);
            return;
        }
        Counters::inc(&self.counters.events_queued);
        st.accepted += 1;
        if st.held() >= self.max_queue {
            Counters::inc(&self.counters.events_dropped);
            if st.inflight > st.trim {
                st.trim += 1;
            } else {
                st.queue.pop_front();
            }
        }
        st.queue.push_back(event);
        let full = st.queue.len() == self.batch_size;
        drop(st);
        if full {
            self.shared.wake.notify_one();
        }
    }

    /// Deliver everything queued before this call; returns when delivered or dropped.
    ///
    /// Batches waiting for a retry are tried at once, ignoring the backoff.
    /// `Err(Error::Sink { .. })` when a batch failed during this flush:
    /// either it was dropped (non-retryable, or out of retries) or it is
    /// still queued for a later retry (then this returns without waiting
    /// for it). Must not be called from a callback sink (returns an error).
    pub fn flush(&self) -> Result<(), Error> {
        self.not_on_flusher("flush")?;
        let mut st = self.shared.lock();
        let target = st.accepted;
        if st.resolved() >= target {
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

    /// Flush everything and stop the thread. Later enqueues are dropped and counted.
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
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        st.closed = true;
        st.deadline = Some(deadline);
        self.shared.wake.notify_all();
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
    fn drop(&mut self) {
        if thread::current().id() == self.thread_id {
            // Dropped by its own sink (the last handle lived in a callback):
            // it cannot join itself, so it tells itself to stop and detaches.
            let mut st = self.shared.lock();
            st.closed = true;
            st.deadline = Some(Instant::now() + DROP_TIMEOUT);
            return;
        }
        // Losses are in the counters; there is no one to report an error to.
        let _ = self.shutdown(DROP_TIMEOUT);
    }
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
