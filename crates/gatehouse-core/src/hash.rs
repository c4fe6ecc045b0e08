//! Hashes with a wire meaning (dcs-semantics §4): the evaluation hash used for
//! pass percentages and user buckets, djb2, and the ID-list lookup key.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// First 8 bytes of SHA-256 of `parts` joined with `.`, read big-endian.
///
/// The parts are fed to the hasher one after another, so no joined string is
/// allocated on the hot path.
pub fn eval_hash(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b".");
        }
        h.update(p.as_bytes());
    }
    let out = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&out[..8]);
    u64::from_be_bytes(first)
}

/// [`eval_hash`] with every part but the last absorbed ahead of time.
///
/// Built at spec load for each rule (`spec salt . rule salt .`) and each
/// `user_bucket` condition (`salt .`). The complete 64-byte blocks of the
/// prefix are compressed once; an evaluation copies the 32-byte state and
/// compresses only the tail, the unit id and the padding (usually one block),
/// on the stack, with no hasher object to clone.
#[derive(Clone)]
pub struct PrefixHash {
    state: [u32; 8],
    tail: [u8; 64],
    tail_len: usize,
    prefix_len: u64,
}

const SHA256_INIT: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    sha2::compress256(state, &[(*block).into()]);
}

impl PrefixHash {
    /// Absorb `parts`, each followed by `.`.
    pub fn new(parts: &[&str]) -> PrefixHash {
        let mut bytes = Vec::new();
        for p in parts {
            bytes.extend_from_slice(p.as_bytes());
            bytes.push(b'.');
        }
        let mut state = SHA256_INIT;
        let mut chunks = bytes.chunks_exact(64);
        for chunk in &mut chunks {
            let mut block = [0u8; 64];
            block.copy_from_slice(chunk);
            compress(&mut state, &block);
        }
        let rest = chunks.remainder();
        let mut tail = [0u8; 64];
        tail[..rest.len()].copy_from_slice(rest);
        PrefixHash {
            state,
            tail,
            tail_len: rest.len(),
            prefix_len: bytes.len() as u64,
        }
    }

    /// `eval_hash(parts ++ [last])`.
    pub fn hash(&self, last: &str) -> u64 {
        let mut state = self.state;
        let mut block = self.tail;
        let mut n = self.tail_len;
        for &b in last.as_bytes() {
            block[n] = b;
            n += 1;
            if n == 64 {
                compress(&mut state, &block);
                n = 0;
            }
        }
        let bits = (self.prefix_len + last.len() as u64).wrapping_mul(8);
        block[n] = 0x80;
        block[n + 1..].fill(0);
        if n + 1 > 56 {
            compress(&mut state, &block);
            block = [0u8; 64];
        }
        block[56..].copy_from_slice(&bits.to_be_bytes());
        compress(&mut state, &block);
        (u64::from(state[0]) << 32) | u64::from(state[1])
    }
}

impl std::fmt::Debug for PrefixHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrefixHash")
    }
}

/// A fast non-cryptographic hash of a map key (field names, id types).
/// Field names come from specs; user maps are tiny, so collisions cost at
/// most one extra string comparison.
pub(crate) fn key_hash(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// A string with its [`key_hash`] computed once.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub text: Box<str>,
    pub hash: u64,
}

impl Key {
    pub(crate) fn new(text: &str) -> Key {
        Key {
            hash: key_hash(text),
            text: text.into(),
        }
    }
}

/// A borrowed key: text and hash.
pub(crate) type KeyRef<'k> = (&'k str, u64);

impl Key {
    pub(crate) fn as_ref(&self) -> KeyRef<'_> {
        (&self.text, self.hash)
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

/// djb2 over Unicode scalar values, wrapping, reduced to 32 bits.
pub fn djb2(s: &str) -> u32 {
    let mut h: u64 = 0;
    for c in s.chars() {
        h = h.wrapping_mul(31).wrapping_add(c as u64);
    }
    h as u32
}

/// The ID-list lookup key of a unit id: the first 8 characters of the
/// standard (padded) base64 of its SHA-256.
pub fn id_list_key(unit_id: &str) -> [u8; 8] {
    let digest = Sha256::digest(unit_id.as_bytes());
    // 32 bytes encode to 44 base64 characters; the first 6 bytes give exactly 8.
    let mut buf = [0u8; 8];
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(&digest[..6], &mut buf)
        // Invariant: 6 input bytes always encode to exactly 8 output bytes.
        .unwrap_or(0);
    debug_assert_eq!(written, 8);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from dcs-semantics §4.1, §4.2, §4.3, §4.4 and §8.
    #[test]
    fn eval_hash_vectors() {
        assert_eq!(eval_hash(&[""]), 0xE3B0C44298FC1C14);
        assert_eq!(eval_hash(&["blargh"]), 0x0AC33512D18E20D5);
        assert_eq!(eval_hash(&["unicode 🗻"]), 0xD460740C12959D83);
        let h = eval_hash(&[
            "3d0f5df9-18c7-46fe-8b31-268d756c3459",
            "7826bf70-af49-433a-9fd7-3826e90f7e0a",
            "9",
        ]);
        assert_eq!(h, 10463755083628119222);
        assert_eq!(h % 10000, 9222);
        assert_eq!(
            eval_hash(&[
                "3d0f5df9-18c7-46fe-8b31-268d756c3459",
                "7826bf70-af49-433a-9fd7-3826e90f7e0a",
                "a_user"
            ]) % 10000,
            4917
        );
        assert_eq!(
            eval_hash(&["20bcebf7-792a-4c33-8b9d-f00d784433bc", "a_user"]) % 1000,
            747
        );
    }

    #[test]
    fn joined_parts_equal_joined_string() {
        assert_eq!(eval_hash(&["a", "b", "c"]), eval_hash(&["a.b.c"]));
    }

    #[test]
    fn prefix_hash_equals_full_hash() {
        // §4.2 vector again, through the precomputed prefix (2 full blocks of salt).
        let long = "x".repeat(130);
        let p = PrefixHash::new(&[
            "3d0f5df9-18c7-46fe-8b31-268d756c3459",
            "7826bf70-af49-433a-9fd7-3826e90f7e0a",
        ]);
        assert_eq!(p.hash("9"), 10463755083628119222);
        let p = PrefixHash::new(&[&long, "b"]);
        assert_eq!(p.hash("unit"), eval_hash(&[&long, "b", "unit"]));
        assert_eq!(PrefixHash::new(&[]).hash("blargh"), 0x0AC33512D18E20D5);
        assert_eq!(PrefixHash::new(&[]).hash(""), 0xE3B0C44298FC1C14);
    }

    #[test]
    fn prefix_hash_matches_across_block_boundaries() {
        // Every split of prefix and unit length around the 55/56/64-byte
        // padding and block edges, against the plain hasher.
        for prefix in 0..140 {
            for unit in [0, 1, 7, 8, 9, 55, 56, 57, 63, 64, 65, 120, 200] {
                let p = "p".repeat(prefix);
                let u = "ü".repeat(unit / 2) + &"u".repeat(unit % 2);
                let expected = eval_hash(&[&p, &u]);
                assert_eq!(PrefixHash::new(&[&p]).hash(&u), expected, "{prefix} {unit}");
            }
        }
    }

    #[test]
    fn djb2_vectors() {
        assert_eq!(djb2("test_public"), 3968762550);
        assert_eq!(djb2("client-hashed-key"), 3172774401);
        assert_eq!(djb2("a_gate"), 2867927529);
    }

    #[test]
    fn id_list_key_vectors() {
        assert_eq!(&id_list_key("marcos_1"), b"34jaY4Sb");
        assert_eq!(&id_list_key("123"), b"pmWkWSBC");
        assert_eq!(&id_list_key("a_user"), b"Q1Wha2PJ");
    }
}
