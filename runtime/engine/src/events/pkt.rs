//! Packet-header records (`pkt_hdr`, `raw_pkt_hdr`, the WIT's types) built
//! from the decoded views, only when an event that carries them is
//! subscribed. As in Zeek, the transport record is left out when the capture
//! is shorter than the IP total length.

use crate::bytes::{be16, be32};
use crate::decode::{IpHdr, L2Info, L4};
use weir_events::{
    IcmpHdr, Ip4Hdr, Ip6Ah, Ip6Esp, Ip6ExtHdr, Ip6Fragment, Ip6Hdr, Ip6MobilityHdr, Ip6Option, Ip6OptionsHdr, Ip6Routing,
    L2Hdr, Layer3Proto, LinkEncap, MacAddress, PktHdr, Port, RawPktHdr, TcpHdr, Transport, UdpHdr,
};

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
                    0 => Ip6ExtHdr::Hopopts(Ip6OptionsHdr { nxt: rest[0], len: rest[1], options: options(&rest[2..len]) }),
                    60 => Ip6ExtHdr::Dstopts(Ip6OptionsHdr { nxt: rest[0], len: rest[1], options: options(&rest[2..len]) }),
                    43 => Ip6ExtHdr::Routing(Ip6Routing {
                        nxt: rest[0],
                        len: rest[1],
                        rtype: rest[2],
                        segleft: rest[3],
                        data: rest[4..len].to_vec(),
                    }),
                    _ => Ip6ExtHdr::Mobility(Ip6MobilityHdr {
                        nxt: rest[0],
                        len: rest[1],
                        mh_type: rest[2],
                        rsv: rest[3],
                        chksum: be16(rest, 4),
                        msg: rest[6..len].to_vec(),
                    }),
                };
                (e, len)
            }
            44 if rest.len() >= 8 => {
                let off_field = be16(rest, 2);
                let e = Ip6ExtHdr::Fragment(Ip6Fragment {
                    nxt: rest[0],
                    rsv1: rest[1],
                    offset: off_field >> 3,
                    rsv2: ((off_field >> 1) & 0x3) as u8,
                    more: off_field & 1 != 0,
                    id: be32(rest, 4),
                });
                (e, 8)
            }
            51 => {
                let len = 8 + 4 * rest[1] as usize;
                if len > rest.len() || rest.len() < 8 {
                    break;
                }
                let has_seq = rest[1] > 0;
                let e = Ip6ExtHdr::Ah(Ip6Ah {
                    nxt: rest[0],
                    len: rest[1],
                    rsv: be16(rest, 2),
                    spi: be32(rest, 4),
                    seq: (has_seq && len >= 12).then(|| be32(rest, 8)),
                    data: (has_seq && len > 12).then(|| rest[12..len].to_vec()),
                });
                (e, len)
            }
            50 if rest.len() >= 8 => (Ip6ExtHdr::Esp(Ip6Esp { spi: be32(rest, 0), seq: be32(rest, 4) }), 8),
            _ => break,
        };
        let stop = matches!(ext, Ip6ExtHdr::Fragment(_) | Ip6ExtHdr::Esp(_) | Ip6ExtHdr::Mobility(_));
        next = match &ext {
            Ip6ExtHdr::Hopopts(h) | Ip6ExtHdr::Dstopts(h) => h.nxt,
            Ip6ExtHdr::Routing(h) => h.nxt,
            Ip6ExtHdr::Fragment(h) => h.nxt,
            Ip6ExtHdr::Ah(h) => h.nxt,
            Ip6ExtHdr::Mobility(h) => h.nxt,
            Ip6ExtHdr::Esp(_) => 59,
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
                sport: Port { number: t.sport, proto: Transport::Tcp },
                dport: Port { number: t.dport, proto: Transport::Tcp },
                seq: t.seq,
                ack: t.ack,
                hl: t.hdr_len as u8,
                dl: t.len,
                reserved: raw.get(12).map_or(0, |b| b & 0x0f),
                flags: t.flags,
                win: t.win,
            })
        }
        Some(L4::Udp(u)) => {
            let port = |number| Port { number, proto: Transport::Udp };
            p.udp = Some(UdpHdr { sport: port(u.sport), dport: port(u.dport), ulen: u.ulen })
        }
        Some(L4::Icmp(m)) => p.icmp = Some(IcmpHdr { icmp_type: m.itype }),
        _ => {}
    }
    p
}

/// The `l2_hdr` of a captured frame.
pub fn l2_hdr(ethernet: bool, len: u32, cap_len: u32, l2: &L2Info, proto: Layer3Proto) -> L2Hdr {
    let mac = |m: Option<[u8; 6]>| ethernet.then(|| MacAddress(m.unwrap_or([0; 6])));
    L2Hdr {
        encap: if ethernet { LinkEncap::Ethernet } else { LinkEncap::Unknown },
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

/// The `raw_pkt_hdr` of a frame: its link layer and the headers of `hdr`
/// (none when IP was not carried or not fully captured).
pub fn raw_pkt_hdr(l2: L2Hdr, hdr: Option<PktHdr>) -> RawPktHdr {
    let PktHdr { ip, ip6, tcp, udp, icmp } = hdr.unwrap_or_default();
    RawPktHdr { l2, ip, ip6, tcp, udp, icmp }
}
