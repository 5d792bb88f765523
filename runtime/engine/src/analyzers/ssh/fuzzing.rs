//! The input layout of the `ssh` fuzz target (`fuzz/`): arbitrary bytes
//! through the SSH parser with every event taken and built. The input is
//! split into deliveries at each `0xff 0xfe` pair, alternating originator
//! and responder, the first from the originator.

use super::parser::Parser;
use super::{emit, Sink};
use std::net::{IpAddr, Ipv4Addr};
use weir_events::{ConnId, Connection, Endpoint, Event, EventKind, Port, Transport};

/// A placeholder connection record (TCP between unspecified addresses, port
/// 22) for the events of the fuzz target.
fn placeholder_conn() -> Connection {
    let ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let port = Port { number: 22, proto: Transport::Tcp };
    let ep = Endpoint { size: 0, state: 0, num_pkts: None, num_bytes_ip: None, flow_label: 0, l2_addr: None };
    Connection {
        id: ConnId { orig_h: ip, orig_p: port, resp_h: ip, resp_p: port, proto: 6 },
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

/// Counts what the analyzer reports.
#[derive(Default)]
struct Count(usize);

impl Sink for Count {
    fn wants(&self, _: EventKind) -> bool {
        true
    }
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event) {
        let _ = build(Box::new(placeholder_conn()));
        self.0 += 1;
    }
    fn weird(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn limit(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn confirm(&mut self) {
        self.0 += 1;
    }
    fn violate(&mut self, _: &str) {
        self.0 += 1;
    }
}

/// Runs one input; returns the number of events, weirds, confirmations and
/// violations.
pub fn run(data: &[u8]) -> usize {
    let (mut p, mut sink, mut out) = (Parser::default(), Count::default(), Vec::new());
    let (mut rest, mut is_orig) = (data, true);
    loop {
        let cut = rest.windows(2).position(|w| w == [0xff, 0xfe]);
        p.feed(is_orig, &rest[..cut.unwrap_or(rest.len())], &mut out);
        for o in out.drain(..) {
            emit(o, &mut sink);
        }
        is_orig = !is_orig;
        match cut {
            Some(i) => rest = &rest[i + 2..],
            None => break,
        }
    }
    sink.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn banners_count() {
        assert_eq!(super::run(b"SSH-2.0-a\r\n\xff\xfeSSH-2.0-b\r\n"), 2);
        assert_eq!(super::run(b"x\n"), 1, "a violation");
    }
}
