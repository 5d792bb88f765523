//! The per-event glue, generated from the WIT by `build.rs` (crate
//! `weir-witgen`): which event interfaces a component exports
//! ([`ExportIndices`], looked up once per handler, and [`Guests`], those of a
//! live instance), an event converted to WIT values once ([`WitEvent`]), and
//! its call on an instance ([`Guests::call`]). Nothing here lists events by
//! hand.

use weir_engine::events::{Event, EventKind};

include!(concat!(env!("OUT_DIR"), "/exports.rs"));
