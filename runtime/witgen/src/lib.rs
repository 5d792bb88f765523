//! Code generation from weir's WIT package (`wit/`), for build scripts.
//!
//! The WIT is the single source of the event set and of every record an event
//! carries. From it this crate writes:
//! - [`plain::types`]: plain Rust types (no wasm) for every type the WIT
//!   declares, with `Clone`/`Debug`/`PartialEq` and, where the WIT allows it,
//!   `Copy`/`Eq`/`Hash`/`Default`, plus their Zeek-style text rendering;
//! - [`events::events`]: `EventKind`, the typed `Event` enum, its arguments as
//!   `new_event` reports them, and a `Subscriptions` bit set sized from the WIT;
//! - [`sandbox::exports`] and [`sandbox::conversions`]: the host's per-event export lookup and dispatch, and the
//!   conversions between the plain types and wasmtime's generated ones.
//!
//! Adding an event to the WIT adds it to all three; nothing else lists events.

#![deny(missing_docs)]

pub mod events;
mod model;
pub mod names;
pub mod plain;
pub mod sandbox;

pub use model::{EventDef, Param, Wit};
