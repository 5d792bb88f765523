//! The NTLM analyzer (Zeek's `NTLM`), a child of the analyzers that carry
//! NTLMSSP tokens (LDAP's SASL and Sicily binds, GSSAPI's SPNEGO): every
//! delivery is one token, an 8-byte signature and a little-endian message
//! type; a negotiate (1), challenge (2) or authenticate (3) message must
//! hold its fixed fields. A token that reads confirms the protocol, one
//! that does not is a violation, as Zeek's analyzer says after each
//! delivery. A challenge announcing target information must end its AV
//! pairs with MsvAvEOL (else the violation "NTLM AV Pair loop underflow"). weir raises no NTLM events yet.

use super::analyzer::Analyzer;
use super::context::Cx;
use super::registry::Tag;

/// Bytes of the signature and message type.
const PREFIX: usize = 12;

/// The negotiate flag saying a challenge carries target information.
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
/// Where a challenge's variable part starts.
const CHALLENGE_PAYLOAD: usize = 48;

/// What reading one token found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The token reads.
    Ok,
    /// The token reads, but breaks a rule: a violation with this reason
    /// (the token still confirms, as in Zeek).
    Violation(&'static str),
    /// The token does not read: a violation with this reason, no confirmation.
    Broken(&'static str),
}

const SHORT: &str = "Binpac exception: out of bound: NTLM message";

/// Reads one NTLMSSP token.
pub fn check(b: &[u8]) -> Check {
    let Some(t) = b.get(8..PREFIX) else { return Check::Broken("Binpac exception: out of bound: NTLM_SSP_Token") };
    // The fixed fields after the type: negotiate flags and two string
    // fields; the challenge's target name, flags, challenge, reserved
    // bytes and target information; the authenticate message's six string
    // fields and flags.
    let msg_type = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
    let fixed = match msg_type {
        1 => 4 + 8 + 8,
        2 => 8 + 4 + 8 + 8 + 8,
        3 => 6 * 8 + 4,
        _ => 0,
    };
    if b.len() < PREFIX + fixed {
        return Check::Broken(SHORT);
    }
    if msg_type == 2 && u32::from_le_bytes([b[20], b[21], b[22], b[23]]) & NEGOTIATE_TARGET_INFO != 0 {
        let len = u16::from_le_bytes([b[40], b[41]]);
        let offset = u32::from_le_bytes([b[44], b[45], b[46], b[47]]) as usize;
        return match av_pairs(b.get(offset..).filter(|_| offset >= CHALLENGE_PAYLOAD)) {
            Err(reason) => Check::Broken(reason),
            Ok(false) if len != 0 => Check::Violation("NTLM AV Pair loop underflow"),
            Ok(_) => Check::Ok,
        };
    }
    Check::Ok
}

/// Reads a challenge's AV pairs (MS-NLMP 2.2.2.1); whether the list ended
/// with MsvAvEOL.
fn av_pairs(b: Option<&[u8]>) -> Result<bool, &'static str> {
    let mut b = b.ok_or(SHORT)?;
    while !b.is_empty() {
        let h = b.get(..4).ok_or(SHORT)?;
        let (id, len) = (u16::from_le_bytes([h[0], h[1]]), usize::from(u16::from_le_bytes([h[2], h[3]])));
        let value = match id {
            0 => return Ok(true),
            1..=5 | 9 => len,
            6 => 4,
            7 => 8,
            // MsvAvSingleHost: size, padding, data-present flags, an
            // optional custom data word, the machine id.
            8 => {
                let present = b.get(12..16).ok_or(SHORT)?;
                16 + if present[0] & 1 != 0 { 4 } else { 0 }
            }
            10 => 2,
            _ => return Err("Binpac exception: invalid index for case: NTLM_AV_Pair"),
        };
        b = b.get(4 + value..).ok_or(SHORT)?;
    }
    Ok(false)
}

/// Whether `b` reads as one NTLMSSP token; the error is the violation's
/// reason (a token that reads but breaks a rule counts as read).
pub fn check_token(b: &[u8]) -> Result<(), &'static str> {
    match check(b) {
        Check::Broken(reason) => Err(reason),
        _ => Ok(()),
    }
}

/// NTLM analyzer state (none: every token stands alone).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ntlm;

impl Analyzer for Ntlm {
    fn tag(&self) -> Tag {
        Tag::Ntlm
    }

    fn stream(&mut self, _: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        match check(data) {
            Check::Ok => cx.confirm(),
            Check::Violation(reason) => {
                cx.violate(reason, None);
                cx.confirm();
            }
            Check::Broken(reason) => cx.violate(reason, None),
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(*self)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyzers::testing::Harness;

    /// An NTLMSSP negotiate message with empty strings.
    pub(crate) fn negotiate() -> Vec<u8> {
        let mut t = b"NTLMSSP\0".to_vec();
        t.extend(1u32.to_le_bytes());
        t.extend([0x07, 0x82, 0x08, 0xa2]);
        t.extend([0; 16]);
        t
    }

    #[test]
    fn tokens_confirm_when_their_fixed_fields_are_there() {
        assert_eq!(check_token(&negotiate()), Ok(()));
        assert!(check_token(&negotiate()[..20]).is_err());
        let mut challenge = negotiate();
        challenge[8] = 2;
        assert!(check_token(&challenge).is_err(), "a challenge has 36 bytes of fixed fields");
        challenge.extend([0; 16]);
        assert_eq!(check_token(&challenge), Ok(()));
        let mut other = negotiate()[..12].to_vec();
        other[8] = 9;
        assert_eq!(check_token(&other), Ok(()), "other types are taken as they are");
        let mut h = Harness::new(6, 389);
        h.stream(&mut Ntlm, true, &negotiate()[..10]);
        assert!(h.conn.snapshot().service.is_empty());
        assert!(h.conn.snapshot().service.is_empty());
        let mut h = Harness::new(6, 389);
        h.stream(&mut Ntlm, true, &negotiate());
        assert_eq!(h.conn.snapshot().service, ["NTLM"]);
    }

    /// A challenge with target information at `offset`, announced `len`
    /// bytes long, followed by `pairs`.
    fn challenge(len: u16, offset: u32, pairs: &[u8]) -> Vec<u8> {
        let mut t = b"NTLMSSP\0".to_vec();
        t.extend(2u32.to_le_bytes());
        t.extend([0, 0, 0, 0, 48, 0, 0, 0]);
        t.extend(NEGOTIATE_TARGET_INFO.to_le_bytes());
        t.extend([0; 16]);
        t.extend(len.to_le_bytes());
        t.extend(len.to_le_bytes());
        t.extend(offset.to_le_bytes());
        t.extend(pairs);
        t
    }

    #[test]
    fn challenge_av_pairs_must_end_with_eol() {
        assert_eq!(check(&challenge(0, 48, b"")), Check::Ok, "no target information announced");
        assert_eq!(check(&challenge(36, 48, b"")), Check::Violation("NTLM AV Pair loop underflow"), "none there");
        let eol = b"\x02\x00\x02\x00A\x00\x07\x00\x08\x00\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x00\x00";
        assert_eq!(check(&challenge(22, 48, eol)), Check::Ok);
        assert_eq!(check(&challenge(18, 48, &eol[..18])), Check::Violation("NTLM AV Pair loop underflow"));
        assert!(matches!(check(&challenge(9, 48, &eol[..9])), Check::Broken(_)), "cut inside a pair");
        assert!(matches!(check(&challenge(4, 48, b"\x0b\x00\x00\x00")), Check::Broken(_)), "no such AV id");
        assert!(matches!(check(&challenge(4, 99, b"")), Check::Broken(_)), "offset past the token");
        let mut h = Harness::new(6, 4997);
        h.stream(&mut Ntlm, true, &negotiate());
        let out = h.stream(&mut Ntlm, false, &challenge(36, 48, b""));
        assert!(out.iter().any(|e| matches!(e, crate::events::Event::ProtocolViolation { reason, .. } if reason == "NTLM AV Pair loop underflow")));
    }
}
