//! The panic boundary every export runs inside.

use crate::marshal::ErrOut;
use crate::status::{describe, Error, GATEHOUSE_OK, GATEHOUSE_PANIC};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Run `f`; map its error to a status, and a panic to `GATEHOUSE_PANIC`.
///
/// `AssertUnwindSafe`: nothing the closure touches is left half-updated for
/// a later call to observe — client state is replaced by atomic snapshot
/// swaps and handle slots by single atomic stores.
pub(crate) fn call(f: impl FnOnce() -> Result<(), Error>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => GATEHOUSE_OK,
        Ok(Err(e)) => e.status(),
        Err(payload) => {
            discard(payload);
            GATEHOUSE_PANIC
        }
    }
}

/// As [`call`], writing the error's message (or the panic's) into `err`.
pub(crate) fn call_with_message(
    err: Result<ErrOut, Error>,
    f: impl FnOnce() -> Result<(), Error>,
) -> i32 {
    let outer = catch_unwind(AssertUnwindSafe(move || {
        let err = match err {
            Ok(e) => e,
            Err(e) => return e.status(),
        };
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => GATEHOUSE_OK,
            Ok(Err(e)) => {
                err.write(&e.message());
                e.status()
            }
            Err(payload) => {
                let base = describe(GATEHOUSE_PANIC).unwrap_or("panic");
                err.write(&format!("{base}: {}", panic_text(&*payload)));
                discard(payload);
                GATEHOUSE_PANIC
            }
        }
    }));
    outer.unwrap_or_else(|payload| {
        discard(payload);
        GATEHOUSE_PANIC
    })
}

/// Run `f`, answering `fallback` on a panic (for the few exports that
/// return a value rather than a status).
pub(crate) fn value_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        discard(payload);
        fallback
    })
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-string payload)"
    }
}

/// Drop a panic payload; if its destructor panics too, that second payload
/// is leaked rather than dropped (dropping it could panic again, outside
/// any boundary).
fn discard(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_status() {
        let status = call(|| panic!("boom"));
        assert_eq!(status, GATEHOUSE_PANIC);
        assert_eq!(value_or(7, || panic!("boom")), 7);
    }

    #[test]
    fn errors_map_to_their_status() {
        assert_eq!(call(|| Err(Error::ShutDown)), Error::ShutDown.status());
        assert_eq!(call(|| Ok(())), GATEHOUSE_OK);
    }
}
