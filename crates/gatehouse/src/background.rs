//! The background sync thread: polls the spec source and the ID-list
//! manifest, parses off the evaluation path, and swaps results in.

use crate::client::{lock, now_ms_u64, Inner};
use crate::options::{IdListSource, SpecSource};
use crate::state::Applied;
use crate::sync::{HttpSpecSource, IdListSync, SpecFetch};
use crate::{Counters, Error};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

/// A stop flag the sync thread sleeps on.
#[derive(Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// Set by the sync thread as it ends.
    exited: Mutex<bool>,
    exited_wake: Condvar,
}

impl Stop {
    pub fn signal(&self) {
        *lock(&self.stopped) = true;
        self.wake.notify_all();
    }

    /// Mark the sync thread as ended.
    fn exited(&self) {
        *lock(&self.exited) = true;
        self.exited_wake.notify_all();
    }

    /// Wait up to `d` for the sync thread to end; true when it has.
    pub fn wait_exited(&self, d: Duration) -> bool {
        let guard = lock(&self.exited);
        let (guard, _) = self
            .exited_wake
            .wait_timeout_while(guard, d, |exited| !*exited)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }

    /// Sleep up to `d`; true when stopped.
    fn sleep(&self, d: Duration) -> bool {
        let guard = lock(&self.stopped);
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, d, |stopped| !*stopped)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

/// Per-source sync state (kept by the thread between polls).
pub(crate) struct Syncer {
    inner: Weak<Inner>,
    http: Option<HttpSpecSource>,
    /// Modification time and length of the spec file at the last read.
    file_stamp: Option<(SystemTime, u64)>,
    id_lists: Option<IdListSync>,
}

impl Syncer {
    /// `http` overrides the URL source's client (the initial load uses
    /// the initialization timeout).
    pub fn new(inner: Weak<Inner>, http: Option<HttpSpecSource>) -> Syncer {
        let strong = inner.upgrade();
        let opts = strong.as_ref().map(|i| &i.options);
        let http = http.or_else(|| match opts.map(|o| (&o.specs, o.http_timeout)) {
            Some((SpecSource::Url { url, sdk_key }, t)) => {
                Some(HttpSpecSource::new(url, sdk_key, t))
            }
            _ => None,
        });
        let id_lists = match opts.map(|o| (&o.id_lists, o.http_timeout)) {
            Some((IdListSource::Manifest { url, sdk_key }, t)) => {
                Some(IdListSync::new(url, sdk_key, t))
            }
            _ => None,
        };
        Syncer {
            inner,
            http,
            file_stamp: None,
            id_lists,
        }
    }

    /// One spec sync; records and counts the outcome.
    pub fn sync_specs(&mut self, inner: &Inner) -> Result<(), Error> {
        let now = now_ms_u64();
        let result = self.fetch_and_apply(inner, now);
        match &result {
            Ok(None) => return Ok(()), // file unchanged, or in-memory source
            Ok(Some(applied)) => inner.store.record(&Ok(*applied), &inner.counters, now),
            Err(e) => inner.store.record(&Err(e.clone()), &inner.counters, now),
        }
        result.map(|_| ())
    }

    fn fetch_and_apply(&mut self, inner: &Inner, now: u64) -> Result<Option<Applied>, Error> {
        match &inner.options.specs {
            SpecSource::Json(text) => {
                if inner.store.load().specs.is_some() {
                    return Ok(None);
                }
                inner
                    .store
                    .apply_payload(text, "Bootstrap", "memory", now)
                    .map(Some)
            }
            SpecSource::File(path) => {
                let io = |e: std::io::Error| Error::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                };
                let meta = std::fs::metadata(path).map_err(io)?;
                let stamp = (meta.modified().map_err(io)?, meta.len());
                if self.file_stamp == Some(stamp) {
                    return Ok(None);
                }
                // Recorded before parsing: a bad file is reported once, not
                // re-read on every poll until it changes again.
                self.file_stamp = Some(stamp);
                let text = std::fs::read_to_string(path).map_err(io)?;
                let origin = path.display().to_string();
                inner
                    .store
                    .apply_payload(&text, "Bootstrap", &origin, now)
                    .map(Some)
            }
            SpecSource::Url { .. } => {
                let Some(http) = &self.http else {
                    return Ok(None);
                };
                let state = inner.store.load_full();
                let (since, checksum) = match &state.specs {
                    Some(s) => (s.snapshot.time(), s.snapshot.checksum().map(str::to_owned)),
                    None => (0, None),
                };
                match http.fetch(since, checksum.as_deref())? {
                    SpecFetch::NotModified => {
                        inner.store.unchanged(&http.redacted_url(0, None)).map(Some)
                    }
                    SpecFetch::Body(text) => {
                        let origin = http.redacted_url(0, None);
                        inner
                            .store
                            .apply_payload(&text, "Network", &origin, now)
                            .map(Some)
                    }
                }
            }
        }
    }

    /// One ID-list manifest sync (no-op without a manifest). Lists that
    /// downloaded are applied even when others failed; the first failure
    /// is returned (all are counted and the last is shown by `status()`).
    pub fn sync_id_lists(&mut self, inner: &Inner) -> Result<(), Error> {
        let Some(sync) = &mut self.id_lists else {
            return Ok(());
        };
        let outcome = sync.sync();
        if let Some(lists) = outcome.lists {
            inner.store.update(|s| s.id_lists = Arc::new(lists));
        }
        let mut first = None;
        for e in outcome.errors {
            Counters::inc(&inner.counters.id_list_updates_failed);
            inner.store.record_error(&e, now_ms_u64());
            first.get_or_insert(e);
        }
        first.map_or(Ok(()), Err)
    }

    /// The timeout of the manifest and list requests that follow.
    pub fn set_id_list_timeout(&mut self, timeout: Duration) {
        if let Some(sync) = &mut self.id_lists {
            sync.set_timeout(timeout);
        }
    }

    fn run(mut self, stop: Arc<Stop>) {
        let (spec_every, id_every) = match self.inner.upgrade() {
            Some(i) => (
                i.options.sync_interval,
                self.id_lists
                    .as_ref()
                    .map(|_| i.options.id_list_sync_interval),
            ),
            None => return,
        };
        let mut next_spec = spec_every.map(|d| Instant::now() + d);
        let mut next_ids = id_every.map(|d| Instant::now() + d);
        loop {
            let now = Instant::now();
            let wake = [next_spec, next_ids].into_iter().flatten().min();
            let Some(wake) = wake else { return };
            if stop.sleep(wake.saturating_duration_since(now)) {
                return;
            }
            let Some(inner) = self.inner.upgrade() else {
                return;
            };
            inner.store.sweep();
            let now = Instant::now();
            if let (Some(at), Some(every)) = (next_spec, spec_every) {
                if at <= now {
                    // Errors are recorded, counted and shown by status().
                    let _ = self.sync_specs(&inner);
                    next_spec = Some(Instant::now() + every);
                }
            }
            if let (Some(at), Some(every)) = (next_ids, id_every) {
                if at <= now {
                    // Errors are recorded, counted and shown by status().
                    let _ = self.sync_id_lists(&inner);
                    next_ids = Some(Instant::now() + every);
                }
            }
        }
    }
}

/// Start the sync thread when anything needs polling.
pub(crate) fn spawn(
    inner: &Arc<Inner>,
    syncer: Syncer,
) -> Result<Option<std::thread::JoinHandle<()>>, Error> {
    let polls = inner.options.sync_interval.is_some()
        && !matches!(inner.options.specs, SpecSource::Json(_));
    let manifest = matches!(inner.options.id_lists, IdListSource::Manifest { .. });
    if !polls && !manifest {
        return Ok(None);
    }
    let mut syncer = syncer;
    syncer.http = match &inner.options.specs {
        // After initialization, requests use the regular HTTP timeout.
        SpecSource::Url { url, sdk_key } if polls => Some(HttpSpecSource::new(
            url,
            sdk_key,
            inner.options.http_timeout,
        )),
        _ => None,
    };
    syncer.set_id_list_timeout(inner.options.http_timeout);
    let stop = Arc::clone(&inner.stop);
    std::thread::Builder::new()
        .name("gatehouse-sync".into())
        .spawn(move || {
            syncer.run(Arc::clone(&stop));
            stop.exited();
        })
        .map(Some)
        .map_err(|e| Error::Options {
            option: "sync_interval",
            message: format!("cannot start the sync thread: {e}"),
        })
}
