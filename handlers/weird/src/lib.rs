//! The standard weird.log handler: Zeek's `base/frameworks/notice/weird.zeek`.
//!
//! Each weird name has an action (log every time, once, once per connection,
//! once per originator, notice, or ignore; unlisted names are logged), and an
//! identical weird (same name, same connection or flow) is not logged again
//! for 10 minutes of network time, except checksum errors.
//!
//! Zeek keeps those memories in `&create_expire` sets; here each is an
//! [`ExpiringSet`] of 64-bit keyed hashes in a B-tree, swept a few entries
//! per weird as Zeek sweeps its tables incrementally, and bounded, so that a
//! flood of distinct weirds costs each call a few thousand fuel and the
//! instance a bounded amount of memory.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::ops::Bound;
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

/// Keys each set holds at most (16-24 bytes each); past it the entry with the
/// smallest hash (an arbitrary one) makes room, so a repeat may be logged again.
const MAX_KEYS: usize = 500_000;

/// Entries checked for expiry per insertion (Zeek's `table_incremental_step`
/// bounds the work of one expiry round the same way).
const SWEEP_STEP: usize = 16;

/// A `&create_expire` set: key hashes with the network time they were added.
struct ExpiringSet {
    ttl: f64,
    added: BTreeMap<u64, f64>,
    /// Where the incremental sweep goes on.
    cursor: u64,
    /// Entries pushed out because the set was full.
    evicted: u64,
}

impl ExpiringSet {
    const fn new(ttl: f64) -> ExpiringSet {
        ExpiringSet { ttl, added: BTreeMap::new(), cursor: 0, evicted: 0 }
    }

    /// Whether `key` was added less than `ttl` ago.
    fn contains(&self, key: u64, now: f64) -> bool {
        self.added.get(&key).is_some_and(|&t| now - t < self.ttl)
    }

    /// Adds `key` at `now` (again, if it had expired).
    fn insert(&mut self, key: u64, now: f64) {
        self.sweep(now, SWEEP_STEP);
        if self.added.len() >= MAX_KEYS && !self.added.contains_key(&key) {
            self.sweep(now, 1024);
            if self.added.len() >= MAX_KEYS {
                self.added.pop_first();
                self.evicted += 1;
                if self.evicted == 1 {
                    weir_guest::reporter::warning(&format!(
                        "weird: {MAX_KEYS} weirds remembered for suppression; older ones are forgotten and may be logged again"
                    ));
                }
            }
        }
        self.added.insert(key, now);
    }

    /// Removes expired entries among the next `step` after the cursor.
    fn sweep(&mut self, now: f64, step: usize) {
        let mut expired = Vec::new();
        let mut last = None;
        for (&k, &t) in self.added.range((Bound::Excluded(self.cursor), Bound::Unbounded)).take(step) {
            last = Some(k);
            if now - t >= self.ttl {
                expired.push(k);
            }
        }
        // At the end of the tree the sweep starts again from the smallest key.
        self.cursor = last.unwrap_or(0);
        for k in expired {
            self.added.remove(&k);
        }
    }
}

/// The suppression sets and the keyed hash their keys go through.
struct State {
    ignore: ExpiringSet,
    did_log: ExpiringSet,
    hasher: Option<RandomState>,
}

impl State {
    /// The key of (`a`, `b`): a 64-bit SipHash under a random key of this
    /// instance (a collision, at 2^-64 per pair, would hide one weird).
    fn key(&mut self, a: &str, b: &str) -> u64 {
        self.hasher.get_or_insert_with(RandomState::new).hash_one((a, b))
    }
}

thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State { ignore: ExpiringSet::new(IGNORE_FOR), did_log: ExpiringSet::new(DID_LOG_FOR), hasher: None })
    };
}

/// Whether `key` was added less than the set's ttl ago; adds it otherwise.
fn seen(set: &mut ExpiringSet, key: u64, now: f64) -> bool {
    if set.contains(key, now) {
        return true;
    }
    set.insert(key, now);
    false
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
        if act == Action::Ignore {
            return false;
        }
        let ignore_key = s.key(&w.name, &w.identifier);
        if s.ignore.contains(ignore_key, now) {
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
            let key = s.key(&w.name, &k);
            if seen(&mut s.did_log, key, now) {
                return false;
            }
        }
        if !DO_NOT_IGNORE_REPEATS.contains(&w.name.as_str()) {
            s.ignore.insert(ignore_key, now);
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
