//! Connection keys: the canonical (address, port) pair order that makes
//! both directions of a flow hit one table entry, and ICMP's "ports".

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// One endpoint of a key: the address as a number (an IPv4 one in the low
/// 32 bits) and the port. Plain integers, cheaper to build, order and hash
/// on every packet than `(IpAddr, u16)`.
pub type KeyEnd = (u128, u16);

/// The table key: both endpoints in canonical order plus the IP protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnKey {
    /// Lower (address, port) endpoint, or the sender for one-way ICMP.
    pub a: KeyEnd,
    /// Higher endpoint, or the receiver for one-way ICMP.
    pub b: KeyEnd,
    /// IPv6 addresses (else IPv4).
    pub v6: bool,
    /// IP protocol number.
    pub proto: u8,
    /// Extra key context: (outer, inner) VLAN ids when the VLAN-aware key is on.
    pub ctx: (Option<u16>, Option<u16>),
    /// Keyed in packet direction (follows from the ICMP type in `a`).
    pub one_way: bool,
}

impl ConnKey {
    /// Key of a packet from `src` to `dst` (addresses of one family). One-way
    /// flows (ICMP messages without a request/reply counterpart) keep their
    /// direction.
    pub fn new(src: (IpAddr, u16), dst: (IpAddr, u16), proto: u8, one_way: bool) -> ConnKey {
        let (s, d) = (Self::end(src), Self::end(dst));
        let (a, b) = if one_way || s <= d { (s, d) } else { (d, s) };
        ConnKey { a, b, v6: src.0.is_ipv6(), proto, ctx: (None, None), one_way }
    }

    /// The key form of an endpoint.
    pub fn end((ip, port): (IpAddr, u16)) -> KeyEnd {
        let addr = match ip {
            IpAddr::V4(x) => u128::from(u32::from(x)),
            IpAddr::V6(x) => u128::from(x),
        };
        (addr, port)
    }
}

impl Hash for ConnKey {
    /// A few fixed-size writes (one word per IPv4 endpoint), cheaper than
    /// the derived field-by-field hash on every packet's lookup.
    fn hash<H: Hasher>(&self, h: &mut H) {
        for (addr, port) in [self.a, self.b] {
            if self.v6 {
                h.write_u128(addr);
                h.write_u16(port);
            } else {
                h.write_u64((addr as u64) << 16 | u64::from(port));
            }
        }
        let vlan = |v: Option<u16>| v.map_or(0, |x| u64::from(x) + 1);
        h.write_u64(u64::from(self.proto) | u64::from(self.one_way) << 8 | vlan(self.ctx.0) << 16 | vlan(self.ctx.1) << 40);
    }
}

/// ICMP "ports" of a message: (type, counterpart type or code, one-way).
/// Request/reply kinds return the counterpart type; everything else the
/// code, and is one-way (its two directions are different connections), as
/// Zeek keys ICMP.
pub fn icmp_ports(v6: bool, itype: u8, icode: u8) -> (u16, u16, bool) {
    let counterpart = if v6 {
        match itype {
            128 => Some(129),
            129 => Some(128),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            130 => Some(131),
            131 => Some(130),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match itype {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match counterpart {
        Some(c) => (itype as u16, c, false),
        None => (itype as u16, icode as u16, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_a_key() {
        let x: IpAddr = "10.0.0.1".parse().unwrap();
        let y: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(ConnKey::new((x, 1234), (y, 80), 6, false), ConnKey::new((y, 80), (x, 1234), 6, false));
        assert_ne!(ConnKey::new((x, 3), (y, 1), 1, true), ConnKey::new((y, 3), (x, 1), 1, true));
    }

    #[test]
    fn echo_request_and_reply_pair_up() {
        assert_eq!(icmp_ports(false, 8, 0), (8, 0, false));
        assert_eq!(icmp_ports(false, 0, 0), (0, 8, false));
        assert_eq!(icmp_ports(false, 3, 3), (3, 3, true));
        assert_eq!(icmp_ports(true, 128, 0), (128, 129, false));
        assert_eq!(icmp_ports(true, 1, 4), (1, 4, true));
    }
}
