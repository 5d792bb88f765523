//! Packet-header records (`pkt_hdr`, `raw_pkt_hdr`) built from the decoded
//! views, only when an event that carries them is subscribed. As in Zeek, the
//! transport record is left out when the capture is shorter than the IP
//! total length.

use crate::bytes::{be16, be32};
use crate::decode::{IpHdr, L2Info, L4};
use std::net::IpAddr;

/// `ip4_hdr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip4Hdr {
    /// Header length in bytes.
    pub hl: u8,
    /// TOS byte.
    pub tos: u8,
    /// Total length.
    pub len: u16,
    /// Identification.
    pub id: u16,
    /// Don't fragment.
    pub df: bool,
    /// More fragments.
    pub mf: bool,
    /// Fragment offset in bytes.
    pub offset: u16,
    /// TTL.
    pub ttl: u8,
    /// Protocol.
    pub p: u8,
    /// Header checksum as sent.
    pub sum: u16,
    /// Source.
    pub src: IpAddr,
    /// Destination.
    pub dst: IpAddr,
}

/// `ip6_option`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip6Option {
    /// Option type.
    pub otype: u8,
    /// Option data length (0 for Pad1).
    pub len: u8,
    /// Option data.
    pub data: Vec<u8>,
}

/// One IPv6 extension header (`ip6_ext_hdr`); the header type number is
/// implied by the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ip6ExtHdr {
    /// Hop-by-hop options (0).
    HopOpts {
        /// Next header.
        nxt: u8,
        /// Length in 8-octet units beyond the first.
        len: u8,
        /// Options.
        options: Vec<Ip6Option>,
    },
    /// Destination options (60).
    DstOpts {
        /// Next header.
        nxt: u8,
        /// Length in 8-octet units beyond the first.
        len: u8,
        /// Options.
        options: Vec<Ip6Option>,
    },
    /// Routing header (43).
    Routing {
        /// Next header.
        nxt: u8,
        /// Length in 8-octet units beyond the first.
        len: u8,
        /// Routing type.
        rtype: u8,
        /// Segments left.
        segleft: u8,
        /// Bytes after the first 4.
        data: Vec<u8>,
    },
    /// Fragment header (44).
    Fragment {
        /// Next header.
        nxt: u8,
        /// Reserved byte.
        rsv1: u8,
        /// Offset in 8-octet units.
        offset: u16,
        /// Reserved bits.
        rsv2: u8,
        /// More fragments.
        more: bool,
        /// Identification.
        id: u32,
    },
    /// Authentication header (51).
    Ah {
        /// Next header.
        nxt: u8,
        /// Length in 4-octet units minus 2.
        len: u8,
        /// Reserved.
        rsv: u16,
        /// Security parameter index.
        spi: u32,
        /// Sequence number (when len > 0).
        seq: Option<u32>,
        /// Integrity check value (when len > 0).
        data: Option<Vec<u8>>,
    },
    /// Encapsulating security payload (50).
    Esp {
        /// Security parameter index.
        spi: u32,
        /// Sequence number.
        seq: u32,
    },
    /// Mobility header (135).
    Mobility {
        /// Next header.
        nxt: u8,
        /// Length in 8-octet units beyond the first.
        len: u8,
        /// Message type.
        mh_type: u8,
        /// Reserved.
        rsv: u8,
        /// Checksum.
        chksum: u16,
        /// The message body after the fixed 6 bytes.
        msg: Vec<u8>,
    },
}

/// `ip6_hdr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip6Hdr {
    /// Traffic class.
    pub class: u8,
    /// Flow label.
    pub flow: u32,
    /// Payload length.
    pub len: u16,
    /// Next header of the fixed header.
    pub nxt: u8,
    /// Hop limit.
    pub hlim: u8,
    /// Source as in the fixed header.
    pub src: IpAddr,
    /// Destination as in the fixed header.
    pub dst: IpAddr,
    /// Extension headers in order.
    pub exts: Vec<Ip6ExtHdr>,
}

/// `tcp_hdr` (ports are TCP ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHdr {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Absolute sequence number.
    pub seq: u32,
    /// Absolute acknowledgment number.
    pub ack: u32,
    /// Header length in bytes.
    pub hl: u8,
    /// Payload length.
    pub dl: u32,
    /// The 4 reserved bits.
    pub reserved: u8,
    /// Flag byte.
    pub flags: u8,
    /// Raw window.
    pub win: u16,
}

/// `udp_hdr` (ports are UDP ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpHdr {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// UDP length field.
    pub ulen: u16,
}

/// `icmp_hdr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpHdr {
    /// ICMP (or ICMPv6) type.
    pub icmp_type: u8,
}

/// `pkt_hdr`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PktHdr {
    /// IPv4 header.
    pub ip: Option<Ip4Hdr>,
    /// IPv6 header.
    pub ip6: Option<Ip6Hdr>,
    /// TCP header.
    pub tcp: Option<TcpHdr>,
    /// UDP header.
    pub udp: Option<UdpHdr>,
    /// ICMP header.
    pub icmp: Option<IcmpHdr>,
}

/// `layer3_proto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L3Proto {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// ARP or RARP.
    Arp,
    /// Anything else.
    Unknown,
}

/// `l2_hdr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L2Hdr {
    /// Whether the capture is Ethernet (`LINK_ETHERNET`, else `LINK_UNKNOWN`).
    pub ethernet: bool,
    /// Wire length of the frame.
    pub len: u32,
    /// Captured length.
    pub cap_len: u32,
    /// Source MAC (Ethernet).
    pub src: Option<[u8; 6]>,
    /// Destination MAC (Ethernet).
    pub dst: Option<[u8; 6]>,
    /// Outer VLAN id.
    pub vlan: Option<u16>,
    /// Inner VLAN id.
    pub inner_vlan: Option<u16>,
    /// Innermost EtherType.
    pub eth_type: Option<u16>,
    /// Layer-3 protocol.
    pub proto: L3Proto,
}

/// `raw_pkt_hdr`: the link layer plus what `pkt_hdr` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPktHdr {
    /// Link layer.
    pub l2: L2Hdr,
    /// IP and transport headers (when IP was carried and fully captured).
    pub hdr: PktHdr,
}

fn options(mut o: &[u8]) -> Vec<Ip6Option> {
    let mut out = Vec::new();
    while let Some(&otype) = o.first() {
        if otype == 0 {
            out.push(Ip6Option { otype, len: 0, data: Vec::new() });
            o = &o[1..];
            continue;
        }
        let Some(&len) = o.get(1) else { break };
        let end = (2 + len as usize).min(o.len());
        out.push(Ip6Option { otype, len, data: o[2..end].to_vec() });
        o = &o[end..];
    }
    out
}

/// The extension-header chain of an IPv6 header block (fixed header first).
fn ext_chain(h: &[u8]) -> Vec<Ip6ExtHdr> {
    let mut exts = Vec::new();
    let mut next = h[6];
    let mut off = 40;
    while off + 2 <= h.len() {
        let rest = &h[off..];
        let (ext, len) = match next {
            0 | 60 | 43 | 135 => {
                let len = 8 + 8 * rest[1] as usize;
                if len > rest.len() {
                    break;
                }
                let e = match next {
                    0 => Ip6ExtHdr::HopOpts { nxt: rest[0], len: rest[1], options: options(&rest[2..len]) },
                    60 => Ip6ExtHdr::DstOpts { nxt: rest[0], len: rest[1], options: options(&rest[2..len]) },
                    43 => Ip6ExtHdr::Routing {
                        nxt: rest[0],
                        len: rest[1],
                        rtype: rest[2],
                        segleft: rest[3],
                        data: rest[4..len].to_vec(),
                    },
                    _ => Ip6ExtHdr::Mobility {
                        nxt: rest[0],
                        len: rest[1],
                        mh_type: rest[2],
                        rsv: rest[3],
                        chksum: be16(rest, 4),
                        msg: rest[6..len].to_vec(),
                    },
                };
                (e, len)
            }
            44 if rest.len() >= 8 => {
                let off_field = be16(rest, 2);
                let e = Ip6ExtHdr::Fragment {
                    nxt: rest[0],
                    rsv1: rest[1],
                    offset: off_field >> 3,
                    rsv2: ((off_field >> 1) & 0x3) as u8,
                    more: off_field & 1 != 0,
                    id: be32(rest, 4),
                };
                (e, 8)
            }
            51 => {
                let len = 8 + 4 * rest[1] as usize;
                if len > rest.len() || rest.len() < 8 {
                    break;
                }
                let has_seq = rest[1] > 0;
                let e = Ip6ExtHdr::Ah {
                    nxt: rest[0],
                    len: rest[1],
                    rsv: be16(rest, 2),
                    spi: be32(rest, 4),
                    seq: (has_seq && len >= 12).then(|| be32(rest, 8)),
                    data: (has_seq && len > 12).then(|| rest[12..len].to_vec()),
                };
                (e, len)
            }
            50 if rest.len() >= 8 => (Ip6ExtHdr::Esp { spi: be32(rest, 0), seq: be32(rest, 4) }, 8),
            _ => break,
        };
        let stop = matches!(ext, Ip6ExtHdr::Fragment { .. } | Ip6ExtHdr::Esp { .. } | Ip6ExtHdr::Mobility { .. });
        next = match &ext {
            Ip6ExtHdr::HopOpts { nxt, .. }
            | Ip6ExtHdr::DstOpts { nxt, .. }
            | Ip6ExtHdr::Routing { nxt, .. }
            | Ip6ExtHdr::Fragment { nxt, .. }
            | Ip6ExtHdr::Ah { nxt, .. }
            | Ip6ExtHdr::Mobility { nxt, .. } => *nxt,
            Ip6ExtHdr::Esp { .. } => 59,
        };
        exts.push(ext);
        off += len;
        if stop {
            break;
        }
    }
    exts
}

/// The Mobility Header that ends an IPv6 chain, with its message body.
pub fn mobility_header<'a>(ip: &IpHdr<'a>) -> Option<&'a [u8]> {
    let h = ip.header;
    if ip.version != 6 || ip.proto != 135 {
        return None;
    }
    let mut next = h[6];
    let mut off = 40;
    while off + 2 <= h.len() {
        let rest = &h[off..];
        let len = match next {
            51 => 8 + 4 * rest[1] as usize,
            44 => 8,
            _ => 8 + 8 * rest[1] as usize,
        };
        if next == 135 {
            return (len <= rest.len()).then(|| &rest[..len]);
        }
        next = rest[0];
        off += len;
    }
    None
}

/// Number of IPv6 extension headers in `ip` (0 for IPv4).
pub fn ext_header_count(ip: &IpHdr<'_>) -> usize {
    if ip.version == 6 && ip.header.len() > 40 {
        ext_chain(ip.header).len()
    } else {
        0
    }
}

/// The `pkt_hdr` of a decoded packet. Transport parts are set only when the
/// whole datagram was captured (`IP_Hdr::ToPktHdrVal`).
pub fn pkt_hdr(ip: &IpHdr<'_>, l4: Option<&L4<'_>>) -> PktHdr {
    let h = ip.header;
    let mut p = PktHdr::default();
    if ip.version == 4 {
        let off = be16(h, 6);
        p.ip = Some(Ip4Hdr {
            hl: ip.hdr_len as u8,
            tos: h[1],
            len: be16(h, 2),
            id: be16(h, 4),
            df: off & 0x4000 != 0,
            mf: off & 0x2000 != 0,
            offset: (off & 0x1fff) * 8,
            ttl: h[8],
            p: h[9],
            sum: be16(h, 10),
            src: ip.raw_src,
            dst: ip.raw_dst,
        });
    } else {
        p.ip6 = Some(Ip6Hdr {
            class: ((be16(h, 0) >> 4) & 0xff) as u8,
            flow: ip.flow_label,
            len: be16(h, 4),
            nxt: h[6],
            hlim: h[7],
            src: ip.raw_src,
            dst: ip.raw_dst,
            exts: ext_chain(h),
        });
    }
    if ip.payload.len() < ip.payload_len {
        return p;
    }
    match l4 {
        Some(L4::Tcp(t)) => {
            let raw = ip.payload;
            p.tcp = Some(TcpHdr {
                sport: t.sport,
                dport: t.dport,
                seq: t.seq,
                ack: t.ack,
                hl: t.hdr_len as u8,
                dl: t.len,
                reserved: raw.get(12).map_or(0, |b| b & 0x0f),
                flags: t.flags,
                win: t.win,
            })
        }
        Some(L4::Udp(u)) => p.udp = Some(UdpHdr { sport: u.sport, dport: u.dport, ulen: u.ulen }),
        Some(L4::Icmp(m)) => p.icmp = Some(IcmpHdr { icmp_type: m.itype }),
        _ => {}
    }
    p
}

/// The `l2_hdr` of a captured frame.
pub fn l2_hdr(ethernet: bool, len: u32, cap_len: u32, l2: &L2Info, proto: L3Proto) -> L2Hdr {
    let mac = |m: Option<[u8; 6]>| if ethernet { Some(m.unwrap_or([0; 6])) } else { None };
    L2Hdr {
        ethernet,
        len,
        cap_len,
        src: mac(l2.src),
        dst: mac(l2.dst),
        vlan: l2.vlan,
        inner_vlan: l2.inner_vlan,
        eth_type: if ethernet { l2.eth_type } else { None },
        proto,
    }
}
