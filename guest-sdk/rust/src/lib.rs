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

pub use bindings::weir::events::{log, reporter, runtime, types};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use types::{CallArgument, Connection, EncapsulatingConn, EndpointStats, IpAddress, PktHdr, RawPktHdr};

/// Every event a handler can take; each defaults to doing nothing. Only the
/// events named in [`export_handler!`] are exported and delivered.
pub trait Handler {
    /// `bro_init`: start of processing.
    fn bro_init() {}
    /// `bro_done`: end of processing.
    fn bro_done() {}
    /// `bro_script_loaded`: one per loaded handler.
    fn bro_script_loaded(_path: String, _level: u64) {}
    /// `new_connection`: first packet of a connection.
    fn new_connection(_c: Connection) {}
    /// `connection_state_remove`: the connection's last event.
    fn connection_state_remove(_c: Connection) {}
    /// `connection_timeout`.
    fn connection_timeout(_c: Connection) {}
    /// `connection_status_update`.
    fn connection_status_update(_c: Connection) {}
    /// `connection_reused` (c is the old connection).
    fn connection_reused(_c: Connection) {}
    /// `connection_flow_label_changed`.
    fn connection_flow_label_changed(_c: Connection, _is_orig: bool, _old_label: u32, _new_label: u32) {}
    /// `tunnel_changed`.
    fn tunnel_changed(_c: Connection, _e: Vec<EncapsulatingConn>) {}
    /// `content_gap`.
    fn content_gap(_c: Connection, _is_orig: bool, _seq: u64, _length: u64) {}
    /// `conn_weird`.
    fn conn_weird(_name: String, _c: Connection, _addl: String, _source: String) {}
    /// `flow_weird`.
    fn flow_weird(_name: String, _src: IpAddress, _dst: IpAddress, _addl: String, _source: String) {}
    /// `net_weird`.
    fn net_weird(_name: String, _addl: String, _source: String) {}
    /// `reporter_info`.
    fn reporter_info(_t: f64, _msg: String, _location: String) {}
    /// `reporter_warning`.
    fn reporter_warning(_t: f64, _msg: String, _location: String) {}
    /// `reporter_error`.
    fn reporter_error(_t: f64, _msg: String, _location: String) {}
    /// `event_queue_flush_point`.
    fn event_queue_flush_point() {}
    /// `raw_packet`: every captured packet (costly).
    fn raw_packet(_p: RawPktHdr) {}
    /// `new_packet`: every packet of a connection (costly).
    fn new_packet(_c: Connection, _p: PktHdr) {}
    /// `ipv6_ext_headers`: an IPv6 packet with extension headers.
    fn ipv6_ext_headers(_c: Connection, _p: PktHdr) {}
    /// `packet_contents`: a packet's transport payload (costly).
    fn packet_contents(_c: Connection, _contents: Vec<u8>) {}
    /// `esp_packet`: an IPv6 packet ending in ESP.
    fn esp_packet(_p: PktHdr) {}
    /// `mobile_ipv6_message`: an IPv6 Mobility Header message.
    fn mobile_ipv6_message(_p: PktHdr) {}
    /// `conn_stats`: TCP statistics at removal.
    fn conn_stats(_c: Connection, _os: EndpointStats, _rs: EndpointStats) {}
    /// `rexmit_inconsistency`: a retransmission with other bytes.
    fn rexmit_inconsistency(_c: Connection, _t1: Vec<u8>, _t2: Vec<u8>, _tcp_flags: String) {}
    /// `new_event`: before every other dispatched event (very costly).
    fn new_event(_name: String, _params: Vec<CallArgument>) {}
}

/// The standard-library form of a WIT address.
pub fn ip(a: &IpAddress) -> IpAddr {
    match *a {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)),
    }
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
