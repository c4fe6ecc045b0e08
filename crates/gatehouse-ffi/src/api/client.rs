//! Client lifecycle: create, initialize, events, shutdown, status, release.

use super::json_object;
use crate::boundary::{call, call_with_message};
use crate::handles::{self, Object, Tag};
use crate::marshal::{
    input, ErrOut, Out, OutBuf, GATEHOUSE_MAX_JSON_LEN, GATEHOUSE_MAX_NAME_LEN,
    GATEHOUSE_MAX_OPTIONS_LEN,
};
use crate::options;
use crate::status::Error;
use gatehouse::Client;
use serde_json::Value;
use std::time::Duration;

/// Create a client from the options JSON (keys in docs/FFI.md). No I/O
/// happens until `gatehouse_client_initialize`. On success `*client_out`
/// holds the new client handle.
///
/// # Safety
/// `options` points to `options_len` readable bytes; `client_out` is
/// writable; `err_buf` points to `err_cap` writable bytes (NULL allowed when
/// 0); `err_len` is writable or NULL.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_client_new(
    options: *const u8,
    options_len: usize,
    client_out: *mut u64,
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
                input(options, options_len, GATEHOUSE_MAX_OPTIONS_LEN, "options")?,
                Out::new(client_out, "client_out")?,
            )
        };
        let options = options::parse(text)?;
        let client = Client::new(options).map_err(options::runtime_error)?;
        out.set(handles::insert(Object::Client(client))?);
        Ok(())
    })
}

/// Load specs (and ID lists) once, bounded by `init_timeout_ms`, and start
/// background sync. `GATEHOUSE_INIT_FAILED` (with a message) leaves the
/// client usable: evaluations answer `Uninitialized` until a sync succeeds.
///
/// # Safety
/// The error triple as in `gatehouse_client_new`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_client_initialize(
    client: u64,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above.
    let err = unsafe { ErrOut::new(err_buf, err_cap, err_len) };
    call_with_message(err, || {
        let client = handles::client(client)?;
        client.initialize().map_err(|e| match e {
            gatehouse::Error::ShutDown => Error::ShutDown,
            e => Error::InitFailed(e.to_string()),
        })
    })
}

/// Log a custom event for `user`. `value_json` is a JSON string, number or
/// null (empty input: null; any other JSON → `GATEHOUSE_INVALID_ARGUMENT`
/// naming `value_json`); `metadata_json` a JSON object (empty input:
/// none). Does nothing (successfully) when the client has no event sink.
///
/// # Safety
/// Each `(ptr, len)` input points to its length of readable bytes (NULL
/// allowed when 0); the error triple as in `gatehouse_client_new`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gatehouse_log_event(
    client: u64,
    user: u64,
    event_name: *const u8,
    event_name_len: usize,
    value_json: *const u8,
    value_json_len: usize,
    metadata_json: *const u8,
    metadata_json_len: usize,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above.
    let err = unsafe { ErrOut::new(err_buf, err_cap, err_len) };
    call_with_message(err, || {
        // SAFETY: the contract above.
        let (name, value, metadata) = unsafe {
            (
                input(
                    event_name,
                    event_name_len,
                    GATEHOUSE_MAX_NAME_LEN,
                    "event_name",
                )?,
                input(
                    value_json,
                    value_json_len,
                    GATEHOUSE_MAX_JSON_LEN,
                    "value_json",
                )?,
                input(
                    metadata_json,
                    metadata_json_len,
                    GATEHOUSE_MAX_JSON_LEN,
                    "metadata_json",
                )?,
            )
        };
        let value = match value {
            "" => Value::Null,
            text => serde_json::from_str(text)
                .map_err(|e| Error::InvalidArgument(format!("`value_json`: {e}")))?,
        };
        // The reference's event value is a string or a number (or none).
        let kind = match &value {
            Value::Null | Value::String(_) | Value::Number(_) => None,
            Value::Bool(_) => Some("a boolean"),
            Value::Array(_) => Some("an array"),
            Value::Object(_) => Some("an object"),
        };
        if let Some(kind) = kind {
            return Err(Error::InvalidArgument(format!(
                "`value_json`: an event value must be a JSON string, number or null, not {kind}"
            )));
        }
        let metadata = json_object(metadata, "metadata_json")?;
        let client = handles::client(client)?;
        let user = handles::user(user)?;
        client
            .log_event(&user, name, value, metadata)
            .map_err(|e| match e {
                gatehouse::Error::ShutDown => Error::ShutDown,
                e => Error::InvalidArgument(e.to_string()),
            })
    })
}

fn events_error(e: gatehouse::Error) -> Error {
    match e {
        gatehouse::Error::ShutDown => Error::ShutDown,
        e => Error::EventsFailed(e.to_string()),
    }
}

/// Deliver every queued event now; returns when they are delivered or
/// dropped (counted).
///
/// # Safety
/// The error triple as in `gatehouse_client_new`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_client_flush(
    client: u64,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above.
    let err = unsafe { ErrOut::new(err_buf, err_cap, err_len) };
    call_with_message(err, || {
        handles::client(client)?.flush().map_err(events_error)
    })
}

/// Stop background sync and flush queued events, waiting at most
/// `timeout_ms`. Evaluations keep working on the last specs; events are
/// refused afterwards. A second call does nothing. Does not release the
/// handle.
///
/// # Safety
/// The error triple as in `gatehouse_client_new`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_client_shutdown(
    client: u64,
    timeout_ms: u64,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above.
    let err = unsafe { ErrOut::new(err_buf, err_cap, err_len) };
    call_with_message(err, || {
        handles::client(client)?
            .shutdown(Duration::from_millis(timeout_ms))
            .map_err(events_error)
    })
}

/// Release a client handle. Calls already running on it finish normally;
/// the client is freed when the last of them returns and the last layer
/// handle that logs to it is released (such a layer handle keeps the
/// client's runtime, see `gatehouse_layer_log_param`). The handle is invalid
/// afterwards (`GATEHOUSE_INVALID_HANDLE`, also on a second release). Call
/// `gatehouse_client_shutdown` first to flush events.
#[no_mangle]
pub extern "C" fn gatehouse_client_release(client: u64) -> i32 {
    call(|| handles::release(client, Tag::Client))
}

/// The client's sync status and counters as JSON: `source`, `ready`,
/// `lcut`, `updated_at`, `age_ms`, `last_error`, `last_error_at`,
/// `last_attempt_at`, `id_lists`, `counters`.
///
/// # Safety
/// `buf` points to `cap` writable bytes (NULL allowed when 0); `len_out` is
/// writable.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_client_status(
    client: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let out = unsafe { OutBuf::new(buf, cap, len_out) }?;
        let status = handles::client(client)?.status().to_json();
        out.write(status.to_string().as_bytes())
    })
}

/// The client's counters as a JSON object (the `counters` member of the
/// status).
///
/// # Safety
/// As `gatehouse_client_status`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_client_counters(
    client: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let out = unsafe { OutBuf::new(buf, cap, len_out) }?;
        let mut status = handles::client(client)?.status().to_json();
        let counters = status
            .get_mut("counters")
            .map(Value::take)
            .unwrap_or(Value::Null);
        out.write(counters.to_string().as_bytes())
    })
}
