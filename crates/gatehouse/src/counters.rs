//! Monotonic counters, readable at any time without locks.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const STRIPES: usize = 16;

/// One counter on its own cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Padded(AtomicU64);

/// A counter bumped on every evaluation from many threads: one stripe per
/// thread slot, so threads do not fight over one cache line.
#[derive(Debug, Default)]
pub(crate) struct Striped([Padded; STRIPES]);

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: usize = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % STRIPES;
}

impl Striped {
    fn inc(&self) {
        let i = SLOT.with(|s| *s);
        self.0[i].0.fetch_add(1, Ordering::Relaxed);
    }

    fn sum(&self) -> u64 {
        self.0.iter().map(|p| p.0.load(Ordering::Relaxed)).sum()
    }
}

/// Live counters of one client. Every field only grows.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) evaluations: Striped,
    pub(crate) exposures_queued: AtomicU64,
    pub(crate) exposures_deduped: AtomicU64,
    pub(crate) events_queued: AtomicU64,
    pub(crate) events_sent: AtomicU64,
    pub(crate) events_dropped: AtomicU64,
    pub(crate) event_batches_failed: AtomicU64,
    pub(crate) spec_updates_applied: AtomicU64,
    pub(crate) spec_updates_failed: AtomicU64,
    pub(crate) spec_updates_unchanged: AtomicU64,
    pub(crate) id_list_updates_failed: AtomicU64,
}

/// A copy of the counters at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Evaluations of any kind (gate, config, experiment, layer).
    pub evaluations: u64,
    /// Exposures handed to the event queue (after dedupe).
    pub exposures_queued: u64,
    /// Exposures suppressed because the same one was logged within the dedupe window.
    pub exposures_deduped: u64,
    /// Events of any kind (exposures and custom events) accepted by the queue.
    pub events_queued: u64,
    /// Events the sink acknowledged.
    pub events_sent: u64,
    /// Events given up: queue full, retries exhausted, or a non-retryable sink error.
    pub events_dropped: u64,
    /// Batch deliveries that failed (each may be retried).
    pub event_batches_failed: u64,
    /// Spec payloads that replaced the snapshot.
    pub spec_updates_applied: u64,
    /// Spec fetches or payloads that failed (network, HTTP status, parse, older `time`).
    pub spec_updates_failed: u64,
    /// Fetches that returned no change (`has_updates: false`, HTTP 204/304,
    /// the same non-empty checksum). A payload with the same `time` but no
    /// checksum is applied again, as the reference applies it.
    pub spec_updates_unchanged: u64,
    /// ID-list manifest or list downloads that failed.
    pub id_list_updates_failed: u64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_striped(counter: &Striped) {
        counter.inc();
    }

    /// Read every counter.
    pub fn snapshot(&self) -> CounterSnapshot {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            evaluations: self.evaluations.sum(),
            exposures_queued: r(&self.exposures_queued),
            exposures_deduped: r(&self.exposures_deduped),
            events_queued: r(&self.events_queued),
            events_sent: r(&self.events_sent),
            events_dropped: r(&self.events_dropped),
            event_batches_failed: r(&self.event_batches_failed),
            spec_updates_applied: r(&self.spec_updates_applied),
            spec_updates_failed: r(&self.spec_updates_failed),
            spec_updates_unchanged: r(&self.spec_updates_unchanged),
            id_list_updates_failed: r(&self.id_list_updates_failed),
        }
    }
}
