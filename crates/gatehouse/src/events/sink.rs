//! Event sinks: where batches go, and the one delivery function the
//! flusher calls.

use super::http::HttpSink;
use crate::Error;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A callback that receives one batch of events (each a JSON object text).
/// `Err(message)` means the delivery failed and the batch is retried.
///
/// It runs on the pipeline's thread and must not call `flush` or
/// `shutdown` of the logger it serves (those calls return an error).
/// A panic in it drops the batch (counted) and the pipeline goes on.
pub type BatchCallback = dyn Fn(&[String]) -> Result<(), String> + Send + Sync;

/// Where events are delivered.
#[derive(Clone)]
pub enum EventSink {
    /// POST `{"events": [...], "statsigMetadata": {...}}`, gzip-compressed,
    /// with the reference's headers, to a log_event endpoint.
    Http {
        /// The endpoint, used exactly as given (e.g.
        /// `https://events.statsigapi.net/v1/log_event`).
        url: String,
        /// The server SDK key, sent as `STATSIG-API-KEY`.
        sdk_key: String,
    },
    /// Append one event per line (NDJSON) to a file, created if missing.
    ///
    /// A raw line break (CR or LF) inside an event, which in JSON can only
    /// be whitespace between tokens, is replaced by a space so that each
    /// event stays on one line. A batch is written whole or not at all: on
    /// a failed or partial write the file is cut back to its length before
    /// the batch, so a retry neither duplicates events nor leaves a torn
    /// line (this assumes the pipeline is the file's only writer). A path
    /// that cannot work (missing parent directory, a directory, no
    /// permission, an invalid name) fails the batch at once, without
    /// retries; other errors, such as a full disk, are retried.
    File(PathBuf),
    /// Hand each batch to a callback (tests, bindings).
    Callback(Arc<BatchCallback>),
}

impl fmt::Debug for EventSink {
    /// Shows the URL or path; never the SDK key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventSink::Http { url, .. } => f.debug_struct("Http").field("url", url).finish(),
            EventSink::File(path) => f.debug_tuple("File").field(path).finish(),
            EventSink::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

/// Why a batch is sent (the `flushType` of the HTTP body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FlushKind {
    /// The flush interval passed with a partial batch queued.
    MaxTime,
    /// A full batch was queued.
    FullBatch,
    /// A full batch was queued while the queue was at `max_queue`.
    Limit,
    /// `flush()` was called.
    Manual,
    /// `shutdown()` was called.
    Shutdown,
}

impl FlushKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            FlushKind::MaxTime => "scheduled:max_time",
            FlushKind::FullBatch => "scheduled:full_batch",
            FlushKind::Limit => "limit",
            FlushKind::Manual => "manual",
            FlushKind::Shutdown => "shutdown",
        }
    }
}

/// One delivery attempt of a batch.
pub(super) struct Attempt {
    /// Why the batch was formed.
    pub kind: FlushKind,
    /// Failed attempts of this batch so far (0 on the first).
    pub retry: u32,
    /// Time left before a shutdown deadline, if one applies.
    pub time_left: Option<Duration>,
}

/// A sink ready to deliver (the HTTP agent built, the session id fixed).
pub(super) enum Deliverer {
    Http(HttpSink),
    File(PathBuf),
    Callback(Arc<BatchCallback>),
}

impl Deliverer {
    /// Prepares `sink`; `request_timeout` bounds one HTTP delivery.
    pub(super) fn new(sink: &EventSink, request_timeout: Duration) -> Result<Deliverer, Error> {
        Ok(match sink {
            EventSink::Http { url, sdk_key } => {
                Deliverer::Http(HttpSink::new(url, sdk_key, request_timeout)?)
            }
            EventSink::File(path) => Deliverer::File(path.clone()),
            EventSink::Callback(f) => Deliverer::Callback(f.clone()),
        })
    }

    /// Delivers one batch. `Err(Error::Sink { retryable, .. })` on failure;
    /// a panic inside the sink is a non-retryable failure.
    pub(super) fn deliver(&self, batch: &[String], at: &Attempt) -> Result<(), Error> {
        match catch_unwind(AssertUnwindSafe(|| self.deliver_inner(batch, at))) {
            Ok(r) => r,
            Err(_) => Err(Error::Sink {
                message: "the event sink panicked; batch dropped".to_string(),
                retryable: false,
            }),
        }
    }

    fn deliver_inner(&self, batch: &[String], at: &Attempt) -> Result<(), Error> {
        match self {
            Deliverer::Http(h) => h.deliver(batch, at),
            Deliverer::File(path) => append_lines(path, batch),
            Deliverer::Callback(f) => f(batch).map_err(|message| Error::Sink {
                message: format!("callback: {message}"),
                retryable: true,
            }),
        }
    }
}

/// Appends the batch as NDJSON, all or nothing (see [`EventSink::File`]).
fn append_lines(path: &Path, batch: &[String]) -> Result<(), Error> {
    let buf = ndjson(batch);
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| file_error(path, &e, None))?;
    append_or_roll_back(&file, &mut &file, buf.as_bytes())
        .map_err(|(e, rollback)| file_error(path, &e, rollback.as_ref()))
}

/// One line per event. A raw line break inside an event can only be JSON
/// whitespace, so it is replaced by a space to keep one event per line.
fn ndjson(batch: &[String]) -> String {
    let mut buf = String::with_capacity(batch.iter().map(|e| e.len() + 1).sum());
    for event in batch {
        if event.contains(['\n', '\r']) {
            buf.extend(event.chars().map(|c| match c {
                '\n' | '\r' => ' ',
                c => c,
            }));
        } else {
            buf.push_str(event);
        }
        buf.push('\n');
    }
    buf
}

/// Writes `buf` at the end of `file` through `out` (which writes to
/// `file`). On any error a regular file is cut back to its length before
/// the write, so nothing of `buf` stays; the error comes back with the
/// cut's own error if that failed too. Other files (devices such as
/// `/dev/full`, pipes) cannot be cut and need not be.
fn append_or_roll_back(
    file: &File,
    out: &mut impl Write,
    buf: &[u8],
) -> Result<(), (io::Error, Option<io::Error>)> {
    let meta = file.metadata().map_err(|e| (e, None))?;
    let before = meta.is_file().then_some(meta.len());
    match out.write_all(buf).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => {
            let rollback = before.and_then(|len| file.set_len(len).err());
            Err((e, rollback))
        }
    }
}

/// A file sink error naming the path. Errors of the path itself are not
/// retried (see [`permanent`]); a failed cut-back is not either, since a
/// retry would then write part of the batch twice.
fn file_error(path: &Path, e: &io::Error, rollback: Option<&io::Error>) -> Error {
    match rollback {
        None => Error::Sink {
            message: format!("{}: {e}", path.display()),
            retryable: !permanent(e),
        },
        Some(r) => Error::Sink {
            message: format!(
                "{}: {e}; cutting the partial write back failed too ({r}): batch dropped",
                path.display()
            ),
            retryable: false,
        },
    }
}

/// File errors that a retry cannot fix: the path is wrong (missing parent
/// directory, a directory, not a directory on the way, an invalid or too
/// long name), or access is refused. Everything else, notably a full disk
/// (`StorageFull`/ENOSPC, `WriteZero`, `FileTooLarge`, quota), is retried.
fn permanent(e: &io::Error) -> bool {
    use io::ErrorKind::{InvalidInput, NotFound, PermissionDenied};
    if matches!(e.kind(), NotFound | PermissionDenied | InvalidInput) {
        return true;
    }
    // Kinds newer than the crate's minimum Rust version, matched by name.
    let kind = format!("{:?}", e.kind());
    matches!(
        kind.as_str(),
        "IsADirectory" | "NotADirectory" | "InvalidFilename" | "ReadOnlyFilesystem"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn temp_path(name: &str) -> PathBuf {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!(
            "gatehouse-sink-{name}-{}-{nanos}.ndjson",
            std::process::id()
        ))
    }

    /// Writes the first `limit` bytes, then fails like a full disk.
    struct FillsUp<'a> {
        file: &'a File,
        limit: usize,
    }

    impl Write for FillsUp<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.limit == 0 {
                return Err(io::Error::new(io::ErrorKind::WriteZero, "disk full"));
            }
            let n = buf.len().min(self.limit);
            self.limit -= n;
            self.file.write(&buf[..n])
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn batch(seqs: std::ops::Range<usize>) -> Vec<String> {
        seqs.map(|i| format!("{{\"seq\":{i}}}")).collect()
    }

    #[test]
    fn a_partial_write_is_cut_back_and_a_retry_adds_each_line_once() {
        let path = temp_path("partial");
        append_lines(&path, &batch(0..3)).expect("first batch");
        let before = std::fs::read_to_string(&path).expect("read");
        let second = ndjson(&batch(3..6));
        for limit in [0, 1, 7, second.len() - 1] {
            let file = OpenOptions::new().append(true).open(&path).expect("open");
            let mut out = FillsUp { file: &file, limit };
            let (e, rollback) = append_or_roll_back(&file, &mut out, second.as_bytes())
                .expect_err("the disk fills up");
            assert_eq!(e.kind(), io::ErrorKind::WriteZero);
            assert!(rollback.is_none(), "{rollback:?}");
            let now = std::fs::read_to_string(&path).expect("read");
            assert_eq!(now, before, "after failing at byte {limit}");
            assert!(!permanent(&e));
        }
        // The retry, with space again.
        append_lines(&path, &batch(3..6)).expect("retry");
        let text = std::fs::read_to_string(&path).expect("read");
        let _ = std::fs::remove_file(&path);
        assert_eq!(text, ndjson(&batch(0..6)));
    }

    #[test]
    fn lines_break_only_between_events() {
        let text = ndjson(&["{\n \"a\": 1\r\n}".to_string(), "{}".to_string()]);
        assert_eq!(text, "{  \"a\": 1  }\n{}\n");
    }

    #[test]
    fn path_errors_are_permanent_and_disk_full_is_not() {
        let dir = std::env::temp_dir();
        let missing = temp_path("missing").join("x.ndjson");
        for path in [dir.as_path(), missing.as_path()] {
            let e = OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .expect_err("cannot be opened for appending");
            assert!(permanent(&e), "{}: {e} ({:?})", path.display(), e.kind());
        }
        for e in [
            io::Error::from(io::ErrorKind::PermissionDenied),
            io::Error::from(io::ErrorKind::InvalidInput),
        ] {
            assert!(permanent(&e), "{e}");
        }
        for e in [
            io::Error::from(io::ErrorKind::WriteZero),
            io::Error::from(io::ErrorKind::Interrupted),
            io::Error::from(io::ErrorKind::TimedOut),
        ] {
            assert!(!permanent(&e), "{e}");
        }
        #[cfg(target_os = "linux")]
        {
            let mut full = OpenOptions::new()
                .append(true)
                .open("/dev/full")
                .expect("open /dev/full");
            let e = full.write_all(b"x\n").expect_err("no space");
            assert!(!permanent(&e), "{e} ({:?})", e.kind());
            let file = OpenOptions::new()
                .append(true)
                .open("/dev/full")
                .expect("open /dev/full");
            let (e, rollback) =
                append_or_roll_back(&file, &mut &file, b"x\n").expect_err("no space");
            assert!(rollback.is_none(), "a device is not cut back: {rollback:?}");
            assert!(!permanent(&e));
        }
    }
}
