//! # gatehouse-core
//!
//! Pure evaluation of Statsig-format (`dcs-v2`) specs: feature gates,
//! segments, holdouts, dynamic configs, autotunes, experiments and layers,
//! with the results of the reference core (`statsig-rust` 0.24.0) down to
//! rule ids, secondary exposures and evaluation reasons.
//!
//! ## Design
//!
//! Work is split by *when* it can be done:
//!
//! - **Spec load** ([`parse_specs`]): the payload is parsed and compiled into
//!   an immutable [`Snapshot`]. Condition keys become indices, nested gate and
//!   delegate names become spec indices, field names become lookup keys, and
//!   each operator's target becomes a compiled [`ops::Comparison`] (regexes,
//!   versions, lowercased sets, numbers and timestamps parsed once).
//! - **User build** ([`User::from_json`]): every field's facets (string,
//!   number, timestamp, lowercase) are computed once; the parsed user agent
//!   is cached on first use.
//! - **Evaluation** ([`evaluate`]): walks compiled rules with a small working
//!   result. It allocates only exposure lists; results borrow names, rule ids
//!   and values from the snapshot.
//!
//! The crate does no I/O, starts no threads and has no global state: the
//! caller passes the clock, the environment, the country table and ID lists
//! in an [`EvalEnv`]. A [`Snapshot`] and a [`User`] are `Send + Sync`, so any
//! number of threads may evaluate them at once without locks.
//!
//! Behaviour follows `dcs-semantics.md` as corrected for 0.24.0; deliberate
//! deviations (never panicking on malformed IPs, among others) are listed in
//! `docs/CONFORMANCE.md`.

#![forbid(unsafe_code)]

pub mod country;
mod error;
pub mod eval;
pub mod hash;
pub mod idlist;
pub mod ops;
pub mod overrides;
pub mod report;
pub mod spec;
pub mod ua;
pub mod user;
pub mod value;

pub use error::Error;

pub use eval::{check_gate, evaluate, EvalEnv, Evaluation, Outcome, SecondaryExposure};
pub use idlist::{IdList, IdLists};
pub use overrides::{OverrideValue, Overrides};
pub use spec::{parse_specs, Kind, Snapshot};
pub use user::User;
