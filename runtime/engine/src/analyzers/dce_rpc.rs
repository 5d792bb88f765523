//! The DCE/RPC analyzer over TCP (Zeek's `DCE_RPC`, connection-oriented
//! DCE 1.1 RPC), as far as Zeek's confirmation and its authentication
//! hand-over go: each direction is a series of PDUs framed by the 16-byte
//! header's fragment length (byte order from the data representation
//! label); every whole PDU confirms the protocol, one whose lengths cannot
//! hold its header and authentication trailer is a violation and ends the
//! direction. A PDU's authentication verifier goes, by its type, to a
//! GSSAPI (SPNEGO, 9) or NTLM (NTLMSSP, 10) child analyzer, as Zeek hands
//! it on. Nothing is analyzed after a content gap. weir raises no DCE/RPC
//! events yet (no fragment reassembly, no operations).

use super::analyzer::Analyzer;
use super::frames::{Frame, Frames};
use super::child::{Child, Handover};
use super::context::Cx;
use super::registry::Tag;

/// TCP port of `DCE_RPC::ports`.
pub const PORTS: [u16; 1] = [135];

/// Bytes of the common PDU header.
const HEADER: usize = 16;
/// Bytes of the authentication trailer before the verifier.
const SEC_TRAILER: usize = 8;

/// What one direction's bytes meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// A whole PDU.
    Confirm,
    /// A violation, with its reason.
    Violate(String),
    /// An authentication verifier of this type.
    Auth(u8, Vec<u8>),
}

/// The PDU reader of one direction.
#[derive(Clone, Debug, Default)]
pub struct Side {
    frames: Frames,
}

impl Side {
    /// The next bytes of the direction; what their complete PDUs mean goes
    /// to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Out>) {
        let lengths = |h: &[u8]| {
            let le = h[4] >> 4 != 0;
            let u16_at = |i: usize| if le { u16::from_le_bytes([h[i], h[i + 1]]) } else { u16::from_be_bytes([h[i], h[i + 1]]) };
            (usize::from(u16_at(8)), usize::from(u16_at(10)))
        };
        let trailer = |auth: usize| if auth > 0 { auth + SEC_TRAILER } else { 0 };
        let header = |h: &[u8]| {
            let (frag, auth) = lengths(h);
            if frag < HEADER + trailer(auth) {
                Frame::Bad(format!("Binpac exception: fragment length {frag} cannot hold its header and {auth} bytes of authentication"))
            } else {
                Frame::Len(frag)
            }
        };
        let mut units = Vec::new();
        let bad = self.frames.feed(data, HEADER, header, |pdu| {
            let (frag, auth) = lengths(pdu);
            if auth > 0 {
                let t = frag - trailer(auth);
                units.push(Out::Auth(pdu[t], pdu[t + SEC_TRAILER..].to_vec()));
            }
            units.push(Out::Confirm);
        });
        out.extend(units);
        out.extend(bad.map(Out::Violate));
    }
}

/// DCE/RPC analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct DceRpc {
    sides: [Side; 2],
    had_gap: bool,
    gssapi: Option<Box<Child>>,
    ntlm: Option<Box<Child>>,
}

impl Analyzer for DceRpc {
    fn tag(&self) -> Tag {
        Tag::DceRpc
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if self.had_gap {
            return;
        }
        let mut out = Vec::new();
        self.sides[usize::from(!is_orig)].feed(data, &mut out);
        let aid = cx.aid();
        for o in out {
            match o {
                Out::Confirm => cx.confirm(),
                Out::Violate(r) => cx.violate(&r, None),
                Out::Auth(9, blob) => self
                    .gssapi
                    .get_or_insert_with(|| Box::new(Child::nth(Box::new(super::gssapi::Gssapi::default()), aid, 1)))
                    .stream(is_orig, &blob, cx),
                Out::Auth(10, blob) => self
                    .ntlm
                    .get_or_insert_with(|| Box::new(Child::nth(Box::new(super::ntlm::Ntlm), aid, 2)))
                    .stream(is_orig, &blob, cx),
                Out::Auth(..) => {}
            }
        }
    }

    fn gap(&mut self, _: bool, _: u64, _: &mut Cx<'_, '_>) {
        self.had_gap = true;
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.gssapi.done(cx);
        self.ntlm.done(cx);
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The input layout of the `dce_rpc` fuzz target: deliveries as in
/// [`super::fuzz_input::deliveries`] through both directions' readers,
/// NTLMSSP verifiers through the NTLM reader.
pub mod fuzzing {
    use super::{Out, Side};
    use crate::analyzers::fuzz_input::deliveries;

    /// Runs one input; returns the number of findings.
    pub fn run(data: &[u8]) -> usize {
        let (mut sides, mut out, mut n) = ([Side::default(), Side::default()], Vec::new(), 0);
        for (is_orig, piece) in deliveries(data) {
            sides[usize::from(!is_orig)].feed(piece, &mut out);
            for o in out.drain(..) {
                n += 1;
                if let Out::Auth(10, blob) = o {
                    n += usize::from(crate::analyzers::ntlm::check(&blob) != crate::analyzers::ntlm::Check::Ok);
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::Harness;

    /// A little-endian bind PDU with an NTLMSSP verifier `auth`.
    fn bind(auth: &[u8]) -> Vec<u8> {
        let body = [0u8; 4];
        let frag = HEADER + body.len() + SEC_TRAILER + auth.len();
        let mut p = vec![5, 0, 11, 3, 0x10, 0, 0, 0];
        p.extend((frag as u16).to_le_bytes());
        p.extend((auth.len() as u16).to_le_bytes());
        p.extend(2u32.to_le_bytes());
        p.extend(body);
        p.extend([10, 2, 0, 0, 0, 0, 0, 0]);
        p.extend(auth);
        p
    }

    #[test]
    fn pdus_confirm_and_hand_their_verifiers_on() {
        let ntlm = crate::analyzers::ntlm::tests::negotiate();
        let (mut s, mut out) = (Side::default(), Vec::new());
        let pdu = bind(&ntlm);
        s.feed(&pdu[..20], &mut out);
        assert!(out.is_empty());
        s.feed(&pdu[20..], &mut out);
        assert_eq!(out, [Out::Auth(10, ntlm.clone()), Out::Confirm]);
        let mut h = Harness::new(6, 135);
        h.stream(&mut DceRpc::default(), true, &pdu);
        let mut svc = h.conn.snapshot().service;
        svc.sort();
        assert_eq!(svc, ["DCE_RPC", "NTLM"]);
        assert!(fuzzing::run(&pdu) >= 2);
    }

    #[test]
    fn lengths_that_cannot_hold_the_pdu_violate() {
        let mut pdu = bind(b"NTLMSSP\0");
        pdu[8] = 20;
        let (mut s, mut out) = (Side::default(), Vec::new());
        s.feed(&pdu, &mut out);
        assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("fragment length 20")));
        out.clear();
        s.feed(&bind(b""), &mut out);
        assert!(out.is_empty(), "the direction is done");
    }
}
