//! ID lists for `in_segment_list` conditions (dcs-semantics §8).
//!
//! A list stores 8-character lookup keys (the start of the standard base64
//! SHA-256 of a unit id), never raw ids.

use std::collections::{HashMap, HashSet};

/// One ID list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdList {
    keys: HashSet<[u8; 8]>,
}

impl IdList {
    /// An empty list.
    pub fn new() -> IdList {
        IdList::default()
    }

    /// Apply a list file: `+<key>` adds, `-<key>` removes; lines whose trimmed
    /// length is at most 1 are skipped, as are lines starting with anything
    /// else. Keys are the first 8 bytes after the sign; shorter keys are
    /// padded so they can never match a real key.
    pub fn apply(&mut self, contents: &str) {
        for line in contents.lines() {
            let line = line.trim();
            if line.len() <= 1 {
                continue;
            }
            // Non-empty: lines of length <= 1 were skipped above.
            let (add, rest) = match line.as_bytes()[0] {
                b'+' => (true, &line.as_bytes()[1..]),
                b'-' => (false, &line.as_bytes()[1..]),
                _ => continue,
            };
            let mut key = [0u8; 8];
            for (dst, src) in key.iter_mut().zip(rest) {
                *dst = *src;
            }
            if add {
                self.keys.insert(key);
            } else {
                self.keys.remove(&key);
            }
        }
    }

    /// Parse a whole list file.
    pub fn parse(contents: &str) -> IdList {
        let mut list = IdList::new();
        list.apply(contents);
        list
    }

    /// Whether the list holds this lookup key.
    pub fn contains_key(&self, key: &[u8; 8]) -> bool {
        self.keys.contains(key)
    }

    /// Whether the list holds this raw unit id.
    pub fn contains_unit_id(&self, unit_id: &str) -> bool {
        self.contains_key(&crate::hash::id_list_key(unit_id))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// ID lists by name.
pub type IdLists = HashMap<String, IdList>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_remove_and_skip() {
        // Keys from dcs-semantics §8: marcos_1 → 34jaY4Sb, 123 → pmWkWSBC.
        let list = IdList::parse("+34jaY4Sb\n+pmWkWSBC\n\n+\n x\n-pmWkWSBC\n*Q1Wha2PJ\né\n🗻🗻\n");
        assert!(list.contains_unit_id("marcos_1"));
        assert!(!list.contains_unit_id("123"));
        assert!(!list.contains_unit_id("a_user"));
        assert_eq!(list.len(), 1);
    }
}
