//! The NTLM analyzer (Zeek's `NTLM`), a child of the analyzers that carry
//! NTLMSSP tokens (LDAP's SASL and Sicily binds, GSSAPI's SPNEGO): every
//! delivery is one token, an 8-byte signature and a little-endian message
//! type; a negotiate (1), challenge (2) or authenticate (3) message must
//! hold its fixed fields. A token that reads confirms the protocol, one
//! that does not is a violation, as Zeek's analyzer says after each
//! delivery. weir raises no NTLM events yet.

use super::analyzer::Analyzer;
use super::context::Cx;
use super::registry::Tag;

/// Bytes of the signature and message type.
const PREFIX: usize = 12;

/// Whether `b` reads as one NTLMSSP token; the error is the violation's
/// reason.
pub fn check_token(b: &[u8]) -> Result<(), &'static str> {
    let Some(t) = b.get(8..PREFIX) else { return Err("Binpac exception: out of bound: NTLM_SSP_Token") };
    // The fixed fields after the type: negotiate flags and two string
    // fields; the challenge's target name, flags, challenge, reserved
    // bytes and target information; the authenticate message's six string
    // fields and flags.
    let fixed = match u32::from_le_bytes([t[0], t[1], t[2], t[3]]) {
        1 => 4 + 8 + 8,
        2 => 8 + 4 + 8 + 8 + 8,
        3 => 6 * 8 + 4,
        _ => 0,
    };
    if b.len() < PREFIX + fixed {
        return Err("Binpac exception: out of bound: NTLM message");
    }
    Ok(())
}

/// NTLM analyzer state (none: every token stands alone).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ntlm;

impl Analyzer for Ntlm {
    fn tag(&self) -> Tag {
        Tag::Ntlm
    }

    fn stream(&mut self, _: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        match check_token(data) {
            Ok(()) => cx.confirm(),
            Err(reason) => cx.violate(reason, None),
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
        let mut h = Harness::new(6, 389);
        h.stream(&mut Ntlm, true, &negotiate());
        assert_eq!(h.conn.snapshot().service, ["NTLM"]);
    }
}
