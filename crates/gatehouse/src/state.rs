//! The one thing evaluations read: an immutable [`State`] behind an atomic
//! pointer. Every update (specs, ID lists, overrides) builds a new `State`
//! and swaps it in; readers take one atomic load and never block.

use crate::{Counters, Error};
use arc_swap::ArcSwap;
use gatehouse_core::value::DynValue;
use gatehouse_core::{parse_specs, IdLists, Overrides, Snapshot};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Specs as applied.
pub(crate) struct Specs {
    pub snapshot: Snapshot,
    /// Reason source: `Bootstrap` (file/JSON) or `Network` (URL).
    pub source: &'static str,
    /// When they were applied (ms since the epoch).
    pub received_at: u64,
    /// The SDK environment map for evaluation and its JSON text for events.
    pub environment: Option<HashMap<String, DynValue>>,
    pub environment_json: Option<String>,
}

/// Everything an evaluation reads, swapped as a whole.
#[derive(Clone, Default)]
pub(crate) struct State {
    pub specs: Option<Arc<Specs>>,
    pub id_lists: Arc<IdLists>,
    pub overrides: Arc<Overrides>,
}

/// What happened to a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    Replaced,
    Unchanged,
}

/// Where the last sync stands (read by `status()`, never by evaluations).
#[derive(Clone, Debug, Default)]
pub(crate) struct SyncRecord {
    pub last_error: Option<String>,
    pub last_error_at: Option<u64>,
    pub last_attempt_at: Option<u64>,
}

pub(crate) struct Store {
    state: ArcSwap<State>,
    /// Replaced states that readers may still hold. The writer frees them
    /// once it holds the last reference, so that a reader never ends up
    /// dropping (and paying to free) a whole snapshot.
    retired: Mutex<Vec<Arc<State>>>,
    /// Serializes writers (readers never take it).
    write: Mutex<()>,
    pub record: Mutex<SyncRecord>,
    tier: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave their data invalid
    // (plain assignments), so a poisoned lock is used as is.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    pub fn new(tier: Option<String>) -> Store {
        Store {
            state: ArcSwap::from_pointee(State::default()),
            retired: Mutex::new(Vec::new()),
            write: Mutex::new(()),
            record: Mutex::new(SyncRecord::default()),
            tier,
        }
    }

    /// The current state (one atomic load).
    pub fn load(&self) -> arc_swap::Guard<Arc<State>> {
        self.state.load()
    }

    /// The current state as an owned `Arc` (kept by results that log later).
    pub fn load_full(&self) -> Arc<State> {
        self.state.load_full()
    }

    /// Replace part of the state under the writer lock.
    pub fn update(&self, f: impl FnOnce(&mut State)) {
        let _w = lock(&self.write);
        let mut next = State::clone(&self.state.load());
        f(&mut next);
        self.swap(next);
    }

    /// Publish `next`, retiring the current state.
    fn swap(&self, next: State) {
        let old = self.state.swap(Arc::new(next));
        let mut retired = lock(&self.retired);
        retired.push(old);
        Store::free_unused(&mut retired);
    }

    /// Free retired states no reader holds any more.
    pub fn sweep(&self) {
        Store::free_unused(&mut lock(&self.retired));
    }

    fn free_unused(retired: &mut Vec<Arc<State>>) {
        // A retired state is unreachable from the swap, so a count of 1
        // (ours) cannot grow again: dropping it here is the last drop.
        retired.retain(|s| Arc::strong_count(s) > 1);
    }

    /// Parse a payload and apply it under the reference's acceptance rules
    /// (dcs-semantics §1.1): an older `time` is rejected, the same checksum
    /// or `has_updates: false` changes nothing. Parsing happens before the
    /// writer lock; a failure keeps the current specs.
    pub fn apply_payload(
        &self,
        text: &str,
        source: &'static str,
        origin: &str,
        now_ms: u64,
    ) -> Result<Applied, Error> {
        // A UTF-8 byte-order mark (some editors write one) is not JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let snapshot = match parse_specs(text) {
            Ok(s) => s,
            Err(_) if is_no_update(text) => return self.unchanged(origin),
            Err(e) => return Err(e.into()),
        };
        let _w = lock(&self.write);
        let current = self.state.load();
        if let Some(cur) = &current.specs {
            let (old, new) = (cur.snapshot.time(), snapshot.time());
            if old > 0 && old > new {
                return Err(Error::Rejected {
                    source: origin.to_owned(),
                    message: format!("payload time {new} is older than the current {old}"),
                });
            }
            let same = cur.snapshot.checksum().filter(|c| !c.is_empty());
            if same.is_some() && same == snapshot.checksum() {
                return Ok(Applied::Unchanged);
            }
        }
        let environment = gatehouse_core::report::environment_map(&snapshot, self.tier.as_deref());
        let tier = self
            .tier
            .as_deref()
            .or(snapshot.default_environment())
            .map(|t| serde_json::json!({ "tier": t }).to_string());
        let specs = Specs {
            snapshot,
            source,
            received_at: now_ms,
            environment,
            environment_json: tier,
        };
        let mut next = State::clone(&current);
        drop(current);
        next.specs = Some(Arc::new(specs));
        self.swap(next);
        Ok(Applied::Replaced)
    }

    /// "Nothing changed" is only an answer when there is something to keep:
    /// before the first specs it is a failure (the source has none to give).
    pub fn unchanged(&self, origin: &str) -> Result<Applied, Error> {
        if self.state.load().specs.is_some() {
            return Ok(Applied::Unchanged);
        }
        Err(Error::Rejected {
            source: origin.to_owned(),
            message: "the source answered \"no updates\" but no specs are loaded yet".into(),
        })
    }

    /// Record the outcome of a sync attempt and count it.
    pub fn record(&self, result: &Result<Applied, Error>, counters: &Counters, now_ms: u64) {
        let mut r = lock(&self.record);
        r.last_attempt_at = Some(now_ms);
        match result {
            Ok(Applied::Replaced) => Counters::inc(&counters.spec_updates_applied),
            Ok(Applied::Unchanged) => Counters::inc(&counters.spec_updates_unchanged),
            Err(e) => {
                Counters::inc(&counters.spec_updates_failed);
                r.last_error = Some(e.to_string());
                r.last_error_at = Some(now_ms);
            }
        }
    }

    pub fn record_error(&self, error: &Error, now_ms: u64) {
        let mut r = lock(&self.record);
        r.last_error = Some(error.to_string());
        r.last_error_at = Some(now_ms);
    }

    pub fn sync_record(&self) -> SyncRecord {
        lock(&self.record).clone()
    }
}

/// `{"has_updates": false}` (with or without other keys): nothing changed.
fn is_no_update(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("has_updates").and_then(serde_json::Value::as_bool))
        == Some(false)
}
