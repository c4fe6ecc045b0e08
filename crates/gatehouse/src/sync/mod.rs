//! Fetching specs and ID lists over HTTP(S).

mod http;
mod idlists;

pub use http::{HttpSpecSource, SpecFetch};
pub use idlists::IdListSync;
