//! Test-only (cargo feature `naive-abi`): a pointer-returning export in the
//! shape of the reference core's C ABI (`char *statsig_check_gate…(ref, …)`
//! plus `free_string`), for the concurrent-FFI matrix's "naive" transport
//! (tools/ffi-matrix, docs/FFI-MATRIX.md). It exists to show what the product
//! ABI avoids: registered through purego as `func(…) *byte`, an affected
//! purego version can hand its result to another goroutine
//! (ebitengine/purego#451). Never in a shipped library, and left out of the
//! header (cbindgen.toml excludes it).

use crate::boundary::value_or;
use crate::handles;
use gatehouse::CallOptions;
use std::ffi::{c_char, CStr, CString};
use std::ptr;

/// Check a gate (no exposure logged) and return a new NUL-terminated text
/// `"<token> <value>"` (value 0 or 1), allocated with the system allocator
/// (malloc); free it with `gatehouse_naive_free`. NULL on any error. The
/// client handle comes first, as in the reference ABI, so that a stale
/// purego result holding another call's first argument is recognisable (a
/// handle's top byte is its type tag).
///
/// # Safety
/// `name` is NULL or points to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_naive_check_gate(
    client: u64,
    user: u64,
    name: *const c_char,
    token: u64,
) -> *mut u8 {
    value_or(ptr::null_mut(), || {
        if name.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: the contract above.
        let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else {
            return ptr::null_mut();
        };
        let (Ok(client), Ok(user)) = (handles::client(client), handles::user(user)) else {
            return ptr::null_mut();
        };
        let quiet = CallOptions {
            disable_exposure_logging: true,
        };
        let value = client.check_gate_with(&user, name, quiet);
        match CString::new(format!("{token} {}", u8::from(value))) {
            Ok(text) => text.into_raw().cast(),
            Err(_) => ptr::null_mut(),
        }
    })
}

/// Free a text returned by `gatehouse_naive_check_gate` (NULL is ignored).
///
/// # Safety
/// `text` is NULL or a pointer `gatehouse_naive_check_gate` returned, not
/// yet freed.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_naive_free(text: *mut u8) {
    if !text.is_null() {
        // SAFETY: the contract above: it came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(text.cast()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_handles_and_names_give_null() {
        let name = c"some_gate";
        // SAFETY: valid NUL-terminated names; invalid handles are checked.
        unsafe {
            assert!(gatehouse_naive_check_gate(1, 2, name.as_ptr(), 7).is_null());
            assert!(gatehouse_naive_check_gate(1, 2, ptr::null(), 7).is_null());
            gatehouse_naive_free(ptr::null_mut());
        }
    }
}
