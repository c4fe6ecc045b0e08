//! The one error type of gatehouse-core.

use std::fmt;

/// Everything that can go wrong while loading specs, users or the country table.
///
/// Evaluation itself never fails with an `Error`: an evaluation problem (an
/// unknown operator, a too-deep gate chain) is reported in the result's
/// reason, as the reference does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The spec payload is not valid dcs-v2 JSON. `path` is the JSON path of
    /// the fault (for example `condition_map.123.type`), `.` for the root.
    Spec { path: String, message: String },
    /// A user object is not valid. `path` is the JSON path inside the user.
    User { path: String, message: String },
    /// An IP-to-country table could not be parsed.
    CountryTable { message: String },
}

impl Error {
    pub(crate) fn spec(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Spec {
            path: path.into(),
            message: message.into(),
        }
    }
    pub(crate) fn user(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::User {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spec { path, message } => write!(f, "invalid specs at `{path}`: {message}"),
            Error::User { path, message } => write!(f, "invalid user at `{path}`: {message}"),
            Error::CountryTable { message } => write!(f, "invalid country table: {message}"),
        }
    }
}

impl std::error::Error for Error {}
