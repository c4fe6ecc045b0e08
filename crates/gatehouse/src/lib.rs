//! # gatehouse
//!
//! The SDK runtime over [`gatehouse_core`]: where specs come from, how they
//! are swapped in, and where exposures go.
//!
//! ## Design
//!
//! - **One atomic state.** Everything an evaluation reads — the compiled
//!   specs, ID lists and local overrides — lives in one immutable `State`
//!   behind an [`arc_swap::ArcSwap`]. An evaluation does one atomic load and
//!   never blocks, never waits on the network and never sees half an
//!   update. Every update (a new payload, new ID lists, an override) builds
//!   a new state and swaps it in under a writers-only lock.
//! - **Sync off the hot path.** A background thread (`gatehouse-sync`)
//!   polls the spec source (a file, re-read when it changes, or a dcs-v2
//!   URL with `sinceTime`/`checksum`) and the ID-list manifest, parses
//!   payloads on its own time, and applies the reference's acceptance
//!   rules: an older `time` is rejected, the same checksum or
//!   `has_updates: false` changes nothing, and a failure of any kind keeps
//!   the last good specs. Outcomes are counted and shown by
//!   [`Client::status`].
//! - **Events that are delivered or counted.** Exposures (gates, configs,
//!   experiments, layer parameters, with secondary exposures, in the
//!   reference's event shape) pass a bounded LRU+TTL dedupe, then a bounded
//!   queue drained by one flusher thread (`gatehouse-events`) with batching,
//!   retries with backoff and a counted drop policy; [`Client::shutdown`]
//!   flushes everything. Sinks: HTTP `log_event` (gzip), an NDJSON file, or
//!   a callback.
//! - **No per-user state.** Users are values owned by the caller; the only
//!   memory that grows with traffic is the dedupe set, bounded by
//!   [`Options::dedupe_max_keys`], and the queue, bounded by
//!   [`events::EventOptions::max_queue`].

mod background;
mod client;
mod counters;
mod error;
pub mod events;
mod exposure;
mod layer;
mod options;
mod report;
mod results;
mod state;
mod status;
pub mod sync;
mod user;

pub use client::Client;
pub use counters::{CounterSnapshot, Counters};
pub use error::Error;
pub use gatehouse_core::Kind;
pub use layer::Layer;
pub use options::{CallOptions, IdListSource, Options, SpecSource};
pub use results::{DynamicConfig, EvaluationDetails, Experiment, FeatureGate, SecondaryExposure};
pub use status::Status;
pub use user::User;
