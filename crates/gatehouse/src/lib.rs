//! # gatehouse
//!
//! The SDK runtime over [`gatehouse_core`]: where specs come from, how they
//! are swapped in, and where exposures go.
//!
//! (Top-of-crate design doc: written with the client; see ARCHITECTURE.md.)

mod counters;
mod error;
pub mod events;
pub mod sync;

pub use counters::{CounterSnapshot, Counters};
pub use error::Error;
