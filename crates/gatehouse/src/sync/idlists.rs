//! ID lists from a manifest URL (dcs-semantics §8, delta D9).

use crate::Error;
use gatehouse_core::IdLists;
use std::time::Duration;

/// STUB (sync helper implements).
pub struct IdListSync {
    pub manifest_url: String,
    pub sdk_key: String,
    pub timeout: Duration,
}

impl IdListSync {
    pub fn new(manifest_url: &str, sdk_key: &str, timeout: Duration) -> IdListSync {
        IdListSync {
            manifest_url: manifest_url.to_owned(),
            sdk_key: sdk_key.to_owned(),
            timeout,
        }
    }

    /// One sync: fetch the manifest, download new/changed lists (tails when
    /// only grown), drop lists absent from the manifest. Returns the new
    /// set when anything changed, `None` when nothing did.
    pub fn sync(&mut self) -> Result<Option<IdLists>, Error> {
        Err(Error::Http {
            url: self.manifest_url.clone(),
            status: 0,
            message: "not implemented".into(),
        })
    }
}
