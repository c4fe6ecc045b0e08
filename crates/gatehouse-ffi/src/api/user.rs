//! User handles: a user parsed once and reused across calls and threads.

use crate::boundary::{call, call_with_message};
use crate::handles::{self, Object, Tag};
use crate::marshal::{input, ErrOut, Out, GATEHOUSE_MAX_JSON_LEN};
use crate::status::Error;
use gatehouse::User;

/// Parse a user from its JSON (the Statsig user shape: `userID`,
/// `customIDs`, `email`, `ip`, `userAgent`, `country`, `locale`,
/// `appVersion`, `custom`, `privateAttributes`, `statsigEnvironment`). On
/// success `*user_out` holds the new user handle.
///
/// # Safety
/// `json` points to `json_len` readable bytes; `user_out` is writable; the
/// error triple as in `gatehouse_client_new`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_user_new(
    json: *const u8,
    json_len: usize,
    user_out: *mut u64,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above.
    let err = unsafe { ErrOut::new(err_buf, err_cap, err_len) };
    call_with_message(err, || {
        // SAFETY: the contract above.
        let (text, out) = unsafe {
            (
                input(json, json_len, GATEHOUSE_MAX_JSON_LEN, "json")?,
                Out::new(user_out, "user_out")?,
            )
        };
        let user = User::from_json_str(text).map_err(|e| Error::InvalidUser(e.to_string()))?;
        out.set(handles::insert(Object::User(user))?);
        Ok(())
    })
}

/// Release a user handle. Calls already using it finish normally. The
/// handle is invalid afterwards (`GATEHOUSE_INVALID_HANDLE`, also on a
/// second release).
#[no_mangle]
pub extern "C" fn gatehouse_user_release(user: u64) -> i32 {
    call(|| handles::release(user, Tag::User))
}
