//! Exposure dedupe: a bounded LRU of keys with a time-to-live.
//!
//! The keys are split over shards (16 when `max_keys` is at least
//! [`SHARDING_MIN_KEYS`], else one), each a mutex around an O(1) LRU, so
//! threads checking different keys rarely meet on a lock. The shard
//! capacities add up to exactly `max_keys`: memory is bounded however many
//! distinct keys arrive. With one shard the eviction order is exact LRU;
//! with 16 it is LRU within each shard.
//!
//! The time-to-live is one window for the whole set: the window starts at
//! the first call and, once a call's `now_ms` is `ttl_ms` or more past its
//! start, a new window starts at that `now_ms` and every key recorded
//! before it is forgotten. Time comes only from the callers' `now_ms`; a clock
//! that steps back never clears the set.

use super::lru::{mix, Lru};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// `max_keys` from which the set is split into 16 shards.
pub const SHARDING_MIN_KEYS: usize = 1024;

/// Shards of a large set.
const SHARDS: usize = 16;

/// `window_start` before the first call.
const UNSET: u64 = u64::MAX;

/// One shard, alone on its cache line(s).
#[repr(align(64))]
struct Shard(Mutex<ShardState>);

struct ShardState {
    lru: Lru,
    /// Start of the window the keys belong to.
    window: u64,
}

/// A thread-safe "seen recently?" set of 128-bit keys: at most `max_keys`
/// keys, least recently used evicted first, all forgotten every `ttl_ms`.
pub struct Dedupe {
    shards: Box<[Shard]>,
    ttl_ms: u64,
    window_start: AtomicU64,
    max_keys: usize,
}

impl Dedupe {
    /// At most `max_keys` keys; the whole set is forgotten every `ttl_ms`.
    /// `max_keys == 0` remembers nothing (every key is first seen);
    /// `ttl_ms == 0` never expires the set (only eviction forgets).
    pub fn new(max_keys: usize, ttl_ms: u64) -> Dedupe {
        let n = if max_keys >= SHARDING_MIN_KEYS {
            SHARDS
        } else {
            1
        };
        let shards = (0..n)
            .map(|i| {
                let cap = max_keys / n + usize::from(i < max_keys % n);
                Shard(Mutex::new(ShardState {
                    lru: Lru::new(cap),
                    window: 0,
                }))
            })
            .collect();
        Dedupe {
            shards,
            ttl_ms,
            window_start: AtomicU64::new(UNSET),
            max_keys,
        }
    }

    /// True when `key` was not seen within the window (and records it).
    /// A key seen again is refreshed as most recently used.
    pub fn first_seen(&self, key: u128, now_ms: u64) -> bool {
        let (window, new) = self.window(now_ms);
        if new {
            // This call started the window: forget every shard now so that
            // `len` is exact (shards are also checked lazily below, which
            // covers callers racing with this sweep).
            for s in self.shards.iter() {
                enter(&mut lock(&s.0), window);
            }
        }
        let mut s = self.shard(key);
        enter(&mut s, window);
        s.lru.touch(key)
    }

    /// Keys held now (never more than [`Dedupe::capacity`]).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).lru.len()).sum()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `max_keys` given at construction.
    pub fn capacity(&self) -> usize {
        self.max_keys
    }

    /// Forget every key now.
    pub fn clear(&self) {
        for s in self.shards.iter() {
            lock(&s.0).lru.clear();
        }
    }

    fn shard(&self, key: u128) -> MutexGuard<'_, ShardState> {
        // The high bits of the mix; the map inside uses all of them.
        let i = (mix(key) >> 59) as usize % self.shards.len();
        lock(&self.shards[i].0)
    }

    /// The start of the window `now_ms` falls in, starting a new one when
    /// the current one is over (then the flag is true). Window starts only
    /// grow.
    fn window(&self, now_ms: u64) -> (u64, bool) {
        if self.ttl_ms == 0 {
            return (0, false);
        }
        let mut start = self.window_start.load(Ordering::Acquire);
        loop {
            if start != UNSET && now_ms < start.saturating_add(self.ttl_ms) {
                return (start, false);
            }
            match self.window_start.compare_exchange_weak(
                start,
                now_ms,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return (now_ms, true),
                Err(current) => start = current,
            }
        }
    }
}

/// Moves a shard into `window`, forgetting its keys, unless it is there
/// (or, for a caller that read the start before a newer one, past it).
fn enter(s: &mut ShardState, window: u64) {
    if window > s.window {
        s.lru.clear();
        s.window = window;
    }
}

/// Locks a shard. A panic while holding it cannot leave the LRU
/// half-updated in a way that breaks memory safety, so poison is ignored.
fn lock(m: &Mutex<ShardState>) -> MutexGuard<'_, ShardState> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn dedupes_within_window() {
        let d = Dedupe::new(100, 1_000);
        assert!(d.first_seen(1, 0));
        assert!(!d.first_seen(1, 10));
        assert!(d.first_seen(2, 20));
        assert!(!d.first_seen(2, 999));
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn evicted_key_is_first_seen_again() {
        let d = Dedupe::new(3, 0);
        for k in 1..=3 {
            assert!(d.first_seen(k, 0));
        }
        assert!(!d.first_seen(1, 0)); // 1 refreshed; 2 is now the oldest
        assert!(d.first_seen(4, 0)); // evicts 2
        assert_eq!(d.len(), 3);
        assert!(!d.first_seen(1, 0));
        assert!(!d.first_seen(3, 0));
        assert!(!d.first_seen(4, 0));
        assert!(d.first_seen(2, 0));
    }

    #[test]
    fn ttl_clears_the_whole_set() {
        let d = Dedupe::new(10_000, 100);
        for k in 0..50 {
            assert!(d.first_seen(k, 1_000));
        }
        assert!(!d.first_seen(7, 1_099));
        // The window started at 1_000; at 1_100 everything is forgotten.
        assert!(d.first_seen(7, 1_100));
        assert!(!d.first_seen(7, 1_101));
        assert_eq!(d.len(), 1, "keys of the old window linger");
        assert!(d.first_seen(8, 1_150));
        // A clock stepping back does not clear.
        assert!(!d.first_seen(8, 500));
        assert!(d.first_seen(8, 1_200));
    }

    #[test]
    fn memory_is_bounded_by_max_keys() {
        let d = Dedupe::new(10_000, 0);
        for k in 0..1_000_000u128 {
            assert!(d.first_seen(k.wrapping_mul(0x1234_5678_9abc_def1), 0));
        }
        let n = d.len();
        assert!(n <= 10_000, "{n} keys held");
        assert!(n > 9_000, "shards far from full: {n}");
        for s in d.shards.iter() {
            let s = lock(&s.0);
            assert!(s.lru.len() <= 10_000 / SHARDS + 1);
        }
    }

    #[test]
    fn zero_keys_remembers_nothing() {
        let d = Dedupe::new(0, 100);
        assert!(d.first_seen(1, 0));
        assert!(d.first_seen(1, 0));
        assert!(d.is_empty());
    }

    #[test]
    fn each_key_is_first_seen_once_across_threads() {
        let d = Arc::new(Dedupe::new(100_000, 60_000));
        let firsts = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (d, firsts) = (d.clone(), firsts.clone());
                std::thread::spawn(move || {
                    for k in 0..20_000u128 {
                        if d.first_seen(k << 64 | k, 5) {
                            firsts.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("dedupe thread panicked");
        }
        assert_eq!(firsts.load(Ordering::Relaxed), 20_000);
        assert_eq!(d.len(), 20_000);
    }
}
