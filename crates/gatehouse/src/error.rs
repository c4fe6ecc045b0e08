//! The one error type of the gatehouse runtime.

use std::fmt;

/// Everything the runtime can report to its caller.
///
/// Evaluation never fails: an evaluation problem shows in the result's
/// reason. These errors come from loading (specs, ID lists, users), from the
/// network, and from the event pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Specs, a user or a country table did not parse (path and message inside).
    Core(gatehouse_core::Error),
    /// A file could not be read or written. `path` names it.
    Io { path: String, message: String },
    /// An HTTP request failed: connection, timeout or a non-success status
    /// (`status` is 0 when no response arrived).
    Http {
        url: String,
        status: u16,
        message: String,
    },
    /// A payload arrived but was not accepted (older `time`, not dcs-v2, …).
    Rejected { source: String, message: String },
    /// The initial spec load did not finish within the initialization timeout.
    InitTimeout { source: String, waited_ms: u64 },
    /// An option is invalid. `option` names it.
    Options {
        option: &'static str,
        message: String,
    },
    /// The event sink failed. `retryable` says whether a retry may help.
    Sink { message: String, retryable: bool },
    /// The client was shut down; the call did nothing.
    ShutDown,
    /// No specs are loaded yet (before a successful initialize).
    NotInitialized,
}

impl From<gatehouse_core::Error> for Error {
    fn from(e: gatehouse_core::Error) -> Self {
        Error::Core(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Core(e) => e.fmt(f),
            Error::Io { path, message } => write!(f, "{path}: {message}"),
            Error::Http {
                url,
                status: 0,
                message,
            } => write!(f, "request to {url} failed: {message}"),
            Error::Http {
                url,
                status,
                message,
            } => write!(f, "request to {url} failed with HTTP {status}: {message}"),
            Error::Rejected { source, message } => {
                write!(f, "payload from {source} not applied: {message}")
            }
            Error::InitTimeout { source, waited_ms } => write!(
                f,
                "specs from {source} not loaded within the initialization timeout ({waited_ms} ms)"
            ),
            Error::Options { option, message } => write!(f, "option `{option}`: {message}"),
            Error::Sink { message, .. } => write!(f, "event sink: {message}"),
            Error::ShutDown => write!(f, "the client has been shut down"),
            Error::NotInitialized => write!(f, "no specs loaded: initialize the client first"),
        }
    }
}

impl std::error::Error for Error {}
