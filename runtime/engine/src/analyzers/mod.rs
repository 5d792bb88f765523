//! Application analyzers, as far as they change a connection itself: the
//! role flips, history letters, weirds and end events that Zeek's protocol
//! analyzers cause. They sit after the session layer: at creation the port
//! [`registry`] chooses a connection's [`set`] of analyzers; the session
//! layer hands them datagrams or the in-order TCP payload and gaps of its
//! reassembler, through the [`analyzer::Analyzer`] interface, and turns
//! what they find into weirds, history and role flips. No protocol events
//! or protocol logs come from here yet.

pub mod analyzer;
pub mod ftp;
pub mod http;
pub mod ntp;
pub mod registry;
pub mod set;

pub use analyzer::{Analyzer, Outcome, Outcomes};
pub use registry::{Registry, Tag, Transport};
pub use set::AnalyzerSet;
