//! Exposure dedupe: a bounded LRU of keys with a time-to-live.

/// STUB (events helper implements).
pub struct Dedupe {}

impl Dedupe {
    /// At most `max_keys` keys; the whole set is forgotten every `ttl_ms`.
    pub fn new(max_keys: usize, ttl_ms: u64) -> Dedupe {
        let _ = (max_keys, ttl_ms);
        Dedupe {}
    }

    /// True when `key` was not seen within the window (and records it).
    pub fn first_seen(&self, key: u128, now_ms: u64) -> bool {
        let _ = (key, now_ms);
        true
    }
}
