//! The packet path of weir, in the order data flows through it:
//!
//! ```text
//! capture ──► decode ──► sessions ──► events
//!  file/live   link, IP,    connection    queue of engine events,
//!  BPF         fragments,   table, timers built only when subscribed
//!              tunnels      on network time
//! ```
//!
//! [`engine::Engine`] owns one of each stage and drives a packet through
//! them. Nothing here knows about WebAssembly: the sandbox crate turns the
//! queued [`events::Event`]s into WIT records for the handlers.

#![deny(missing_docs)]

pub mod analyzers;
pub mod anon;
mod bytes;
pub mod capture;
pub mod clock;
pub mod config;
pub mod decode;
pub mod engine;
pub mod events;
pub mod files;
pub mod osfp;
#[doc(hidden)]
pub mod fuzzing;
pub mod sessions;
pub mod signatures;
pub mod weird;

pub use config::Config;
pub use engine::Engine;
