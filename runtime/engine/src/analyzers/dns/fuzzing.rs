//! The input layout of the `dns` fuzz target (`fuzz/`): arbitrary bytes
//! through the DNS parser with every event taken and built.
//!
//! Byte 0 picks the settings (bit 0 `dns_skip_all_auth`, bit 1
//! `dns_skip_all_addl`, bit 2 TCP framing, bit 3 the NetBIOS port, bit 4 a
//! multicast responder); byte 1 the compression chain limit (0 to 31); the
//! rest is split into chunks at each `0xff 0xfe` pair, alternating
//! originator and responder (TCP chunks go through each side's framing,
//! which is flushed at the end).

use super::message::{self, ConnFacts, Parser};
use super::{tcp, DnsConfig, Sink};
use std::net::{IpAddr, Ipv4Addr};
use weir_events::{ConnId, Connection, Endpoint, Event, EventKind, Port, Transport};

/// A placeholder connection record (UDP between unspecified addresses, port
/// 53) for the parser's events when no connection is at hand: the fuzz
/// target's and the tests' sinks.
pub(crate) fn placeholder_conn() -> Connection {
    let ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let port = Port { number: 53, proto: Transport::Udp };
    let ep = Endpoint { size: 0, state: 0, num_pkts: None, num_bytes_ip: None, flow_label: 0, l2_addr: None };
    Connection {
        id: ConnId { orig_h: ip, orig_p: port, resp_h: ip, resp_p: port, proto: 17 },
        orig: ep,
        resp: ep,
        start_time: 0.0,
        duration: 0.0,
        service: Vec::new(),
        history: String::new(),
        uid: String::new(),
        tunnel: None,
        vlan: None,
        inner_vlan: None,
    }
}

/// Counts what the parser reports.
#[derive(Default)]
struct Count(usize);

impl Sink for Count {
    fn wants(&self, _: EventKind) -> bool {
        true
    }
    fn raise<F: FnOnce(Box<Connection>) -> Event>(&mut self, build: F) {
        let _ = build(Box::new(placeholder_conn()));
        self.0 += 1;
    }
    fn weird(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn limit(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn confirm(&mut self) {}
    fn violate(&mut self, _: &'static str) {
        self.0 += 1;
    }
    fn flip_roles(&mut self) {}
}

/// Runs one input; returns the number of events, weirds and violations.
pub fn run(data: &[u8]) -> usize {
    let (Some(&flags), Some(&depth)) = (data.first(), data.get(1)) else { return 0 };
    let cfg = DnsConfig {
        skip_all_auth: flags & 1 != 0,
        skip_all_addl: flags & 2 != 0,
        max_queries: 25,
        max_compression_chain_depth: u64::from(depth & 31),
    };
    let tcp_mode = flags & 4 != 0;
    let conn = ConnFacts {
        is_netbios: flags & 8 != 0,
        resp_port_netbios: flags & 8 != 0,
        resp_multicast: flags & 16 != 0,
        udp: !tcp_mode,
    };
    let mut sink = Count::default();
    let mut first = true;
    let mut framers = [tcp::Framer::default(), tcp::Framer::default()];
    let mut p = Parser { sink: &mut sink, cfg: &cfg, conn };
    let mut rest = &data[2..];
    let mut side = 0usize;
    loop {
        let cut = rest.windows(2).position(|w| w == [0xff, 0xfe]);
        let chunk = &rest[..cut.unwrap_or(rest.len())];
        let dir = u8::from(side == 0);
        if tcp_mode {
            framers[side].feed(chunk, |m| message::parse(&mut p, m, dir, &mut first));
        } else {
            message::parse(&mut p, chunk, dir, &mut first);
        }
        side ^= 1;
        match cut {
            Some(i) => rest = &rest[i + 2..],
            None => break,
        }
    }
    for f in &mut framers {
        if let Some(m) = f.flush() {
            message::parse(&mut p, &m, 2, &mut first);
        }
    }
    sink.0
}

#[cfg(test)]
mod tests {
    use super::run;

    #[test]
    fn inputs_of_every_mode_run() {
        let msg = b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x01\x00\x01\x01a\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\x01\x02\x03\x04";
        for flags in 0..32u8 {
            let mut input = vec![flags, 20];
            input.extend_from_slice(msg);
            input.extend_from_slice(&[0xff, 0xfe]);
            input.extend_from_slice(&msg[..msg.len() / 2]);
            assert!(run(&input) > 0 || flags & 4 != 0, "flags {flags}: events were raised");
        }
        assert_eq!(run(&[]), 0);
        let mut tcp = vec![4u8, 20, 0, msg.len() as u8];
        tcp.extend_from_slice(msg);
        assert!(run(&tcp) > 0, "a framed message is parsed");
    }
}
