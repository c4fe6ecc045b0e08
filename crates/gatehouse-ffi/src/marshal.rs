//! Marshalling at the boundary: `(ptr, len)` UTF-8 inputs, caller-owned
//! output buffers, out parameters and error-message buffers.
//!
//! Every constructor here is `unsafe`: it is where the caller's promise
//! (docs/FFI.md, "Ownership") is taken over — each non-NULL pointer is valid
//! for the stated length for the whole call, and outputs do not overlap
//! inputs. After a successful constructor the methods are safe. Out
//! parameters are written with `write_unaligned`, so no alignment is
//! required of the caller.

use crate::status::Error;
use std::ptr;

/// Longest name input (gate, config, experiment, layer, parameter, event
/// name, group name, override ID), in bytes.
pub const GATEHOUSE_MAX_NAME_LEN: usize = 64 * 1024;
/// Longest JSON input other than the options (a user, an event value or
/// metadata, an override value), in bytes.
pub const GATEHOUSE_MAX_JSON_LEN: usize = 1024 * 1024;
/// Longest options JSON (it may carry a whole spec payload), in bytes.
pub const GATEHOUSE_MAX_OPTIONS_LEN: usize = 256 * 1024 * 1024;

/// A borrowed UTF-8 input. `len == 0` is the empty string whatever `ptr` is
/// (NULL allowed); otherwise `ptr` must be non-NULL.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable bytes that stay valid and
/// unmodified until the returned borrow ends (the call).
pub(crate) unsafe fn input<'a>(
    ptr: *const u8,
    len: usize,
    max: usize,
    what: &'static str,
) -> Result<&'a str, Error> {
    if len == 0 {
        return Ok("");
    }
    if ptr.is_null() {
        return Err(Error::NullArgument(what));
    }
    if len > max {
        return Err(Error::InputTooLarge(what, max));
    }
    // SAFETY: `ptr` is non-NULL and, by this function's contract, points to
    // `len` readable bytes valid for `'a`; `len <= max <= isize::MAX`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    std::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8(what))
}

/// An optional name: empty means "none".
///
/// # Safety
/// As [`input`].
pub(crate) unsafe fn optional<'a>(
    ptr: *const u8,
    len: usize,
    what: &'static str,
) -> Result<Option<&'a str>, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { input(ptr, len, GATEHOUSE_MAX_NAME_LEN, what) }?;
    Ok((!s.is_empty()).then_some(s))
}

/// A caller-owned output buffer `(buf, cap, len_out)`.
pub(crate) struct OutBuf {
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
}

impl OutBuf {
    /// # Safety
    /// A non-NULL `buf` must point to `cap` writable bytes, and a non-NULL
    /// `len_out` to a writable `size_t`, for the whole call; neither may
    /// overlap an input of the call.
    pub(crate) unsafe fn new(buf: *mut u8, cap: usize, len_out: *mut usize) -> Result<Self, Error> {
        if len_out.is_null() {
            return Err(Error::NullArgument("len_out"));
        }
        if buf.is_null() && cap > 0 {
            return Err(Error::NullArgument("buf"));
        }
        Ok(OutBuf { buf, cap, len_out })
    }

    /// The buffer's capacity (fault injection delivers only results that fit).
    #[cfg(feature = "fault-injection")]
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// Report `len` in `*len_out`; `BufferTooSmall` unless `len` bytes fit.
    /// The buffer is not touched. For calls that must know their result
    /// fits before they commit to it (issuing a handle).
    pub(crate) fn check_fits(&self, len: usize) -> Result<(), Error> {
        // SAFETY: `len_out` is non-NULL and writable (checked and promised in `new`).
        unsafe { self.len_out.write_unaligned(len) };
        if len > self.cap {
            return Err(Error::BufferTooSmall);
        }
        Ok(())
    }

    /// Copy `bytes` out, or report the length needed: `*len_out` is the
    /// length of `bytes` either way; the buffer is touched only when it fits.
    pub(crate) fn write(&self, bytes: &[u8]) -> Result<(), Error> {
        // SAFETY: `len_out` is non-NULL and writable (checked and promised in `new`).
        unsafe { self.len_out.write_unaligned(bytes.len()) };
        if bytes.len() > self.cap {
            return Err(Error::BufferTooSmall);
        }
        if !bytes.is_empty() {
            // SAFETY: `0 < bytes.len() <= cap`, so `buf` is non-NULL (checked
            // in `new`) and has room; it does not overlap `bytes`, which is
            // library-owned memory.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), self.buf, bytes.len()) };
        }
        Ok(())
    }
}

/// A required out parameter of type `T`.
pub(crate) struct Out<T: Copy>(*mut T);

impl<T: Copy> Out<T> {
    /// # Safety
    /// A non-NULL `p` must point to writable memory of `size_of::<T>()` bytes
    /// (any alignment) for the whole call.
    pub(crate) unsafe fn new(p: *mut T, what: &'static str) -> Result<Self, Error> {
        if p.is_null() {
            return Err(Error::NullArgument(what));
        }
        Ok(Out(p))
    }

    pub(crate) fn set(&self, value: T) {
        // SAFETY: non-NULL and writable (checked and promised in `new`);
        // `write_unaligned` needs no alignment.
        unsafe { self.0.write_unaligned(value) };
    }
}

/// The error-message triple `(err_buf, err_cap, err_len)`: on any error the
/// message is written, truncated to `err_cap` at a UTF-8 boundary, and
/// `*err_len` (when non-NULL) receives its full length.
pub(crate) struct ErrOut {
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
}

impl ErrOut {
    /// # Safety
    /// As [`OutBuf::new`]; `len` may be NULL (the length is then not reported).
    pub(crate) unsafe fn new(buf: *mut u8, cap: usize, len: *mut usize) -> Result<Self, Error> {
        if buf.is_null() && cap > 0 {
            return Err(Error::NullArgument("err_buf"));
        }
        Ok(ErrOut { buf, cap, len })
    }

    pub(crate) fn write(&self, message: &str) {
        let mut n = message.len().min(self.cap);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        if n > 0 {
            // SAFETY: `0 < n <= cap`, so `buf` is non-NULL (checked in `new`)
            // with room for `n` bytes; `message` is library-owned.
            unsafe { ptr::copy_nonoverlapping(message.as_ptr(), self.buf, n) };
        }
        if !self.len.is_null() {
            // SAFETY: non-NULL and writable for the call (promised in `new`).
            unsafe { self.len.write_unaligned(message.len()) };
        }
    }
}
