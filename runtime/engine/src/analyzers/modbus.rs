//! The Modbus/TCP analyzer (Zeek's `MODBUS`), as far as Zeek's confirmation
//! and violation go: each direction is a series of PDUs, a 7-byte MBAP
//! header (transaction id, protocol id 0, a length of at least 2 counting
//! the unit id and what follows it, the unit id) and the function's data.
//! A whole PDU confirms the protocol; a header breaking the protocol id or
//! length rule is a violation and ends the direction's parsing, as does a
//! gap. weir raises no Modbus events yet.

use super::analyzer::Analyzer;
use super::frames::{Frame, Frames, Verdict};
use super::context::Cx;
use super::registry::Tag;

/// TCP port of `Modbus::ports`.
pub const PORTS: [u16; 1] = [502];

/// Bytes of the MBAP header before the length's count starts.
const HEADER: usize = 6;

/// The PDU reader of one direction.
#[derive(Clone, Debug, Default)]
pub struct Side {
    frames: Frames,
}

impl Side {
    /// The next bytes of the direction; what their complete PDUs mean goes
    /// to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Verdict>) {
        let header = |h: &[u8]| {
            let (pid, len) = (u16::from_be_bytes([h[2], h[3]]), u16::from_be_bytes([h[4], h[5]]));
            if pid != 0 || len < 2 {
                let what = if pid != 0 { format!("protocol id {pid}") } else { format!("length {len}") };
                Frame::Bad(format!("Binpac exception: &enforce violation: ModbusTCP_TransportHeader {what}"))
            } else {
                Frame::Len(HEADER + usize::from(len))
            }
        };
        let mut whole = 0;
        let bad = self.frames.feed(data, HEADER, header, |_| whole += 1);
        out.extend(std::iter::repeat_n(Verdict::Confirm, whole));
        out.extend(bad.map(Verdict::Violate));
    }

    /// Bytes of the direction never came: its parsing ends.
    pub fn gap(&mut self) {
        self.frames.stop();
    }
}

/// Modbus analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Modbus {
    sides: [Side; 2],
}

impl Analyzer for Modbus {
    fn tag(&self) -> Tag {
        Tag::Modbus
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let mut out = Vec::new();
        self.sides[usize::from(!is_orig)].feed(data, &mut out);
        for v in out {
            v.report(cx);
        }
    }

    fn gap(&mut self, is_orig: bool, _: u64, _: &mut Cx<'_, '_>) {
        self.sides[usize::from(!is_orig)].gap();
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The input layout of the `modbus` fuzz target: deliveries as in
/// [`super::fuzz_input::deliveries`] through both directions' readers.
pub mod fuzzing {
    use super::Side;
    use crate::analyzers::fuzz_input::deliveries;

    /// Runs one input; returns the number of findings.
    pub fn run(data: &[u8]) -> usize {
        let (mut sides, mut out) = ([Side::default(), Side::default()], Vec::new());
        for (is_orig, piece) in deliveries(data) {
            sides[usize::from(!is_orig)].feed(piece, &mut out);
        }
        out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::Harness;

    /// Read holding registers 0..2 of unit 1.
    const REQUEST: &[u8] = b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x02";

    #[test]
    fn whole_pdus_confirm_in_pieces_too() {
        let (mut s, mut out) = (Side::default(), Vec::new());
        s.feed(&REQUEST[..5], &mut out);
        s.feed(&REQUEST[5..11], &mut out);
        assert!(out.is_empty());
        s.feed(&[&REQUEST[11..], REQUEST].concat(), &mut out);
        assert_eq!(out, [Verdict::Confirm, Verdict::Confirm]);
        let mut h = Harness::new(6, 502);
        h.stream(&mut Modbus::default(), true, REQUEST);
        assert_eq!(h.conn.snapshot().service, ["MODBUS"]);
        assert_eq!(fuzzing::run(REQUEST), 1);
    }

    #[test]
    fn bad_headers_violate_and_end_the_direction() {
        let (mut s, mut out) = (Side::default(), Vec::new());
        s.feed(b"\x00\x01\x00\x07\x00\x06\x01\x03", &mut out);
        assert!(matches!(&out[..], [Verdict::Violate(r)] if r.contains("protocol id 7")));
        out.clear();
        s.feed(REQUEST, &mut out);
        assert!(out.is_empty(), "the direction is done");
        let (mut s, mut out) = (Side::default(), Vec::new());
        s.feed(b"\x00\x01\x00\x00\x00\x01\x01", &mut out);
        assert!(matches!(&out[..], [Verdict::Violate(r)] if r.contains("length 1")));
    }
}
