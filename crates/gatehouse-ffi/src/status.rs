//! Status codes (stable numbers) and the crate's one error enum.
//!
//! Numbers never change meaning; new codes are only appended. 0 is success,
//! every error is positive.

/// Success: every output of the call was written.
pub const GATEHOUSE_OK: i32 = 0;
/// The output buffer is too small. Nothing but `*len_out` was written: it holds
/// the length needed. Call again with at least that capacity.
pub const GATEHOUSE_BUFFER_TOO_SMALL: i32 = 1;
/// A required pointer was NULL (an out parameter, or an input pointer with a
/// non-zero length, or a buffer pointer with a non-zero capacity).
pub const GATEHOUSE_NULL_ARGUMENT: i32 = 2;
/// A string input is not valid UTF-8.
pub const GATEHOUSE_INVALID_UTF8: i32 = 3;
/// An input is longer than its documented limit (`GATEHOUSE_MAX_*`).
pub const GATEHOUSE_INPUT_TOO_LARGE: i32 = 4;
/// The handle was never issued, or was released (stale or double release).
pub const GATEHOUSE_INVALID_HANDLE: i32 = 5;
/// The handle is live but of another type (client, user, layer): e.g. a
/// user handle where a client handle belongs.
pub const GATEHOUSE_WRONG_HANDLE_TYPE: i32 = 6;
/// The handle table is full (2^24 live handles).
pub const GATEHOUSE_HANDLE_LIMIT: i32 = 7;
/// The options JSON is malformed, names an unknown key, or a value is invalid.
/// Carries a message naming the option.
pub const GATEHOUSE_INVALID_OPTIONS: i32 = 8;
/// The user JSON is malformed or not a user. Carries a message.
pub const GATEHOUSE_INVALID_USER: i32 = 9;
/// Another argument is invalid: unknown flag bits or kind, a JSON value of
/// the wrong shape. Carries a message where the function takes an error buffer.
pub const GATEHOUSE_INVALID_ARGUMENT: i32 = 10;
/// The requested item does not exist (a layer parameter).
pub const GATEHOUSE_NOT_FOUND: i32 = 11;
/// Initialization did not load specs (or ID lists). Carries a message. The
/// client stays usable: evaluations answer `Uninitialized` and background
/// sync keeps trying.
pub const GATEHOUSE_INIT_FAILED: i32 = 12;
/// The client was shut down; the call did nothing.
pub const GATEHOUSE_SHUT_DOWN: i32 = 13;
/// The event pipeline failed to deliver (flush or shutdown). Carries a message.
pub const GATEHOUSE_EVENTS_FAILED: i32 = 14;
/// A panic inside the library was caught at the boundary. The call had no
/// effect on its outputs; the library stays usable.
pub const GATEHOUSE_PANIC: i32 = 15;

/// Every status with its static description, in number order.
pub(crate) const DESCRIPTIONS: [(i32, &str); 16] = [
    (GATEHOUSE_OK, "ok"),
    (GATEHOUSE_BUFFER_TOO_SMALL, "output buffer too small"),
    (GATEHOUSE_NULL_ARGUMENT, "a required pointer is NULL"),
    (GATEHOUSE_INVALID_UTF8, "a string input is not valid UTF-8"),
    (GATEHOUSE_INPUT_TOO_LARGE, "an input exceeds its size limit"),
    (
        GATEHOUSE_INVALID_HANDLE,
        "invalid handle (never issued or released)",
    ),
    (GATEHOUSE_WRONG_HANDLE_TYPE, "handle of the wrong type"),
    (GATEHOUSE_HANDLE_LIMIT, "too many live handles"),
    (GATEHOUSE_INVALID_OPTIONS, "invalid options"),
    (GATEHOUSE_INVALID_USER, "invalid user"),
    (GATEHOUSE_INVALID_ARGUMENT, "invalid argument"),
    (GATEHOUSE_NOT_FOUND, "not found"),
    (GATEHOUSE_INIT_FAILED, "initialization did not load specs"),
    (GATEHOUSE_SHUT_DOWN, "the client has been shut down"),
    (GATEHOUSE_EVENTS_FAILED, "event delivery failed"),
    (GATEHOUSE_PANIC, "internal panic caught at the C boundary"),
];

/// The static description of a status, if it is one.
pub(crate) fn describe(status: i32) -> Option<&'static str> {
    DESCRIPTIONS
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, d)| *d)
}

/// Everything an export can fail with; each maps to one status.
#[derive(Debug)]
pub(crate) enum Error {
    /// `*len_out` already holds the needed length.
    BufferTooSmall,
    NullArgument(&'static str),
    InvalidUtf8(&'static str),
    InputTooLarge(&'static str, usize),
    InvalidHandle,
    WrongHandleType,
    HandleLimit,
    InvalidOptions(String),
    InvalidUser(String),
    InvalidArgument(String),
    NotFound(String),
    InitFailed(String),
    ShutDown,
    EventsFailed(String),
}

impl Error {
    pub(crate) fn status(&self) -> i32 {
        match self {
            Error::BufferTooSmall => GATEHOUSE_BUFFER_TOO_SMALL,
            Error::NullArgument(_) => GATEHOUSE_NULL_ARGUMENT,
            Error::InvalidUtf8(_) => GATEHOUSE_INVALID_UTF8,
            Error::InputTooLarge(..) => GATEHOUSE_INPUT_TOO_LARGE,
            Error::InvalidHandle => GATEHOUSE_INVALID_HANDLE,
            Error::WrongHandleType => GATEHOUSE_WRONG_HANDLE_TYPE,
            Error::HandleLimit => GATEHOUSE_HANDLE_LIMIT,
            Error::InvalidOptions(_) => GATEHOUSE_INVALID_OPTIONS,
            Error::InvalidUser(_) => GATEHOUSE_INVALID_USER,
            Error::InvalidArgument(_) => GATEHOUSE_INVALID_ARGUMENT,
            Error::NotFound(_) => GATEHOUSE_NOT_FOUND,
            Error::InitFailed(_) => GATEHOUSE_INIT_FAILED,
            Error::ShutDown => GATEHOUSE_SHUT_DOWN,
            Error::EventsFailed(_) => GATEHOUSE_EVENTS_FAILED,
        }
    }

    /// The message written to an error buffer.
    pub(crate) fn message(&self) -> String {
        let base = describe(self.status()).unwrap_or("error");
        match self {
            Error::NullArgument(what) => format!("{base}: `{what}`"),
            Error::InvalidUtf8(what) => format!("{base}: `{what}`"),
            Error::InputTooLarge(what, max) => {
                format!("{base}: `{what}` is limited to {max} bytes")
            }
            Error::InvalidOptions(m)
            | Error::InvalidUser(m)
            | Error::InvalidArgument(m)
            | Error::NotFound(m)
            | Error::InitFailed(m)
            | Error::EventsFailed(m) => format!("{base}: {m}"),
            Error::BufferTooSmall
            | Error::InvalidHandle
            | Error::WrongHandleType
            | Error::HandleLimit
            | Error::ShutDown => base.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_dense_and_ordered() {
        for (i, (s, d)) in DESCRIPTIONS.iter().enumerate() {
            assert_eq!(*s as usize, i);
            assert!(!d.is_empty());
        }
    }
}
