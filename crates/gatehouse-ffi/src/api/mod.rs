//! The exported functions, by area. Each body runs inside the panic
//! boundary and only marshals: inputs are checked and borrowed, the runtime
//! is called, outputs are copied into the caller's buffers.

pub mod client;
pub mod eval;
pub mod layer;
pub mod meta;
#[cfg(feature = "naive-abi")]
pub mod naive;
pub mod overrides;
pub mod user;

use crate::status::Error;
use gatehouse::CallOptions;

/// Per-call flag: log no exposure for this evaluation.
pub const GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING: u32 = 1;

/// Entity kinds, for `gatehouse_remove_override`.
pub const GATEHOUSE_KIND_GATE: i32 = 1;
/// A dynamic config.
pub const GATEHOUSE_KIND_DYNAMIC_CONFIG: i32 = 2;
/// An experiment.
pub const GATEHOUSE_KIND_EXPERIMENT: i32 = 3;
/// A layer.
pub const GATEHOUSE_KIND_LAYER: i32 = 4;

pub(crate) fn call_options(flags: u32) -> Result<CallOptions, Error> {
    if flags & !GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING != 0 {
        return Err(Error::InvalidArgument(format!(
            "unknown flag bits {flags:#x}"
        )));
    }
    Ok(CallOptions {
        disable_exposure_logging: flags & GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING != 0,
    })
}

pub(crate) fn kind(kind: i32) -> Result<gatehouse::Kind, Error> {
    match kind {
        GATEHOUSE_KIND_GATE => Ok(gatehouse::Kind::Gate),
        GATEHOUSE_KIND_DYNAMIC_CONFIG => Ok(gatehouse::Kind::Config),
        GATEHOUSE_KIND_EXPERIMENT => Ok(gatehouse::Kind::Experiment),
        GATEHOUSE_KIND_LAYER => Ok(gatehouse::Kind::Layer),
        _ => Err(Error::InvalidArgument(format!("unknown kind {kind}"))),
    }
}

/// A JSON object input, `None` when empty.
pub(crate) fn json_object(
    text: &str,
    what: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, Error> {
    if text.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(Error::InvalidArgument(format!(
            "`{what}` must be a JSON object"
        ))),
        Err(e) => Err(Error::InvalidArgument(format!("`{what}`: {e}"))),
    }
}
