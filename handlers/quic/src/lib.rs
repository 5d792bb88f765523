//! The standard quic.log handler: Zeek's `base/protocols/quic/main.zeek`.
//!
//! A record per QUIC connection, from its first long header packet: the
//! client's first version (as `QUIC::version_strings` names it), the
//! client's first Destination Connection ID and both sides' latest Source
//! Connection IDs in hex, the client hello's first server name and ALPN
//! protocol, and a history of one letter per finding (upper case from the
//! client): `I` Initial, `H` Handshake, `Z` 0-RTT, `R` Retry, `C`
//! CONNECTION_CLOSE, `S` TLS client or server hello, `U` unhandled
//! version, `X` a packet discarded after decryption worked, `O` short
//! header packets at 1, 2, 4, 8, ... of a side. A Retry, an unhandled
//! version or a CONNECTION_CLOSE writes the record and starts a new one;
//! otherwise it is written when the connection is removed.

use std::cell::RefCell;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::Connection;
use weir_guest::{runtime, ConnStates, Handler, Stream};

static QUIC: Stream = Stream::new(
    "quic",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("version", T::String),
        ("client_initial_dcid", T::String),
        ("client_scid", T::String),
        ("server_scid", T::String),
        ("server_name", T::String),
        ("client_protocol", T::String),
        ("history", T::String),
    ],
);

/// `QUIC::max_history_length`.
const MAX_HISTORY_LENGTH: usize = 100;

/// Connections with QUIC state at once; past it further ones are not logged.
const MAX_TRACKED: usize = 200_000;

/// `QUIC::Info`.
#[derive(Default)]
struct Info {
    conn: Option<Connection>,
    ts: f64,
    version: String,
    client_initial_dcid: Option<String>,
    client_scid: Option<String>,
    server_scid: Option<String>,
    server_name: Option<String>,
    client_protocol: Option<String>,
    history: String,
}

thread_local! {
    static STATES: RefCell<ConnStates<Info>> = const {
        RefCell::new(ConnStates::new(MAX_TRACKED, "quic", "connections with QUIC state at once; further ones are not logged"))
    };
}

/// `QUIC::version_strings`.
fn version_string(v: u32) -> String {
    let s = match v {
        0x0000_0001 => "1",
        0x6b33_43cf => "quicv2",
        0xff00_0016 => "draft-22",
        0xff00_0017 => "draft-23",
        0xff00_0018 => "draft-24",
        0xff00_0019 => "draft-25",
        0xff00_001a => "draft-26",
        0xff00_001b => "draft-27",
        0xff00_001c => "draft-28",
        0xff00_001d => "draft-29",
        // Zeek's table names 0xff00001f draft-30 too.
        0xff00_001e | 0xff00_001f => "draft-30",
        0xff00_0020 => "draft-32",
        0xff00_0021 => "draft-33",
        0xff00_0022 => "draft-34",
        0xfaceb001 | 0xfaceb002 | 0xfaceb00e | 0xfaceb011 | 0xfaceb012 | 0xfaceb013 => return format!("mvfst ({v:x})"),
        _ => return format!("unknown-{v:x}"),
    };
    s.to_string()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `add_to_history`: the letter of `what`, upper case from the originator.
fn add(i: &mut Info, is_orig: bool, what: char) {
    if i.history.len() < MAX_HISTORY_LENGTH {
        i.history.push(if is_orig { what.to_ascii_uppercase() } else { what.to_ascii_lowercase() });
    }
}

/// `set_session`: the record of `c`, made on first use, with the packet's IDs.
fn set_session(s: &mut ConnStates<Info>, c: &Connection, is_orig: bool, version: u32, dcid: &[u8], scid: &[u8], f: impl FnOnce(&mut Info)) {
    let init = || Info { conn: Some(c.clone()), ts: runtime::network_time(), version: version_string(version), ..Info::default() };
    s.with(&c.uid, init, |i| {
        if is_orig && !dcid.is_empty() && i.client_initial_dcid.is_none() {
            i.client_initial_dcid = Some(hex(dcid));
        }
        if is_orig {
            i.client_scid = Some(hex(scid));
        } else {
            i.server_scid = Some(hex(scid));
        }
        f(i)
    });
}

fn opt(v: &Option<String>) -> V {
    v.clone().map_or(V::Unset, V::String)
}

fn write(i: &Info) {
    let Some(c) = &i.conn else { return };
    QUIC.write_conn(i.ts, &c.uid, &c.id, &[
        V::String(i.version.clone()),
        opt(&i.client_initial_dcid),
        opt(&i.client_scid),
        opt(&i.server_scid),
        opt(&i.server_name),
        opt(&i.client_protocol),
        V::String(i.history.clone()),
    ]);
}

/// A packet event: the session updated, `letter` added, and with `ends` the
/// record written and forgotten.
fn packet(c: &Connection, is_orig: bool, version: u32, dcid: &[u8], scid: &[u8], letter: char, ends: bool) {
    STATES.with(|s| {
        let mut s = s.borrow_mut();
        set_session(&mut s, c, is_orig, version, dcid, scid, |i| add(i, is_orig, letter));
        if ends {
            if let Some(i) = s.remove(&c.uid) {
                write(&i);
            }
        }
    });
}

/// Adds `letter` to an existing record only.
fn existing(c: &Connection, is_orig: bool, letter: char) -> bool {
    STATES.with(|s| s.borrow_mut().get_mut(&c.uid).map(|i| add(i, is_orig, letter)).is_some())
}

struct Quic;

impl Handler for Quic {
    fn quic_initial_packet(c: Connection, is_orig: bool, version: u32, dcid: Vec<u8>, scid: Vec<u8>) {
        packet(&c, is_orig, version, &dcid, &scid, 'I', false);
    }

    fn quic_handshake_packet(c: Connection, is_orig: bool, version: u32, dcid: Vec<u8>, scid: Vec<u8>) {
        packet(&c, is_orig, version, &dcid, &scid, 'H', false);
    }

    fn quic_zero_rtt_packet(c: Connection, is_orig: bool, version: u32, dcid: Vec<u8>, scid: Vec<u8>) {
        packet(&c, is_orig, version, &dcid, &scid, 'Z', false);
    }

    fn quic_retry_packet(c: Connection, is_orig: bool, version: u32, dcid: Vec<u8>, scid: Vec<u8>, _retry_token: Vec<u8>, _retry_integrity_tag: Vec<u8>) {
        retry_or_unhandled(&c, is_orig, version, &dcid, &scid, 'R');
    }

    fn quic_unhandled_version(c: Connection, is_orig: bool, version: u32, dcid: Vec<u8>, scid: Vec<u8>) {
        retry_or_unhandled(&c, is_orig, version, &dcid, &scid, 'U');
    }

    fn quic_connection_close_frame(
        c: Connection,
        is_orig: bool,
        _version: u32,
        _dcid: Vec<u8>,
        _scid: Vec<u8>,
        _error_code: u64,
        _reason_phrase: String,
    ) {
        if existing(&c, is_orig, 'C') {
            if let Some(i) = STATES.with(|s| s.borrow_mut().remove(&c.uid)) {
                write(&i);
            }
        }
    }

    fn quic_short_header_packet_threshold_crossed(c: Connection, is_orig: bool, _threshold: u64) {
        existing(&c, is_orig, 'O');
    }

    fn quic_discarded_packet(c: Connection, is_orig: bool, _total_decrypted: u64) {
        existing(&c, is_orig, 'X');
    }

    fn ssl_extension_server_name(c: Connection, is_client: bool, names: Vec<String>) {
        if !is_client || names.is_empty() {
            return;
        }
        STATES.with(|s| {
            if let Some(i) = s.borrow_mut().get_mut(&c.uid) {
                i.server_name = Some(names[0].clone());
            }
        });
    }

    fn ssl_extension_application_layer_protocol_negotiation(c: Connection, is_client: bool, protocols: Vec<String>) {
        if !is_client {
            return;
        }
        STATES.with(|s| {
            if let Some(i) = s.borrow_mut().get_mut(&c.uid) {
                i.client_protocol = protocols.first().cloned();
            }
        });
    }

    fn ssl_client_hello(
        c: Connection,
        _version: u16,
        _record_version: u16,
        _possible_ts: f64,
        _client_random: Vec<u8>,
        _session_id: Vec<u8>,
        _ciphers: Vec<u32>,
        _comp_methods: Vec<u8>,
    ) {
        existing(&c, true, 'S');
    }

    fn ssl_server_hello(
        c: Connection,
        _version: u16,
        _record_version: u16,
        _possible_ts: f64,
        _server_random: Vec<u8>,
        _session_id: Vec<u8>,
        _cipher: u32,
        _comp_method: u8,
    ) {
        existing(&c, false, 'S');
    }

    fn connection_state_remove(c: Connection) {
        if let Some(i) = STATES.with(|s| s.borrow_mut().remove(&c.uid)) {
            write(&i);
        }
    }
}

/// A Retry or an unhandled version: written at once, after its letter.
fn retry_or_unhandled(c: &Connection, is_orig: bool, version: u32, dcid: &[u8], scid: &[u8], letter: char) {
    STATES.with(|s| {
        let mut s = s.borrow_mut();
        if s.get_mut(&c.uid).is_none() {
            set_session(&mut s, c, is_orig, version, dcid, scid, |_| {});
        }
        if let Some(i) = s.get_mut(&c.uid) {
            add(i, is_orig, letter);
        }
        if let Some(i) = s.remove(&c.uid) {
            write(&i);
        }
    });
}

weir_guest::export_handler!(
    Quic: quic_initial_packet,
    quic_handshake_packet,
    quic_zero_rtt_packet,
    quic_retry_packet,
    quic_unhandled_version,
    quic_connection_close_frame,
    quic_short_header_packet_threshold_crossed,
    quic_discarded_packet,
    ssl_extension_server_name,
    ssl_extension_application_layer_protocol_negotiation,
    ssl_client_hello,
    ssl_server_hello,
    connection_state_remove
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_ids() {
        assert_eq!(version_string(1), "1");
        assert_eq!(version_string(0x6b3343cf), "quicv2");
        assert_eq!(version_string(0xff00001d), "draft-29");
        assert_eq!(version_string(0xfaceb002), "mvfst (faceb002)");
        assert_eq!(version_string(0x0a0a0a0a), "unknown-a0a0a0a");
        assert_eq!(hex(&[0xc5, 0x0a]), "c50a");
    }

    #[test]
    fn history_letters_follow_the_side_and_stop_at_the_limit() {
        let mut i = Info::default();
        add(&mut i, true, 'I');
        add(&mut i, false, 'S');
        assert_eq!(i.history, "Is");
        for _ in 0..200 {
            add(&mut i, true, 'O');
        }
        assert_eq!(i.history.len(), MAX_HISTORY_LENGTH);
    }
}
