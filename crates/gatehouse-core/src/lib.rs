//! # gatehouse-core
//!
//! Pure evaluation of Statsig-format (`dcs-v2`) specs: feature gates,
//! dynamic configs, experiments, autotunes and layers.
//!
//! (Design notes are being written.)

#![forbid(unsafe_code)]

pub mod country;
mod error;
pub mod hash;
pub mod ops;
pub mod report;
pub mod ua;
pub mod value;

pub use error::Error;
