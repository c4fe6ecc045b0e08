//! Any text into `parse_specs`: it must return, and every error must name a path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = gatehouse_core::parse_specs(&text) {
        assert!(e.to_string().contains("at `"), "error without a path: {e}");
    }
});
