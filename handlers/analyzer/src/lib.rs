//! The standard analyzer.log handler: Zeek 9's
//! `base/frameworks/analyzer/logging.zeek`, one record per analyzer failure.
//!
//! A protocol analyzer's violation is logged when it disabled an analyzer
//! that had confirmed its protocol on the connection, once per analyzer
//! name and connection (Zeek's `analyzer_failed`: "previously confirmed
//! service that did not already log a violation"). The engine applies the
//! disabling rule before it raises `protocol_violation`, and the record the
//! event carries shows the outcome in its `service`: the analyzer's name
//! gone, or `-name` added where removed services are kept. A packet
//! analyzer's violation (a tunnel's) is logged every time.
//!
//! The reason of `protocol_violation` ends with ` [excerpt]` when the
//! analyzer passed the data at fault; the excerpt is split off into
//! `failure_data` (at most 40 bytes, Zeek's
//! `Analyzer::Logging::failure_data_max_size`).
//!
//! Connections with a confirmed analyzer are tracked by uid in a B-tree
//! until their removal, at most [`MAX_TRACKED`] at once.

use std::cell::RefCell;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{AnalyzerTag, Connection, Transport};
use weir_guest::{runtime, ConnStates, Handler, Stream};

static ANALYZER: Stream = Stream::new(
    "analyzer",
    &[
        ("ts", T::Time),
        ("analyzer_kind", T::String),
        ("analyzer_name", T::String),
        ("uid", T::String),
        ("fuid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("proto", T::Enum),
        ("failure_reason", T::String),
        ("failure_data", T::String),
    ],
);

/// Connections tracked at once; past it a further connection's
/// confirmations are not remembered (its failures go unlogged), and a
/// reporter warning says so once.
const MAX_TRACKED: usize = 200_000;

/// Bytes of the data at fault a record keeps.
const FAILURE_DATA_MAX: usize = 40;

/// Packet analyzers weir raises violations for (Zeek's packet analyzer
/// tags); every other tag is a protocol analyzer.
const PACKET_ANALYZERS: &[&str] = &["VXLAN", "GENEVE", "TEREDO", "GTPV1", "AYIYA", "GRE", "IPTUNNEL"];

/// What one connection's analyzers have done so far.
#[derive(Default)]
struct State {
    /// Names of the analyzers that confirmed.
    confirmed: Vec<String>,
    /// Names whose failure was logged.
    failed: Vec<String>,
}

thread_local! {
    static STATES: RefCell<ConnStates<State>> = const {
        RefCell::new(ConnStates::new(
            MAX_TRACKED,
            "analyzer",
            "connections with confirmed analyzers open at once; failures of further ones are not logged",
        ))
    };
}

fn proto_name(t: Transport) -> &'static str {
    match t {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
        Transport::Icmp => "icmp",
        Transport::Unknown => "unknown_transport",
    }
}

/// Splits a violation's reason into Zeek's reason and the data at fault:
/// `reason [excerpt]`, the excerpt with `\xNN` escapes (undone for ASCII
/// bytes) and `...` when the engine cut it.
fn split_reason(reason: &str) -> (String, Option<String>) {
    let Some(body) = reason.strip_suffix(']') else { return (reason.to_string(), None) };
    let Some(at) = body.find(" [") else { return (reason.to_string(), None) };
    let (text, excerpt) = (&body[..at], &body[at + 2..]);
    let mut data = String::new();
    let mut bytes = 0;
    let mut rest = excerpt;
    while let Some(ch) = rest.chars().next() {
        let esc = rest.strip_prefix("\\x").and_then(|h| h.get(..2)).and_then(|h| u8::from_str_radix(h, 16).ok());
        match esc {
            Some(b) if b.is_ascii() => {
                data.push(char::from(b));
                rest = &rest[4..];
            }
            Some(_) => {
                data.push_str(&rest[..4]);
                rest = &rest[4..];
            }
            None => {
                data.push(ch);
                rest = &rest[ch.len_utf8()..];
            }
        }
        bytes += 1;
    }
    if bytes > FAILURE_DATA_MAX {
        if let Some(cut) = data.strip_suffix("...") {
            data = cut.to_string();
        }
    }
    (text.to_string(), Some(data))
}

fn write(c: &Connection, kind: &str, name: &str, reason: &str) {
    let (reason, data) = split_reason(reason);
    ANALYZER.write(&[
        V::Time(runtime::network_time()),
        V::String(kind.to_string()),
        V::String(name.to_string()),
        V::String(c.uid.clone()),
        V::Unset,
        V::Addr(c.id.orig_h),
        V::Port(c.id.orig_p),
        V::Addr(c.id.resp_h),
        V::Port(c.id.resp_p),
        V::Enum(proto_name(c.id.orig_p.proto).to_string()),
        V::String(reason),
        data.map_or(V::Unset, V::String),
    ]);
}

struct AnalyzerLog;

impl Handler for AnalyzerLog {
    fn protocol_confirmation(c: Connection, atype: AnalyzerTag, _aid: u64) {
        STATES.with(|s| {
            s.borrow_mut().with(&c.uid, State::default, |st| {
                if !st.confirmed.contains(&atype.name) {
                    st.confirmed.push(atype.name);
                }
            })
        });
    }

    fn protocol_violation(c: Connection, atype: AnalyzerTag, _aid: u64, reason: String) {
        let name = atype.name;
        if PACKET_ANALYZERS.contains(&name.as_str()) {
            write(&c, "packet", &name, &reason);
            return;
        }
        let removed = format!("-{name}");
        let disabled = !c.service.iter().any(|s| *s == name) || c.service.iter().any(|s| *s == removed);
        let log = disabled
            && STATES.with(|s| {
                let mut s = s.borrow_mut();
                let Some(st) = s.get_mut(&c.uid) else { return false };
                if !st.confirmed.contains(&name) || st.failed.contains(&name) {
                    return false;
                }
                st.failed.push(name.clone());
                true
            });
        if log {
            write(&c, "protocol", &name, &reason);
        }
    }

    fn connection_state_remove(c: Connection) {
        STATES.with(|s| s.borrow_mut().remove(&c.uid));
    }
}

weir_guest::export_handler!(AnalyzerLog: protocol_confirmation, protocol_violation, connection_state_remove);
