//! Local overrides. Each change is one atomic snapshot swap in the runtime:
//! concurrent evaluations see the state before or after it, never between.
//!
//! `id` (optional, empty = none) limits an override to one user ID or
//! custom ID value; without it the override applies to everyone.

use super::json_object;
use crate::boundary::{call, call_with_message};
use crate::handles;
use crate::marshal::{
    input, optional, ErrOut, OutBuf, GATEHOUSE_MAX_JSON_LEN, GATEHOUSE_MAX_NAME_LEN,
};
use crate::status::Error;
use gatehouse::Client;
use serde_json::{Map, Value};

/// Override a gate's value (`value` non-zero: pass).
///
/// # Safety
/// Each `(ptr, len)` input points to its length of readable bytes (NULL
/// allowed when 0).
#[no_mangle]
pub unsafe extern "C" fn gatehouse_override_gate(
    client: u64,
    name: *const u8,
    name_len: usize,
    value: u8,
    id: *const u8,
    id_len: usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let (name, id) = unsafe {
            (
                input(name, name_len, GATEHOUSE_MAX_NAME_LEN, "name")?,
                optional(id, id_len, "id")?,
            )
        };
        handles::client(client)?.override_gate(name, value != 0, id);
        Ok(())
    })
}

type SetValue = fn(&Client, &str, Map<String, Value>, Option<&str>);

/// The shared shape of the value overrides.
///
/// # Safety
/// The contract of the exports below.
#[allow(clippy::too_many_arguments)]
unsafe fn override_value(
    client: u64,
    name: (*const u8, usize),
    value_json: (*const u8, usize),
    id: (*const u8, usize),
    err: (*mut u8, usize, *mut usize),
    set: SetValue,
) -> i32 {
    // SAFETY: forwarded contract.
    let err = unsafe { ErrOut::new(err.0, err.1, err.2) };
    call_with_message(err, || {
        // SAFETY: forwarded contract.
        let (name, value, id) = unsafe {
            (
                input(name.0, name.1, GATEHOUSE_MAX_NAME_LEN, "name")?,
                input(
                    value_json.0,
                    value_json.1,
                    GATEHOUSE_MAX_JSON_LEN,
                    "value_json",
                )?,
                optional(id.0, id.1, "id")?,
            )
        };
        let value = json_object(value, "value_json")?
            .ok_or_else(|| Error::InvalidArgument("`value_json` must be a JSON object".into()))?;
        let client = handles::client(client)?;
        set(&client, name, value, id);
        Ok(())
    })
}

/// Override a dynamic config's value with the JSON object `value_json`.
///
/// # Safety
/// Each `(ptr, len)` input points to its length of readable bytes (NULL
/// allowed when 0); the error triple as in `gatehouse_client_new`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gatehouse_override_dynamic_config(
    client: u64,
    name: *const u8,
    name_len: usize,
    value_json: *const u8,
    value_json_len: usize,
    id: *const u8,
    id_len: usize,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above, forwarded.
    unsafe {
        override_value(
            client,
            (name, name_len),
            (value_json, value_json_len),
            (id, id_len),
            (err_buf, err_cap, err_len),
            |c, n, v, i| c.override_dynamic_config(n, v, i),
        )
    }
}

/// Override an experiment's value with the JSON object `value_json`.
///
/// # Safety
/// As `gatehouse_override_dynamic_config`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gatehouse_override_experiment(
    client: u64,
    name: *const u8,
    name_len: usize,
    value_json: *const u8,
    value_json_len: usize,
    id: *const u8,
    id_len: usize,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above, forwarded.
    unsafe {
        override_value(
            client,
            (name, name_len),
            (value_json, value_json_len),
            (id, id_len),
            (err_buf, err_cap, err_len),
            |c, n, v, i| c.override_experiment(n, v, i),
        )
    }
}

/// Override a layer's values with the JSON object `value_json`.
///
/// # Safety
/// As `gatehouse_override_dynamic_config`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gatehouse_override_layer(
    client: u64,
    name: *const u8,
    name_len: usize,
    value_json: *const u8,
    value_json_len: usize,
    id: *const u8,
    id_len: usize,
    err_buf: *mut u8,
    err_cap: usize,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: the contract above, forwarded.
    unsafe {
        override_value(
            client,
            (name, name_len),
            (value_json, value_json_len),
            (id, id_len),
            (err_buf, err_cap, err_len),
            |c, n, v, i| c.override_layer(n, v, i),
        )
    }
}

/// Override an experiment with the value of its group `group`.
///
/// # Safety
/// Each `(ptr, len)` input points to its length of readable bytes (NULL
/// allowed when 0).
#[no_mangle]
pub unsafe extern "C" fn gatehouse_override_experiment_by_group_name(
    client: u64,
    name: *const u8,
    name_len: usize,
    group: *const u8,
    group_len: usize,
    id: *const u8,
    id_len: usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let (name, group, id) = unsafe {
            (
                input(name, name_len, GATEHOUSE_MAX_NAME_LEN, "name")?,
                input(group, group_len, GATEHOUSE_MAX_NAME_LEN, "group")?,
                optional(id, id_len, "id")?,
            )
        };
        handles::client(client)?.override_experiment_by_group_name(name, group, id);
        Ok(())
    })
}

/// Remove the override of `kind` (`GATEHOUSE_KIND_*`) and `name` for `id`,
/// or every override of that name when `id` is empty.
///
/// # Safety
/// Each `(ptr, len)` input points to its length of readable bytes (NULL
/// allowed when 0).
#[no_mangle]
pub unsafe extern "C" fn gatehouse_remove_override(
    client: u64,
    kind: i32,
    name: *const u8,
    name_len: usize,
    id: *const u8,
    id_len: usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let (name, id) = unsafe {
            (
                input(name, name_len, GATEHOUSE_MAX_NAME_LEN, "name")?,
                optional(id, id_len, "id")?,
            )
        };
        let kind = super::kind(kind)?;
        handles::client(client)?.remove_override(kind, name, id);
        Ok(())
    })
}

/// Remove every override.
#[no_mangle]
pub extern "C" fn gatehouse_remove_all_overrides(client: u64) -> i32 {
    call(|| {
        handles::client(client)?.remove_all_overrides();
        Ok(())
    })
}

/// Every override as JSON (the runtime's override listing).
///
/// # Safety
/// `buf` points to `cap` writable bytes (NULL allowed when 0); `len_out` is
/// writable.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_get_overrides(
    client: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let out = unsafe { OutBuf::new(buf, cap, len_out) }?;
        let json = handles::client(client)?.overrides_json();
        out.write(json.to_string().as_bytes())
    })
}
