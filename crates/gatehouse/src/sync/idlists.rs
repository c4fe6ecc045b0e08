//! ID lists from a manifest URL (dcs-semantics §8, delta D9).

use super::download::{Downloaded, Downloader};
use super::manifest::{self, Local, ManifestEntry, Plan};
use super::transport::{self, redact, Call};
use crate::Error;
use gatehouse_core::{IdList, IdLists};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

/// Manifest URLs under this prefix are fetched with GET (the Statsig CDN);
/// any other manifest URL gets a POST with body `{}`, as the reference does
/// for a custom `id_lists_url`.
const CDN_MANIFEST: &str = "https://api.statsigcdn.com/v1/get_id_lists";

/// What one [`IdListSync::sync`] produced.
///
/// A sync can both change lists and fail for some of them: `lists` holds the
/// new full set when anything changed (including lists that did download
/// while others failed), and `errors` every failure (the manifest, or each
/// list that failed to download and kept its old content). The caller
/// decides the policy; the reference fails initialization on any error and
/// a background sync only when every download failed.
#[derive(Debug, Default)]
pub struct IdListSyncOutcome {
    /// The whole new set of lists when anything changed, `None` otherwise.
    pub lists: Option<IdLists>,
    /// What failed (empty on full success).
    pub errors: Vec<Error>,
}

/// One list as synced: the manifest metadata of the content held, the bytes
/// of the file read so far, and the keys.
#[derive(Debug, Clone)]
struct ListState {
    file_id: Option<String>,
    creation_time: i64,
    read_bytes: u64,
    list: IdList,
}

/// Keeps ID lists in step with a manifest URL (the 0.24.0 HTTP adapter's
/// rules, delta D9):
///
/// - a new list is downloaded when its size is above 0 (a size-0 list is
///   added empty);
/// - a new `fileID` with a `creationTime` not older than ours resets the
///   list (downloaded from byte 0); an older one is ignored;
/// - the same `fileID` with a larger size downloads only the tail
///   (`Range: bytes=<read>-`; a 200 answer instead of 206 is taken as the
///   whole file and the list restarts from it);
/// - lists absent from the manifest are deleted;
/// - a body must start with `+` or `-` (after whitespace); a failed download
///   keeps that list as it was (a new list stays absent) and the others
///   still update.
///
/// Requests carry the Statsig headers (`STATSIG-API-KEY`, …); no error
/// contains the SDK key.
pub struct IdListSync {
    /// The manifest URL, used as given.
    pub manifest_url: String,
    /// The server SDK key.
    pub sdk_key: String,
    /// Deadline of each request (manifest and every list file).
    pub timeout: Duration,
    agent: ureq::Agent,
    lists: BTreeMap<String, ListState>,
}

impl IdListSync {
    /// A sync with no lists yet.
    pub fn new(manifest_url: &str, sdk_key: &str, timeout: Duration) -> IdListSync {
        IdListSync {
            manifest_url: manifest_url.to_owned(),
            sdk_key: sdk_key.to_owned(),
            timeout,
            agent: transport::agent(timeout),
            lists: BTreeMap::new(),
        }
    }

    /// Change the timeout of later requests (the first sync of a client
    /// runs under its initialization timeout, later ones under the HTTP
    /// timeout). Keeps the lists and their download state.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        self.agent = transport::agent(timeout);
    }

    /// The lists held now.
    pub fn current(&self) -> IdLists {
        self.lists
            .iter()
            .map(|(name, state)| (name.clone(), state.list.clone()))
            .collect()
    }

    /// One sync: fetch the manifest, download new/changed lists (tails when
    /// only grown), drop lists absent from the manifest. `lists` is the new
    /// full set when anything changed; `errors` lists every failure. A
    /// failed manifest changes nothing.
    pub fn sync(&mut self) -> IdListSyncOutcome {
        let entries = match self.fetch_manifest() {
            Ok(entries) => entries,
            Err(error) => {
                return IdListSyncOutcome {
                    lists: None,
                    errors: vec![error],
                }
            }
        };
        let mut changed = false;
        let before = self.lists.len();
        let listed: HashSet<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        self.lists.retain(|name, _| listed.contains(name.as_str()));
        changed |= self.lists.len() != before;

        let mut errors = Vec::new();
        for (name, entry) in &entries {
            match self.update_one(name, entry) {
                Ok(did_change) => changed |= did_change,
                Err(error) => errors.push(error),
            }
        }
        IdListSyncOutcome {
            lists: changed.then(|| self.current()),
            errors,
        }
    }

    /// Applies one manifest entry; true when the list's content changed.
    fn update_one(&mut self, name: &str, entry: &ManifestEntry) -> Result<bool, Error> {
        let state = self.lists.get(name);
        let local = state.map(|s| Local {
            file_id: s.file_id.as_deref(),
            creation_time: s.creation_time,
            read_bytes: s.read_bytes,
        });
        let start = match manifest::plan(entry, local) {
            Plan::Ignore => return Ok(false),
            Plan::Refresh => {
                if let Some(state) = self.lists.get_mut(name) {
                    state.creation_time = entry.creation_time;
                }
                return Ok(false);
            }
            Plan::Empty => {
                self.lists
                    .insert(name.to_owned(), fresh(entry, IdList::new(), 0));
                return Ok(true);
            }
            Plan::Download { start } => start,
        };
        let downloader = Downloader {
            agent: &self.agent,
            sdk_key: &self.sdk_key,
            timeout: self.timeout,
        };
        let Downloaded { text, whole_file } = downloader.download(name, entry, start)?;
        let read = text.len() as u64;
        match self.lists.get_mut(name) {
            Some(state) if !whole_file => {
                state.list.apply(&text);
                state.read_bytes += read;
                state.creation_time = entry.creation_time;
            }
            _ => {
                self.lists
                    .insert(name.to_owned(), fresh(entry, IdList::parse(&text), read));
            }
        }
        Ok(true)
    }

    /// Fetches and parses the manifest.
    fn fetch_manifest(&self) -> Result<Vec<(String, ManifestEntry)>, Error> {
        let call = Call {
            agent: &self.agent,
            sdk_key: &self.sdk_key,
            timeout: self.timeout,
            shown_url: redact(&self.manifest_url, &self.sdk_key),
        };
        let response = if self.manifest_url.starts_with(CDN_MANIFEST) {
            let request = call.request("GET", &self.manifest_url);
            call.send(request.set("accept-encoding", "gzip"), None)?
        } else {
            let request = call
                .request("POST", &self.manifest_url)
                .set("accept-encoding", "gzip")
                .set("content-type", "application/json");
            call.send(request, Some("{}"))?
        };
        if !(200..=299).contains(&response.status()) {
            return Err(call.status_error(response));
        }
        let text = call.read_text(response)?;
        manifest::parse_manifest(&text).map_err(|message| Error::Rejected {
            source: call.shown_url.clone(),
            message: redact(&message, &self.sdk_key),
        })
    }
}

/// Shows the key as `<sdk-key>` and the lists by name and size.
impl fmt::Debug for IdListSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: BTreeMap<&str, usize> = self
            .lists
            .iter()
            .map(|(name, state)| (name.as_str(), state.list.len()))
            .collect();
        f.debug_struct("IdListSync")
            .field("manifest_url", &redact(&self.manifest_url, &self.sdk_key))
            .field("sdk_key", &transport::REDACTED_KEY)
            .field("timeout", &self.timeout)
            .field("lists", &sizes)
            .finish_non_exhaustive()
    }
}

/// A list state holding `list` under `entry`'s metadata.
fn fresh(entry: &ManifestEntry, list: IdList, read_bytes: u64) -> ListState {
    ListState {
        file_id: entry.file_id.clone(),
        creation_time: entry.creation_time,
        read_bytes,
        list,
    }
}
