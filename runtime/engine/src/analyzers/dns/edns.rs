//! The OPT pseudo-record (EDNS, RFC 6891) and the options Zeek reads from
//! it: client subnet (8), TCP keepalive (11) and cookie (10). Weirds:
//! `EDNS_truncated_option`, `EDNS_ECS_invalid_option_len`,
//! `EDNS_ECS_invalid_addr_v4_prefix` / `_v6_prefix`,
//! `EDNS_ECS_invalid_addr_v4` / `_v6` and `EDNS_TCP_Keepalive_In_UDP`.

use super::cursor::Cursor;
use super::message::{Msg, Parser};
use super::Sink;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use weir_events::*;

const OPT_ECS: u16 = 8;
const OPT_COOKIE: u16 = 10;
const OPT_TCP_KEEPALIVE: u16 = 11;

/// The OPT record's `dns_EDNS_addl`, then its options.
pub fn opt<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    if !msg.skip_event && p.sink.wants(EventKind::DnsEdnsAddl) {
        let ttl = msg.ttl;
        let ans = Box::new(DnsEdnsAdditional {
            query: msg.query_name.clone(),
            qtype: msg.answer_type,
            t: msg.atype,
            payload_size: msg.aclass,
            extended_rcode: (((ttl >> 24) & 0xff) << 4) | u32::from(msg.hdr.rcode),
            version: (ttl >> 16) & 0xff,
            z_field: ttl & 0xffff,
            ttl: ttl.into(),
            is_query: msg.is_query,
        });
        let h = msg.hdr();
        p.sink.raise(|c| Event::DnsEdnsAddl { c, msg: h, ans });
    }
    let mut left = rdlen as i64;
    while left >= 4 {
        let code = c.u16();
        let len = c.u16();
        left -= 4;
        if i64::from(len) > left {
            p.sink.weird("EDNS_truncated_option", String::new());
            return false;
        }
        let mut o = Cursor { msg: c.msg, pos: c.pos, end: (c.pos + usize::from(len)).min(c.end) };
        match code {
            OPT_ECS => ecs(p, msg, &mut o, len),
            OPT_TCP_KEEPALIVE if len == 0 || len == 2 => {
                let (omitted, timeout) = if len == 2 { (false, o.u16()) } else { (true, 0) };
                if p.conn.udp {
                    p.sink.weird("EDNS_TCP_Keepalive_In_UDP", String::new());
                }
                if p.sink.wants(EventKind::DnsEdnsTcpKeepalive) {
                    let opt = Box::new(DnsEdnsTcpKeepaliveOption { keepalive_timeout_omitted: omitted, keepalive_timeout: timeout });
                    let h = msg.hdr();
                    p.sink.raise(|c| Event::DnsEdnsTcpKeepalive { c, msg: h, opt });
                }
            }
            OPT_COOKIE if len == 8 || (16..=40).contains(&len) => {
                let client_cookie = o.bytes(8);
                let server_cookie = if len >= 16 { o.bytes(i64::from(len) - 8) } else { Vec::new() };
                if p.sink.wants(EventKind::DnsEdnsCookie) {
                    let opt = Box::new(DnsEdnsCookieOption { client_cookie, server_cookie });
                    let h = msg.hdr();
                    p.sink.raise(|c| Event::DnsEdnsCookie { c, msg: h, opt });
                }
            }
            _ => {}
        }
        c.skip(usize::from(len));
        left -= i64::from(len);
    }
    if left != 0 {
        p.sink.weird("EDNS_truncated_option", String::new());
        return false;
    }
    true
}

/// The client-subnet option: family, prefix lengths, then as many address bytes as the source prefix needs.
fn ecs<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, o: &mut Cursor<'_>, len: u16) {
    if len <= 4 {
        p.sink.weird("EDNS_ECS_invalid_option_len", String::new());
        return;
    }
    let family = o.u16();
    let prefixes = o.u16();
    let (source, scope) = ((prefixes >> 8) as u8, prefixes as u8);
    let (name, max, v4) = match family {
        1 => ("v4", 32, true),
        2 => ("v6", 128, false),
        _ => return,
    };
    if u16::from(source) > max {
        let w = if v4 { "EDNS_ECS_invalid_addr_v4_prefix" } else { "EDNS_ECS_invalid_addr_v6_prefix" };
        p.sink.weird(w, format!("{source} bits"));
        return;
    }
    let have = o.len() * 8;
    if usize::from(source) > have {
        let w = if v4 { "EDNS_ECS_invalid_addr_v4" } else { "EDNS_ECS_invalid_addr_v6" };
        p.sink.weird(w, format!("need {source} bits, have {have} bits"));
        return;
    }
    let bytes = o.bytes(i64::from(source).div_euclid(8) + i64::from(source % 8 != 0));
    let address = if v4 {
        let mut b = [0u8; 4];
        b[..bytes.len()].copy_from_slice(&bytes);
        IpAddr::V4(Ipv4Addr::from(b))
    } else {
        let mut b = [0u8; 16];
        b[..bytes.len()].copy_from_slice(&bytes);
        IpAddr::V6(Ipv6Addr::from(b))
    };
    if p.sink.wants(EventKind::DnsEdnsEcs) {
        let opt = Box::new(DnsEdnsEcsOption { family: name.into(), source_prefix_len: source, scope_prefix_len: scope, address });
        let h = msg.hdr();
        p.sink.raise(|c| Event::DnsEdnsEcs { c, msg: h, opt });
    }
}
