//! Benchmark handler: takes `new_connection` and reads every field of the
//! connection record, folding them into a checksum the host cannot see
//! (the cost of a handler that looks at all it is given).

use std::cell::Cell;
use weir_guest::types::{ConnId, Connection, Endpoint, IpAddress};

thread_local! {
    static SUM: Cell<u64> = const { Cell::new(0) };
}

fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x100_0000_01b3)
}

fn addr(h: u64, a: &IpAddress) -> u64 {
    match a {
        IpAddress::Ipv4((a, b, c, d)) => mix(h, u64::from(u32::from_be_bytes([*a, *b, *c, *d]))),
        IpAddress::Ipv6(g) => [g.0, g.1, g.2, g.3, g.4, g.5, g.6, g.7].iter().fold(h, |h, x| mix(h, u64::from(*x))),
    }
}

fn text(h: u64, s: &str) -> u64 {
    s.bytes().fold(h, |h, b| mix(h, u64::from(b)))
}

fn id(h: u64, id: &ConnId) -> u64 {
    let h = addr(h, &id.orig_h);
    let h = mix(h, u64::from(id.orig_p.number) | (id.orig_p.proto as u64) << 16);
    let h = addr(h, &id.resp_h);
    let h = mix(h, u64::from(id.resp_p.number) | (id.resp_p.proto as u64) << 16);
    mix(h, u64::from(id.proto))
}

fn endpoint(h: u64, e: &Endpoint) -> u64 {
    let h = mix(mix(h, e.size), u64::from(e.state));
    let h = mix(mix(h, e.num_pkts.unwrap_or(0)), e.num_bytes_ip.unwrap_or(0));
    let h = mix(h, u64::from(e.flow_label));
    e.l2_addr.as_deref().map_or(h, |a| text(h, a))
}

struct ReadAll;

impl weir_guest::Handler for ReadAll {
    fn new_connection(c: Connection) {
        let mut h = id(0xcbf2_9ce4_8422_2325, &c.id);
        h = endpoint(h, &c.orig);
        h = endpoint(h, &c.resp);
        h = mix(mix(h, c.start_time.to_bits()), c.duration.to_bits());
        h = c.service.iter().fold(h, |h, s| text(h, s));
        h = text(text(h, &c.history), &c.uid);
        for e in c.tunnel.iter().flatten() {
            h = id(h, &e.cid);
            h = mix(h, e.tunnel_type as u64);
            h = e.uid.as_deref().map_or(h, |u| text(h, u));
        }
        h = mix(mix(h, c.vlan.unwrap_or(-1) as u64), c.inner_vlan.unwrap_or(-1) as u64);
        SUM.with(|s| s.set(s.get() ^ h));
    }
}

weir_guest::export_handler!(ReadAll: new_connection);
