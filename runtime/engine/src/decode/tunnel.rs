//! Tunnel headers the core decapsulates: GRE (incl. ERSPAN), VXLAN, Geneve,
//! GTPv1-U, Teredo, AYIYA. IP-in-IP needs no header of its own.
//!
//! Each parser takes the bytes after the outer IP (GRE) or UDP header and
//! returns the inner bytes plus how to decode them next. Session logic
//! (encapsulation stack, UIDs, depth limits) belongs to the caller.

use crate::bytes::{be16, be24, be32};

/// Well-known UDP ports of the UDP-based tunnels.
pub mod ports {
    /// GRE over UDP.
    pub const GRE_UDP: u16 = 4754;
    /// VXLAN.
    pub const VXLAN: u16 = 4789;
    /// Geneve.
    pub const GENEVE: u16 = 6081;
    /// GTPv1-U.
    pub const GTPV1_U: u16 = 2152;
    /// GTPv1-C.
    pub const GTPV1_C: u16 = 2123;
    /// Teredo.
    pub const TEREDO: u16 = 3544;
    /// AYIYA.
    pub const AYIYA: u16 = 5072;
}

/// What a tunnel carries and how to decode it next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inner<'a> {
    /// An Ethernet frame (`link::decode_ethernet`).
    Ethernet(&'a [u8]),
    /// An IPv4 or IPv6 packet (`ip::parse_ip`).
    Ip(&'a [u8]),
    /// An 802.11 frame (`link::decode_ieee80211`).
    Ieee80211(&'a [u8]),
    /// Something other than the above: the protocol identifier (EtherType),
    /// reported as an unknown protocol, not a weird.
    Other(u32),
}

/// Why a tunnel header was not decapsulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelError {
    /// Raise this weird: a conn weird for Teredo, a flow weird for the
    /// other tunnels (as Zeek does).
    Weird(&'static str),
    /// Not this protocol / malformed: an analyzer violation, no weird.
    Violation(&'static str),
}

/// Inner IP version check shared by several tunnels.
fn ip_inner(d: &[u8]) -> Option<Inner<'_>> {
    match d.first().map(|b| b >> 4) {
        Some(4) | Some(6) => Some(Inner::Ip(d)),
        _ => None,
    }
}

/// GRE header version (0 or 1) and the decapsulated payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gre<'a> {
    /// GRE version (0, or 1 for PPTP's enhanced GRE).
    pub version: u8,
    /// The carried protocol type (EtherType).
    pub protocol: u16,
    /// What follows.
    pub inner: Inner<'a>,
}

/// Length of a GRE header with the given flags (Zeek's `gre_header_len`).
fn gre_header_len(flags: u16) -> usize {
    let mut len = 4;
    if flags & 0x8000 != 0 {
        len += 4;
    }
    if flags & 0x2000 != 0 {
        len += 4;
    }
    if flags & 0x1000 != 0 {
        len += 4;
    }
    if flags & 0x0080 != 0 {
        len += 4;
    }
    len
}

/// Parses a GRE header (after the outer IP header). Weirds are flow weirds.
pub fn parse_gre(data: &[u8]) -> Result<Gre<'_>, TunnelError> {
    if data.len() < 4 {
        return Err(TunnelError::Weird("truncated_GRE"));
    }
    let flags = be16(data, 0);
    let version = (flags & 0x0007) as u8;
    let protocol = be16(data, 2);
    if version != 0 && version != 1 {
        return Err(TunnelError::Weird("unknown_gre_version"));
    }
    if flags & 0x0078 != 0 {
        return Err(TunnelError::Weird("unknown_gre_flags"));
    }
    if flags & 0x4000 != 0 {
        return Err(TunnelError::Weird("gre_routing"));
    }
    let mut hlen = gre_header_len(flags);
    if data.len() < hlen {
        return Err(TunnelError::Weird("truncated_GRE"));
    }
    let inner = if version == 0 {
        match protocol {
            0x6558 => Inner::Ethernet(&data[hlen..]),
            0x88be => {
                // ERSPAN type II has a sequence number and an 8-byte header; type I has none.
                if flags & 0x1000 != 0 {
                    hlen += 8;
                }
                if data.len() < hlen {
                    return Err(TunnelError::Weird("truncated_GRE"));
                }
                Inner::Ethernet(&data[hlen..])
            }
            0x22eb => {
                // ERSPAN type III: 12 bytes, plus an 8-byte platform subheader when O is set.
                if data.len() < hlen + 12 {
                    return Err(TunnelError::Weird("truncated_GRE"));
                }
                let o = data[hlen + 11] & 0x01 != 0;
                hlen += if o { 20 } else { 12 };
                if data.len() < hlen {
                    return Err(TunnelError::Weird("truncated_GRE"));
                }
                Inner::Ethernet(&data[hlen..])
            }
            0x8200..=0x8370 | 0x9000 => Inner::Ieee80211(&data[hlen..]),
            0x0800 | 0x86dd => Inner::Ip(&data[hlen..]),
            other => Inner::Other(u32::from(other)),
        }
    } else {
        if protocol != 0x880b {
            return Err(TunnelError::Weird("egre_protocol_type"));
        }
        // PPP: address/control (0xff 0x03) then the protocol.
        let ppp = &data[hlen..];
        if ppp.len() < 4 {
            return Err(TunnelError::Weird("truncated_GRE"));
        }
        let (pp, skip) = if ppp[0] == 0xff && ppp[1] == 0x03 { (be16(ppp, 2), 4) } else { (be16(ppp, 0), 2) };
        match pp {
            0x0021 | 0x0057 => Inner::Ip(&ppp[skip..]),
            _ => return Err(TunnelError::Weird("non_ip_packet_in_encap")),
        }
    };
    Ok(Gre { version, protocol, inner })
}

/// Parses a VXLAN header (UDP payload); the inner frame is Ethernet.
pub fn parse_vxlan(data: &[u8]) -> Result<(u32, Inner<'_>), TunnelError> {
    if data.len() < 8 {
        return Err(TunnelError::Violation("VXLAN header truncation"));
    }
    if data[0] & 0x08 == 0 {
        return Err(TunnelError::Violation("VXLAN 'I' flag not set"));
    }
    let vni = be24(data, 4);
    let rest = &data[8..];
    if rest.is_empty() {
        return Err(TunnelError::Weird("vxlan_empty_packet"));
    }
    Ok((vni, Inner::Ethernet(rest)))
}

/// Parses a Geneve header (UDP payload).
pub fn parse_geneve(data: &[u8]) -> Result<(u32, Inner<'_>), TunnelError> {
    if data.len() < 8 {
        return Err(TunnelError::Violation("Geneve header truncation"));
    }
    if data[0] >> 6 != 0 {
        return Err(TunnelError::Weird("geneve_invalid_version"));
    }
    let hlen = 8 + usize::from(data[0] & 0x3f) * 4;
    if data.len() < hlen {
        return Err(TunnelError::Violation("Geneve header truncation"));
    }
    let vni = be24(data, 4);
    let rest = &data[hlen..];
    if rest.is_empty() {
        return Err(TunnelError::Weird("geneve_empty_packet"));
    }
    let inner = match be16(data, 2) {
        0x6558 => Inner::Ethernet(rest),
        0x0800 | 0x86dd => Inner::Ip(rest),
        other => Inner::Other(u32::from(other)),
    };
    Ok((vni, inner))
}

/// Parses a GTPv1-U header (UDP payload). Only G-PDUs (type 0xff) carry packets.
pub fn parse_gtpv1(data: &[u8]) -> Result<(u32, Inner<'_>), TunnelError> {
    if data.len() < 8 {
        return Err(TunnelError::Violation("truncated GTPv1 header"));
    }
    let flags = data[0];
    if flags >> 5 != 1 {
        return Err(TunnelError::Violation("GTP version is not 1"));
    }
    if flags & 0x10 == 0 {
        return Err(TunnelError::Violation("GTP' is not GTPv1"));
    }
    if data[1] != 0xff {
        return Err(TunnelError::Violation("not a G-PDU"));
    }
    let teid = be32(data, 4);
    let mut off = 8;
    if flags & 0x07 != 0 {
        // Sequence number, N-PDU number, next extension header type.
        if data.len() < 12 {
            return Err(TunnelError::Violation("truncated GTPv1 header"));
        }
        let mut next_ext = data[11];
        off = 12;
        if flags & 0x04 != 0 {
            while next_ext != 0 {
                let Some(&units) = data.get(off) else {
                    return Err(TunnelError::Violation("truncated GTPv1 extension header"));
                };
                let elen = usize::from(units) * 4;
                if elen == 0 || data.len() < off + elen {
                    return Err(TunnelError::Violation("truncated GTPv1 extension header"));
                }
                next_ext = data[off + elen - 1];
                off += elen;
            }
        }
    }
    let rest = &data[off..];
    match ip_inner(rest) {
        Some(inner) if rest.len() >= 20 => Ok((teid, inner)),
        _ => Err(TunnelError::Violation("GTPv1 payload is not IPv4 or IPv6")),
    }
}

/// A parsed Teredo packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Teredo<'a> {
    /// The inner IPv6 packet.
    pub ip6: &'a [u8],
    /// Origin indication header (8 bytes), if present.
    pub origin: Option<&'a [u8]>,
    /// Authentication header, if present.
    pub auth: Option<&'a [u8]>,
    /// A bubble: IPv6 with no next header (59) and no payload.
    pub bubble: bool,
}

/// Parses a Teredo packet (UDP payload). Weirds are conn weirds that Zeek
/// raises only once Teredo was confirmed on the connection, except
/// `Teredo_bubble_with_payload` (check [`teredo_bubble_with_payload`]).
pub fn parse_teredo(data: &[u8]) -> Result<Teredo<'_>, TunnelError> {
    let mut d = data;
    let mut origin = None;
    let mut auth = None;
    loop {
        if d.len() < 2 {
            return Err(TunnelError::Weird("truncated_Teredo"));
        }
        let tag = be16(d, 0);
        if tag == 0 {
            if origin.is_some() {
                return Err(TunnelError::Violation("multiple Teredo origin indications"));
            }
            if d.len() < 8 {
                return Err(TunnelError::Weird("truncated_Teredo_origin_indication"));
            }
            origin = Some(&d[..8]);
            d = &d[8..];
        } else if tag == 1 {
            if origin.is_some() || auth.is_some() {
                return Err(TunnelError::Violation("misplaced Teredo authentication"));
            }
            if d.len() < 4 {
                return Err(TunnelError::Weird("truncated_Teredo_authentication"));
            }
            let tot = 4 + usize::from(d[2]) + usize::from(d[3]) + 8 + 1;
            if d.len() < tot {
                return Err(TunnelError::Weird("truncated_Teredo_authentication"));
            }
            auth = Some(&d[..tot]);
            d = &d[tot..];
        } else if tag >> 12 == 6 {
            if d.len() < 40 {
                return Err(TunnelError::Weird("truncated_IPv6_in_Teredo"));
            }
            let bubble = d[6] == 59 && be16(d, 4) == 0;
            return Ok(Teredo { ip6: d, origin, auth, bubble });
        } else {
            return Err(TunnelError::Violation("not Teredo"));
        }
    }
}

/// Whether a Teredo packet is a bubble (no next header, IPv6 payload length
/// 0) followed by more bytes than the 40-byte IPv6 header: Zeek's
/// `Teredo_bubble_with_payload`.
pub fn teredo_bubble_with_payload(t: &Teredo<'_>) -> bool {
    t.bubble && t.ip6.len() > 40
}

/// Parses an AYIYA packet (UDP payload). Only the forward opcode carries a packet.
pub fn parse_ayiya(data: &[u8]) -> Result<Inner<'_>, TunnelError> {
    if data.len() < 8 {
        return Err(TunnelError::Violation("truncated AYIYA header"));
    }
    let id_len = 1usize << (data[0] >> 4);
    let sig_len = usize::from(data[1] >> 4) * 4;
    let op = data[2] & 0x0f;
    let next = data[3];
    let hlen = 8 + id_len + sig_len;
    if data.len() < hlen {
        return Err(TunnelError::Violation("truncated AYIYA header"));
    }
    if op != 1 {
        return Err(TunnelError::Violation("AYIYA opcode is not forward"));
    }
    if next != 4 && next != 41 {
        return Err(TunnelError::Violation("AYIYA next header is not IP"));
    }
    let rest = &data[hlen..];
    if rest.is_empty() {
        return Err(TunnelError::Weird("ayiya_empty_packet"));
    }
    Ok(Inner::Ip(rest))
}
