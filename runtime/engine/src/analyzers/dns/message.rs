//! One DNS message, section by section, as Zeek's `DNS_Interpreter`:
//! the header and its checks, the questions, then the answer, authority and
//! additional records (or, for a dynamic update, the zone, prerequisites and
//! updates), with `dns_message` first and `dns_end` last.
//!
//! Authority and additional records are skipped under `dns_skip_all_auth`
//! and `dns_skip_all_addl` (both on by default) and, in a reply with
//! answers, when their section is empty. A message with more than
//! `dns_max_queries` questions is a protocol violation and reaches the limit
//! `DNS_Conn_count_too_large`; an opcode other than query, notify and
//! update (off the NetBIOS port) raises `DNS_unknown_opcode` and history
//! `X`. What a section fails to parse ends the message there.

use super::cursor::Cursor;
use super::header::{self, HEADER_LEN, OP_DYNAMIC_UPDATE, OP_NOTIFY, OP_QUERY};
use super::name::{self, NameRules, NAME_ROOM};
use super::rdata;
use super::{text, DnsConfig, Sink};
use weir_events::{DnsAnswer, DnsMsg, Event, EventKind};

/// Section of a record (`dns_answer$answer_type`).
pub mod section {
    /// A question.
    pub const QUESTION: u8 = 0;
    /// An answer.
    pub const ANSWER: u8 = 1;
    /// An authority record.
    pub const AUTHORITY: u8 = 2;
    /// An additional record.
    pub const ADDITIONAL: u8 = 3;
    /// A dynamic update's prerequisite.
    pub const PREREQUISITES: u8 = 4;
    /// A dynamic update's update.
    pub const UPDATES: u8 = 5;
}

/// Class ANY.
const CLASS_ANY: u16 = 255;
/// Class NONE (RFC 2136).
const CLASS_NONE: u16 = 254;
/// Type SOA.
const TYPE_SOA: u16 = 6;

/// What the parser needs to know about the connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnFacts {
    /// Either port is 137 (NetBIOS name service); fixed at the analyzer's creation.
    pub is_netbios: bool,
    /// The responder's port is 137 now.
    pub resp_port_netbios: bool,
    /// The responder's address is multicast (no role flip then).
    pub resp_multicast: bool,
    /// The connection is UDP.
    pub udp: bool,
}

/// Whether the message came from the originator (1), the responder (0) or
/// is unknown (2: TCP data flushed at the end of the connection).
pub type Direction = u8;

/// The state of the message being parsed (Zeek's `DNS_MsgInfo`).
pub struct Msg {
    /// The header.
    pub hdr: DnsMsg,
    /// 1 when parsed as a query.
    pub is_query: u8,
    /// Section being parsed.
    pub answer_type: u8,
    /// Owner name of the current record.
    pub query_name: String,
    /// Type of the current record.
    pub atype: u16,
    /// Class of the current record.
    pub aclass: u16,
    /// TTL field of the current record.
    pub ttl: u32,
    /// The current section's events are not raised.
    pub skip_event: bool,
    /// A dynamic update's zone class.
    pub zclass: u16,
}

impl Msg {
    /// The current record's `dns_answer`.
    pub fn answer(&self) -> Box<DnsAnswer> {
        Box::new(DnsAnswer {
            answer_type: self.answer_type,
            query: self.query_name.clone(),
            qtype: self.atype,
            qclass: self.aclass,
            ttl: f64::from(self.ttl),
        })
    }

    /// The header, boxed for an event.
    pub fn hdr(&self) -> Box<DnsMsg> {
        Box::new(self.hdr)
    }
}

/// The parser of one message: settings, connection facts and where findings go.
pub struct Parser<'a, S: Sink> {
    /// Where events and findings go.
    pub sink: &'a mut S,
    /// The analyzer's settings.
    pub cfg: &'a DnsConfig,
    /// About the connection.
    pub conn: ConnFacts,
}

impl<S: Sink> Parser<'_, S> {
    /// How names are read.
    pub fn rules(&self) -> NameRules {
        NameRules { max_depth: self.cfg.max_compression_chain_depth, netbios_port: self.conn.resp_port_netbios }
    }

    /// A name at `c`, lower-cased unless `keep_case`.
    pub fn name(&mut self, c: &mut Cursor<'_>, keep_case: bool) -> Option<Vec<u8>> {
        let rules = self.rules();
        name::extract(c, NAME_ROOM, keep_case, rules, self.sink)
    }
}

/// Parses one message; `first` is true until the analyzer's first message
/// has been parsed (it may flip the roles) and is cleared here.
pub fn parse<S: Sink>(p: &mut Parser<'_, S>, data: &[u8], dir: Direction, first: &mut bool) {
    if data.len() < HEADER_LEN {
        p.sink.weird("DNS_truncated_len_lt_hdr_len", String::new());
        return;
    }
    let hdr = header::parse(data, p.conn.is_netbios);
    if hdr.opcode != OP_QUERY && hdr.opcode != OP_DYNAMIC_UPDATE && !p.conn.is_netbios && hdr.opcode != OP_NOTIFY {
        p.sink.limit("DNS_unknown_opcode", hdr.opcode.to_string());
        return;
    }
    let mut dir = dir;
    if *first && hdr.qr && dir == 1 {
        dir = 0;
        if !p.conn.resp_multicast {
            p.sink.flip_roles();
        }
    }
    *first = false;
    let mut msg = Msg {
        hdr,
        is_query: u8::from(dir != 0),
        answer_type: section::QUESTION,
        query_name: String::new(),
        atype: 0,
        aclass: 0,
        ttl: 0,
        skip_event: false,
        zclass: 0,
    };
    if p.sink.wants(EventKind::DnsMessage) {
        let (h, len) = (msg.hdr(), data.len() as u64);
        p.sink.raise(|c| Event::DnsMessage { c, is_orig: dir != 0, msg: h, len });
    }
    let max = p.cfg.max_queries;
    if max > 0 && u64::from(hdr.num_queries) > max {
        p.sink.violate("DNS_Conn_count_too_large");
        p.sink.limit("DNS_Conn_count_too_large", format!("{} > {max}", hdr.num_queries));
        return end(p, &msg);
    }
    let mut c = Cursor::new(data);
    c.pos = HEADER_LEN;
    if header::is_dynamic_update(&hdr) {
        if hdr.num_queries != 1 {
            p.sink.weird("DNS_DU_invalid_zone_count", hdr.num_queries.to_string());
            return end(p, &msg);
        }
        if !rdata::answer_header(p, &mut msg, &mut c) {
            return end(p, &msg);
        }
        if msg.atype != TYPE_SOA {
            p.sink.weird("DNS_DU_incorrect_zone_type", String::new());
            return;
        }
        let zname = msg.query_name.clone();
        msg.zclass = msg.aclass;
        if !answers(p, &mut msg, hdr.num_answers, section::PREREQUISITES, &mut c)
            || !answers(p, &mut msg, hdr.num_auth, section::UPDATES, &mut c)
        {
            return end(p, &msg);
        }
        if p.sink.wants(EventKind::DnsDynamicUpdate) {
            let (h, zclass) = (msg.hdr(), msg.zclass);
            p.sink.raise(|c| Event::DnsDynamicUpdate { c, msg: h, zname, zclass });
        }
    } else {
        if !questions(p, &mut msg, &mut c) || !answers(p, &mut msg, hdr.num_answers, section::ANSWER, &mut c) {
            return end(p, &msg);
        }
    }
    p.sink.confirm();
    let mut skip_auth = p.cfg.skip_all_auth;
    let mut skip_addl = p.cfg.skip_all_addl;
    if hdr.num_answers > 0 {
        skip_auth = skip_auth || hdr.num_auth == 0;
        skip_addl = skip_addl || hdr.num_addl == 0;
    }
    if skip_auth && skip_addl {
        return end(p, &msg);
    }
    if !header::is_dynamic_update(&hdr) {
        msg.skip_event = skip_auth;
        if !answers(p, &mut msg, hdr.num_auth, section::AUTHORITY, &mut c) {
            return end(p, &msg);
        }
    }
    if skip_addl {
        return end(p, &msg);
    }
    msg.skip_event = false;
    answers(p, &mut msg, hdr.num_addl, section::ADDITIONAL, &mut c);
    end(p, &msg);
}

fn end<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg) {
    if p.sink.wants(EventKind::DnsEnd) {
        let h = msg.hdr();
        p.sink.raise(|c| Event::DnsEnd { c, msg: h });
    }
}

fn questions<S: Sink>(p: &mut Parser<'_, S>, msg: &mut Msg, c: &mut Cursor<'_>) -> bool {
    (0..msg.hdr.num_queries).all(|_| question(p, msg, c))
}

fn answers<S: Sink>(p: &mut Parser<'_, S>, msg: &mut Msg, n: u16, section: u8, c: &mut Cursor<'_>) -> bool {
    msg.answer_type = section;
    (0..n).all(|_| rdata::answer(p, msg, c))
}

/// One question: `dns_request` in a query, `dns_rejected` in a reply
/// without records, `dns_query_reply` in other replies.
fn question<S: Sink>(p: &mut Parser<'_, S>, msg: &mut Msg, c: &mut Cursor<'_>) -> bool {
    let Some(original) = p.name(c, true) else { return false };
    if c.len() < 4 {
        p.sink.weird("DNS_truncated_quest_too_short", String::new());
        return false;
    }
    let h = &msg.hdr;
    let kind = if !h.qr {
        EventKind::DnsRequest
    } else if h.num_answers == 0 && h.num_auth == 0 && h.num_addl == 0 {
        EventKind::DnsRejected
    } else {
        EventKind::DnsQueryReply
    };
    let (qtype, qclass) = (c.u16(), c.u16());
    if msg.skip_event || !p.sink.wants(kind) {
        return true;
    }
    let query = text(&original.to_ascii_lowercase());
    let original_query = text(&original);
    let msg = msg.hdr();
    p.sink.raise(|c| match kind {
        EventKind::DnsRequest => Event::DnsRequest { c, msg, query, qtype, qclass, original_query },
        EventKind::DnsRejected => Event::DnsRejected { c, msg, query, qtype, qclass, original_query },
        _ => Event::DnsQueryReply { c, msg, query, qtype, qclass, original_query },
    });
    true
}

/// Whether a dynamic update's record of class `aclass` is a valid deletion or
/// addition to a zone of class `zclass` (RFC 2136 section 2.5).
pub fn valid_update(aclass: u16, ttl: u32, zclass: u16) -> bool {
    (aclass == CLASS_NONE && ttl == 0) || aclass == zclass
}

/// Whether a prerequisite of class `aclass` with `rdlength` bytes is well formed.
pub fn valid_prereq(aclass: u16, rdlength: u16, zclass: u16) -> bool {
    ((aclass == CLASS_ANY || aclass == CLASS_NONE) && rdlength == 0) || aclass == zclass
}

/// Whether a dynamic update's record deletes a whole RRset or name.
pub fn is_deletion(aclass: u16, ttl: u32, rdlength: u16) -> bool {
    aclass == CLASS_ANY && ttl == 0 && rdlength == 0
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Build, Got, Rec};
    use super::*;
    use weir_events::EventKind as K;

    fn run(sink: &mut Rec, cfg: &DnsConfig, data: &[u8], dir: Direction, first: bool) {
        let mut first = first;
        let mut p = Parser { sink, cfg, conn: ConnFacts { udp: true, ..ConnFacts::default() } };
        parse(&mut p, data, dir, &mut first);
    }

    /// A reply to `www.example.com A`: a CNAME (compressed owner) and an A record.
    fn reply() -> Vec<u8> {
        Build::new(0x1234, 0x8180, [1, 2, 0, 0])
            .question("WWW.Example.com", 1, 1)
            .rr(b"\xc0\x0c", 5, 1, 300, b"\x03web\xc0\x10")
            .rr(b"\x03web\xc0\x10", 1, 1, 60, &[192, 0, 2, 1])
            .0
    }

    #[test]
    fn a_reply_raises_message_question_answers_and_end() {
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &reply(), 0, false);
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsQueryReply, K::DnsCnameReply, K::DnsAReply, K::DnsEnd]);
        assert!(s.got.contains(&Got::Confirm));
        let ev = s.events();
        let Event::DnsQueryReply { query, original_query, qtype, .. } = ev[1] else { panic!() };
        assert_eq!((query.as_str(), original_query.as_str(), *qtype), ("www.example.com", "WWW.Example.com", 1));
        let Event::DnsCnameReply { ans, name, .. } = ev[2] else { panic!() };
        assert_eq!((ans.query.as_str(), name.as_str(), ans.ttl, ans.answer_type), ("www.example.com", "web.example.com", 300.0, 1));
        let Event::DnsAReply { a, ans, msg, .. } = ev[3] else { panic!() };
        assert_eq!((a.to_string(), ans.query.as_str(), msg.id, msg.num_answers), ("192.0.2.1".into(), "web.example.com", 0x1234, 2));
        assert!(s.weird_names().is_empty(), "{:?}", s.got);
    }

    #[test]
    fn a_reply_first_from_the_originator_flips_the_roles_once() {
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &reply(), 1, true);
        assert_eq!(s.got.iter().filter(|g| **g == Got::Flip).count(), 1);
        let Event::DnsMessage { is_orig, .. } = s.events()[0] else { panic!() };
        assert!(!is_orig, "parsed as coming from the responder");
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &reply(), 1, false);
        assert!(!s.got.contains(&Got::Flip), "only the first message flips");
    }

    #[test]
    fn requests_rejections_and_header_checks() {
        let q = Build::new(7, 0x0100, [1, 0, 0, 0]).question("a.b", 28, 1).0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &q, 1, true);
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsRequest, K::DnsEnd]);
        let r = Build::new(7, 0x8183, [1, 0, 0, 0]).question("a.b", 28, 1).0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &r, 0, false);
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsRejected, K::DnsEnd]);

        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &q[..11], 1, true);
        assert_eq!(s.got, [Got::Weird("DNS_truncated_len_lt_hdr_len", String::new())]);
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &Build::new(7, 0x1000, [1, 0, 0, 0]).0, 1, true);
        assert_eq!(s.got, [Got::Limit("DNS_unknown_opcode", "2".into())]);
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &Build::new(7, 0x0100, [26, 0, 0, 0]).0, 1, true);
        assert_eq!(s.weird_names(), ["DNS_Conn_count_too_large"]);
        assert!(s.got.contains(&Got::Violate("DNS_Conn_count_too_large")));
        assert!(s.got.contains(&Got::Limit("DNS_Conn_count_too_large", "26 > 25".into())));
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsEnd]);
        assert!(!s.got.contains(&Got::Confirm));
    }

    #[test]
    fn broken_records_end_the_message() {
        let m = Build::new(1, 0x8180, [1, 1, 0, 0]).question("x", 1, 1).rr(b"\x00", 1, 1, 0, &[1, 2, 3, 4]).0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &m[..m.len() - 1], 0, false);
        assert_eq!(s.weird_names(), ["DNS_truncated_RR_rdlength_lt_len"]);
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsQueryReply, K::DnsEnd]);
        assert!(!s.got.contains(&Got::Confirm));
        let m = Build::new(1, 0x8180, [1, 1, 0, 0]).question("x", 1, 1).rr(b"\x00", 1, 1, 0, &[1, 2, 3]).0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &m, 0, false);
        assert_eq!(s.weird_names(), ["DNS_RR_bad_length"]);
        let m = Build::new(1, 0x8180, [1, 1, 0, 0]).question("x", 1, 1).rr(b"\x00", 999, 1, 5, &[9]).0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &m, 0, false);
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsQueryReply, K::DnsUnknownReply, K::DnsEnd]);
        assert_eq!(s.got[3], Got::Weird("DNS_RR_unknown_type", "999".into()));
    }

    #[test]
    fn txt_data_is_read_only_when_its_event_is_taken() {
        // The string's length runs past the record.
        let m = Build::new(1, 0x8180, [1, 1, 0, 0]).question("x", 16, 1).rr(b"\x00", 16, 1, 0, b"\x02ok\x09bad").0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &m, 0, false);
        assert_eq!(s.weird_names(), ["DNS_TXT_char_str_past_rdlen"]);
        let Some(Event::DnsTxtReply { strs, .. }) = s.events().into_iter().find(|e| e.kind() == K::DnsTxtReply) else { panic!() };
        assert_eq!(strs, &["ok"]);
        assert!(!s.got.contains(&Got::Confirm), "the record failed");
        let mut s = Rec::taking(&[K::DnsEnd]);
        run(&mut s, &DnsConfig::default(), &m, 0, false);
        assert!(s.weird_names().is_empty());
        assert!(s.got.contains(&Got::Confirm));
    }

    #[test]
    fn additional_records_only_when_not_skipped() {
        let opt = Build::new(1, 0x0100, [1, 0, 0, 1])
            .question("x", 1, 1)
            .rr(b"\x00", 41, 4096, 0x0100_8000, b"\x00\x08\x00\x07\x00\x01\x18\x00\xc6\x33\x64")
            .0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &opt, 1, true);
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsRequest, K::DnsEnd]);
        let cfg = DnsConfig { skip_all_addl: false, ..DnsConfig::default() };
        let mut s = Rec::default();
        run(&mut s, &cfg, &opt, 1, true);
        assert_eq!(s.kinds(), [K::DnsMessage, K::DnsRequest, K::DnsEdnsAddl, K::DnsEdnsEcs, K::DnsEnd]);
        let ev = s.events();
        let Event::DnsEdnsAddl { ans, .. } = ev[2] else { panic!() };
        assert_eq!((ans.payload_size, ans.version, ans.z_field, ans.extended_rcode, ans.is_query), (4096, 0, 0x8000, 16, 1));
        let Event::DnsEdnsEcs { opt, .. } = ev[3] else { panic!() };
        assert_eq!((opt.family.as_str(), opt.source_prefix_len, opt.address.to_string()), ("v4", 24, "198.51.100.0".into()));
    }

    #[test]
    fn dynamic_update_prerequisites_and_deletions() {
        let m = Build::new(9, 0x2800, [1, 1, 1, 0])
            .question("example.com", 6, 1)
            .rr(b"\x01a\x07example\x03com\x00", 255, 254, 0, b"")
            .rr(b"\x01b\xc0\x0c", 255, 255, 0, b"")
            .0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &m, 1, true);
        assert_eq!(
            s.kinds(),
            [K::DnsMessage, K::DnsDynamicUpdatePre, K::DnsDynamicUpdateDel, K::DnsDynamicUpdate, K::DnsEnd]
        );
        let Event::DnsDynamicUpdate { zname, zclass, .. } = s.events()[3] else { panic!() };
        assert_eq!((zname.as_str(), *zclass), ("example.com", 1));
        let bad = Build::new(9, 0x2800, [2, 0, 0, 0]).0;
        let mut s = Rec::default();
        run(&mut s, &DnsConfig::default(), &bad, 1, true);
        assert_eq!(s.got[1], Got::Weird("DNS_DU_invalid_zone_count", "2".into()));
    }
}
