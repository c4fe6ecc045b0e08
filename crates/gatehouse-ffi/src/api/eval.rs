//! Evaluation: check gate (typed fast path) and the JSON results.
//!
//! Every call takes a caller-chosen `token` and echoes it: into the
//! `gatehouse_gate_result`, or into `*token_out` and the JSON's `"token"`
//! member (a decimal string, exact for all 64 bits). A binding checks both
//! before trusting a result.

use super::call_options;
use crate::boundary::call;
use crate::handles;
use crate::marshal::{input, Out, OutBuf, GATEHOUSE_MAX_NAME_LEN};
use crate::status::Error;
use gatehouse::{CallOptions, Client, User};
use serde_json::{json, Value};

/// The result of `gatehouse_check_gate`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GatehouseGateResult {
    /// The call's token, echoed.
    pub token: u64,
    /// The gate's value: 1 pass, 0 fail.
    pub value: u8,
}

/// Write `value` (with the token added) and then the token.
fn finish(mut value: Value, token: u64, out: &OutBuf, token_out: &Out<u64>) -> Result<(), Error> {
    if let Value::Object(m) = &mut value {
        m.insert("token".to_owned(), Value::String(token.to_string()));
    }
    let bytes = value.to_string().into_bytes();
    // Test builds only: maybe another call's bytes and token (crate::fault).
    #[cfg(feature = "fault-injection")]
    let (bytes, token) = crate::fault::json((bytes, token), out.cap());
    out.write(&bytes)?;
    token_out.set(token);
    Ok(())
}

/// The shared shape of the JSON evaluation calls.
///
/// # Safety
/// The pointer contract of the exports (docs/FFI.md, "Ownership").
#[allow(clippy::too_many_arguments)]
unsafe fn eval_json(
    client: u64,
    user: u64,
    name: (*const u8, usize),
    flags: u32,
    token: u64,
    out: (*mut u8, usize, *mut usize),
    token_out: *mut u64,
    f: impl FnOnce(&Client, &User, &str, CallOptions) -> Value,
) -> i32 {
    call(|| {
        // SAFETY: forwarded from the export's contract.
        let (name, out, token_out) = unsafe {
            (
                input(name.0, name.1, GATEHOUSE_MAX_NAME_LEN, "name")?,
                OutBuf::new(out.0, out.1, out.2)?,
                Out::new(token_out, "token_out")?,
            )
        };
        let opts = call_options(flags)?;
        let client = handles::client(client)?;
        let user = handles::user(user)?;
        let value = f(&client, &user, name, opts);
        finish(value, token, &out, &token_out)
    })
}

/// Check a gate: the typed fast path. On success `*out` holds the value and
/// the echoed token. With `GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING` (or no
/// event sink) this allocates nothing.
///
/// # Safety
/// `name` points to `name_len` readable bytes (NULL allowed when 0); `out`
/// points to a writable `gatehouse_gate_result`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_check_gate(
    client: u64,
    user: u64,
    name: *const u8,
    name_len: usize,
    flags: u32,
    token: u64,
    out: *mut GatehouseGateResult,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let (name, out) = unsafe {
            (
                input(name, name_len, GATEHOUSE_MAX_NAME_LEN, "name")?,
                Out::new(out, "out")?,
            )
        };
        let opts = call_options(flags)?;
        let client = handles::client(client)?;
        let user = handles::user(user)?;
        let value = client.check_gate_with(&user, name, opts);
        let result = GatehouseGateResult {
            token,
            value: u8::from(value),
        };
        // Test builds only: maybe another call's result (crate::fault).
        #[cfg(feature = "fault-injection")]
        let result = crate::fault::gate(result);
        out.set(result);
        Ok(())
    })
}

/// A gate's full result as JSON: `name`, `value`, `rule_id`, `id_type`,
/// `details`, `secondary_exposures`, `token`.
///
/// # Safety
/// `name` points to `name_len` readable bytes (NULL allowed when 0); `buf`
/// to `cap` writable bytes (NULL allowed when 0); `len_out` and `token_out`
/// are writable; outputs do not overlap inputs.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_get_feature_gate(
    client: u64,
    user: u64,
    name: *const u8,
    name_len: usize,
    flags: u32,
    token: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    token_out: *mut u64,
) -> i32 {
    // SAFETY: the contract above, forwarded.
    unsafe {
        eval_json(
            client,
            user,
            (name, name_len),
            flags,
            token,
            (buf, cap, len_out),
            token_out,
            |c, u, n, o| c.get_feature_gate_with(u, n, o).to_json(),
        )
    }
}

/// A dynamic config as JSON: `name`, `value`, `rule_id`, `id_type`,
/// `group_name`, `passed`, `is_experiment_active`, `is_user_in_experiment`,
/// `details`, `secondary_exposures`, `token`.
///
/// # Safety
/// As `gatehouse_get_feature_gate`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_get_dynamic_config(
    client: u64,
    user: u64,
    name: *const u8,
    name_len: usize,
    flags: u32,
    token: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    token_out: *mut u64,
) -> i32 {
    // SAFETY: the contract above, forwarded.
    unsafe {
        eval_json(
            client,
            user,
            (name, name_len),
            flags,
            token,
            (buf, cap, len_out),
            token_out,
            |c, u, n, o| c.get_dynamic_config_with(u, n, o).to_json(),
        )
    }
}

/// An experiment as JSON (the fields of a dynamic config).
///
/// # Safety
/// As `gatehouse_get_feature_gate`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_get_experiment(
    client: u64,
    user: u64,
    name: *const u8,
    name_len: usize,
    flags: u32,
    token: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    token_out: *mut u64,
) -> i32 {
    // SAFETY: the contract above, forwarded.
    unsafe {
        eval_json(
            client,
            user,
            (name, name_len),
            flags,
            token,
            (buf, cap, len_out),
            token_out,
            |c, u, n, o| c.get_experiment_with(u, n, o).to_json(),
        )
    }
}

/// A layer as JSON: `name`, `value`, `rule_id`, `id_type`, `group_name`,
/// `allocated_experiment_name`, `is_experiment_active`,
/// `explicit_parameters`, `details`, `secondary_exposures`,
/// `undelegated_secondary_exposures`, `token`. Logs no exposure. To log
/// parameter exposures of the evaluation read here, use
/// `gatehouse_layer_open` instead (it writes this JSON and a handle to the
/// evaluation for `gatehouse_layer_log_param`).
///
/// # Safety
/// As `gatehouse_get_feature_gate`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_get_layer(
    client: u64,
    user: u64,
    name: *const u8,
    name_len: usize,
    flags: u32,
    token: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    token_out: *mut u64,
) -> i32 {
    // SAFETY: the contract above, forwarded.
    unsafe {
        eval_json(
            client,
            user,
            (name, name_len),
            flags,
            token,
            (buf, cap, len_out),
            token_out,
            // The JSON logs nothing, so the layer need not carry what
            // parameter exposures would.
            |c, u, n, _| {
                let quiet = CallOptions {
                    disable_exposure_logging: true,
                };
                c.get_layer_with(u, n, quiet).to_json()
            },
        )
    }
}

/// One layer parameter as JSON — `name` (the layer), `parameter`, `value`,
/// `rule_id`, `group_name`, `token` — logging that parameter's exposure
/// (unless `GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING`). The exposure is
/// logged only when the result was written (not on
/// `GATEHOUSE_BUFFER_TOO_SMALL`). A parameter the layer lacks gives
/// `GATEHOUSE_NOT_FOUND` and logs nothing.
///
/// It evaluates the layer again: if specs or overrides changed since the
/// caller read the layer, this is another evaluation's parameter. To log
/// exposures of a layer result already read, use a layer handle
/// (`gatehouse_layer_open`, `gatehouse_layer_log_param`).
///
/// # Safety
/// `layer` and `param` point to their lengths of readable bytes (NULL
/// allowed when 0); the rest as `gatehouse_get_feature_gate`.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_layer_get_param(
    client: u64,
    user: u64,
    layer: *const u8,
    layer_len: usize,
    param: *const u8,
    param_len: usize,
    flags: u32,
    token: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    token_out: *mut u64,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let (layer_name, param, out, token_out) = unsafe {
            (
                input(layer, layer_len, GATEHOUSE_MAX_NAME_LEN, "layer")?,
                input(param, param_len, GATEHOUSE_MAX_NAME_LEN, "param")?,
                OutBuf::new(buf, cap, len_out)?,
                Out::new(token_out, "token_out")?,
            )
        };
        let opts = call_options(flags)?;
        let client = handles::client(client)?;
        let user = handles::user(user)?;
        let layer = client.get_layer_with(&user, layer_name, opts);
        let value = layer.get_without_exposure(param).ok_or_else(|| {
            Error::NotFound(format!("layer `{layer_name}` has no parameter `{param}`"))
        })?;
        let result = json!({
            "name": layer.name,
            "parameter": param,
            "value": value,
            "rule_id": layer.rule_id,
            "group_name": layer.group_name,
            "token": token.to_string(),
        });
        out.write(result.to_string().as_bytes())?;
        layer.log_parameter_exposure(param);
        token_out.set(token);
        Ok(())
    })
}
