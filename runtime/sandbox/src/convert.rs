//! Engine values → WIT-generated values. The only place that knows both.

use crate::bindings::weir::events::types as w;
use std::net::IpAddr;
use weir_engine::events::pkt;
use weir_engine::events::records as e;

/// WIT address of an engine address.
pub fn addr(a: IpAddr) -> w::IpAddress {
    match a {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            w::IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            w::IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
    }
}

/// Engine address of a WIT address.
pub fn ip(a: &w::IpAddress) -> IpAddr {
    match *a {
        w::IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
        w::IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
    }
}

fn transport(t: e::Transport) -> w::Transport {
    match t {
        e::Transport::Tcp => w::Transport::Tcp,
        e::Transport::Udp => w::Transport::Udp,
        e::Transport::Icmp => w::Transport::Icmp,
        e::Transport::Unknown => w::Transport::Unknown,
    }
}

fn conn_id(id: &e::ConnId) -> w::ConnId {
    let proto = transport(id.transport);
    w::ConnId {
        orig_h: addr(id.orig_h),
        orig_p: w::Port { number: id.orig_p, proto },
        resp_h: addr(id.resp_h),
        resp_p: w::Port { number: id.resp_p, proto },
        proto: id.proto as u16,
    }
}

/// `aa:bb:cc:dd:ee:ff`, built in one allocation (this runs for every
/// connection record a handler receives).
fn l2(a: &[u8; 6]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(17);
    for (i, b) in a.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

fn endpoint(ep: &e::Endpoint) -> w::Endpoint {
    w::Endpoint {
        size: ep.size,
        state: ep.state,
        num_pkts: ep.num_pkts,
        num_bytes_ip: ep.num_bytes_ip,
        flow_label: ep.flow_label,
        l2_addr: ep.l2_addr.as_ref().filter(|a| **a != [0; 6]).map(l2),
    }
}

fn tunnel_type(t: e::TunnelType) -> w::TunnelType {
    match t {
        e::TunnelType::None => w::TunnelType::None,
        e::TunnelType::Ip => w::TunnelType::Ip,
        e::TunnelType::Ayiya => w::TunnelType::Ayiya,
        e::TunnelType::Teredo => w::TunnelType::Teredo,
        e::TunnelType::Socks => w::TunnelType::Socks,
        e::TunnelType::Gtpv1 => w::TunnelType::Gtpv1,
        e::TunnelType::Http => w::TunnelType::Http,
        e::TunnelType::Gre => w::TunnelType::Gre,
        e::TunnelType::Vxlan => w::TunnelType::Vxlan,
        e::TunnelType::Geneve => w::TunnelType::Geneve,
    }
}

/// WIT form of an encapsulation stack.
pub fn encaps(v: &[e::EncapConn]) -> Vec<w::EncapsulatingConn> {
    v.iter()
        .map(|x| w::EncapsulatingConn {
            cid: conn_id(&x.cid),
            tunnel_type: tunnel_type(x.tunnel_type),
            uid: if x.uid.is_empty() { None } else { Some(x.uid.clone()) },
        })
        .collect()
}

/// WIT form of a connection snapshot.
pub fn connection(c: &e::Connection) -> w::Connection {
    w::Connection {
        id: conn_id(&c.id),
        orig: endpoint(&c.orig),
        resp: endpoint(&c.resp),
        start_time: c.start_time,
        duration: c.duration,
        service: c.service.clone(),
        history: c.history.clone(),
        uid: c.uid.clone(),
        tunnel: c.tunnel.as_deref().map(encaps),
        vlan: c.vlan,
        inner_vlan: c.inner_vlan,
    }
}

fn options(v: &[pkt::Ip6Option]) -> Vec<w::Ip6Option> {
    v.iter().map(|o| w::Ip6Option { otype: o.otype, len: o.len, data: o.data.clone() }).collect()
}

fn ext(x: &pkt::Ip6ExtHdr) -> w::Ip6ExtHdr {
    use pkt::Ip6ExtHdr as X;
    match x {
        X::HopOpts { nxt, len, options: o } => {
            w::Ip6ExtHdr::Hopopts(w::Ip6OptionsHdr { nxt: *nxt, len: *len, options: options(o) })
        }
        X::DstOpts { nxt, len, options: o } => {
            w::Ip6ExtHdr::Dstopts(w::Ip6OptionsHdr { nxt: *nxt, len: *len, options: options(o) })
        }
        X::Routing { nxt, len, rtype, segleft, data } => w::Ip6ExtHdr::Routing(w::Ip6Routing {
            nxt: *nxt,
            len: *len,
            rtype: *rtype,
            segleft: *segleft,
            data: data.clone(),
        }),
        X::Fragment { nxt, rsv1, offset, rsv2, more, id } => w::Ip6ExtHdr::Fragment(w::Ip6Fragment {
            nxt: *nxt,
            rsv1: *rsv1,
            offset: *offset,
            rsv2: *rsv2,
            more: *more,
            id: *id,
        }),
        X::Ah { nxt, len, rsv, spi, seq, data } => {
            w::Ip6ExtHdr::Ah(w::Ip6Ah { nxt: *nxt, len: *len, rsv: *rsv, spi: *spi, seq: *seq, data: data.clone() })
        }
        X::Esp { spi, seq } => w::Ip6ExtHdr::Esp(w::Ip6Esp { spi: *spi, seq: *seq }),
        X::Mobility { nxt, len, mh_type, rsv, chksum, msg } => w::Ip6ExtHdr::Mobility(w::Ip6MobilityHdr {
            nxt: *nxt,
            len: *len,
            mh_type: *mh_type,
            rsv: *rsv,
            chksum: *chksum,
            msg: msg.clone(),
        }),
    }
}

type PktParts = (
    Option<w::Ip4Hdr>,
    Option<w::Ip6Hdr>,
    Option<w::TcpHdr>,
    Option<w::UdpHdr>,
    Option<w::IcmpHdr>,
);

fn pkt_parts(p: &pkt::PktHdr) -> PktParts {
    let port = |n: u16, proto| w::Port { number: n, proto };
    (
        p.ip.as_ref().map(|h| w::Ip4Hdr {
            hl: h.hl,
            tos: h.tos,
            len: h.len,
            id: h.id,
            df: h.df,
            mf: h.mf,
            offset: h.offset,
            ttl: h.ttl,
            p: h.p,
            sum: h.sum,
            src: addr(h.src),
            dst: addr(h.dst),
        }),
        p.ip6.as_ref().map(|h| w::Ip6Hdr {
            class: h.class,
            flow: h.flow,
            len: h.len,
            nxt: h.nxt,
            hlim: h.hlim,
            src: addr(h.src),
            dst: addr(h.dst),
            exts: h.exts.iter().map(ext).collect(),
        }),
        p.tcp.map(|t| w::TcpHdr {
            sport: port(t.sport, w::Transport::Tcp),
            dport: port(t.dport, w::Transport::Tcp),
            seq: t.seq,
            ack: t.ack,
            hl: t.hl,
            dl: t.dl,
            reserved: t.reserved,
            flags: t.flags,
            win: t.win,
        }),
        p.udp.map(|u| w::UdpHdr {
            sport: port(u.sport, w::Transport::Udp),
            dport: port(u.dport, w::Transport::Udp),
            ulen: u.ulen,
        }),
        p.icmp.map(|i| w::IcmpHdr { icmp_type: i.icmp_type }),
    )
}

/// WIT form of a `pkt_hdr`.
pub fn pkt_hdr(p: &pkt::PktHdr) -> w::PktHdr {
    let (ip, ip6, tcp, udp, icmp) = pkt_parts(p);
    w::PktHdr { ip, ip6, tcp, udp, icmp }
}

/// WIT form of a `raw_pkt_hdr`.
pub fn raw_pkt_hdr(r: &pkt::RawPktHdr) -> w::RawPktHdr {
    let (ip, ip6, tcp, udp, icmp) = pkt_parts(&r.hdr);
    let h = &r.l2;
    let l2 = w::L2Hdr {
        encap: if h.ethernet { w::LinkEncap::Ethernet } else { w::LinkEncap::Unknown },
        len: h.len,
        cap_len: h.cap_len,
        src: h.src.as_ref().map(l2),
        dst: h.dst.as_ref().map(l2),
        vlan: h.vlan,
        inner_vlan: h.inner_vlan,
        eth_type: h.eth_type,
        proto: match h.proto {
            pkt::L3Proto::Ipv4 => w::Layer3Proto::Ipv4,
            pkt::L3Proto::Ipv6 => w::Layer3Proto::Ipv6,
            pkt::L3Proto::Arp => w::Layer3Proto::Arp,
            pkt::L3Proto::Unknown => w::Layer3Proto::Unknown,
        },
    };
    w::RawPktHdr { l2, ip, ip6, tcp, udp, icmp }
}

/// WIT form of `endpoint_stats`.
pub fn endpoint_stats(s: &e::EndpointStats) -> w::EndpointStats {
    w::EndpointStats {
        num_pkts: s.num_pkts,
        num_rxmit: s.num_rxmit,
        num_rxmit_bytes: s.num_rxmit_bytes,
        num_in_order: s.num_in_order,
        num_oo: s.num_oo,
        num_repl: s.num_repl,
        endian_type: s.endian_type,
    }
}

/// WIT form of a `call_argument`.
pub fn call_argument(a: &e::CallArgument) -> w::CallArgument {
    w::CallArgument { name: a.name.clone(), type_name: a.type_name.clone(), default_val: None, value: Some(a.value.clone()) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn l2_addresses_are_lower_case_colon_separated() {
        assert_eq!(super::l2(&[0x00, 0x1b, 0xa2, 0x0f, 0xff, 0x09]), "00:1b:a2:0f:ff:09");
    }
}
