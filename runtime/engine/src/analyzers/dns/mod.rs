//! Zeek's DNS analyzer: DNS over UDP and TCP, also NetBIOS name service
//! (port 137), mDNS (5353) and LLMNR (5355), raising the `dns_*` events.
//!
//! A lenient hand parser: it reads what Zeek reads, stops where Zeek stops
//! and raises Zeek's weirds under their names (strict parsers such as
//! hickory-proto refuse messages Zeek logs). One concept per file:
//! [`cursor`] (reading with Zeek's short-read rules), [`header`], [`name`]
//! (labels, compression and their limits), [`message`] (sections),
//! [`rdata`] (record types), [`edns`], [`svcb`] and [`tcp`] (length-prefixed
//! framing).
//!
//! The parser reports to a [`Sink`]: events (built only when
//! [`Sink::wants`] says a handler takes them; as in Zeek, some record data
//! is not even read when nobody takes its event), weirds, limits, role
//! flips, confirmation and violation.

pub mod analyzer;
pub mod cursor;
pub mod edns;
#[doc(hidden)]
pub mod fuzzing;
pub mod header;
pub mod message;
pub mod name;
pub mod rdata;
pub mod svcb;
pub mod tcp;
#[cfg(test)]
pub(crate) mod testing;

pub use analyzer::Dns;
use weir_events::{Connection, Event, EventKind};

/// UDP ports of Zeek's `DNS::ports`: DNS, NetBIOS name service, mDNS, LLMNR.
pub const UDP_PORTS: [u16; 4] = [53, 137, 5353, 5355];
/// TCP ports of Zeek's `DNS::ports`.
pub const TCP_PORTS: [u16; 1] = [53];
/// NetBIOS name service port.
pub const NETBIOS_PORT: u16 = 137;

/// Where the parser's findings go.
pub trait Sink {
    /// Whether a handler takes events of `kind`.
    fn wants(&self, kind: EventKind) -> bool;
    /// Queues an event built for the connection as it is now.
    fn raise<F: FnOnce(Box<Connection>) -> Event>(&mut self, build: F);
    /// A connection weird.
    fn weird(&mut self, name: &'static str, addl: String);
    /// A weird and the history letter `X`.
    fn limit(&mut self, name: &'static str, addl: String);
    /// The traffic is DNS.
    fn confirm(&mut self);
    /// The traffic breaks DNS.
    fn violate(&mut self, reason: &'static str);
    /// Originator and responder swap.
    fn flip_roles(&mut self);
}

/// The DNS analyzer's settings, under Zeek's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsConfig {
    /// `dns_skip_all_auth`: authority records are not parsed (default T).
    pub skip_all_auth: bool,
    /// `dns_skip_all_addl`: additional records are not parsed (default T).
    pub skip_all_addl: bool,
    /// `dns_max_queries`: more questions than this is no DNS (default 25; 0 = no limit).
    pub max_queries: u64,
    /// `dns_max_compression_chain_depth`: pointers followed in one name (default 20).
    pub max_compression_chain_depth: u64,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig { skip_all_auth: true, skip_all_addl: true, max_queries: 25, max_compression_chain_depth: 20 }
    }
}

impl DnsConfig {
    /// Sets `name` to `value` if it is one of these options; `None` when it is not.
    pub fn set(&mut self, name: &str, value: &str) -> Option<Result<(), String>> {
        let bool_ = |v: &str| match v.trim() {
            "T" | "true" | "1" => Ok(true),
            "F" | "false" | "0" => Ok(false),
            _ => Err(format!("'{v}' is not a bool (T or F)")),
        };
        let count = |v: &str| v.trim().parse::<u64>().map_err(|_| format!("'{v}' is not a count"));
        let r = match name {
            "dns_skip_all_auth" => bool_(value).map(|b| self.skip_all_auth = b),
            "dns_skip_all_addl" => bool_(value).map(|b| self.skip_all_addl = b),
            "dns_max_queries" => count(value).map(|n| self.max_queries = n),
            "dns_max_compression_chain_depth" => count(value).map(|n| self.max_compression_chain_depth = n),
            _ => return None,
        };
        Some(r)
    }
}

/// Text of wire bytes, every byte kept ([`crate::events::text`]).
pub fn text(b: &[u8]) -> String {
    crate::events::text::from_bytes(b)
}
