//! A small least-recently-used set of `u128` keys with O(1) operations.
//!
//! Nodes live in one `Vec` and link to each other by index (no `unsafe`, no
//! per-key allocation). At capacity the least recently used node is reused
//! for the new key, so the set never holds more than `cap` keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// "No node" in the index links.
const NIL: u32 = u32::MAX;

/// One key and its place in the recency list.
struct Node {
    key: u128,
    /// Towards the most recently used end.
    prev: u32,
    /// Towards the least recently used end.
    next: u32,
}

/// A bounded LRU set.
pub(super) struct Lru {
    map: HashMap<u128, u32, BuildHasherDefault<KeyHasher>>,
    nodes: Vec<Node>,
    /// Most recently used node.
    head: u32,
    /// Least recently used node.
    tail: u32,
    cap: usize,
}

impl Lru {
    /// An empty set holding at most `cap` keys (capped below `u32::MAX`).
    pub(super) fn new(cap: usize) -> Lru {
        Lru {
            map: HashMap::default(),
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
            cap: cap.min(NIL as usize - 1),
        }
    }

    /// Keys held now.
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Forget every key (keeps the allocations, which are bounded by `cap`).
    pub(super) fn clear(&mut self) {
        self.map.clear();
        self.nodes.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    /// Record `key` as the most recently used. True when it was not held
    /// (it is inserted, evicting the least recently used key at capacity);
    /// false when it was (it is refreshed).
    pub(super) fn touch(&mut self, key: u128) -> bool {
        if self.cap == 0 {
            return true;
        }
        if let Some(&i) = self.map.get(&key) {
            if i != self.head {
                self.unlink(i);
                self.link_front(i);
            }
            return false;
        }
        let i = if self.nodes.len() < self.cap {
            // Fits in u32: `cap` is below `NIL`.
            let i = self.nodes.len() as u32;
            self.nodes.push(Node {
                key,
                prev: NIL,
                next: NIL,
            });
            i
        } else {
            let t = self.tail;
            self.unlink(t);
            let node = &mut self.nodes[t as usize];
            self.map.remove(&node.key);
            node.key = key;
            t
        };
        self.link_front(i);
        self.map.insert(key, i);
        true
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = {
            let n = &self.nodes[i as usize];
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn link_front(&mut self, i: u32) {
        let old = self.head;
        {
            let n = &mut self.nodes[i as usize];
            n.prev = NIL;
            n.next = old;
        }
        if old == NIL {
            self.tail = i;
        } else {
            self.nodes[old as usize].prev = i;
        }
        self.head = i;
    }
}

/// Mixes a `u128` key into 64 well-spread bits (folded multiply).
pub(super) fn mix(key: u128) -> u64 {
    const K: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;
    let m = (key ^ (key >> 64)).wrapping_mul(K);
    (m as u64) ^ ((m >> 64) as u64)
}

/// The map's hasher: keys are `u128`, hashed with [`mix`].
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u128 input; a plain FNV-style fold.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, key: u128) {
        self.0 = mix(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let mut l = Lru::new(2);
        assert!(l.touch(1));
        assert!(l.touch(2));
        assert!(!l.touch(1)); // 1 is now most recent
        assert!(l.touch(3)); // evicts 2
        assert_eq!(l.len(), 2);
        assert!(!l.touch(1));
        assert!(!l.touch(3));
        assert!(l.touch(2)); // was evicted; evicts 1
        assert!(l.touch(1));
    }

    #[test]
    fn zero_capacity_holds_nothing() {
        let mut l = Lru::new(0);
        assert!(l.touch(7));
        assert!(l.touch(7));
        assert_eq!(l.len(), 0);
    }

    #[test]
    fn capacity_one_and_clear() {
        let mut l = Lru::new(1);
        assert!(l.touch(1));
        assert!(!l.touch(1));
        assert!(l.touch(2));
        assert!(l.touch(1));
        l.clear();
        assert_eq!(l.len(), 0);
        assert!(l.touch(1));
    }
}
