//! Test-only fault injection (cargo feature `fault-injection`), for the
//! concurrent-FFI matrix (tools/ffi-matrix, docs/FFI-MATRIX.md). Never in a
//! shipped library: the matrix builds it into its own target directory, and
//! the version string says `+fault-injection`.
//!
//! It imitates the purego race (ebitengine/purego#451): one call's complete
//! result — value **and** token, as a swapped result pointer would carry
//! both — is delivered to another call. Every `GATEHOUSE_FAULT_EVERY`-th call
//! (default 1000; read once) deposits a copy of its own correct result in a
//! mailbox; the next call of the same kind on a **different thread** takes it
//! and returns it instead of its own. A binding must then see a token that is
//! not its own and refuse the result; `gatehouse_fault_injected` reports how
//! many were delivered, so a test can check that every one was caught.
//!
//! The different-thread rule keeps a depositor from receiving its own result
//! (a single-threaded caller gets an injection only if its OS thread
//! changes between calls, as Go's goroutines may).

use crate::api::eval::GatehouseGateResult;
use crate::boundary::value_or;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, ThreadId};

/// Deposits one result in `every()` calls.
fn every() -> u64 {
    static EVERY: OnceLock<u64> = OnceLock::new();
    *EVERY.get_or_init(|| {
        std::env::var("GATEHOUSE_FAULT_EVERY")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(1000)
    })
}

/// One result waiting to be delivered to a call on another thread.
struct Mailbox<T> {
    /// Fast path: most calls only read this flag.
    full: AtomicBool,
    slot: Mutex<Option<(ThreadId, T)>>,
    calls: AtomicU64,
    delivered: AtomicU64,
}

impl<T: Clone> Mailbox<T> {
    const fn new() -> Self {
        Mailbox {
            full: AtomicBool::new(false),
            slot: Mutex::new(None),
            calls: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// The result this call returns: another thread's deposited result when
    /// one is waiting and `fits` it, else `mine` (deposited too, one call in
    /// `every()`).
    fn hand_over(&self, mine: T, fits: impl Fn(&T) -> bool) -> T {
        if self.full.load(Ordering::Acquire) {
            let me = thread::current().id();
            let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
            if matches!(&*slot, Some((from, theirs)) if *from != me && fits(theirs)) {
                if let Some((_, theirs)) = slot.take() {
                    self.full.store(false, Ordering::Release);
                    self.delivered.fetch_add(1, Ordering::Relaxed);
                    return theirs;
                }
            }
            return mine;
        }
        let n = every();
        if self.calls.fetch_add(1, Ordering::Relaxed) % n == n - 1 {
            let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some((thread::current().id(), mine.clone()));
                self.full.store(true, Ordering::Release);
            }
        }
        mine
    }
}

static GATES: Mailbox<GatehouseGateResult> = Mailbox::new();
static JSON: Mailbox<(Vec<u8>, u64)> = Mailbox::new();

/// `gatehouse_check_gate`'s result, possibly another call's.
pub(crate) fn gate(mine: GatehouseGateResult) -> GatehouseGateResult {
    GATES.hand_over(mine, |_| true)
}

/// A JSON evaluation's `(bytes, token)`, possibly another call's; only a
/// result that fits this call's buffer (`cap`) is delivered, so every
/// delivered result reaches the caller.
pub(crate) fn json(mine: (Vec<u8>, u64), cap: usize) -> (Vec<u8>, u64) {
    JSON.hand_over(mine, |(bytes, _)| bytes.len() <= cap)
}

/// Test-only (cargo feature `fault-injection`): how many results were handed
/// to another call — `kind` 0: `gatehouse_check_gate`, 1: the JSON
/// evaluations; any other kind: 0.
#[no_mangle]
pub extern "C" fn gatehouse_fault_injected(kind: i32) -> u64 {
    value_or(0, || match kind {
        0 => GATES.delivered.load(Ordering::Relaxed),
        1 => JSON.delivered.load(Ordering::Relaxed),
        _ => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deposit_goes_to_another_thread_only() {
        let mb: Mailbox<u64> = Mailbox::new();
        // Fill the box from this thread (every() calls reach the deposit).
        for i in 0..every() {
            assert_eq!(mb.hand_over(i, |_| true), i);
        }
        // This thread never receives its own deposit...
        assert_eq!(mb.hand_over(7, |_| true), 7);
        // ...another thread does, once, and only when it fits.
        let deposited = every() - 1;
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(mb.hand_over(1, |_| false), 1);
                assert_eq!(mb.hand_over(1, |_| true), deposited);
                assert_eq!(mb.hand_over(2, |_| true), 2);
            });
        });
        assert_eq!(mb.delivered.load(Ordering::Relaxed), 1);
    }
}
