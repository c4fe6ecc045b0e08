//! dcs-v2 download over HTTP(S) (dcs-semantics §1.1).

use crate::Error;
use std::time::Duration;

/// What a fetch produced.
#[derive(Debug)]
pub enum SpecFetch {
    /// A response body to parse (JSON text).
    Body(String),
    /// The server said nothing changed (HTTP 204/304).
    NotModified,
}

/// STUB (sync helper implements).
#[derive(Debug, Clone)]
pub struct HttpSpecSource {
    pub url: String,
    pub sdk_key: String,
    pub timeout: Duration,
}

impl HttpSpecSource {
    /// `url` is the dcs-v2 base; `/{sdk_key}.json` is appended.
    pub fn new(url: &str, sdk_key: &str, timeout: Duration) -> HttpSpecSource {
        HttpSpecSource {
            url: url.to_owned(),
            sdk_key: sdk_key.to_owned(),
            timeout,
        }
    }

    /// The full request URL for a sync (with `sinceTime`/`checksum`).
    pub fn request_url(&self, since_time: u64, checksum: Option<&str>) -> String {
        let _ = (since_time, checksum);
        self.url.clone()
    }

    /// One GET.
    pub fn fetch(&self, since_time: u64, checksum: Option<&str>) -> Result<SpecFetch, Error> {
        let _ = (since_time, checksum);
        Err(Error::Http {
            url: self.url.clone(),
            status: 0,
            message: "not implemented".into(),
        })
    }
}
