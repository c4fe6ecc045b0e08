//! Layer handles: one layer evaluation, held so that every parameter
//! exposure logged later belongs to the evaluation whose values the caller
//! read.
//!
//! `gatehouse_layer_get_param` evaluates the layer again on every call: if
//! specs or overrides changed since the caller read the layer, the exposure
//! it logs is that of another evaluation. A layer handle closes that gap by
//! construction: `gatehouse_layer_open` evaluates once, writes the layer's
//! JSON and issues a handle to that very result; `gatehouse_layer_log_param`
//! logs from it.

use super::call_options;
use crate::boundary::call;
use crate::handles::{self, Object, Tag};
use crate::marshal::{input, Out, OutBuf, GATEHOUSE_MAX_NAME_LEN};
use crate::status::Error;
use serde_json::Value;

/// Evaluate a layer once: write its JSON (the fields of
/// `gatehouse_get_layer`, with `token`) and a layer handle to this very
/// evaluation into `*layer_out`. Logs no exposure itself: log a
/// parameter's with `gatehouse_layer_log_param`, which uses the flags given
/// here (with `GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING` it logs nothing).
///
/// Outputs are written only on success. On `GATEHOUSE_BUFFER_TOO_SMALL`
/// only `*len_out` is written and **no handle is issued**; a retry
/// evaluates again. Release the handle with `gatehouse_layer_release`.
/// The handle does not depend on the client and user handles staying
/// alive (see `gatehouse_layer_log_param`).
///
/// # Safety
/// `name` points to `name_len` readable bytes (NULL allowed when 0);
/// `layer_out`, `len_out` and `token_out` are writable; `buf` points to
/// `cap` writable bytes (NULL allowed when 0); outputs do not overlap
/// inputs.
#[no_mangle]
pub unsafe extern "C" fn gatehouse_layer_open(
    client: u64,
    user: u64,
    name: *const u8,
    name_len: usize,
    flags: u32,
    token: u64,
    layer_out: *mut u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    token_out: *mut u64,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let (name, layer_out, out, token_out) = unsafe {
            (
                input(name, name_len, GATEHOUSE_MAX_NAME_LEN, "name")?,
                Out::new(layer_out, "layer_out")?,
                OutBuf::new(buf, cap, len_out)?,
                Out::new(token_out, "token_out")?,
            )
        };
        let opts = call_options(flags)?;
        let client = handles::client(client)?;
        let user = handles::user(user)?;
        let layer = client.get_layer_with(&user, name, opts);
        let mut value = layer.to_json();
        if let Value::Object(m) = &mut value {
            m.insert("token".to_owned(), Value::String(token.to_string()));
        }
        let bytes = value.to_string().into_bytes();
        // Only a result that fits gets a handle: nothing to leak on a retry.
        out.check_fits(bytes.len())?;
        let handle = handles::insert(Object::Layer(layer))?;
        if let Err(e) = out.write(&bytes) {
            // Not reached (it fits); never leave a handle nobody received.
            let _ = handles::release(handle, Tag::Layer);
            return Err(e);
        }
        layer_out.set(handle);
        token_out.set(token);
        Ok(())
    })
}

/// Log the exposure of one parameter of the layer evaluation behind
/// `layer` (once per dedupe window, as any exposure): the rule id,
/// allocated experiment, secondary exposures, details and user of that
/// evaluation, whatever changed since.
///
/// - A parameter the layer lacks → `GATEHOUSE_NOT_FOUND`, nothing logged.
/// - Opened with `GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING`, or on a client
///   without an event sink: `GATEHOUSE_OK`, nothing logged.
/// - The client was shut down (`gatehouse_client_shutdown`) →
///   `GATEHOUSE_SHUT_DOWN`, nothing logged.
/// - The client or user handle was released: the layer handle still works
///   (it holds what it needs; exposures go to the client's event sink,
///   which lives until the client's last layer handle that logs is
///   released).
///
/// # Safety
/// `param` points to `param_len` readable bytes (NULL allowed when 0).
#[no_mangle]
pub unsafe extern "C" fn gatehouse_layer_log_param(
    layer: u64,
    param: *const u8,
    param_len: usize,
) -> i32 {
    call(|| {
        // SAFETY: the contract above.
        let param = unsafe { input(param, param_len, GATEHOUSE_MAX_NAME_LEN, "param") }?;
        let layer = handles::layer(layer)?;
        if layer.get_without_exposure(param).is_none() {
            return Err(Error::NotFound(format!(
                "layer `{}` has no parameter `{param}`",
                layer.name
            )));
        }
        if layer.is_client_shut_down() {
            return Err(Error::ShutDown);
        }
        layer.log_parameter_exposure(param);
        Ok(())
    })
}

/// Release a layer handle. Calls already using it finish normally. The
/// handle is invalid afterwards (`GATEHOUSE_INVALID_HANDLE`, also on a
/// second release).
#[no_mangle]
pub extern "C" fn gatehouse_layer_release(layer: u64) -> i32 {
    call(|| handles::release(layer, Tag::Layer))
}
