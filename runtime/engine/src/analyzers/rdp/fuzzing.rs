//! The input layout of the `rdp` fuzz target (`fuzz/`): arbitrary bytes
//! through the RDP parser with every event built, split into deliveries at
//! each `0xff 0xfe` pair, alternating originator and responder, the first
//! from the originator.

use super::parser::{Out, Parser};
use super::{event, kind};
use crate::analyzers::fuzz_input::{deliveries, placeholder_conn};

/// Runs one input; returns the number of findings (events, violations,
/// TLS deliveries).
pub fn run(data: &[u8]) -> usize {
    let (mut p, mut out, mut n) = (Parser::default(), Vec::new(), 0);
    for (is_orig, piece) in deliveries(data) {
        p.feed(is_orig, piece, &mut out);
        for o in out.drain(..) {
            if let Out::X509 { der, .. } = &o {
                let _ = crate::analyzers::ssl::x509::parse(der);
            } else if kind(&o).is_some() {
                let _ = event(o, Box::new(placeholder_conn(6, 3389)));
            }
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_counts() {
        assert_eq!(super::run(b"\x03\x00\x00\x0b\x06\xe0\x00\x00\x00\x00\x00"), 1);
        assert_eq!(super::run(b"\x03\x00\x00\x01"), 1, "a violation");
    }
}
