//! Any bytes into `CountryTable::parse`; when a table parses, look up IPs,
//! including the malformed ones the reference panics on.
#![no_main]

use gatehouse_core::country::CountryTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = CountryTable::parse(data) {
        for ip in [
            "1.2.3.4",
            "999.1.1.1",
            "1.2.3",
            "::1",
            "255.255.255.255",
            "0.0.0.0",
        ] {
            let _ = table.lookup(ip);
        }
        let _ = table.lookup(&String::from_utf8_lossy(data));
    }
});
