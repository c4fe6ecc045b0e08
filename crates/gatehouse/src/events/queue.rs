//! The state shared by the callers and the flusher thread.
//!
//! Every accepted event is numbered by arrival. Events leave only from the
//! front (the oldest are delivered or dropped first), so "events resolved"
//! is always a prefix: `accepted - held`. `flush()` waits on that number.

use crate::Error;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// The lock and the two wake-up channels.
pub(super) struct Shared {
    pub state: Mutex<State>,
    /// The flusher waits here: full batch, flush request, shutdown.
    pub wake: Condvar,
    /// Callers of `flush`/`shutdown` wait here: flush pass done, stopped.
    pub done: Condvar,
}

/// Everything behind the lock.
pub(super) struct State {
    /// Events not yet in a batch, oldest first.
    pub queue: VecDeque<String>,
    /// Events in the flusher's current batch (which the flusher holds
    /// outside the lock), including `trim`.
    pub inflight: usize,
    /// Events at the front of the current batch dropped (and counted) by
    /// `enqueue` to make room; the flusher removes them from its batch.
    pub trim: usize,
    /// Events accepted so far.
    pub accepted: u64,
    /// No more events accepted (shutdown called).
    pub closed: bool,
    /// Set by `shutdown`: deliver what can be delivered until then, then stop.
    pub deadline: Option<Instant>,
    /// `flush()` calls so far; each waits until `flush_ack` reaches its number.
    pub flush_req: u64,
    /// The largest `accepted` any `flush()` call waits for.
    pub flush_target: u64,
    /// The last `flush_req` a manual pass completed.
    pub flush_ack: u64,
    /// The failure of that pass, if a batch was kept for retry or dropped.
    pub flush_err: Option<Error>,
    /// The flusher thread has ended.
    pub stopped: bool,
    /// Events dropped because the flusher stopped before delivering them.
    pub lost_at_stop: u64,
}

impl State {
    /// Events waiting: queued, or in the current batch and not trimmed.
    pub fn held(&self) -> usize {
        self.queue.len() + self.inflight - self.trim
    }

    /// Events delivered or dropped so far (always the oldest ones).
    pub fn resolved(&self) -> u64 {
        self.accepted - self.held() as u64
    }
}

impl Shared {
    pub(super) fn new() -> Shared {
        Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                inflight: 0,
                trim: 0,
                accepted: 0,
                closed: false,
                deadline: None,
                flush_req: 0,
                flush_target: 0,
                flush_ack: 0,
                flush_err: None,
                stopped: false,
                lost_at_stop: 0,
            }),
            wake: Condvar::new(),
            done: Condvar::new(),
        }
    }

    /// Locks the state. Nothing panics while holding the lock (sinks run
    /// outside it), and a poisoned lock's state is still consistent, so
    /// poison is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
