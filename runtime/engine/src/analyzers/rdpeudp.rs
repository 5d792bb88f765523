//! The RDP-UDP analyzer (Zeek's `RDPEUDP`, MS-RDPEUDP and MS-RDPEUDP2), as
//! far as its handshake goes: every datagram is read by the state the
//! connection is in. The originator's SYN (flag SYN, `snSourceAck`
//! 0xffffffff) moves it on to the SYN-ACK; the responder's SYN-ACK (flag
//! SYN or ACK) confirms the protocol; the first ACK then establishes the
//! connection (version 2 when both sides' SYNEX payloads said version 3).
//! A datagram cut short of what its state reads is a violation. weir raises
//! no RDP-UDP events yet.

use super::analyzer::Analyzer;
use super::context::Cx;
use super::registry::Tag;

/// UDP port of `RDP::rdpeudp_ports`.
pub const PORTS: [u16; 1] = [3389];

const FLAG_SYN: u16 = 0x0001;
const FLAG_ACK: u16 = 0x0004;
const FLAG_DATA: u16 = 0x0008;
const FLAG_ACK_OF_ACKS: u16 = 0x0100;
const FLAG_CORRELATION_ID: u16 = 0x0800;
const FLAG_SYNEX: u16 = 0x1000;
const VERSION_3: u16 = 0x0101;

/// Where the handshake stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum State {
    /// Waiting for the originator's SYN.
    #[default]
    NeedSyn,
    /// Waiting for the responder's SYN-ACK.
    NeedSynAck,
    /// Waiting for the first ACK.
    NeedAck,
    /// Done.
    Established,
}

/// What one datagram meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// The SYN-ACK: the protocol is confirmed.
    Confirm,
    /// A violation, with its reason.
    Violate(&'static str),
}

/// The handshake of one connection.
#[derive(Clone, Debug)]
pub struct Parser {
    /// Where it stands.
    pub state: State,
    orig_version: u16,
    resp_version: u16,
}

impl Default for Parser {
    fn default() -> Self {
        Parser { state: State::NeedSyn, orig_version: 1, resp_version: 1 }
    }
}

const SHORT: &str = "Binpac exception: out of bound: RDPEUDP_PDU";

/// The flags, `snSourceAck` and SYNEX version of a SYN or SYN-ACK.
fn syn(b: &[u8]) -> Result<(u16, u32, u16), &'static str> {
    let fec = b.get(..16).ok_or(SHORT)?;
    let source_ack = u32::from_be_bytes([fec[0], fec[1], fec[2], fec[3]]);
    let flags = u16::from_be_bytes([fec[6], fec[7]]);
    let mut at = 16;
    if flags & FLAG_CORRELATION_ID != 0 {
        at += 32;
    }
    let mut version = 1;
    if flags & FLAG_SYNEX != 0 {
        let ex = b.get(at..at + 4).ok_or(SHORT)?;
        version = u16::from_be_bytes([ex[2], ex[3]]);
        at += 4;
        if version == VERSION_3 {
            at += 32;
        }
    }
    if b.len() < at {
        return Err(SHORT);
    }
    Ok((flags, source_ack, version))
}

/// Whether a version 1 ACK's fixed parts are all there.
fn ack_v1(b: &[u8]) -> Result<(), &'static str> {
    let fec = b.get(..10).ok_or(SHORT)?;
    let flags = u16::from_be_bytes([fec[6], fec[7]]);
    let n = usize::from(u16::from_be_bytes([fec[8], fec[9]]));
    let mut at = (10 + n).div_ceil(4) * 4;
    if flags & FLAG_ACK_OF_ACKS != 0 {
        at += 4;
    }
    if flags & FLAG_DATA != 0 {
        at += 8;
    }
    if b.len() < at {
        return Err(SHORT);
    }
    Ok(())
}

impl Parser {
    /// One datagram of side `is_orig`; what it meant goes to `out`.
    pub fn datagram(&mut self, is_orig: bool, b: &[u8], out: &mut Vec<Out>) {
        let res = match self.state {
            State::NeedSyn => syn(b).map(|(flags, source_ack, version)| {
                if is_orig && flags & FLAG_SYN != 0 && source_ack == 0xffff_ffff {
                    self.orig_version = version;
                    self.state = State::NeedSynAck;
                }
            }),
            State::NeedSynAck => syn(b).map(|(flags, _, version)| {
                if !is_orig && flags & (FLAG_SYN | FLAG_ACK) != 0 {
                    out.push(Out::Confirm);
                    self.state = State::NeedAck;
                    self.resp_version = version;
                }
            }),
            State::NeedAck | State::Established => {
                if self.orig_version == VERSION_3 && self.resp_version == VERSION_3 {
                    // The prefix byte and the packet header.
                    match b.get(..3) {
                        Some(p) if (p[0] & 0x78) == 8 => Ok(()),
                        Some(_) => {
                            self.state = State::Established;
                            Ok(())
                        }
                        None => Err(SHORT),
                    }
                } else {
                    ack_v1(b).map(|()| self.state = State::Established)
                }
            }
        };
        if let Err(reason) = res {
            out.push(Out::Violate(reason));
        }
    }
}

/// RDP-UDP analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Rdpeudp {
    parser: Parser,
}

impl Analyzer for Rdpeudp {
    fn tag(&self) -> Tag {
        Tag::Rdpeudp
    }

    fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let mut out = Vec::new();
        self.parser.datagram(is_orig, data, &mut out);
        for o in out {
            match o {
                Out::Confirm => cx.confirm(),
                Out::Violate(r) => cx.violate(r, None),
            }
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The input layout of the `rdpeudp` fuzz target: deliveries as in
/// [`super::fuzz_input::deliveries`], each one datagram.
pub mod fuzzing {
    use super::Parser;
    use crate::analyzers::fuzz_input::deliveries;

    /// Runs one input; returns the number of findings.
    pub fn run(data: &[u8]) -> usize {
        let (mut p, mut out) = (Parser::default(), Vec::new());
        for (is_orig, piece) in deliveries(data) {
            p.datagram(is_orig, piece, &mut out);
        }
        out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::Harness;

    fn syn_pdu(source_ack: u32, flags: u16, version: Option<u16>) -> Vec<u8> {
        let mut b = source_ack.to_be_bytes().to_vec();
        b.extend([0x00, 0x40]);
        b.extend((flags | if version.is_some() { FLAG_SYNEX } else { 0 }).to_be_bytes());
        b.extend([0, 0, 0, 1, 0x04, 0xc0, 0x04, 0xc0]);
        if let Some(v) = version {
            b.extend([0, 1]);
            b.extend(v.to_be_bytes());
            if v == VERSION_3 {
                b.extend([0xaa; 32]);
            }
        }
        b
    }

    #[test]
    fn the_syn_ack_after_a_syn_confirms() {
        let mut h = Harness::new(17, 3389);
        let mut a = Rdpeudp::default();
        h.datagram(&mut a, false, &syn_pdu(0xffff_ffff, FLAG_SYN | FLAG_ACK, None));
        assert_eq!(a.parser.state, State::NeedSyn, "a SYN comes from the originator");
        h.datagram(&mut a, true, &syn_pdu(0xffff_ffff, FLAG_SYN, Some(VERSION_3)));
        assert_eq!(a.parser.state, State::NeedSynAck);
        assert!(h.conn.snapshot().service.is_empty());
        h.datagram(&mut a, false, &syn_pdu(1, FLAG_SYN | FLAG_ACK, Some(VERSION_3)));
        assert_eq!(h.conn.snapshot().service, ["RDPEUDP"]);
        h.datagram(&mut a, true, &[0x40, 0x00, 0x10]);
        assert_eq!(a.parser.state, State::Established, "a version 2 packet");
    }

    #[test]
    fn short_datagrams_violate() {
        let mut p = Parser::default();
        let mut out = Vec::new();
        p.datagram(true, &syn_pdu(0xffff_ffff, FLAG_SYN, Some(VERSION_3))[..20], &mut out);
        assert_eq!(out, [Out::Violate(SHORT)]);
        out.clear();
        p.datagram(true, &syn_pdu(0xffff_ffff, FLAG_SYN, None), &mut out);
        p.datagram(false, &syn_pdu(1, FLAG_ACK, None), &mut out);
        assert_eq!(out, [Out::Confirm]);
        out.clear();
        p.datagram(true, &[0; 9], &mut out);
        assert_eq!(out, [Out::Violate(SHORT)], "an ACK has its ack vector header");
        p.datagram(true, &[0, 0, 0, 0, 0, 0x40, 0, 0x04, 0, 2, 1, 1], &mut out);
        assert_eq!(p.state, State::Established);
        assert_eq!(fuzzing::run(&[0; 4]), 1);
    }
}
