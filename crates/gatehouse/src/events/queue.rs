//! The state shared by the callers and the flusher thread.
//!
//! Every event counted in `events_queued` is numbered by arrival
//! (`accepted` is the next number). The queue always holds a run of
//! consecutive numbers ending at `accepted`: events enter at the back and
//! leave only from the front (taken into a batch, or dropped to make room),
//! and an incoming event is dropped without entering only when the queue is
//! empty. The current batch is the run just before the queue's. So "every
//! event numbered below n is resolved (delivered or dropped)" is the single
//! number [`State::resolved_below`], and `flush()` waits on it.

use crate::Error;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// The lock and the wake-up channels.
pub(super) struct Shared {
    pub state: Mutex<State>,
    /// The flusher waits here: full batch, full queue, flush request, shutdown.
    pub wake: Condvar,
    /// Callers of `flush`/`shutdown` wait here: flush pass done, stopped.
    pub done: Condvar,
    /// `enqueue` calls waiting for room (`block_when_full`) wait here: the
    /// flusher resolved a batch, the logger was closed, the thread stopped.
    pub room: Condvar,
}

/// Everything behind the lock.
pub(super) struct State {
    /// Events not yet in a batch, oldest first.
    pub queue: VecDeque<String>,
    /// Events in the flusher's current batch (which the flusher holds
    /// outside the lock): on the wire or awaiting a retry. `enqueue` never
    /// drops these.
    pub inflight: usize,
    /// The number of the first event of the current batch.
    pub inflight_first: u64,
    /// Events counted in `events_queued` so far; the next event's number.
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
    /// The text of the last failed delivery attempt (kept after later successes).
    pub last_error: Option<String>,
    /// The flusher thread has ended.
    pub stopped: bool,
    /// Events dropped because the flusher stopped before delivering them.
    pub lost_at_stop: u64,
}

impl State {
    /// Events held: queued, or in the current batch.
    pub fn held(&self) -> usize {
        self.queue.len() + self.inflight
    }

    /// Every event numbered below this is resolved (delivered or dropped).
    pub fn resolved_below(&self) -> u64 {
        if self.inflight > 0 {
            self.inflight_first
        } else {
            self.accepted - self.queue.len() as u64
        }
    }
}

impl Shared {
    pub(super) fn new() -> Shared {
        Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                inflight: 0,
                inflight_first: 0,
                accepted: 0,
                closed: false,
                deadline: None,
                flush_req: 0,
                flush_target: 0,
                flush_ack: 0,
                flush_err: None,
                last_error: None,
                stopped: false,
                lost_at_stop: 0,
            }),
            wake: Condvar::new(),
            done: Condvar::new(),
            room: Condvar::new(),
        }
    }

    /// Locks the state. Nothing panics while holding the lock (sinks run
    /// outside it), and a poisoned lock's state is still consistent, so
    /// poison is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
