//! Header conditions against a packet: addresses, transport protocol and
//! bytes of the IP or transport header (Zeek's `RuleHdrTest`).

use super::rule::{Cmp, HdrTest, Masked, Prefix, Proto};
use std::net::IpAddr;

/// The parts of a packet header conditions read.
#[derive(Clone, Copy, Debug)]
pub struct PacketView<'a> {
    /// 4 or 6.
    pub version: u8,
    /// The IP header bytes as captured (IPv6: fixed header first).
    pub ip: &'a [u8],
    /// The transport protocol number (last next-header of an IPv6 chain).
    pub next_proto: u8,
    /// Source address of the fixed header.
    pub src: IpAddr,
    /// Destination address of the fixed header.
    pub dst: IpAddr,
    /// The transport header and what follows it.
    pub transport: &'a [u8],
}

/// Whether every test of `tests` holds for `p`.
pub fn all_hold(tests: &[HdrTest], p: &PacketView<'_>) -> bool {
    tests.iter().all(|t| holds(t, p))
}

/// Whether one header test holds for `p`.
pub fn holds(t: &HdrTest, p: &PacketView<'_>) -> bool {
    match t {
        HdrTest::Addr { src, cmp, prefixes } => addr_cmp(prefixes, if *src { p.src } else { p.dst }, *cmp),
        HdrTest::NextProto { cmp, vals } => value_cmp(vals, p.next_proto as u32, *cmp),
        HdrTest::Bytes { proto, off, len, cmp, vals } => {
            let bytes = match proto {
                Proto::Ip if p.version == 4 => p.ip,
                Proto::Ip6 if p.version == 6 => p.ip,
                Proto::Ip | Proto::Ip6 => return false,
                Proto::Tcp | Proto::Udp | Proto::Icmp | Proto::Icmp6 => p.transport,
            };
            let (off, len) = (*off as usize, *len as usize);
            let Some(b) = bytes.get(off..off.saturating_add(len)) else { return false };
            let v = b.iter().fold(0u32, |a, &x| (a << 8) | x as u32);
            value_cmp(vals, v, *cmp)
        }
    }
}

/// Zeek's list comparison: `!=` holds when no value is equal, the others
/// when some value compares true.
fn value_cmp(vals: &[Masked], v: u32, cmp: Cmp) -> bool {
    match cmp {
        Cmp::Ne => !vals.iter().any(|m| v & m.mask == m.val),
        _ => vals.iter().any(|m| cmp.holds(v & m.mask, m.val)),
    }
}

/// The same over prefixes: the address masked to each prefix's length.
fn addr_cmp(prefixes: &[Prefix], a: IpAddr, cmp: Cmp) -> bool {
    let one = |p: &Prefix| -> Option<std::cmp::Ordering> {
        let (x, y) = (to_v6(a), to_v6(p.addr));
        let bits = if p.addr.is_ipv4() { p.len as u32 + 96 } else { p.len as u32 };
        let m = if bits == 0 { 0 } else { u128::MAX << (128 - bits.min(128)) };
        Some((x & m).cmp(&y))
    };
    let test = |p: &Prefix, c: Cmp| match one(p) {
        Some(o) => match c {
            Cmp::Eq | Cmp::Ne => o.is_eq(),
            Cmp::Lt => o.is_lt(),
            Cmp::Le => o.is_le(),
            Cmp::Gt => o.is_gt(),
            Cmp::Ge => o.is_ge(),
        },
        None => false,
    };
    match cmp {
        Cmp::Ne => !prefixes.iter().any(|p| test(p, Cmp::Eq)),
        _ => prefixes.iter().any(|p| test(p, cmp)),
    }
}

/// An address as 128 bits, IPv4 mapped into `::ffff:0:0/96`.
fn to_v6(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(v.to_ipv6_mapped()),
        IpAddr::V6(v) => u128::from(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(src: &str, dst: &str, transport: &'a [u8]) -> PacketView<'a> {
        PacketView {
            version: 4,
            ip: &[0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17],
            next_proto: 17,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport,
        }
    }

    fn m(v: u32) -> Masked {
        Masked { val: v, mask: u32::MAX }
    }

    #[test]
    fn ports_protocols_and_header_bytes() {
        let udp = [0x75, 0x30, 0x32, 0xc8, 0, 12, 0, 0];
        let p = view("127.0.0.1", "127.0.0.1", &udp);
        let sport = |cmp, vals: Vec<Masked>| HdrTest::Bytes { proto: Proto::Tcp, off: 0, len: 2, cmp, vals };
        assert!(holds(&sport(Cmp::Eq, vec![m(1), m(30000)]), &p));
        assert!(!holds(&sport(Cmp::Ne, vec![m(1), m(30000)]), &p));
        assert!(holds(&sport(Cmp::Ne, vec![m(1), m(2)]), &p));
        assert!(holds(&sport(Cmp::Gt, vec![m(29999)]), &p));
        assert!(!holds(&sport(Cmp::Lt, vec![m(30000)]), &p));
        assert!(holds(&HdrTest::NextProto { cmp: Cmp::Eq, vals: vec![m(17)] }, &p));
        assert!(holds(&HdrTest::Bytes { proto: Proto::Ip, off: 9, len: 1, cmp: Cmp::Eq, vals: vec![m(17)] }, &p));
        assert!(!holds(&HdrTest::Bytes { proto: Proto::Ip6, off: 0, len: 1, cmp: Cmp::Eq, vals: vec![m(0x45)] }, &p));
        assert!(holds(
            &HdrTest::Bytes { proto: Proto::Ip, off: 0, len: 1, cmp: Cmp::Eq, vals: vec![Masked { val: 0x40, mask: 0xf0 }] },
            &p
        ));
        assert!(
            !holds(&HdrTest::Bytes { proto: Proto::Udp, off: 8, len: 4, cmp: Cmp::Ne, vals: vec![m(0)] }, &p),
            "past the end"
        );
    }

    #[test]
    fn address_prefixes() {
        let p = view("10.1.2.3", "192.168.1.1", &[]);
        let pf = |a: &str, len| Prefix { addr: a.parse().unwrap(), len };
        let src = |cmp, prefixes| HdrTest::Addr { src: true, cmp, prefixes };
        assert!(holds(&src(Cmp::Eq, vec![pf("10.0.0.0", 8)]), &p));
        assert!(!holds(&src(Cmp::Eq, vec![pf("10.0.0.0", 16)]), &p));
        assert!(!holds(&src(Cmp::Ne, vec![pf("10.0.0.0", 16), pf("::", 0)]), &p), "::/0 holds every address");
        assert!(holds(&src(Cmp::Ne, vec![pf("11.0.0.0", 8), pf("2001:db8::", 32)]), &p));
        assert!(holds(&HdrTest::Addr { src: false, cmp: Cmp::Eq, prefixes: vec![pf("192.168.1.1", 32)] }, &p));
    }
}
