//! weir across machines: a cluster described by one file
//! ([`config`]), its nodes linked through a NATS server ([`transport`]),
//! the workers' log records written by the loggers ([`logs`]), the nodes'
//! hellos, heartbeats and goodbyes ([`peers`]).

pub mod config;
pub mod local;
pub mod logs;
pub mod peers;
pub mod status;
pub mod transport;

pub use config::{Cluster, Node, Role};
