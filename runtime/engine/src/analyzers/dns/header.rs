//! The 12-byte header every DNS message starts with, as Zeek's `dns_msg`.

use weir_events::DnsMsg;

/// Length of the header.
pub const HEADER_LEN: usize = 12;

/// Opcode of a standard query.
pub const OP_QUERY: u8 = 0;
/// Opcode of a NOTIFY (RFC 1996).
pub const OP_NOTIFY: u8 = 4;
/// Opcode of a dynamic update (RFC 2136); NetBIOS registration on port 137.
pub const OP_DYNAMIC_UPDATE: u8 = 5;

/// The header of `data` (at least [`HEADER_LEN`] bytes), marked NetBIOS when `is_netbios`.
pub fn parse(data: &[u8], is_netbios: bool) -> DnsMsg {
    let word = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
    let flags = word(2);
    DnsMsg {
        id: word(0),
        opcode: ((flags >> 11) & 0xf) as u8,
        rcode: (flags & 0xf) as u8,
        qr: flags & 0x8000 != 0,
        aa: flags & 0x0400 != 0,
        tc: flags & 0x0200 != 0,
        rd: flags & 0x0100 != 0,
        ra: flags & 0x0080 != 0,
        z: ((flags >> 4) & 0x7) as u8,
        ad: flags & 0x0020 != 0,
        cd: flags & 0x0010 != 0,
        num_queries: word(4),
        num_answers: word(6),
        num_auth: word(8),
        num_addl: word(10),
        is_netbios,
    }
}

/// Whether the message is a dynamic update (opcode 5 off the NetBIOS port).
pub fn is_dynamic_update(msg: &DnsMsg) -> bool {
    msg.opcode == OP_DYNAMIC_UPDATE && !msg.is_netbios
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_counts() {
        let h = parse(&[0x12, 0x34, 0x85, 0xb3, 0, 1, 0, 2, 0, 3, 0, 4], false);
        assert_eq!(h.id, 0x1234);
        assert!(h.qr && h.aa && !h.tc && h.rd && h.ra && h.ad && h.cd);
        assert_eq!((h.opcode, h.rcode, h.z), (0, 3, 3));
        assert_eq!((h.num_queries, h.num_answers, h.num_auth, h.num_addl), (1, 2, 3, 4));
        let u = parse(&[0, 0, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0], false);
        assert_eq!(u.opcode, 5);
        assert!(is_dynamic_update(&u));
        assert!(!is_dynamic_update(&parse(&[0, 0, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0], true)));
    }
}
