//! SVCB and HTTPS records (RFC 9460): priority, target and SvcParams, with
//! Zeek's weirds for malformed parameters (`DNS_SVCB_wrong_length`,
//! `DNS_SVCB_aliasmode_with_params`, `DNS_SVCB_param_value_toobig`,
//! `DNS_SVCB_mandatory_length_invalid`, `DNS_SVCB_alpn_length_invalid`,
//! `DNS_SVCB_nodefaultalpn_value`, `DNS_SVCB_port_length_invalid`,
//! `DNS_SVCB_hint_length_invalid`, `DNS_SVCB_key_reserved_or_invalid`); a
//! malformed value is kept raw.

use super::cursor::Cursor;
use super::message::{Msg, Parser};
use super::rdata::rr;
use super::Sink;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use weir_events::*;

/// An SVCB or HTTPS record.
pub fn svcb<S: Sink>(p: &mut Parser<'_, S>, msg: &Msg, c: &mut Cursor<'_>, rdlen: usize) -> bool {
    let start = c.pos;
    if rdlen < 3 {
        p.sink.weird("DNS_SVCB_wrong_length", String::new());
        return false;
    }
    let svc_priority = c.u16();
    let Some(target) = p.name(c, true) else { return false };
    let target_name = if target.is_empty() { ".".to_string() } else { super::text(&target) };
    let left = rdlen as i64 - (c.pos - start) as i64;
    let mut svc_params = None;
    if left > 0 {
        if svc_priority == 0 {
            p.sink.weird("DNS_SVCB_aliasmode_with_params", String::new());
        }
        svc_params = Some(params(p, c, left));
    }
    let kind = if msg.atype == rr::SVCB { EventKind::DnsSvcb } else { EventKind::DnsHttps };
    if p.sink.wants(kind) {
        let r = Box::new(DnsSvcbRr { svc_priority, target_name, svc_params });
        let (h, ans) = (msg.hdr(), msg.answer());
        p.sink.raise(|c| match kind {
            EventKind::DnsSvcb => Event::DnsSvcb { c, msg: h, ans, svcb: r },
            _ => Event::DnsHttps { c, msg: h, ans, https: r },
        });
    }
    true
}

fn params<S: Sink>(p: &mut Parser<'_, S>, c: &mut Cursor<'_>, mut left: i64) -> Vec<DnsSvcbParam> {
    let mut out = Vec::new();
    while left >= 4 {
        let key = c.u16();
        let mut value_len = i64::from(c.u16());
        left -= 4;
        let mut param = DnsSvcbParam { key, mandatory: None, alpn: None, p: None, hint: None, ech: None, raw: None };
        let malformed = if value_len > left {
            p.sink.weird("DNS_SVCB_param_value_toobig", format!("{value_len} capped to {left}"));
            value_len = left;
            true
        } else {
            !value(p, c, key, value_len, &mut param)
        };
        if malformed {
            param.raw = Some(c.bytes(value_len));
        }
        out.push(param);
        left -= value_len;
    }
    out
}

/// Reads one parameter's value into `param`; false (after its weird, with
/// nothing consumed) when malformed or of a reserved key.
fn value<S: Sink>(p: &mut Parser<'_, S>, c: &mut Cursor<'_>, key: u16, len: i64, param: &mut DnsSvcbParam) -> bool {
    match key {
        0 => {
            if len == 0 || len % 2 != 0 {
                p.sink.weird("DNS_SVCB_mandatory_length_invalid", String::new());
                return false;
            }
            param.mandatory = Some((0..len / 2).map(|_| c.u16()).collect());
        }
        1 => {
            let start = c.pos;
            let mut ids = Vec::new();
            let mut parsed = 0i64;
            while parsed + 2 <= len {
                let n = i64::from(c.u8());
                parsed += 1;
                if n == 0 || n + parsed > len {
                    p.sink.weird("DNS_SVCB_alpn_length_invalid", String::new());
                    c.pos = start;
                    return false;
                }
                ids.push(super::text(&c.bytes(n)));
                parsed += n;
            }
            if parsed != len {
                p.sink.weird("DNS_SVCB_alpn_length_invalid", String::new());
                c.pos = start;
                return false;
            }
            if !ids.is_empty() {
                param.alpn = Some(ids);
            }
        }
        2 => {
            if len > 0 {
                p.sink.weird("DNS_SVCB_nodefaultalpn_value", String::new());
                return false;
            }
        }
        3 => {
            if len != 2 {
                p.sink.weird("DNS_SVCB_port_length_invalid", String::new());
                return false;
            }
            param.p = Some(c.u16());
        }
        4 | 6 => {
            let size = if key == 4 { 4 } else { 16 };
            if len % size != 0 {
                p.sink.weird("DNS_SVCB_hint_length_invalid", String::new());
                return false;
            }
            let mut hint = Vec::new();
            for _ in 0..len / size {
                let b = c.bytes(size);
                hint.push(match <[u8; 4]>::try_from(b.as_slice()) {
                    Ok(v4) => IpAddr::V4(Ipv4Addr::from(v4)),
                    Err(_) => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b.as_slice()).unwrap_or([0; 16]))),
                });
            }
            if !hint.is_empty() {
                param.hint = Some(hint);
            }
        }
        5 => param.ech = Some(base64(&c.bytes(len))),
        _ => {
            p.sink.weird("DNS_SVCB_key_reserved_or_invalid", String::new());
            return false;
        }
    }
    true
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_pads() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
