//! The Kerberos analyzers (Zeek's `KRB` over UDP, and below GSSAPI; and
//! `KRB_TCP`), as far as Zeek's confirmation and violation go: a message
//! is an ASN.1 application element whose number is one of Kerberos' message
//! types (AS/TGS request and reply, AP request and reply, SAFE, PRIV, CRED,
//! ERROR) holding a SEQUENCE; each such message confirms the protocol, and
//! one that is not is a violation. Over TCP every message comes after a
//! 4-byte big-endian length (RFC 4120 section 7.2.2); as in Zeek, nothing is
//! analyzed on a connection picked up mid-stream or after a gap. weir raises
//! no Kerberos events yet.

use super::analyzer::Analyzer;
use super::frames::{Frame, Frames, Verdict};
use super::ber::{self, Class};
use super::context::Cx;
use super::registry::Tag;
use crate::sessions::conn::ProtoState;

/// The port both analyzers are registered for (`KRB::tcp_ports`, `KRB::udp_ports`).
pub const PORTS: [u16; 1] = [88];

/// Kerberos' message types (RFC 4120 section 5.10, the application tags).
const MESSAGE_TYPES: [u64; 10] = [10, 11, 12, 13, 14, 15, 20, 21, 22, 30];

/// The most a TCP record may announce before weir stops buffering it.
const MAX_TCP_RECORD: u32 = 1 << 20;

/// Whether `b` reads as one Kerberos message; the error is the violation's
/// reason.
pub fn check_pdu(b: &[u8]) -> Result<(), String> {
    let h = ber::header(b).map_err(|_| "Binpac exception: out of bound: KRB_PDU".to_string())?;
    if !MESSAGE_TYPES.contains(&(u64::from(h.first & 0x1f))) || h.number > 30 {
        return Err(format!("Binpac exception: invalid index for case: KRB_PDU: {}", h.first & 0x1f));
    }
    let content = h.total().and_then(|end| b.get(h.header_len..end)).ok_or("Binpac exception: out of bound: KRB_PDU")?;
    match ber::element(content) {
        Some((s, _, _)) if s.class == Class::Universal && s.number == 16 => Ok(()),
        _ => Err("Binpac exception: out of bound: KRB message".to_string()),
    }
}

/// Kerberos over UDP, or below GSSAPI: every datagram is one message.
#[derive(Clone, Copy, Debug, Default)]
pub struct Krb;

impl Analyzer for Krb {
    fn tag(&self) -> Tag {
        Tag::Krb
    }

    fn datagram(&mut self, _: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        match check_pdu(data) {
            Ok(()) => cx.confirm(),
            Err(reason) => cx.violate(&reason, None),
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(*self)
    }
}

/// The record reader of one direction of a Kerberos TCP connection.
#[derive(Clone, Debug, Default)]
pub struct TcpSide {
    frames: Frames,
}

impl TcpSide {
    /// The next bytes of the direction; what their complete records mean
    /// goes to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Verdict>) {
        let header = |l: &[u8]| match u32::from_be_bytes([l[0], l[1], l[2], l[3]]) {
            len if len > MAX_TCP_RECORD => Frame::Bad(format!("KRB_TCP record of {len} bytes")),
            len => Frame::Len(4 + len as usize),
        };
        let mut records = Vec::new();
        let bad = self.frames.feed(data, 4, header, |r| {
            records.push(match check_pdu(&r[4..]) {
                Ok(()) => Verdict::Confirm,
                Err(r) => Verdict::Violate(r),
            })
        });
        out.extend(records);
        out.extend(bad.map(Verdict::Violate));
    }
}

/// Kerberos over TCP.
#[derive(Clone, Debug, Default)]
pub struct KrbTcp {
    sides: [TcpSide; 2],
    had_gap: bool,
}

impl Analyzer for KrbTcp {
    fn tag(&self) -> Tag {
        Tag::KrbTcp
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if self.had_gap || matches!(&cx.conn().state, ProtoState::Tcp(t) if t.is_partial()) {
            return;
        }
        let mut out = Vec::new();
        self.sides[usize::from(!is_orig)].feed(data, &mut out);
        for v in out {
            v.report(cx);
        }
    }

    fn gap(&mut self, _: bool, _: u64, _: &mut Cx<'_, '_>) {
        self.had_gap = true;
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The input layout of the `krb` fuzz target: deliveries as in
/// [`super::fuzz_input::deliveries`], each read both as a datagram and as
/// the next bytes of a TCP direction.
pub mod fuzzing {
    use super::{check_pdu, TcpSide};
    use crate::analyzers::fuzz_input::deliveries;

    /// Runs one input; returns how many messages and violations were found.
    pub fn run(data: &[u8]) -> usize {
        let (mut sides, mut out, mut n) = ([TcpSide::default(), TcpSide::default()], Vec::new(), 0);
        for (is_orig, piece) in deliveries(data) {
            n += usize::from(check_pdu(piece).is_ok());
            sides[usize::from(!is_orig)].feed(piece, &mut out);
        }
        n + out.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyzers::testing::Harness;

    /// An AS-REQ shaped message: application 10, a SEQUENCE holding pvno 5
    /// and msg-type 10.
    pub(crate) fn as_req() -> Vec<u8> {
        vec![0x6a, 0x0c, 0x30, 0x0a, 0xa1, 0x03, 0x02, 0x01, 0x05, 0xa2, 0x03, 0x02, 0x01, 0x0a]
    }

    #[test]
    fn message_types_confirm_and_others_violate() {
        assert_eq!(check_pdu(&as_req()), Ok(()));
        let mut ap_rep = as_req();
        ap_rep[0] = 0x6f;
        assert_eq!(check_pdu(&ap_rep), Ok(()));
        let mut bad = as_req();
        bad[0] = 0x61;
        assert!(check_pdu(&bad).is_err(), "application 1 is no Kerberos message");
        assert!(check_pdu(&as_req()[..8]).is_err(), "cut short");
        let mut no_seq = as_req();
        no_seq[2] = 0x04;
        assert!(check_pdu(&no_seq).is_err());
    }

    #[test]
    fn udp_and_tcp_confirm() {
        let mut h = Harness::new(17, 88);
        h.datagram(&mut Krb, true, &as_req());
        assert_eq!(h.conn.snapshot().service, ["KRB"]);
        let mut h = Harness::new(6, 88);
        let mut k = KrbTcp::default();
        let mut rec = (as_req().len() as u32).to_be_bytes().to_vec();
        rec.extend(as_req());
        h.stream(&mut k, true, &rec[..7]);
        assert!(h.conn.snapshot().service.is_empty(), "the record is not complete");
        h.stream(&mut k, true, &rec[7..]);
        assert_eq!(h.conn.snapshot().service, ["KRB_TCP"]);
    }

    #[test]
    fn tcp_records_are_framed_and_huge_ones_stop_the_side() {
        let mut s = TcpSide::default();
        let mut out = Vec::new();
        let mut two = Vec::new();
        for _ in 0..2 {
            two.extend((as_req().len() as u32).to_be_bytes());
            two.extend(as_req());
        }
        s.feed(&two, &mut out);
        assert_eq!(out, [Verdict::Confirm, Verdict::Confirm]);
        out.clear();
        s.feed(&[0x7f, 0, 0, 0], &mut out);
        assert!(matches!(out[..], [Verdict::Violate(_)]));
        out.clear();
        s.feed(&two, &mut out);
        assert!(out.is_empty(), "a dead side reads nothing");
        assert!(fuzzing::run(&two) > 0);
    }
}
