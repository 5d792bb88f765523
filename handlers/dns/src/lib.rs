//! The standard dns.log handler: Zeek's `base/protocols/dns/main.zeek`.
//!
//! Each DNS message (standard query, notify or dynamic update) opens or
//! continues one log record: a query waits for its reply, matched by
//! transaction id (the one pending query first, then per-id queues), and a
//! reply that comes first waits for its query. A record is written at the
//! `dns_end` of the message that completes the pair; what is still waiting
//! is written when the connection is removed, and a queue is written out
//! early past [`MAX_PENDING_MSGS`] messages for one id or
//! [`MAX_PENDING_QUERY_IDS`] ids. Messages to multicast addresses (mDNS,
//! LLMNR) are logged one by one. Answers are summarised as Zeek's
//! `DNS::do_reply` hook does, with their TTLs; `rtt` is the time from the
//! record's creation to its first answer.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::rc::Rc;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::*;
use weir_guest::{ip, runtime, Handler, Stream};

mod consts;
use consts::{base_error, class_name, netbios_opcode, opcode_name, query_type};

/// dns.log's columns; `auth` and `addl` only with `DNS::log_auth_addl`.
const COLUMNS: [(&str, T); 28] = [
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("proto", T::Enum),
        ("trans_id", T::Count),
        ("rtt", T::Interval),
        ("query", T::String),
        ("qclass", T::Count),
        ("qclass_name", T::String),
        ("qtype", T::Count),
        ("qtype_name", T::String),
        ("rcode", T::Count),
        ("rcode_name", T::String),
        ("AA", T::Bool),
        ("TC", T::Bool),
        ("RD", T::Bool),
        ("RA", T::Bool),
        ("Z", T::Count),
        ("answers", T::VectorOfString),
        ("TTLs", T::VectorOfString),
        ("rejected", T::Bool),
        ("opcode", T::Count),
        ("opcode_name", T::String),
        ("auth", T::SetOfString),
        ("addl", T::SetOfString),
];

static DNS: Stream = Stream::new("dns", COLUMNS.split_at(26).0);
static DNS_AUTH_ADDL: Stream = Stream::new("dns", &COLUMNS);

/// `DNS::log_auth_addl` (docs/options.md), read once.
fn log_auth_addl() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| weir_guest::options::flag("DNS::log_auth_addl"))
}

/// `DNS::max_pending_msgs`: unmatched messages kept per transaction id.
const MAX_PENDING_MSGS: usize = 50;
/// `DNS::max_pending_query_ids`: transaction ids with unmatched messages kept.
const MAX_PENDING_QUERY_IDS: usize = 50;
/// Connections with DNS state at once; past it further ones are not logged.
const MAX_TRACKED: usize = 200_000;

const OP_QUERY: u8 = 0;
const OP_NOTIFY: u8 = 4;
const OP_DYNAMIC_UPDATE: u8 = 5;
/// `dns_answer$answer_type` values.
const DNS_ANS: u8 = 1;
const DNS_ADDL: u8 = 3;
const DNS_AUTH: u8 = 2;
const DNS_PREREQUISITE: u8 = 4;
const DNS_UPDATE: u8 = 5;
const CLASS_NONE: u16 = 254;
const CLASS_ANY: u16 = 255;
const TYPE_ANY: u16 = 255;

/// `DNS::Info`: one log record in the making.
#[derive(Clone, Debug, Default)]
struct Info {
    ts: f64,
    uid: String,
    id: Option<ConnId>,
    trans_id: u16,
    rtt: Option<f64>,
    query: Option<String>,
    qclass: Option<u16>,
    qtype: Option<u16>,
    qtype_name: Option<String>,
    rcode: Option<u8>,
    aa: bool,
    tc: bool,
    rd: bool,
    ra: bool,
    z: u8,
    answers: Option<Vec<String>>,
    ttls: Option<Vec<f64>>,
    rejected: bool,
    opcode: Option<u8>,
    opcode_name: Option<String>,
    total_answers: Option<u32>,
    total_replies: Option<u32>,
    saw_query: bool,
    saw_reply: bool,
    /// The authority and additional sections' replies (with `DNS::log_auth_addl`).
    auth: Option<Vec<String>>,
    addl: Option<Vec<String>>,
}

type Rec = Rc<RefCell<Info>>;

/// Unmatched messages by transaction id, ids in first-seen order.
#[derive(Default)]
struct Pending(Vec<(u16, VecDeque<Rec>)>);

impl Pending {
    fn queue(&mut self, id: u16) -> Option<&mut VecDeque<Rec>> {
        self.0.iter_mut().find(|(i, _)| *i == id).map(|(_, q)| q)
    }

    fn has(&self, id: u16) -> bool {
        self.0.iter().any(|(i, q)| *i == id && !q.is_empty())
    }

    /// Logs and drops everything.
    fn log_all(&mut self) {
        for (_, q) in self.0.drain(..) {
            q.iter().for_each(write);
        }
    }

    /// `enqueue_new_msg`.
    fn enqueue(&mut self, id: u16, rec: Rec) {
        if self.queue(id).is_none() {
            if self.0.len() > MAX_PENDING_QUERY_IDS {
                self.log_all();
            }
            self.0.push((id, VecDeque::new()));
        } else if let Some(q) = self.queue(id) {
            if q.len() > MAX_PENDING_MSGS {
                q.drain(..).for_each(|r| write(&r));
            }
        }
        if let Some(q) = self.queue(id) {
            q.push_back(rec);
        }
    }

    /// `pop_msg`: the oldest message of `id` (whose queue goes when empty).
    fn pop(&mut self, id: u16) -> Option<Rec> {
        let i = self.0.iter().position(|(x, _)| *x == id)?;
        let r = self.0[i].1.pop_front();
        if self.0[i].1.is_empty() {
            self.0.remove(i);
        }
        r
    }

    /// Any id with a message waiting.
    fn any_id(&self) -> Option<u16> {
        self.0.iter().find(|(_, q)| !q.is_empty()).map(|(i, _)| *i)
    }
}

/// `c$dns` and `c$dns_state` of one connection.
#[derive(Default)]
struct ConnState {
    dns: Option<Rec>,
    pending_query: Option<Rec>,
    pending_queries: Option<Pending>,
    pending_replies: Option<Pending>,
}

thread_local! {
    static CONNS: RefCell<BTreeMap<String, ConnState>> = const { RefCell::new(BTreeMap::new()) };
}

fn with_conn<R>(c: &Connection, f: impl FnOnce(&mut ConnState) -> R) -> Option<R> {
    CONNS.with(|m| m.borrow_mut().get_mut(&c.uid).map(f))
}

/// `c$dns`, if set.
fn current(c: &Connection) -> Option<Rec> {
    with_conn(c, |s| s.dns.clone()).flatten()
}

fn addr_value(a: &IpAddress) -> V {
    V::Addr(*a)
}

fn write(r: &Rec) {
    let i = r.borrow();
    let Some(id) = &i.id else { return };
    let opt_s = |s: &Option<String>| s.clone().map_or(V::Unset, V::String);
    let mut row = vec![
        V::Time(i.ts),
        V::String(i.uid.clone()),
        addr_value(&id.orig_h),
        V::Port(id.orig_p),
        addr_value(&id.resp_h),
        V::Port(id.resp_p),
        V::Enum(if id.resp_p.proto == Transport::Tcp { "tcp" } else { "udp" }.to_string()),
        V::Count(i.trans_id.into()),
        i.rtt.map_or(V::Unset, V::Interval),
        opt_s(&i.query),
        i.qclass.map_or(V::Unset, |q| V::Count(q.into())),
        i.qclass.map_or(V::Unset, |q| V::String(class_name(q))),
        i.qtype.map_or(V::Unset, |q| V::Count(q.into())),
        opt_s(&i.qtype_name),
        i.rcode.map_or(V::Unset, |r| V::Count(r.into())),
        i.rcode.map_or(V::Unset, |r| V::String(base_error(r.into()))),
        V::Bool(i.aa),
        V::Bool(i.tc),
        V::Bool(i.rd),
        V::Bool(i.ra),
        V::Count(i.z.into()),
        i.answers.clone().map_or(V::Unset, V::VectorOfString),
        i.ttls.as_ref().map_or(V::Unset, |t| V::VectorOfString(t.iter().map(|x| format!("{x:.6}")).collect())),
        V::Bool(i.rejected),
        i.opcode.map_or(V::Unset, |o| V::Count(o.into())),
        opt_s(&i.opcode_name),
    ];
    if log_auth_addl() {
        row.push(i.auth.clone().map_or(V::Unset, V::SetOfString));
        row.push(i.addl.clone().map_or(V::Unset, V::SetOfString));
        DNS_AUTH_ADDL.write(&row);
    } else {
        DNS.write(&row);
    }
}

fn tracked(op: u8) -> bool {
    op == OP_QUERY || op == OP_DYNAMIC_UPDATE || op == OP_NOTIFY
}

fn multicast(a: &IpAddress) -> bool {
    match ip(a) {
        IpAddr::V4(v4) => v4.octets()[0] & 0xf0 == 0xe0,
        IpAddr::V6(v6) => v6.octets()[0] == 0xff,
    }
}

/// `new_session`.
fn new_session(c: &Connection, trans_id: u16) -> Rec {
    Rc::new(RefCell::new(Info {
        ts: runtime::network_time(),
        uid: c.uid.clone(),
        id: Some(c.id),
        trans_id,
        ..Info::default()
    }))
}

/// The `DNS::set_session` hook.
fn set_session(c: &Connection, msg: &DnsMsg, is_query: bool) {
    CONNS.with(|m| {
        let mut m = m.borrow_mut();
        if !m.contains_key(&c.uid) {
            if m.len() >= MAX_TRACKED {
                return;
            }
            m.insert(c.uid.clone(), ConnState::default());
        }
        let Some(st) = m.get_mut(&c.uid) else { return };
        let id = msg.id;
        let rec = if multicast(&c.id.resp_h) {
            let r = new_session(c, id);
            r.borrow_mut().saw_query = true;
            r.borrow_mut().saw_reply = true;
            r
        } else if is_query {
            match st.pending_replies.as_mut().filter(|p| p.has(id)).and_then(|p| p.pop(id)) {
                Some(r) => r,
                None => {
                    let r = new_session(c, id);
                    if st.pending_query.is_none() {
                        st.pending_query = Some(r.clone());
                    } else {
                        st.pending_queries.get_or_insert_with(Pending::default).enqueue(id, r.clone());
                    }
                    r
                }
            }
        } else if st.pending_query.as_ref().is_some_and(|q| q.borrow().trans_id == id) {
            let r = st.pending_query.take().expect("checked");
            if let Some(pq) = st.pending_queries.as_mut() {
                let next = if pq.has(id) { Some(id) } else { pq.any_id() };
                st.pending_query = next.and_then(|n| pq.pop(n));
            }
            r
        } else if let Some(r) = st.pending_queries.as_mut().filter(|p| p.has(id)).and_then(|p| p.pop(id)) {
            r
        } else {
            let r = new_session(c, id);
            st.pending_replies.get_or_insert_with(Pending::default).enqueue(id, r.clone());
            r
        };
        {
            let mut i = rec.borrow_mut();
            if !is_query {
                i.rcode = Some(msg.rcode);
                i.total_answers.get_or_insert(msg.num_answers.into());
                i.total_replies
                    .get_or_insert(u32::from(msg.num_answers) + u32::from(msg.num_addl) + u32::from(msg.num_auth));
                if msg.rcode != 0 && msg.num_queries == 0 {
                    i.rejected = true;
                }
            }
            i.opcode = Some(msg.opcode);
            i.opcode_name = Some(if msg.is_netbios { netbios_opcode(msg.opcode) } else { opcode_name(msg.opcode) });
        }
        st.dns = Some(rec);
    });
}

/// The `DNS::do_reply` hook of the base script.
fn do_reply(c: &Connection, msg: &DnsMsg, ans: &DnsAnswer, reply: String) {
    if !tracked(msg.opcode) || !msg.qr {
        return;
    }
    if ans.answer_type == DNS_AUTH || ans.answer_type == DNS_ADDL {
        // Zeek's policy script protocols/dns/auth-addl: standard queries only.
        if log_auth_addl() && msg.opcode == OP_QUERY {
            if let Some(rec) = current(c) {
                let mut i = rec.borrow_mut();
                let set = if ans.answer_type == DNS_AUTH { &mut i.auth } else { &mut i.addl };
                let set = set.get_or_insert_with(Vec::new);
                if !set.contains(&reply) {
                    set.push(reply);
                }
            }
        }
        return;
    }
    if ans.answer_type != DNS_ANS && ans.answer_type != DNS_PREREQUISITE && ans.answer_type != DNS_UPDATE {
        return;
    }
    let Some(rec) = current(c) else { return };
    let mut i = rec.borrow_mut();
    if i.query.is_none() {
        i.query = Some(ans.query.clone());
    }
    i.aa = msg.aa;
    i.ra = msg.ra;
    if i.rtt.is_none() {
        let rtt = runtime::network_time() - i.ts;
        if rtt != 0.0 {
            i.rtt = Some(rtt);
        }
    }
    if !reply.is_empty() {
        let reply = if msg.opcode == OP_DYNAMIC_UPDATE && ans.answer_type == DNS_UPDATE && !reply.starts_with("del:") {
            format!("add: {reply}")
        } else {
            reply
        };
        i.answers.get_or_insert_with(Vec::new).push(reply);
        i.ttls.get_or_insert_with(Vec::new).push(ans.ttl);
    }
}

/// An address reply, prefixed with its type and owner in a dynamic update.
fn addr_reply(c: &Connection, msg: &DnsMsg, ans: &DnsAnswer, kind: &str, a: &IpAddress) {
    let text = if msg.opcode == OP_DYNAMIC_UPDATE && !msg.is_netbios {
        format!("{kind} {} {}", ans.query, ip(a))
    } else {
        ip(a).to_string()
    };
    do_reply(c, msg, ans, text);
}

fn strings_reply(kind: &str, strs: &[String]) -> String {
    strs.iter().map(|s| format!("{kind} {} {s}", s.len())).collect::<Vec<_>>().join(" ")
}

/// `decode_netbios_name`: the 16 bytes of a 32-letter encoded name, its
/// type byte and trailing blanks dropped; empty when it is no such name.
fn decode_netbios_name(name: &str) -> String {
    let s = name.as_bytes();
    if s.len() != 32 {
        return String::new();
    }
    let mut buf = [0u8; 16];
    let mut length = 0;
    for i in 0..16 {
        let (c0, c1) = (s[2 * i].to_ascii_uppercase(), s[2 * i + 1].to_ascii_uppercase());
        if !(b'A'..=b'P').contains(&c0) || !(b'A'..=b'P').contains(&c1) {
            return String::new();
        }
        buf[i] = ((c0 - b'A') << 4) + (c1 - b'A');
        if buf[i].is_ascii_alphanumeric() || buf[i].is_ascii_punctuation() || buf[i] == b' ' || buf[i] < 3 {
            length += 1;
        } else {
            break;
        }
    }
    if length == 16 {
        length = 15;
    }
    while length > 0 && (buf[length - 1] == b' ' || buf[length - 1] == 0) {
        length -= 1;
    }
    String::from_utf8_lossy(&buf[..length]).into_owned()
}

struct Dns;

impl Handler for Dns {
    fn dns_message(c: Connection, _is_orig: bool, msg: DnsMsg, _len: u64) {
        if tracked(msg.opcode) {
            set_session(&c, &msg, !msg.qr);
        }
    }

    fn dns_request(c: Connection, msg: DnsMsg, query: String, qtype: u16, qclass: u16, _original_query: String) {
        if !tracked(msg.opcode) {
            return;
        }
        let Some(rec) = current(&c) else { return };
        let mut i = rec.borrow_mut();
        i.rd = msg.rd;
        i.tc = msg.tc;
        i.qclass = Some(qclass);
        i.qtype = Some(qtype);
        i.qtype_name = Some(query_type(qtype));
        i.z = msg.z;
        let mut query = query;
        if c.id.resp_p.number == 137 && c.id.resp_p.proto == Transport::Udp {
            let decoded = decode_netbios_name(&query);
            if !decoded.is_empty() {
                query = decoded;
            }
            if i.qtype_name.as_deref() == Some("SRV") {
                i.qtype_name = Some("NBSTAT".into());
            }
        }
        i.query = Some(query);
    }

    fn dns_rejected(c: Connection, _msg: DnsMsg, _query: String, _qtype: u16, _qclass: u16, _original_query: String) {
        if let Some(rec) = current(&c) {
            rec.borrow_mut().rejected = true;
        }
    }

    fn dns_unknown_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer) {
        let text = format!("<unknown type={}>", ans.qtype);
        do_reply(&c, &msg, &ans, text);
    }

    fn dns_a_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, a: IpAddress) {
        addr_reply(&c, &msg, &ans, "A", &a);
    }

    fn dns_aaaa_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, a: IpAddress) {
        addr_reply(&c, &msg, &ans, "AAAA", &a);
    }

    fn dns_a6_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, a: IpAddress) {
        addr_reply(&c, &msg, &ans, "A6", &a);
    }

    fn dns_txt_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, strs: Vec<String>) {
        do_reply(&c, &msg, &ans, strings_reply("TXT", &strs));
    }

    fn dns_spf_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, strs: Vec<String>) {
        do_reply(&c, &msg, &ans, strings_reply("SPF", &strs));
    }

    fn dns_ns_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, name: String) {
        do_reply(&c, &msg, &ans, name);
    }

    fn dns_cname_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, name: String) {
        do_reply(&c, &msg, &ans, name);
    }

    fn dns_mx_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, name: String, _preference: u16) {
        do_reply(&c, &msg, &ans, name);
    }

    fn dns_ptr_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, name: String) {
        do_reply(&c, &msg, &ans, name);
    }

    fn dns_soa_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, soa: DnsSoa) {
        do_reply(&c, &msg, &ans, soa.mname);
    }

    fn dns_wks_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer) {
        do_reply(&c, &msg, &ans, String::new());
    }

    fn dns_srv_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, target: String, _priority: u16, _weight: u16, _p: u16) {
        do_reply(&c, &msg, &ans, target);
    }

    fn dns_naptr_reply(c: Connection, msg: DnsMsg, ans: DnsAnswer, naptr: DnsNaptrRr) {
        let mut tmp = naptr.regexp.clone();
        if !naptr.replacement.is_empty() {
            if !tmp.is_empty() {
                tmp.push(' ');
            }
            tmp.push_str(&naptr.replacement);
        }
        let r = format!("NAPTR {} {} {} {} {tmp}", naptr.order, naptr.preference, naptr.flags, naptr.service);
        do_reply(&c, &msg, &ans, r);
    }

    fn dns_rrsig(c: Connection, msg: DnsMsg, ans: DnsAnswer, rrsig: DnsRrsigRr) {
        let signer = if rrsig.signer_name.is_empty() { "<Root>".to_string() } else { rrsig.signer_name };
        do_reply(&c, &msg, &ans, format!("RRSIG {} {signer}", rrsig.type_covered));
    }

    fn dns_dnskey(c: Connection, msg: DnsMsg, ans: DnsAnswer, dnskey: DnsDnskeyRr) {
        do_reply(&c, &msg, &ans, format!("DNSKEY {}", dnskey.algorithm));
    }

    fn dns_nsec(c: Connection, msg: DnsMsg, ans: DnsAnswer, next_name: String, _bitmaps: Vec<Vec<u8>>) {
        let r = format!("NSEC {} {next_name}", ans.query);
        do_reply(&c, &msg, &ans, r);
    }

    fn dns_nsec3(c: Connection, msg: DnsMsg, ans: DnsAnswer, _nsec3: DnsNsec3Rr) {
        do_reply(&c, &msg, &ans, "NSEC3".into());
    }

    fn dns_nsec3param(c: Connection, msg: DnsMsg, ans: DnsAnswer, _nsec3param: DnsNsec3paramRr) {
        do_reply(&c, &msg, &ans, "NSEC3PARAM".into());
    }

    fn dns_ds(c: Connection, msg: DnsMsg, ans: DnsAnswer, ds: DnsDsRr) {
        do_reply(&c, &msg, &ans, format!("DS {} {}", ds.algorithm, ds.digest_type));
    }

    fn dns_binds(c: Connection, msg: DnsMsg, ans: DnsAnswer, _binds: DnsBindsRr) {
        do_reply(&c, &msg, &ans, "BIND9 signing signal".into());
    }

    fn dns_sshfp(c: Connection, msg: DnsMsg, ans: DnsAnswer, _algo: u8, _fptype: u8, fingerprint: Vec<u8>) {
        let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
        do_reply(&c, &msg, &ans, format!("SSHFP: {hex}"));
    }

    fn dns_loc(c: Connection, msg: DnsMsg, ans: DnsAnswer, loc: DnsLocRr) {
        do_reply(&c, &msg, &ans, format!("LOC:  {} {} {}", loc.size, loc.horiz_pre, loc.vert_pre));
    }

    fn dns_dynamic_update_pre(c: Connection, msg: DnsMsg, ans: DnsAnswer) {
        let what = if ans.qclass == CLASS_NONE && ans.qtype == TYPE_ANY {
            format!("NameNotInUse {}", ans.query)
        } else if ans.qclass == CLASS_ANY && ans.qtype == TYPE_ANY {
            format!("NameInUse {}", ans.query)
        } else if ans.qclass == CLASS_NONE {
            format!("NoRRSet {} {}", query_type(ans.qtype), ans.query)
        } else {
            format!("RRSetExists {} {}", query_type(ans.qtype), ans.query)
        };
        do_reply(&c, &msg, &ans, format!("pre: {what}"));
    }

    fn dns_dynamic_update_del(c: Connection, msg: DnsMsg, ans: DnsAnswer) {
        let what = if ans.qclass == CLASS_ANY && ans.qtype == TYPE_ANY {
            format!("RRSet * {}", ans.query)
        } else if ans.qclass == CLASS_NONE {
            format!("RR {} {}", query_type(ans.qtype), ans.query)
        } else {
            format!("RRSet {}", query_type(ans.qtype))
        };
        do_reply(&c, &msg, &ans, format!("del: {what}"));
    }

    fn dns_end(c: Connection, msg: DnsMsg) {
        let Some(rec) = current(&c) else { return };
        let done = {
            let mut i = rec.borrow_mut();
            if msg.qr {
                i.saw_reply = true;
            } else {
                i.saw_query = true;
            }
            i.saw_reply && i.saw_query
        };
        if done {
            write(&rec);
            with_conn(&c, |s| s.dns = None);
        }
    }

    /// `DNS::finalize_dns`: whatever still waits is logged.
    fn connection_state_remove(c: Connection) {
        let Some(mut st) = CONNS.with(|m| m.borrow_mut().remove(&c.uid)) else { return };
        if let Some(q) = st.pending_query.take() {
            write(&q);
        }
        if let Some(mut p) = st.pending_queries.take() {
            p.log_all();
        }
        if let Some(mut p) = st.pending_replies.take() {
            p.log_all();
        }
    }
}

weir_guest::export_handler!(
    Dns: dns_message,
    dns_request,
    dns_rejected,
    dns_unknown_reply,
    dns_a_reply,
    dns_aaaa_reply,
    dns_a6_reply,
    dns_txt_reply,
    dns_spf_reply,
    dns_ns_reply,
    dns_cname_reply,
    dns_mx_reply,
    dns_ptr_reply,
    dns_soa_reply,
    dns_wks_reply,
    dns_srv_reply,
    dns_naptr_reply,
    dns_rrsig,
    dns_dnskey,
    dns_nsec,
    dns_nsec3,
    dns_nsec3param,
    dns_ds,
    dns_binds,
    dns_sshfp,
    dns_loc,
    dns_dynamic_update_pre,
    dns_dynamic_update_del,
    dns_end,
    connection_state_remove
);
