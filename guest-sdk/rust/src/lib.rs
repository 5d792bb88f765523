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

/// `Site::private_address_space` of Zeek's `base/utils/site.zeek` (IANA special-purpose
/// ranges), which Zeek counts as local by default (`private_address_space_is_local`).
pub fn is_private(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => {
            let x = u32::from(v4);
            const NETS: &[(u32, u8)] = &[
                (0x0000_0000, 8),   // 0.0.0.0/8
                (0x0a00_0000, 8),   // 10.0.0.0/8
                (0x6440_0000, 10),  // 100.64.0.0/10
                (0x7f00_0000, 8),   // 127.0.0.0/8
                (0xa9fe_0000, 16),  // 169.254.0.0/16
                (0xac10_0000, 12),  // 172.16.0.0/12
                (0xc000_0000, 24),  // 192.0.0.0/24
                (0xc000_0200, 24),  // 192.0.2.0/24
                (0xc01f_c400, 24),  // 192.31.196.0/24
                (0xc034_c100, 24),  // 192.52.193.0/24
                (0xc058_6300, 24),  // 192.88.99.0/24
                (0xc0a8_0000, 16),  // 192.168.0.0/16
                (0xc0af_3000, 24),  // 192.175.48.0/24
                (0xc612_0000, 15),  // 198.18.0.0/15
                (0xc633_6400, 24),  // 198.51.100.0/24
                (0xcb00_7100, 24),  // 203.0.113.0/24
                (0xe000_0000, 24),  // 224.0.0.0/24
                (0xf000_0000, 4),   // 240.0.0.0/4
                (0xffff_ffff, 32),  // 255.255.255.255/32
            ];
            NETS.iter().any(|&(net, len)| x >> (32 - len as u32) == net >> (32 - len as u32))
        }
        IpAddr::V6(v6) => {
            let x = u128::from(v6);
            const NETS: &[(u128, u8)] = &[
                (1, 128),                                        // ::1/128
                (0, 128),                                        // ::/128
                (0xffff_0000_0000, 96),                          // ::ffff:0:0/96
                (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96), // 64:ff9b::/96
                (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // 64:ff9b:1::/48
                (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64
                (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // 2001::/23
                (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32
                (0x2002_0000_0000_0000_0000_0000_0000_0000, 16), // 2002::/16
                (0x2620_004f_8000_0000_0000_0000_0000_0000, 48), // 2620:4f:8000::/48
                (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // fc00::/7
                (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10
            ];
            NETS.iter().any(|&(net, len)| x >> (128 - len as u32) == net >> (128 - len as u32))
        }
    }
}
