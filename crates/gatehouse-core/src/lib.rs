//! # gatehouse-core
//!
//! Pure evaluation of Statsig-format (`dcs-v2`) specs: feature gates,
//! dynamic configs, experiments, autotunes and layers.
//!
//! (Design notes are being written.)

#![forbid(unsafe_code)]

pub mod country;
mod error;
pub mod eval;
pub mod hash;
pub mod idlist;
pub mod ops;
pub mod report;
pub mod spec;
pub mod ua;
pub mod user;
pub mod value;

pub use error::Error;

pub use eval::{evaluate, EvalEnv, Evaluation, Outcome, SecondaryExposure};
pub use idlist::{IdList, IdLists};
pub use spec::{parse_specs, Kind, Snapshot};
pub use user::User;
