//! Fetching specs and ID lists over HTTP(S), and ID lists from files.
//!
//! - [`HttpSpecSource`]: one blocking dcs-v2 GET per call (§1.1).
//! - [`IdListSync`]: the ID-list manifest and list files, with the
//!   incremental rules of delta D9.
//! - [`load_id_list_files`]: lists from local files.
//!
//! All requests are blocking `ureq` calls with an overall deadline; none
//! panics on any server behaviour, and no error carries the SDK key.

mod download;
mod files;
mod http;
mod idlists;
mod manifest;
mod transport;

pub use files::load_id_list_files;
pub use http::{HttpSpecSource, SpecFetch};
pub use idlists::{IdListSync, IdListSyncOutcome};
