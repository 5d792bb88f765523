//! Building the WIT's connection values from the engine's own state: a
//! connection's tuple as a `conn_id`, one level of an encapsulation stack.

use std::net::IpAddr;
use weir_events::{ConnId, EncapsulatingConn, Port, Transport, TunnelType};

/// Transport of IP protocol `proto` (ICMPv6 counts as ICMP).
pub fn transport_of(proto: u8) -> Transport {
    match proto {
        6 => Transport::Tcp,
        17 => Transport::Udp,
        1 | 58 => Transport::Icmp,
        _ => Transport::Unknown,
    }
}

/// The `conn_id` of a flow from `orig` to `resp` over IP protocol `proto`;
/// both ports take the protocol's transport.
pub fn conn_id(orig: (IpAddr, u16), resp: (IpAddr, u16), proto: u8) -> ConnId {
    let t = transport_of(proto);
    ConnId {
        orig_h: orig.0,
        orig_p: Port { number: orig.1, proto: t },
        resp_h: resp.0,
        resp_p: Port { number: resp.1, proto: t },
        proto: u16::from(proto),
    }
}

/// One encapsulation level; an empty `uid` is left unset.
pub fn encap(cid: ConnId, tunnel_type: TunnelType, uid: String) -> EncapsulatingConn {
    EncapsulatingConn { cid, tunnel_type, uid: (!uid.is_empty()).then_some(uid) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_take_the_flow_transport() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let id = conn_id((a, 8), (a, 0), 58);
        assert_eq!((id.orig_p.proto, id.resp_p.number, id.proto), (Transport::Icmp, 0, 58));
        assert_eq!(conn_id((a, 1), (a, 2), 132).orig_p.proto, Transport::Unknown);
        assert_eq!(encap(id, TunnelType::Ip, String::new()).uid, None);
    }
}
