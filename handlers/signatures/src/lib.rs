//! The standard signatures.log handler: Zeek's
//! `base/frameworks/signatures/main.zeek` with its default action for every
//! signature (`SIG_ALARM`: log the match as `Signatures::Sensitive_Signature`;
//! notices are not written, weir has no notice framework), and its scan
//! tracking: a source that triggers one signature on 5, 10, 50, 100, 500 or
//! 1000 hosts is logged as `Multiple_Sig_Responders`, one that triggers that
//! many different signatures on one host as `Multiple_Signatures` (the
//! tables forget an entry an hour after it was last used). Signatures whose
//! id contains `NO_DEFAULT_MATCHES` are ignored.
//!
//! It also writes `signature_matches.log`: one row per `signature_match`
//! and per custom signature event (`event name ["msg"]`, which Zeek never
//! logs), in dispatch order, with the event's name, the connection, the
//! matching side, the message, the matched chunk and `end_of_match`.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{IpAddress, Port, SignatureState, Transport};
use weir_guest::{ip, runtime, Handler, Stream};

static SIGNATURES: Stream = Stream::new(
    "signatures",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("src_addr", T::Addr),
        ("src_port", T::Port),
        ("dst_addr", T::Addr),
        ("dst_port", T::Port),
        ("note", T::Enum),
        ("sig_id", T::String),
        ("event_msg", T::String),
        ("sub_msg", T::String),
        ("sig_count", T::Count),
        ("host_count", T::Count),
    ],
);

static MATCHES: Stream = Stream::new(
    "signature_matches",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("event", T::String),
        ("sig_id", T::String),
        ("orig_h", T::Addr),
        ("orig_p", T::Port),
        ("resp_h", T::Addr),
        ("resp_p", T::Port),
        ("proto", T::Enum),
        ("is_orig", T::Bool),
        ("payload_size", T::Count),
        ("msg", T::String),
        ("data", T::String),
        ("end_of_match", T::Count),
    ],
);

/// `horiz_scan_thresholds` and `vert_scan_thresholds`.
const SCAN_THRESHOLDS: [usize; 6] = [5, 10, 50, 100, 500, 1000];
/// `&read_expire` of the scan tables.
const EXPIRE: f64 = 3600.0;
/// Entries per table at most; past it the table starts over.
const MAX_ENTRIES: usize = 100_000;

/// A table whose entries expire an hour after their last use.
struct Expiring<K, V> {
    map: HashMap<K, (f64, V)>,
}

impl<K: std::hash::Hash + Eq, V: Default> Expiring<K, V> {
    fn get(&mut self, k: K, now: f64) -> &mut V {
        if self.map.len() >= MAX_ENTRIES {
            self.map.retain(|_, (t, _)| now - *t < EXPIRE);
            if self.map.len() >= MAX_ENTRIES {
                self.map.clear();
            }
        }
        let e = self.map.entry(k).or_insert_with(|| (now, V::default()));
        if now - e.0 >= EXPIRE {
            e.1 = V::default();
        }
        e.0 = now;
        &mut e.1
    }
}

struct Scans {
    horiz: Expiring<(String, String), HashSet<String>>,
    vert: Expiring<(String, String), HashSet<String>>,
    last_h: Expiring<String, usize>,
    last_v: Expiring<String, usize>,
}

thread_local! {
    static SCANS: RefCell<Option<Scans>> = const { RefCell::new(None) };
}

fn proto_name(p: &Port) -> &'static str {
    match p.proto {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
        Transport::Icmp => "icmp",
        Transport::Unknown => "unknown_transport",
    }
}

/// The matched chunk as text, every byte kept (`\xNN` in the log).
fn text(data: &[u8]) -> String {
    weir_guest::text::from_bytes(data)
}

fn opt(s: Option<String>) -> V {
    s.map_or(V::Unset, V::String)
}

fn listing(event: &str, state: &SignatureState, msg: Option<String>, data: &[u8], end_of_match: Option<u64>) {
    let id = &state.conn.id;
    MATCHES.write(&[
        V::Time(runtime::network_time()),
        V::String(state.conn.uid.clone()),
        V::String(event.into()),
        V::String(state.sig_id.clone()),
        V::Addr(id.orig_h),
        V::Port(id.orig_p),
        V::Addr(id.resp_h),
        V::Port(id.resp_p),
        V::Enum(proto_name(&id.orig_p).into()),
        V::Bool(state.is_orig),
        V::Count(state.payload_size),
        opt(msg),
        V::String(text(data)),
        end_of_match.map_or(V::Unset, V::Count),
    ]);
}

#[allow(clippy::too_many_arguments)]
fn row(
    note: &str,
    uid: Option<String>,
    src: Option<(IpAddress, Option<Port>)>,
    dst: Option<(IpAddress, Option<Port>)>,
    sig_id: &str,
    event_msg: String,
    sub_msg: String,
    counts: (Option<usize>, Option<usize>),
) {
    let (sa, sp) = src.map_or((V::Unset, V::Unset), |(a, p)| (V::Addr(a), p.map_or(V::Unset, V::Port)));
    let (da, dp) = dst.map_or((V::Unset, V::Unset), |(a, p)| (V::Addr(a), p.map_or(V::Unset, V::Port)));
    SIGNATURES.write(&[
        V::Time(runtime::network_time()),
        opt(uid),
        sa,
        sp,
        da,
        dp,
        V::Enum(format!("Signatures::{note}")),
        V::String(sig_id.into()),
        V::String(event_msg),
        V::String(sub_msg),
        counts.0.map_or(V::Unset, |n| V::Count(n as u64)),
        counts.1.map_or(V::Unset, |n| V::Count(n as u64)),
    ]);
}

struct SignaturesLog;

impl Handler for SignaturesLog {
    fn signature_match(state: SignatureState, msg: String, data: Vec<u8>) {
        listing("signature_match", &state, Some(msg.clone()), &data, None);
        let sig_id = state.sig_id.clone();
        if sig_id.contains("NO_DEFAULT_MATCHES") {
            return;
        }
        // Zeek trims the chunk to 140 bytes.
        let sub = if data.len() > 140 { format!("{}...", text(&data[..140])) } else { text(&data) };
        let id = &state.conn.id;
        let (src, dst) = if state.is_orig {
            ((id.orig_h, id.orig_p), (id.resp_h, id.resp_p))
        } else {
            ((id.resp_h, id.resp_p), (id.orig_h, id.orig_p))
        };
        let src_text = ip(&src.0).to_string();
        row(
            "Sensitive_Signature",
            Some(state.conn.uid.clone()),
            Some((src.0, Some(src.1))),
            Some((dst.0, Some(dst.1))),
            &sig_id,
            format!("{src_text}: {msg}"),
            sub,
            (None, None),
        );
        // Scan tracking, by originator and responder.
        let now = runtime::network_time();
        let (orig, resp) = (ip(&id.orig_h).to_string(), ip(&id.resp_h).to_string());
        let (orig_addr, resp_addr) = (id.orig_h, id.resp_h);
        SCANS.with(|s| {
            let mut s = s.borrow_mut();
            let s = s.get_or_insert_with(|| Scans {
                horiz: Expiring { map: HashMap::new() },
                vert: Expiring { map: HashMap::new() },
                last_h: Expiring { map: HashMap::new() },
                last_v: Expiring { map: HashMap::new() },
            });
            let h = s.horiz.get((orig.clone(), sig_id.clone()), now);
            h.insert(resp.clone());
            let hcount = h.len();
            let v = s.vert.get((orig.clone(), resp.clone()), now);
            v.insert(sig_id.clone());
            let vcount = v.len();
            if SCAN_THRESHOLDS.contains(&hcount) && *s.last_h.get(orig.clone(), now) != hcount {
                let m = format!("{orig} has triggered signature {sig_id} on {hcount} hosts");
                row(
                    "Multiple_Sig_Responders",
                    None,
                    Some((orig_addr, None)),
                    None,
                    &sig_id,
                    msg.clone(),
                    m,
                    (None, Some(hcount)),
                );
                *s.last_h.get(orig.clone(), now) = hcount;
            }
            if SCAN_THRESHOLDS.contains(&vcount) && *s.last_v.get(orig.clone(), now) != vcount {
                let m = format!("{orig} has triggered {vcount} different signatures on host {resp}");
                row(
                    "Multiple_Signatures",
                    None,
                    Some((orig_addr, None)),
                    Some((resp_addr, None)),
                    &sig_id,
                    format!("{vcount} different signatures triggered"),
                    m,
                    (Some(vcount), None),
                );
                *s.last_v.get(orig.clone(), now) = vcount;
            }
        });
    }

    fn signature_event(name: String, state: SignatureState, msg: Option<String>, data: Vec<u8>, end_of_match: u64) {
        listing(&name, &state, msg, &data, Some(end_of_match));
    }
}

weir_guest::export_handler!(SignaturesLog: signature_match, signature_event);
