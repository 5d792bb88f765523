//! Engine values → WIT-generated values. The only place that knows both.

use crate::bindings::weir::events::types as w;
use std::net::IpAddr;
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

fn l2(a: &[u8; 6]) -> String {
    a.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
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
