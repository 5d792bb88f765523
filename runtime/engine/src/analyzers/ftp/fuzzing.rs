//! The input layout of the `ftp` fuzz target (`fuzz/`): arbitrary bytes
//! through the FTP line parser with every event taken and built. Byte 0 is
//! `FTP::max_command_length` (0 checks nothing); the rest is split into
//! deliveries at each `0xff 0xfe` pair, alternating originator and
//! responder, the first from the originator.

use super::{emit, Ftp, Sink};
use std::net::{IpAddr, Ipv4Addr};
use weir_events::{ConnId, Connection, Endpoint, Event, EventKind, Port, Transport};

/// A placeholder connection record (TCP between unspecified addresses, port
/// 21) for the events of the fuzz target.
fn placeholder_conn() -> Connection {
    let ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let port = Port { number: 21, proto: Transport::Tcp };
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
    fn confirm(&mut self) {}
    fn violate(&mut self, _: &str, _: &[u8]) {
        self.0 += 1;
    }
}

/// Runs one input; returns the number of events, weirds and violations.
pub fn run(data: &[u8]) -> usize {
    let Some((&max, mut rest)) = data.split_first() else { return 0 };
    let (mut f, mut sink, mut out) = (Ftp::new(u64::from(max)), Count::default(), Vec::new());
    let mut is_orig = true;
    loop {
        let cut = rest.windows(2).position(|w| w == [0xff, 0xfe]);
        f.feed(is_orig, &rest[..cut.unwrap_or(rest.len())], &mut out);
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
    fn commands_and_replies_count() {
        assert_eq!(super::run(b"\x64USER a\r\n\xff\xfe331 ok\r\n"), 2);
        assert_eq!(super::run(b"\x00\xff\xfex\r\n"), 1, "a violation");
    }
}
