//! What the analyzers' fuzz inputs (`<protocol>/fuzzing.rs`, run by the
//! targets in `fuzz/`) share: a placeholder connection record for events
//! built without a connection at hand, and the common input layout, bytes
//! split into deliveries at each `0xff 0xfe` pair, alternating originator
//! and responder, the first from the originator.

use std::net::{IpAddr, Ipv4Addr};
use weir_events::{ConnId, Connection, Endpoint, Port, Transport};

/// A connection record between unspecified addresses over IP protocol
/// `proto` (6 TCP, otherwise UDP) to responder port `port`.
pub(crate) fn placeholder_conn(proto: u8, port: u16) -> Connection {
    let ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let port = Port { number: port, proto: if proto == 6 { Transport::Tcp } else { Transport::Udp } };
    let ep = Endpoint { size: 0, state: 0, num_pkts: None, num_bytes_ip: None, flow_label: 0, l2_addr: None };
    Connection {
        id: ConnId { orig_h: ip, orig_p: port, resp_h: ip, resp_p: port, proto: u16::from(proto) },
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

/// The deliveries of `data`: (from the originator, bytes), every piece
/// between `0xff 0xfe` pairs (empty ones too), directions alternating.
pub(crate) fn deliveries(data: &[u8]) -> Deliveries<'_> {
    Deliveries { rest: Some(data), is_orig: true }
}

/// The iterator of [`deliveries`].
pub(crate) struct Deliveries<'a> {
    rest: Option<&'a [u8]>,
    is_orig: bool,
}

impl<'a> Iterator for Deliveries<'a> {
    type Item = (bool, &'a [u8]);

    fn next(&mut self) -> Option<(bool, &'a [u8])> {
        let rest = self.rest?;
        let piece = match rest.windows(2).position(|w| w == [0xff, 0xfe]) {
            Some(i) => {
                self.rest = Some(&rest[i + 2..]);
                &rest[..i]
            }
            None => {
                self.rest = None;
                rest
            }
        };
        let is_orig = self.is_orig;
        self.is_orig = !is_orig;
        Some((is_orig, piece))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_alternate_and_empty_ones_count() {
        let got: Vec<(bool, &[u8])> = deliveries(b"ab\xff\xfe\xff\xfecd").collect();
        assert_eq!(got, [(true, &b"ab"[..]), (false, &b""[..]), (true, &b"cd"[..])]);
        assert_eq!(deliveries(b"").count(), 1, "one empty delivery");
        assert_eq!(placeholder_conn(6, 21).id.resp_p.proto, Transport::Tcp);
    }
}
