//! The standard weird.log handler: Zeek's `base/frameworks/notice/weird.zeek`.
//!
//! Each weird name has an action (log every time, once, once per connection,
//! once per originator, notice, or ignore; unlisted names are logged), and an
//! identical weird (same name, same connection or flow) is not logged again
//! for 10 minutes of network time, except checksum errors.

use std::cell::RefCell;
use std::collections::HashMap;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{Connection, IpAddress, Port, Transport};
use weir_guest::{ip, runtime, Handler, Stream};

static WEIRD: Stream = Stream::new(
    "weird",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("name", T::String),
        ("addl", T::String),
        ("notice", T::Bool),
        ("peer", T::String),
        ("source", T::String),
    ],
);

/// What to do with a weird (`Weird::Action`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Ignore,
    Log,
    LogPerConn,
    LogPerOrig,
    NoticePerOrig,
}

/// Weird names whose action is not plain logging (`Weird::actions`).
const ACTIONS: &[(&str, Action)] = &[
    ("unsolicited_SYN_response", Action::Ignore),
    ("bad_ICMP_checksum", Action::LogPerOrig),
    ("bad_RPC", Action::LogPerOrig),
    ("bad_TCP_checksum", Action::LogPerOrig),
    ("bad_UDP_checksum", Action::LogPerOrig),
    ("connection_originator_SYN_ack", Action::LogPerOrig),
    ("DNS_label_forward_compress_offset", Action::LogPerOrig),
    ("DNS_label_len_gt_name_len", Action::LogPerOrig),
    ("DNS_label_len_gt_pkt", Action::LogPerOrig),
    ("DNS_label_too_long", Action::LogPerOrig),
    ("excess_RPC", Action::LogPerOrig),
    ("FIN_after_reset", Action::Ignore),
    ("FIN_storm", Action::NoticePerOrig),
    ("FTP_max_command_length_exceeded", Action::LogPerConn),
    ("FTP_too_many_pending_commands", Action::LogPerConn),
    ("FTP_user_too_long", Action::LogPerConn),
    ("FTP_reply_msg_too_long", Action::LogPerConn),
    ("FTP_arg_too_long", Action::LogPerConn),
    ("FTP_password_too_long", Action::LogPerConn),
    ("originator_RPC_reply", Action::LogPerOrig),
    ("partial_RPC", Action::LogPerOrig),
    ("responder_RPC_call", Action::LogPerOrig),
    ("simultaneous_open", Action::LogPerConn),
    ("smtp_mail_transaction_invalid", Action::LogPerConn),
    ("smtp_excessive_invalid_mail_transactions", Action::LogPerConn),
    ("spontaneous_FIN", Action::Ignore),
    ("spontaneous_RST", Action::Ignore),
    ("smb_tree_connect_andx_response_without_tree", Action::LogPerConn),
    ("successful_RPC_reply_to_invalid_request", Action::NoticePerOrig),
    ("SYN_after_partial", Action::NoticePerOrig),
    ("SYN_with_data", Action::LogPerOrig),
    ("UDP_datagram_length_mismatch", Action::LogPerOrig),
    ("excessively_small_fragment", Action::LogPerOrig),
    ("fragment_inconsistency", Action::LogPerOrig),
    ("fragment_overlap", Action::LogPerOrig),
    ("fragment_size_inconsistency", Action::LogPerOrig),
    ("bad_IP_checksum", Action::LogPerOrig),
];

/// Weirds whose repeats are never suppressed (clustered checksum errors matter).
const DO_NOT_IGNORE_REPEATS: &[&str] = &["bad_IP_checksum", "bad_TCP_checksum", "bad_UDP_checksum", "bad_ICMP_checksum"];

/// How long an identical weird stays suppressed, and how long "logged once" lasts.
const IGNORE_FOR: f64 = 600.0;
const DID_LOG_FOR: f64 = 86400.0;

fn action(name: &str) -> Action {
    ACTIONS.iter().find(|(n, _)| *n == name).map_or(Action::Log, |(_, a)| *a)
}

/// Keys seen, with the network time they were added (Zeek's `&create_expire` sets).
#[derive(Default)]
struct State {
    ignore: HashMap<(String, String), f64>,
    did_log: HashMap<(String, String), f64>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Whether `key` was added less than `ttl` ago; adds it otherwise.
fn seen(set: &mut HashMap<(String, String), f64>, key: (String, String), now: f64, ttl: f64) -> bool {
    match set.get(&key) {
        Some(&t) if now - t < ttl => true,
        _ => {
            set.insert(key, now);
            false
        }
    }
}

/// One weird: who it concerns, and how it identifies itself for de-duplication.
struct Weird {
    uid: Option<String>,
    id: Option<(IpAddress, Port, IpAddress, Port)>,
    identifier: String,
    name: String,
    addl: String,
    source: String,
}

fn opt(s: String) -> V {
    if s.is_empty() {
        V::Unset
    } else {
        V::String(s)
    }
}

/// Zeek's `Weird::do_weird`: actions, suppression of repeats, then the log line.
fn do_weird(w: Weird) {
    let now = runtime::network_time();
    let act = action(&w.name);
    let logged = STATE.with(|s| {
        let mut s = s.borrow_mut();
        if act == Action::Ignore
            || s.ignore.get(&(w.name.clone(), w.identifier.clone())).is_some_and(|&t| now - t < IGNORE_FOR)
        {
            return false;
        }
        let limit_key = match act {
            Action::LogPerConn => Some(w.identifier.clone()),
            Action::LogPerOrig | Action::NoticePerOrig => {
                Some(w.id.as_ref().map_or_else(|| w.identifier.clone(), |id| ip(&id.0).to_string()))
            }
            _ => None,
        };
        if let Some(k) = limit_key {
            if seen(&mut s.did_log, (w.name.clone(), k), now, DID_LOG_FOR) {
                return false;
            }
        }
        if !DO_NOT_IGNORE_REPEATS.contains(&w.name.as_str()) {
            s.ignore.insert((w.name.clone(), w.identifier.clone()), now);
        }
        true
    });
    if !logged {
        return;
    }
    let (oh, op, rh, rp) = match w.id {
        Some((a, b, c, d)) => (V::Addr(a), V::Port(b), V::Addr(c), V::Port(d)),
        None => (V::Unset, V::Unset, V::Unset, V::Unset),
    };
    WEIRD.write(&[
        V::Time(now),
        w.uid.map_or(V::Unset, V::String),
        oh,
        op,
        rh,
        rp,
        V::String(w.name),
        opt(w.addl),
        V::Bool(act == Action::NoticePerOrig),
        V::String("zeek".into()),
        opt(w.source),
    ]);
}

/// Zeek's `id_string`.
fn id_string(o: &IpAddress, op: &Port, r: &IpAddress, rp: &Port) -> String {
    format!("{}:{} > {}:{}", ip(o), op.number, ip(r), rp.number)
}

struct WeirdLog;

impl Handler for WeirdLog {
    fn conn_weird(name: String, c: Connection, addl: String, source: String) {
        let identifier = id_string(&c.id.orig_h, &c.id.orig_p, &c.id.resp_h, &c.id.resp_p);
        let id = Some((c.id.orig_h, c.id.orig_p, c.id.resp_h, c.id.resp_p));
        do_weird(Weird { uid: Some(c.uid), id, identifier, name, addl, source });
    }

    fn flow_weird(name: String, src: IpAddress, dst: IpAddress, addl: String, source: String) {
        // A flow has no ports: they are logged as 0 (unknown transport).
        let zero = Port { number: 0, proto: Transport::Unknown };
        let identifier = format!("{} -> {}", ip(&src), ip(&dst));
        do_weird(Weird { uid: None, id: Some((src, zero, dst, zero)), identifier, name, addl, source });
    }

    fn net_weird(name: String, addl: String, source: String) {
        do_weird(Weird { uid: None, id: None, identifier: String::new(), name, addl, source });
    }
}

weir_guest::export_handler!(WeirdLog: conn_weird, flow_weird, net_weird);
