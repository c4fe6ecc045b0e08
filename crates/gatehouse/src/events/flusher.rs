//! The background thread: forms batches, delivers them one at a time, in
//! order, retrying with exponential backoff.
//!
//! At most one batch exists at a time. It leaves the queue when it is
//! formed and is resolved (delivered, or dropped and counted) before the
//! next one is formed, so events reach the sink in arrival order and the
//! pipeline never sends an event twice, except that a retry after a failed
//! attempt whose request the server did receive (a timeout, a lost
//! response) sends that batch again: at-least-once at that one point.
//!
//! Only this thread resolves the batch: `enqueue` never drops an event of
//! it, so what is counted sent is exactly what the sink accepted. Each
//! resolution signals `Shared::room` for `enqueue` calls waiting for room.

use super::queue::{Shared, State};
use super::sink::{Attempt, Deliverer, FlushKind};
use super::EventOptions;
use crate::{Counters, Error};
use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

type Guard<'a> = MutexGuard<'a, State>;

/// The thread's own state; the batch lives here, outside the lock.
pub(super) struct Flusher {
    counters: Arc<Counters>,
    options: EventOptions,
    sink: Deliverer,
    batch: Vec<String>,
    kind: FlushKind,
    /// Failed attempts of the current batch.
    failures: u32,
    /// When the current batch may be attempted again.
    next_try: Instant,
}

/// Marks the thread stopped however it ends (even by a panic), so that
/// `flush` and `shutdown` callers never wait forever.
struct StopGuard(Arc<Shared>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.stopped = true;
        drop(st);
        self.0.done.notify_all();
        self.0.room.notify_all();
    }
}

impl Flusher {
    pub(super) fn new(counters: Arc<Counters>, options: EventOptions, sink: Deliverer) -> Flusher {
        Flusher {
            counters,
            batch: Vec::with_capacity(options.batch_size.min(4096)),
            options,
            sink,
            kind: FlushKind::MaxTime,
            failures: 0,
            next_try: Instant::now(),
        }
    }

    /// The thread body: runs until `shutdown` (or the logger's drop).
    pub(super) fn run(mut self, shared: Arc<Shared>) {
        let _stop = StopGuard(shared.clone());
        let sh = &*shared;
        let mut st = sh.lock();
        let mut next_tick = Instant::now() + self.options.flush_interval;
        loop {
            if st.deadline.is_some() {
                break;
            }
            if st.flush_req > st.flush_ack {
                st = self.manual_pass(sh, st);
                continue;
            }
            let now = Instant::now();
            if !self.batch.is_empty() {
                if now >= self.next_try {
                    st = self.attempt(sh, st, None).0;
                } else {
                    st = self.wait(sh, st, self.next_try - now);
                }
                continue;
            }
            // A full queue is sent at once too (when `max_queue` is below
            // `batch_size`), so that a full queue never waits for the interval.
            let full_queue = !st.queue.is_empty() && st.held() >= self.options.max_queue;
            if st.queue.len() >= self.options.batch_size || full_queue {
                let kind = if full_queue {
                    FlushKind::Limit
                } else {
                    FlushKind::FullBatch
                };
                self.take(&mut st, kind);
                st = self.attempt(sh, st, None).0;
                continue;
            }
            if now >= next_tick {
                next_tick = now + self.options.flush_interval;
                if !st.queue.is_empty() {
                    self.take(&mut st, FlushKind::MaxTime);
                    st = self.attempt(sh, st, None).0;
                }
                continue;
            }
            st = self.wait(sh, st, next_tick - now);
        }
        self.shutdown_pass(sh, st);
    }

    /// `flush()`: one immediate attempt per batch (ignoring backoff) until
    /// everything any caller waits for is resolved, or a batch fails.
    fn manual_pass<'a>(&mut self, sh: &'a Shared, mut st: Guard<'a>) -> Guard<'a> {
        let req = st.flush_req;
        let target = st.flush_target;
        let mut err = None;
        while st.resolved_below() < target {
            if st.deadline.is_some() {
                // Shutdown resolves everything; its callers learn from `stopped`.
                return st;
            }
            if self.batch.is_empty() {
                if st.queue.is_empty() {
                    break;
                }
                self.take(&mut st, FlushKind::Manual);
            }
            let (guard, result) = self.attempt(sh, st, None);
            st = guard;
            if let Err(e) = result {
                err = Some(e);
                if !self.batch.is_empty() {
                    // Kept for a later retry; later events must wait behind it.
                    break;
                }
            }
        }
        st.flush_ack = req;
        st.flush_err = err;
        sh.done.notify_all();
        st
    }

    /// `shutdown()`: deliver (with retries) until done or the deadline, then
    /// drop and count whatever is left.
    fn shutdown_pass<'a>(&mut self, sh: &'a Shared, mut st: Guard<'a>) {
        let deadline = st.deadline.unwrap_or_else(Instant::now);
        loop {
            let now = Instant::now();
            if st.held() == 0 || now >= deadline {
                break;
            }
            if self.batch.is_empty() {
                self.take(&mut st, FlushKind::Shutdown);
            }
            if self.next_try > now {
                st = self.wait(sh, st, self.next_try.min(deadline) - now);
                continue;
            }
            st = self.attempt(sh, st, Some(deadline)).0;
        }
        let left = st.held();
        Counters::add(&self.counters.events_dropped, left as u64);
        st.lost_at_stop = left as u64;
        st.queue = Default::default();
        self.batch = Vec::new();
        st.inflight = 0;
    }

    /// Moves up to `batch_size` events from the queue into a new batch.
    fn take(&mut self, st: &mut State, kind: FlushKind) {
        let n = self.options.batch_size.min(st.queue.len());
        st.inflight_first = st.resolved_below();
        self.batch.extend(st.queue.drain(..n));
        st.inflight = n;
        self.kind = kind;
        self.failures = 0;
        self.next_try = Instant::now();
    }

    /// Delivers the batch once, outside the lock, and books the outcome:
    /// success, a retry scheduled, or the batch dropped.
    fn attempt<'a>(
        &mut self,
        sh: &'a Shared,
        st: Guard<'a>,
        deadline: Option<Instant>,
    ) -> (Guard<'a>, Result<(), Error>) {
        drop(st);
        let at = Attempt {
            kind: self.kind,
            retry: self.failures,
            time_left: deadline.map(|d| d.saturating_duration_since(Instant::now())),
        };
        let result = self.sink.deliver(&self.batch, &at);
        let mut st = sh.lock();
        match &result {
            Ok(()) => {
                Counters::add(&self.counters.events_sent, self.batch.len() as u64);
                self.resolve(sh, &mut st);
            }
            Err(e) => {
                Counters::inc(&self.counters.event_batches_failed);
                st.last_error = Some(e.to_string());
                self.failures = self.failures.saturating_add(1);
                let retryable = matches!(
                    e,
                    Error::Sink {
                        retryable: true,
                        ..
                    }
                );
                if !retryable || self.failures > self.options.max_retries {
                    Counters::add(&self.counters.events_dropped, self.batch.len() as u64);
                    self.resolve(sh, &mut st);
                } else {
                    self.next_try = Instant::now() + self.backoff();
                }
            }
        }
        (st, result)
    }

    /// The batch is done with (its events counted by the caller): room for
    /// waiting `enqueue` calls.
    fn resolve(&mut self, sh: &Shared, st: &mut State) {
        self.batch.clear();
        st.inflight = 0;
        self.failures = 0;
        sh.room.notify_all();
    }

    /// `retry_backoff * 2^(failures - 1)`, at most `max_backoff`.
    fn backoff(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1);
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.options
            .retry_backoff
            .saturating_mul(factor)
            .min(self.options.max_backoff)
    }

    fn wait<'a>(&self, sh: &'a Shared, st: Guard<'a>, timeout: Duration) -> Guard<'a> {
        sh.wake
            .wait_timeout(st, timeout)
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }
}
