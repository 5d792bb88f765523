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
use crate::analyzers::fuzz_input::deliveries;
use weir_events::{Connection, Event, EventKind};

/// The placeholder connection record (UDP to port 53) of the parser's
/// events when no connection is at hand: the fuzz target's and the tests' sinks.
pub(crate) fn placeholder_conn() -> Connection {
    crate::analyzers::fuzz_input::placeholder_conn(17, 53)
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
    for (is_orig, chunk) in deliveries(&data[2..]) {
        let dir = u8::from(is_orig);
        if tcp_mode {
            framers[usize::from(!is_orig)].feed(chunk, |m| message::parse(&mut p, m, dir, &mut first));
        } else {
            message::parse(&mut p, chunk, dir, &mut first);
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
