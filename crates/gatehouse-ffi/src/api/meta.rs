//! Versions, status descriptions, and the test-only panic export.

use crate::boundary::{call, value_or};
use crate::marshal::OutBuf;
use crate::status::describe;

/// The ABI version. It changes whenever any exported signature, struct
/// layout, status number or documented behaviour changes incompatibly.
/// New exports are additive and leave it alone: a binding checks at load
/// that every function it calls is exported.
pub const GATEHOUSE_ABI_VERSION: u32 = 1;

/// The ABI version of the loaded library. Bindings compare it with the
/// `GATEHOUSE_ABI_VERSION` they were built against and refuse to run on a
/// mismatch. Returns a plain integer (no status): it cannot fail.
#[no_mangle]
pub extern "C" fn gatehouse_abi_version() -> u32 {
    value_or(0, || GATEHOUSE_ABI_VERSION)
}

/// The library's version string (semver, e.g. `0.1.0`), not NUL-terminated.
///
/// # Safety
/// `buf` points to `cap` writable bytes (NULL allowed when 0); `len_out` is
/// writable.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_version(buf: *mut u8, cap: usize, len_out: *mut usize) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let out = unsafe { OutBuf::new(buf, cap, len_out) }?;
        out.write(VERSION.as_bytes())
    })
}

// The version string. Test-only builds say so in semver build metadata, so a
// program (and tools/ffi-matrix) can tell them from the product library.
#[cfg(not(any(feature = "naive-abi", feature = "fault-injection")))]
const VERSION: &str = env!("CARGO_PKG_VERSION");
#[cfg(all(feature = "naive-abi", not(feature = "fault-injection")))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+naive-abi");
#[cfg(all(feature = "fault-injection", not(feature = "naive-abi")))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+fault-injection");
#[cfg(all(feature = "naive-abi", feature = "fault-injection"))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+naive-abi.fault-injection");

/// The static English description of `status` (not NUL-terminated);
/// `unknown status` for a number that is not a status.
///
/// # Safety
/// As `gatehouse_version`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_status_str(
    status: i32,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let out = unsafe { OutBuf::new(buf, cap, len_out) }?;
        out.write(describe(status).unwrap_or("unknown status").as_bytes())
    })
}

/// Test-only (cargo feature `test-panic`; always in the crate's unit
/// tests): panics inside the boundary, so it returns `GATEHOUSE_PANIC`.
#[cfg(any(test, feature = "test-panic"))]
#[no_mangle]
pub extern "C" fn gatehouse_test_panic() -> i32 {
    call(|| panic!("gatehouse_test_panic: deliberate panic"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::GATEHOUSE_OK;

    #[test]
    fn the_panic_export_returns_a_status_and_the_library_goes_on() {
        for _ in 0..3 {
            assert_eq!(gatehouse_test_panic(), crate::status::GATEHOUSE_PANIC);
        }
        assert_eq!(gatehouse_abi_version(), GATEHOUSE_ABI_VERSION);
        let (mut buf, mut len) = ([0u8; 64], 0usize);
        // SAFETY: valid pointers for the call.
        let st = unsafe { gatehouse_status_str(15, buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(st, GATEHOUSE_OK);
        assert!(std::str::from_utf8(&buf[..len]).is_ok_and(|s| s.contains("panic")));
    }
}
