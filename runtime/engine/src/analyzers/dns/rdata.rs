//! Resource records: the common header (owner, type, class, TTL, length),
//! a dynamic update's prerequisite and update rules, and the data of each
//! type Zeek parses, with Zeek's weirds and its `dns_*` events.
//!
//! As in Zeek, a record whose event nobody takes is often skipped unread
//! (TXT, SPF, CAA, HINFO, WKS and the DNSSEC types), so the weirds and
//! failures its data would cause depend on who listens; a record that
//! claims more data than the message holds ends the message
//! (`DNS_truncated_RR_rdlength_lt_len`); a type Zeek does not know raises
//! `dns_unknown_reply` and `DNS_RR_unknown_type`. Some parsers read less or
//! more than the record's length says, and the next record is then read
//! from where they stopped, as Zeek does.

use super::cursor::Cursor;
use super::message::{self, section, Msg, Parser};
use super::name::{self, TSIG_NAME_ROOM};
use super::{edns, svcb, text, Sink};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use weir_events::*;

/// Record types with their own parser (Zeek's `RR_Type`).
#[allow(missing_docs)]
pub mod rr {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const WKS: u16 = 11;
    pub const PTR: u16 = 12;
    pub const HINFO: u16 = 13;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const LOC: u16 = 29;
    pub const NBS: u16 = 32;
    pub const SRV: u16 = 33;
    pub const NAPTR: u16 = 35;
    pub const A6: u16 = 38;
    pub const EDNS: u16 = 41;
    pub const DS: u16 = 43;
    pub const SSHFP: u16 = 44;
    pub const RRSIG: u16 = 46;
    pub const NSEC: u16 = 47;
    pub const DNSKEY: u16 = 48;
    pub const NSEC3: u16 = 50;
    pub const NSEC3PARAM: u16 = 51;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    pub const SPF: u16 = 99;
    pub const TKEY: u16 = 249;
    pub const TSIG: u16 = 250;
    pub const CAA: u16 = 257;
    pub const BINDS: u16 = 65534;
}

/// Reads a record's owner, type and class into `msg`.
pub fn answer_header<S: Sink>(p: &mut Parser<'_, S>, msg: &mut Msg, c: &mut Cursor<'_>) -> bool {
    let Some(owner) = p.name(c, false) else { return false };
    if c.len() < 4 {
        p.sink.weird("DNS_truncated_ans_too_short", String::new());
        return false;
    }
    msg.query_name = text(&owner);
    msg.atype = c.u16();
    msg.aclass = c.u16();
    true
}

/// One resource record of the current section.
pub fn answer<S: Sink>(p: &mut Parser<'_, S>, msg: &mut Msg, c: &mut Cursor<'_>) -> bool {
    if !answer_header(p, msg, c) {
        return false;
    }
    msg.ttl = c.u32();
    let rdlength = c.u16();
    if usize::from(rdlength) > c.len() {
        p.sink.weird("DNS_truncated_RR_rdlength_lt_len", String::new());
        return false;
    }
    if super::header::is_dynamic_update(&msg.hdr) {
        if msg.answer_type == section::UPDATES {
            if message::is_deletion(msg.aclass, msg.ttl, rdlength) {
                if !msg.skip_event && p.sink.wants(EventKind::DnsDynamicUpdateDel) {
                    let (h, a) = (msg.hdr(), msg.answer());
                    p.sink.raise(|c| Event::DnsDynamicUpdateDel { c, msg: h, ans: a });
                }
                return true;
            } else if !message::valid_update(msg.aclass, msg.ttl, msg.zclass) {
                p.sink.weird("DNS_dynamic_update_invalid_update", String::new());
                return true;
            }
        } else if msg.answer_type == section::PREREQUISITES {
            if msg.ttl != 0 {
                p.sink.weird("DNS_dynamic_update_prereq_nonzero_ttl", (msg.ttl as i32).to_string());
            } else if message::valid_prereq(msg.aclass, rdlength, msg.zclass) {
                if !msg.skip_event && p.sink.wants(EventKind::DnsDynamicUpdatePre) {
                    let (h, a) = (msg.hdr(), msg.answer());
                    p.sink.raise(|c| Event::DnsDynamicUpdatePre { c, msg: h, ans: a });
                }
            } else {
                p.sink.weird("DNS_dynamic_update_invalid_prereq", String::new());
            }
            return true;
        }
    }
    if rdlength == 0 && !c.is_empty() {
        if super::header::is_dynamic_update(&msg.hdr) {
            return true;
        }
        p.sink.weird("DNS_zero_rdlength", String::new());
        return false;
    }
    let rdlen = usize::from(rdlength);
    match msg.atype {
        rr::A => a(p, msg, c, rdlen),
        rr::A6 | rr::AAAA => aaaa(p, msg, c),
        rr::NS | rr::CNAME | rr::PTR => name_rr(p, msg, c, rdlen),
        rr::SOA => soa(p, msg, c, rdlen),
        rr::WKS => {
            if msg.skip_event || !p.sink.wants(EventKind::DnsWksReply) {
                c.skip(rdlen);
            } else {
                let (h, a) = (msg.hdr(), msg.answer());
                p.sink.raise(|c| Event::DnsWksReply { c, msg: h, ans: a });
            }
            true
        }
        rr::HINFO => hinfo(p, msg, c, rdlen),
        rr::MX => mx(p, msg, c, rdlen),
        rr::TXT | rr::SPF => txt(p, msg, c, rdlen),
        rr::CAA => caa(p, msg, c, rdlen),
        rr::NBS => {
            c.skip(rdlen);
            true
        }
        // NBSTAT on the NetBIOS port (type 33 was taken by SRV later); not parsed, nothing read.
        rr::SRV if p.conn.resp_port_netbios => true,
        rr::SRV => srv(p, msg, c, rdlen),
        rr::NAPTR => naptr(p, msg, c, rdlen),
        rr::EDNS => edns::opt(p, msg, c, rdlen),
        rr::TKEY => tkey(p, msg, c, rdlen),
        rr::TSIG => tsig(p, msg, c),
        rr::RRSIG => rrsig(p, msg, c, rdlen),
        rr::DNSKEY => dnskey(p, msg, c, rdlen),
        rr::NSEC => nsec(p, msg, c, rdlen),
        rr::NSEC3 => nsec3(p, msg, c, rdlen),
        rr::NSEC3PARAM => nsec3param(p, msg, c, rdlen),
        rr::DS => ds(p, msg, c, rdlen),
        rr::BINDS => binds(p, msg, c, rdlen),
        rr::SSHFP => sshfp(p, msg, c, rdlen),
        rr::LOC => loc(p, msg, c, rdlen),
        rr::SVCB | rr::HTTPS => svcb::svcb(p, msg, c, rdlen),
        t => {
            if !msg.skip_event && p.sink.wants(EventKind::DnsUnknownReply) {
                let (h, a) = (msg.hdr(), msg.answer());
                p.sink.raise(|c| Event::DnsUnknownReply { c, msg: h, ans: a });
            }
            p.sink.weird("DNS_RR_unknown_type", t.to_string());
            c.skip(rdlen);
            true
        }
    }
}

/// Whether the record's event is taken and its section's events are on.
fn taken<S: Sink>(p: &Parser<'_, S>, msg: &Msg, kind: EventKind) -> bool {
    !msg.skip_event && p.sink.wants(kind)
}

/// `DNS_RR_length_mismatch` when the parser read other than `rdlen` bytes from `start`.
fn check_len<S: Sink>(p: &mut Parser<'_, S>, c: &Cursor<'_>, start: usize, rdlen: usize) {
    if c.pos - start != rdlen {
        p.sink.weird("DNS_RR_length_mismatch", String::new());
    }
}

/// A character string of the record's data (Zeek's `extract_char_string`):
/// `None` when the data is used up, or (with `DNS_TXT_char_str_past_rdlen`)
/// when its length runs past it.
pub fn char_string<S: Sink>(p: &mut Parser<'_, S>, c: &mut Cursor<'_>, rdlen: &mut i64) -> Option<Vec<u8>> {
    if *rdlen <= 0 {
        return None;
    }
    let size = i64::from(c.u8());
    *rdlen -= 1;
    if size > *rdlen {
        p.sink.weird("DNS_TXT_char_str_past_rdlen", String::new());
        return None;
    }
    *rdlen -= size;
    Some(c.bytes(size))
}

fn a<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if rdlen != 4 {
        p.sink.weird("DNS_RR_bad_length", String::new());
        return false;
    }
    let addr = IpAddr::V4(Ipv4Addr::from(c.u32()));
    if taken(p, msg, EventKind::DnsAReply) {
        let (h, ans) = (msg.hdr(), msg.answer());
        p.sink.raise(|c| Event::DnsAReply { c, msg: h, ans, a: addr });
    }
    true
}

/// AAAA and A6 (read as AAAA): 16 bytes, whatever the record's length says.
fn aaaa<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>) -> bool {
    let mut words = [0u32; 4];
    for w in &mut words {
        *w = c.u32();
    }
    let mut b = [0u8; 16];
    for (i, w) in words.iter().enumerate() {
        b[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
    }
    let addr = IpAddr::V6(Ipv6Addr::from(b));
    let kind = if msg.atype == rr::AAAA { EventKind::DnsAaaaReply } else { EventKind::DnsA6Reply };
    if taken(p, msg, kind) {
        let (h, ans) = (msg.hdr(), msg.answer());
        p.sink.raise(|c| match kind {
            EventKind::DnsAaaaReply => Event::DnsAaaaReply { c, msg: h, ans, a: addr },
            _ => Event::DnsA6Reply { c, msg: h, ans, a: addr },
        });
    }
    true
}

/// NS, CNAME and PTR: one name.
fn name_rr<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    let start = c.pos;
    let Some(n) = p.name(c, false) else { return false };
    check_len(p, c, start, rdlen);
    let kind = match msg.atype {
        rr::NS => EventKind::DnsNsReply,
        rr::CNAME => EventKind::DnsCnameReply,
        _ => EventKind::DnsPtrReply,
    };
    if taken(p, msg, kind) {
        let (h, ans, name) = (msg.hdr(), msg.answer(), text(&n));
        p.sink.raise(|c| match kind {
            EventKind::DnsNsReply => Event::DnsNsReply { c, msg: h, ans, name },
            EventKind::DnsCnameReply => Event::DnsCnameReply { c, msg: h, ans, name },
            _ => Event::DnsPtrReply { c, msg: h, ans, name },
        });
    }
    true
}

fn soa<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    let start = c.pos;
    let Some(mname) = p.name(c, false) else { return false };
    let Some(rname) = p.name(c, false) else { return false };
    if c.len() < 20 {
        return false;
    }
    let (serial, refresh, retry, expire, minimum) = (c.u32(), c.u32(), c.u32(), c.u32(), c.u32());
    check_len(p, c, start, rdlen);
    if taken(p, msg, EventKind::DnsSoaReply) {
        let soa = Box::new(DnsSoa {
            mname: text(&mname),
            rname: text(&rname),
            serial,
            refresh: refresh.into(),
            retry: retry.into(),
            expire: expire.into(),
            minimum: minimum.into(),
        });
        let (h, ans) = (msg.hdr(), msg.answer());
        p.sink.raise(|c| Event::DnsSoaReply { c, msg: h, ans, soa });
    }
    true
}

fn mx<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    let start = c.pos;
    let preference = c.u16();
    let Some(n) = p.name(c, false) else { return false };
    check_len(p, c, start, rdlen);
    if taken(p, msg, EventKind::DnsMxReply) {
        let (h, ans, name) = (msg.hdr(), msg.answer(), text(&n));
        p.sink.raise(|c| Event::DnsMxReply { c, msg: h, ans, name, preference });
    }
    true
}

fn srv<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    let start = c.pos;
    let (priority, weight, port) = (c.u16(), c.u16(), c.u16());
    let Some(n) = p.name(c, false) else { return false };
    check_len(p, c, start, rdlen);
    if taken(p, msg, EventKind::DnsSrvReply) {
        let (h, ans, target) = (msg.hdr(), msg.answer(), text(&n));
        p.sink.raise(|c| Event::DnsSrvReply { c, msg: h, ans, target, priority, weight, p: port });
    }
    true
}

fn hinfo<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsHinfoReply) {
        c.skip(rdlen);
        return true;
    }
    let mut left = rdlen as i64;
    let cpu = char_string(p, c, &mut left).map(|s| text(&s)).unwrap_or_default();
    let os = char_string(p, c, &mut left).map(|s| text(&s)).unwrap_or_default();
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsHinfoReply { c, msg: h, ans, cpu, os });
    left == 0
}

/// TXT and SPF: character strings until the data ends.
fn txt<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    let kind = if msg.atype == rr::TXT { EventKind::DnsTxtReply } else { EventKind::DnsSpfReply };
    if !taken(p, msg, kind) {
        c.skip(rdlen);
        return true;
    }
    let mut left = rdlen as i64;
    let mut strs = Vec::new();
    while let Some(s) = char_string(p, c, &mut left) {
        strs.push(text(&s));
    }
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| match kind {
        EventKind::DnsTxtReply => Event::DnsTxtReply { c, msg: h, ans, strs },
        _ => Event::DnsSpfReply { c, msg: h, ans, strs },
    });
    left == 0
}

fn caa<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsCaaReply) {
        c.skip(rdlen);
        return true;
    }
    let word = c.u16();
    let tag_len = usize::from(word & 0xff);
    let flags = (word >> 8) as u8;
    let left = rdlen as i64 - 2;
    if tag_len as i64 >= left {
        p.sink.weird("DNS_CAA_char_str_past_rdlen", String::new());
        return false;
    }
    let tag = text(&c.bytes(tag_len as i64));
    let value = text(&c.bytes(left - tag_len as i64));
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsCaaReply { c, msg: h, ans, flags, tag, value });
    true
}

fn naptr<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    let (order, preference) = (c.u16(), c.u16());
    let mut left = rdlen as i64 - 4;
    if c.is_empty() || left <= 0 {
        p.sink.violate("DNS_NAPTR_too_short");
        return false;
    }
    let flags = char_string(p, c, &mut left);
    let service = char_string(p, c, &mut left);
    let regexp = char_string(p, c, &mut left);
    let replacement = p.name(c, true);
    let (Some(flags), Some(service), Some(regexp), Some(replacement)) = (flags, service, regexp, replacement) else {
        p.sink.violate("DNS_NAPTR_RR_too_short");
        return false;
    };
    if taken(p, msg, EventKind::DnsNaptrReply) {
        let naptr = Box::new(DnsNaptrRr {
            order,
            preference,
            flags: text(&flags),
            service: text(&service),
            regexp: text(&regexp),
            replacement: text(&replacement),
        });
        let (h, ans) = (msg.hdr(), msg.answer());
        p.sink.raise(|c| Event::DnsNaptrReply { c, msg: h, ans, naptr });
    }
    true
}

fn tsig<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>) -> bool {
    let rules = p.rules();
    let Some(alg) = name::extract(c, TSIG_NAME_ROOM, false, rules, p.sink) else { return false };
    let (secs, ms, fudge) = (c.u32(), c.u16(), c.u16());
    let sig = c.octets();
    let (orig_id, rr_error) = (c.u16(), c.u16());
    c.octets();
    if p.sink.wants(EventKind::DnsTsigAddl) {
        let ans = Box::new(DnsTsigAdditional {
            query: msg.query_name.clone(),
            qtype: msg.answer_type,
            alg_name: text(&alg),
            sig,
            time_signed: f64::from(secs) + f64::from(ms) / 1000.0,
            fudge: fudge.into(),
            orig_id,
            rr_error,
            is_query: msg.is_query,
        });
        let h = msg.hdr();
        p.sink.raise(|c| Event::DnsTsigAddl { c, msg: h, ans });
    }
    true
}

fn tkey<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsTkey) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 16 {
        return false;
    }
    let Some(alg) = p.name(c, false) else { return false };
    let (inception, expiration, mode, error) = (c.u32(), c.u32(), c.u16(), c.u16());
    let key_data = c.octets();
    c.octets();
    let ans = Box::new(DnsTkeyRr {
        query: msg.query_name.clone(),
        qtype: msg.answer_type,
        alg_name: text(&alg),
        inception: inception.into(),
        expiration: expiration.into(),
        mode,
        rr_error: error,
        key_data,
        is_query: msg.is_query,
    });
    let h = msg.hdr();
    p.sink.raise(|c| Event::DnsTkey { c, msg: h, ans });
    true
}

/// The weird for a DNSSEC algorithm that is not recommended, private, indirect or unknown.
fn algorithm_weird<S: Sink>(p: &mut Parser<'_, S>, algo: u8, rrsig: bool) {
    let name = match (algo, rrsig) {
        (2..=8 | 10 | 12..=16, _) => return,
        (1, true) => "DNSSEC_RRSIG_NotRecommended_ZoneSignAlgo",
        (1, false) => "DNSSEC_DNSKEY_NotRecommended_ZoneSignAlgo",
        (252, true) => "DNSSEC_RRSIG_Indirect_ZoneSignAlgo",
        (252, false) => "DNSSEC_DNSKEY_Indirect_ZoneSignAlgo",
        (253, true) => "DNSSEC_RRSIG_PrivateDNS_ZoneSignAlgo",
        (253, false) => "DNSSEC_DNSKEY_PrivateDNS_ZoneSignAlgo",
        (254, true) => "DNSSEC_RRSIG_PrivateOID_ZoneSignAlgo",
        (254, false) => "DNSSEC_DNSKEY_PrivateOID_ZoneSignAlgo",
        (_, true) => "DNSSEC_RRSIG_unknown_ZoneSignAlgo",
        (_, false) => "DNSSEC_DNSKEY_unknown_ZoneSignAlgo",
    };
    p.sink.weird(name, algo.to_string());
}

fn rrsig<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsRrsig) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 18 {
        return false;
    }
    let type_covered = c.u16();
    let algo_labels = c.u16();
    let (algorithm, labels) = ((algo_labels >> 8) as u8, algo_labels as u8);
    let (orig_ttl, sig_exp, sig_incep, key_tag) = (c.u32(), c.u32(), c.u32(), c.u16());
    let start = c.pos;
    let Some(signer) = p.name(c, false) else { return false };
    let sig_len = rdlen as i64 - ((c.pos - start) as i64 + 18);
    let signature = c.bytes(sig_len);
    algorithm_weird(p, algorithm, true);
    let rrsig = Box::new(DnsRrsigRr {
        query: msg.query_name.clone(),
        answer_type: msg.answer_type,
        type_covered,
        algorithm,
        labels,
        orig_ttl: orig_ttl.into(),
        sig_exp: sig_exp.into(),
        sig_incep: sig_incep.into(),
        key_tag,
        signer_name: text(&signer),
        signature,
        is_query: msg.is_query,
    });
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsRrsig { c, msg: h, ans, rrsig });
    true
}

fn dnskey<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsDnskey) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 4 {
        return false;
    }
    let flags = c.u16();
    let proto_algo = c.u16();
    let (protocol, algorithm) = ((proto_algo >> 8) as u8, proto_algo as u8);
    let public_key = c.bytes(rdlen as i64 - 4);
    if flags & 0xfe7e != 0 {
        p.sink.weird("DNSSEC_DNSKEY_Invalid_Flag", flags.to_string());
    }
    if flags & 0x0181 == 0x0181 {
        p.sink.weird("DNSSEC_DNSKEY_Revoked_KSK", flags.to_string());
    }
    if protocol != 3 {
        p.sink.weird("DNSSEC_DNSKEY_Invalid_Protocol", protocol.to_string());
    }
    algorithm_weird(p, algorithm, false);
    let dnskey = Box::new(DnsDnskeyRr {
        query: msg.query_name.clone(),
        answer_type: msg.answer_type,
        flags,
        protocol,
        algorithm,
        public_key,
        is_query: msg.is_query,
    });
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsDnskey { c, msg: h, ans, dnskey });
    true
}

/// NSEC and NSEC3 type bitmaps: (window, length, bitmap) blocks while data is left.
fn bitmaps<S: Sink>(p: &mut Parser<'_, S>, c: &mut Cursor<'_>, mut left: i64, weird: &'static str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while left > 0 && !c.is_empty() {
        let block = c.u16();
        let (window, len) = (block >> 8, block & 0xff);
        if len == 0 {
            p.sink.weird(weird, window.to_string());
            break;
        }
        out.push(c.bytes(len.into()));
        left -= 2 + i64::from(len);
    }
    out
}

fn nsec<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsNsec) {
        c.skip(rdlen);
        return true;
    }
    let start = c.pos;
    let Some(next) = p.name(c, false) else { return false };
    let left = rdlen as i64 - (c.pos - start) as i64;
    let bitmaps = bitmaps(p, c, left, "DNSSEC_NSEC_bitmapLen0");
    let (h, ans, next_name) = (msg.hdr(), msg.answer(), text(&next));
    p.sink.raise(|c| Event::DnsNsec { c, msg: h, ans, next_name, bitmaps });
    true
}

fn nsec3<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsNsec3) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 6 {
        return false;
    }
    let start = c.pos;
    let algo_flags = c.u16();
    let iter = c.u16();
    let salt_len = c.u8();
    let salt = c.bytes(salt_len.into());
    let hash_len = c.u8();
    let hash = c.bytes(hash_len.into());
    let left = rdlen as i64 - (c.pos - start) as i64;
    let bitmaps = bitmaps(p, c, left, "DNSSEC_NSEC3_bitmapLen0");
    let nsec3 = Box::new(DnsNsec3Rr {
        query: msg.query_name.clone(),
        answer_type: msg.answer_type,
        nsec_flags: algo_flags as u8,
        nsec_hash_algo: (algo_flags >> 8) as u8,
        nsec_iter: iter,
        nsec_salt_len: salt_len,
        nsec_salt: salt,
        nsec_hlen: hash_len,
        nsec_hash: hash,
        bitmaps,
        is_query: msg.is_query,
    });
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsNsec3 { c, msg: h, ans, nsec3 });
    true
}

fn nsec3param<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsNsec3param) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 5 {
        return false;
    }
    let algo_flags = c.u16();
    let iter = c.u16();
    let salt_len = c.u8();
    let salt = c.bytes(salt_len.into());
    let nsec3param = Box::new(DnsNsec3paramRr {
        query: msg.query_name.clone(),
        answer_type: msg.answer_type,
        nsec_flags: algo_flags as u8,
        nsec_hash_algo: (algo_flags >> 8) as u8,
        nsec_iter: iter,
        nsec_salt_len: salt_len,
        nsec_salt: salt,
        is_query: msg.is_query,
    });
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsNsec3param { c, msg: h, ans, nsec3param });
    true
}

fn ds<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsDs) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 4 {
        return false;
    }
    let key_tag = c.u16();
    let algo_type = c.u16();
    let (algorithm, digest_type) = ((algo_type >> 8) as u8, algo_type as u8);
    let digest_val = c.bytes(rdlen as i64 - 4);
    match digest_type {
        1..=4 => {}
        0 => p.sink.weird("DNSSEC_DS_ReservedDigestType", digest_type.to_string()),
        _ => p.sink.weird("DNSSEC_DS_unknown_DigestType", digest_type.to_string()),
    }
    let ds = Box::new(DnsDsRr {
        query: msg.query_name.clone(),
        answer_type: msg.answer_type,
        key_tag,
        algorithm,
        digest_type,
        digest_val,
        is_query: msg.is_query,
    });
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsDs { c, msg: h, ans, ds });
    true
}

fn binds<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsBinds) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 5 {
        return false;
    }
    let word = c.u32();
    let complete_flag = c.u8();
    let binds = Box::new(DnsBindsRr {
        query: msg.query_name.clone(),
        answer_type: msg.answer_type,
        algorithm: (word >> 24) as u8,
        key_id: (word >> 8) as u16,
        removal_flag: word as u8,
        complete_flag,
        is_query: msg.is_query,
    });
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsBinds { c, msg: h, ans, binds });
    true
}

fn sshfp<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !taken(p, msg, EventKind::DnsSshfp) {
        c.skip(rdlen);
        return true;
    }
    if c.len() < 2 {
        return false;
    }
    let word = c.u16();
    let fingerprint = c.bytes(rdlen as i64 - 2);
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsSshfp { c, msg: h, ans, algo: (word >> 8) as u8, fptype: word as u8, fingerprint });
    true
}

fn loc<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if rdlen != 16 {
        p.sink.weird("dns_invalid_loc_length", String::new());
        return false;
    }
    if !taken(p, msg, EventKind::DnsLoc) {
        c.skip(rdlen);
        return true;
    }
    let (vs, hv) = (c.u16(), c.u16());
    let (latitude, longitude, altitude) = (c.u32(), c.u32(), c.u32());
    let version = (vs >> 8) as u8;
    if version != 0 {
        p.sink.weird("DNS_LOC_version_unrecognized", version.to_string());
    }
    let loc = Box::new(DnsLocRr {
        query: msg.query_name.clone(),
        answer_type: msg.answer_type,
        version,
        size: vs as u8,
        horiz_pre: (hv >> 8) as u8,
        vert_pre: hv as u8,
        latitude,
        longitude,
        altitude,
        is_query: msg.is_query,
    });
    let (h, ans) = (msg.hdr(), msg.answer());
    p.sink.raise(|c| Event::DnsLoc { c, msg: h, ans, loc });
    true
}

#[cfg(test)]
mod tests {
    use super::super::message::{parse, ConnFacts, Parser};
    use super::super::testing::{Build, Rec};
    use super::super::DnsConfig;
    use super::*;

    /// A reply to `x` carrying one answer record of type `t` with `data`; what it raised.
    fn answer(t: u16, data: &[u8]) -> Rec {
        let m = Build::new(1, 0x8180, [1, 1, 0, 0]).question("x", t, 1).rr(b"\xc0\x0c", t, 1, 60, data).0;
        let mut s = Rec::default();
        let cfg = DnsConfig::default();
        let mut p = Parser { sink: &mut s, cfg: &cfg, conn: ConnFacts::default() };
        parse(&mut p, &m, 0, &mut false);
        s
    }

    fn event(s: &Rec, kind: EventKind) -> &Event {
        s.events().into_iter().find(|e| e.kind() == kind).unwrap_or_else(|| panic!("no {kind:?} in {:?}", s.got))
    }

    #[test]
    fn soa_mx_srv_and_txt() {
        let s = answer(rr::SOA, b"\x02ns\x00\x04host\x00\x00\x00\x00\x07\x00\x00\x0e\x10\x00\x00\x01\x2c\x00\x09\x3a\x80\x00\x00\x00\x3c");
        let Event::DnsSoaReply { soa, .. } = event(&s, EventKind::DnsSoaReply) else { unreachable!() };
        assert_eq!((soa.mname.as_str(), soa.rname.as_str(), soa.serial, soa.refresh, soa.minimum), ("ns", "host", 7, 3600.0, 60.0));
        assert!(s.weird_names().is_empty());

        let s = answer(rr::MX, b"\x00\x0a\x04mail\xc0\x0c");
        let Event::DnsMxReply { name, preference, .. } = event(&s, EventKind::DnsMxReply) else { unreachable!() };
        assert_eq!((name.as_str(), *preference), ("mail.x", 10));

        let s = answer(rr::SRV, b"\x00\x01\x00\x02\x00\x35\x03srv\x00");
        let Event::DnsSrvReply { target, priority, weight, p, .. } = event(&s, EventKind::DnsSrvReply) else { unreachable!() };
        assert_eq!((target.as_str(), *priority, *weight, *p), ("srv", 1, 2, 53));

        let s = answer(rr::TXT, b"\x03abc\x00\x02de");
        let Event::DnsTxtReply { strs, .. } = event(&s, EventKind::DnsTxtReply) else { unreachable!() };
        assert_eq!(strs, &["abc", "", "de"]);
        // A name whose data runs past its length: Zeek's mismatch weird.
        let s = answer(rr::NS, b"\x02ns\x00\x00");
        assert_eq!(s.weird_names(), ["DNS_RR_length_mismatch"]);
    }

    #[test]
    fn naptr_caa_and_spf() {
        let s = answer(rr::NAPTR, b"\x00\x64\x00\x0a\x01u\x07E2U+sip\x00\x03sip\x00");
        let Event::DnsNaptrReply { naptr, .. } = event(&s, EventKind::DnsNaptrReply) else { unreachable!() };
        assert_eq!(
            (naptr.order, naptr.preference, naptr.flags.as_str(), naptr.service.as_str(), naptr.regexp.as_str(), naptr.replacement.as_str()),
            (100, 10, "u", "E2U+sip", "", "sip")
        );
        let s = answer(rr::NAPTR, b"\x00\x64\x00\x0a");
        assert!(s.got.contains(&super::super::testing::Got::Violate("DNS_NAPTR_too_short")), "{:?}", s.got);

        let s = answer(rr::CAA, b"\x80\x05issueca.example");
        let Event::DnsCaaReply { flags, tag, value, .. } = event(&s, EventKind::DnsCaaReply) else { unreachable!() };
        assert_eq!((*flags, tag.as_str(), value.as_str()), (128, "issue", "ca.example"));
        let s = answer(rr::CAA, b"\x00\x09issue");
        assert_eq!(s.weird_names(), ["DNS_CAA_char_str_past_rdlen"]);

        let s = answer(rr::SPF, b"\x06v=spf1");
        let Event::DnsSpfReply { strs, .. } = event(&s, EventKind::DnsSpfReply) else { unreachable!() };
        assert_eq!(strs, &["v=spf1"]);
    }

    #[test]
    fn dnssec_records_and_their_weirds() {
        let s = answer(rr::DS, b"\x12\x34\x08\x02\xaa\xbb");
        let Event::DnsDs { ds, .. } = event(&s, EventKind::DnsDs) else { unreachable!() };
        assert_eq!((ds.key_tag, ds.algorithm, ds.digest_type, ds.digest_val.as_slice()), (0x1234, 8, 2, &[0xaa, 0xbb][..]));
        assert_eq!(answer(rr::DS, b"\x12\x34\x08\x09\xaa").weird_names(), ["DNSSEC_DS_unknown_DigestType"]);

        let s = answer(rr::DNSKEY, b"\x01\x01\x03\x01\xde\xad");
        let Event::DnsDnskey { dnskey, .. } = event(&s, EventKind::DnsDnskey) else { unreachable!() };
        assert_eq!((dnskey.flags, dnskey.protocol, dnskey.algorithm, dnskey.public_key.len()), (257, 3, 1, 2));
        assert_eq!(s.weird_names(), ["DNSSEC_DNSKEY_NotRecommended_ZoneSignAlgo"]);
        let s = answer(rr::DNSKEY, b"\x01\x81\x02\xfd");
        assert_eq!(
            s.weird_names(),
            ["DNSSEC_DNSKEY_Revoked_KSK", "DNSSEC_DNSKEY_Invalid_Protocol", "DNSSEC_DNSKEY_PrivateDNS_ZoneSignAlgo"]
        );

        let mut rrsig = b"\x00\x01\x08\x02\x00\x00\x0e\x10\x60\x00\x00\x00\x5f\x00\x00\x00\x04\xd2".to_vec();
        rrsig.extend_from_slice(b"\x07example\x00\x01\x02\x03");
        let s = answer(rr::RRSIG, &rrsig);
        let Event::DnsRrsig { rrsig, .. } = event(&s, EventKind::DnsRrsig) else { unreachable!() };
        assert_eq!((rrsig.type_covered, rrsig.algorithm, rrsig.labels, rrsig.key_tag), (1, 8, 2, 1234));
        assert_eq!((rrsig.signer_name.as_str(), rrsig.signature.as_slice(), rrsig.orig_ttl), ("example", &[1, 2, 3][..], 3600.0));

        let s = answer(rr::NSEC, b"\x04next\x00\x00\x02\x40\x01");
        let Event::DnsNsec { next_name, bitmaps, .. } = event(&s, EventKind::DnsNsec) else { unreachable!() };
        assert_eq!((next_name.as_str(), bitmaps.clone()), ("next", vec![vec![0x40, 0x01]]));
        assert_eq!(answer(rr::NSEC, b"\x04next\x00\x00\x00").weird_names(), ["DNSSEC_NSEC_bitmapLen0"]);

        let s = answer(rr::NSEC3, b"\x01\x00\x00\x0a\x02\xab\xcd\x01\xee\x00\x01\x40");
        let Event::DnsNsec3 { nsec3, .. } = event(&s, EventKind::DnsNsec3) else { unreachable!() };
        assert_eq!((nsec3.nsec_hash_algo, nsec3.nsec_iter, nsec3.nsec_salt.clone(), nsec3.nsec_hash.clone()), (1, 10, vec![0xab, 0xcd], vec![0xee]));
        assert_eq!(nsec3.bitmaps, vec![vec![0x40]]);
    }

    #[test]
    fn svcb_parameters_and_a_malformed_port() {
        // priority 1, target ".", alpn h2,h3, port 443, ipv4hint 192.0.2.1
        let data = b"\x00\x01\x00\x00\x01\x00\x06\x02h2\x02h3\x00\x03\x00\x02\x01\xbb\x00\x04\x00\x04\xc0\x00\x02\x01";
        let s = answer(rr::HTTPS, data);
        let Event::DnsHttps { https, .. } = event(&s, EventKind::DnsHttps) else { unreachable!() };
        assert_eq!((https.svc_priority, https.target_name.as_str()), (1, "."));
        let params = https.svc_params.as_ref().unwrap();
        assert_eq!(params[0].alpn.as_deref(), Some(&["h2".to_string(), "h3".to_string()][..]));
        assert_eq!(params[1].p, Some(443));
        assert_eq!(params[2].hint.as_ref().unwrap()[0].to_string(), "192.0.2.1");
        assert!(s.weird_names().is_empty());

        let s = answer(rr::SVCB, b"\x00\x01\x00\x00\x03\x00\x01\x05");
        let Event::DnsSvcb { svcb, .. } = event(&s, EventKind::DnsSvcb) else { unreachable!() };
        assert_eq!(s.weird_names(), ["DNS_SVCB_port_length_invalid"]);
        assert_eq!(svcb.svc_params.as_ref().unwrap()[0].raw.as_deref(), Some(&[5u8][..]));
        assert_eq!(answer(rr::SVCB, b"\x00\x00").weird_names(), ["DNS_SVCB_wrong_length"]);
    }
}
