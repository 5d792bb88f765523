//! Write weir event handlers in Rust.
//!
//! A handler is a type implementing [`Handler`] (every event has a no-op
//! default) plus one [`export_handler!`] line naming the events it takes; the
//! component then exports exactly those event interfaces of
//! `weir:events@0.1.0`, and the host delivers nothing else:
//!
//! ```ignore
//! use weir_guest::{Handler, types::Connection};
//! struct Hello;
//! impl Handler for Hello {
//!     fn new_connection(c: Connection) { weir_guest::reporter::info(&c.uid); }
//! }
//! weir_guest::export_handler!(Hello: new_connection);
//! ```
//!
//! Bindings are generated from the repository's `wit/` by wit-bindgen.

#![allow(clippy::too_many_arguments)]

#[doc(hidden)]
pub use wit_bindgen;
pub use weir_guest_macros::export_handler;

mod bindings {
    wit_bindgen::generate!({
        world: "imports",
        path: "../../wit",
        generate_all,
    });
}

pub use bindings::weir::events::{analyzers, anonymize, files, log, reporter, runtime, types};

pub mod bif;
pub mod options;
pub mod site;
/// Wire bytes as WIT strings, byte for byte (the engine's own module:
/// invalid UTF-8 travels as raw-byte characters that the log writers
/// write as `\xNN`).
#[path = "../../../runtime/events/src/text.rs"]
pub mod text;
mod states;
pub use states::ConnStates;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use types::IpAddress;

weir_guest_macros::handler_trait!(crate);

/// A handler's answers to signature `eval` conditions
/// (`weir:events/signature-eval`): list `signature_eval` in
/// [`export_handler!`] beside the events. A `.sig` file's `eval NAME` calls
/// [`SignatureEval::evaluate`] of the handler whose
/// [`SignatureEval::functions`] lists `NAME`.
pub trait SignatureEval {
    /// The `eval` names this handler answers for (asked once, at load).
    fn functions() -> Vec<String>;
    /// Whether condition `eval name` holds for the signature in `state`
    /// matching `data` (the chunk being matched; empty without patterns).
    fn evaluate(name: &str, state: &types::SignatureState, data: &[u8]) -> bool;
}

/// The standard-library form of a WIT address.
pub fn ip(a: &IpAddress) -> IpAddr {
    match *a {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)),
    }
}

/// The WIT form of a standard-library address.
pub fn wit_ip(a: IpAddr) -> IpAddress {
    match a {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
    }
}

/// Bro's `anonymize_addr(a, cl)`: `a` anonymized under the operator's
/// settings for its class (which raises `anonymization_mapping`).
pub fn anonymize_addr(a: IpAddr, cl: anonymize::AddrClass) -> IpAddr {
    ip(&anonymize::anonymize_addr(wit_ip(a), cl))
}

/// A log stream described by its name and columns, created on first write
/// (so it survives the handler being restarted after a trap).
pub struct Stream {
    name: &'static str,
    columns: &'static [(&'static str, log::LogType)],
    id: std::sync::OnceLock<Option<log::StreamId>>,
}

impl Stream {
    /// A stream `name` (file `<name>.log`) with these columns.
    pub const fn new(name: &'static str, columns: &'static [(&'static str, log::LogType)]) -> Stream {
        Stream { name, columns, id: std::sync::OnceLock::new() }
    }

    /// Writes one record (one value per column); a stream the host refused is
    /// reported once as an error and then ignored.
    pub fn write(&self, values: &[log::LogValue]) {
        let id = self.id.get_or_init(|| {
            let cols: Vec<log::Column> =
                self.columns.iter().map(|(n, t)| log::Column { name: n.to_string(), type_: *t }).collect();
            match log::create_stream(self.name, &cols) {
                Ok(id) => Some(id),
                Err(e) => {
                    reporter::error(&format!("cannot create log {}: {e}", self.name));
                    None
                }
            }
        });
        if let Some(id) = id {
            log::write(*id, values);
        }
    }

    /// Writes one record that starts as most of Zeek's logs do, with `ts`,
    /// `uid` and the connection's `id.*` columns, then `rest`.
    pub fn write_conn(&self, ts: f64, uid: &str, id: &types::ConnId, rest: &[log::LogValue]) {
        use log::LogValue as V;
        let mut row = Vec::with_capacity(6 + rest.len());
        row.extend([V::Time(ts), V::String(uid.to_string()), V::Addr(id.orig_h), V::Port(id.orig_p), V::Addr(id.resp_h), V::Port(id.resp_p)]);
        row.extend_from_slice(rest);
        self.write(&row);
    }
}

/// Whether `a` is in `Site::private_address_space` (Zeek's
/// `Site::is_private_addr`; see [`site`]).
pub fn is_private(a: IpAddr) -> bool {
    site::is_private_addr(a)
}
