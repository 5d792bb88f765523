//! Application analyzers. They sit after the session layer: at creation the port
//! [`registry`] chooses a connection's [`set`] of analyzers; the session
//! layer hands them datagrams or the in-order TCP payload and gaps of its
//! reassembler, through the [`analyzer::Analyzer`] interface; what an
//! analyzer does about its connection goes through its [`context::Cx`]:
//! events, weirds, history, role flips, protocol confirmation (the
//! connection's `service`) and violation.

pub mod analyzer;
pub mod ber;
pub mod child;
pub mod context;
pub mod dce_rpc;
pub mod detect;
pub mod dns;
pub mod finger;
pub mod frames;
pub mod ftp;
pub mod gssapi;
pub(crate) mod fuzz_input;
pub mod http;
pub mod irc;
pub mod krb;
pub mod ldap;
pub mod mime;
pub mod modbus;
pub mod ntlm;
pub mod ntp;
pub mod pia;
pub mod postgresql;
pub mod rdp;
pub mod rdpeudp;
pub mod quic;
pub mod registry;
pub mod requests;
pub mod set;
pub mod smtp;
pub mod socks;
pub mod software;
pub mod ssh;
pub mod ssl;
#[cfg(test)]
pub mod testing;

pub use analyzer::Analyzer;
pub use context::{Cx, Env, Status};
pub use registry::{Registry, Tag, Transport};
pub use set::AnalyzerSet;
