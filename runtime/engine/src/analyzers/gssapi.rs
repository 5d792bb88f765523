//! The GSSAPI analyzer (Zeek's `GSSAPI`), a child of the analyzers that
//! carry GSS-API tokens (LDAP's SASL binds): every delivery is one token.
//! A MIC or wrap token is taken as it is; otherwise the token is SPNEGO
//! (RFC 4178): an initial token (`0x60`, the mechanism OID, then
//! negTokenInit) or a negTokenResp, whose arguments are read by their
//! context index (another index breaks the token). Each mechanism token is
//! handed on as Zeek hands it: an NTLMSSP one to an NTLM child, a Kerberos
//! one (with its OID and token id, or bare AP-REQ/AP-REP) to a KRB child
//! as one datagram. A token that reads confirms GSSAPI, one that does not
//! is a violation. weir raises no GSSAPI events yet.

use super::analyzer::Analyzer;
use super::child::{Child, Handover};
use super::context::Cx;
use super::registry::Tag;

/// Where a mechanism token goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mech {
    /// The NTLM analyzer.
    Ntlm,
    /// The KRB analyzer.
    Krb,
}

/// One ASN.1 header as Zeek's `ASN1EncodingMeta` reads it: the tag byte,
/// the first length byte, the length, and the header's size.
struct Meta {
    tag: u8,
    len_byte: u8,
    len: usize,
    size: usize,
}

const OUT_OF_BOUND: &str = "Binpac exception: out of bound";

fn meta(b: &[u8]) -> Result<Meta, &'static str> {
    let (&tag, &len_byte) = (b.first().ok_or(OUT_OF_BOUND)?, b.get(1).ok_or(OUT_OF_BOUND)?);
    if len_byte & 0x80 == 0 {
        return Ok(Meta { tag, len_byte, len: usize::from(len_byte), size: 2 });
    }
    let n = usize::from(len_byte & 0x7f);
    let more = b.get(2..2 + n).ok_or(OUT_OF_BOUND)?;
    let len = more.iter().take(8).fold(0u64, |a, &x| (a << 8) | u64::from(x));
    Ok(Meta { tag, len_byte, len: usize::try_from(len).unwrap_or(usize::MAX), size: 2 + n })
}

/// A whole element: its header and content; the rest after it.
fn encoding(b: &[u8]) -> Result<(Meta, &[u8], &[u8]), &'static str> {
    let m = meta(b)?;
    let end = m.size.checked_add(m.len).ok_or(OUT_OF_BOUND)?;
    let content = b.get(m.size..end).ok_or(OUT_OF_BOUND)?;
    Ok((m, content, &b[end..]))
}

/// Reads one token; the mechanism tokens found go to `fwd` (also those
/// found before a failure, as Zeek hands them on while it parses).
pub fn parse(b: &[u8], fwd: &mut Vec<(Mech, Vec<u8>)>) -> Result<(), &'static str> {
    let wrapper = meta(b)?;
    let tok_id = (u16::from(wrapper.tag) << 8) | u16::from(wrapper.len_byte);
    if tok_id == 0x0404 || tok_id == 0x0504 {
        return Ok(());
    }
    let mut rest = &b[wrapper.size..];
    let is_init = wrapper.tag == 0x60;
    if is_init {
        let (_, _, after_oid) = encoding(rest)?;
        let init_wrapper = meta(after_oid)?;
        rest = &after_oid[init_wrapper.size..];
    }
    let seq = meta(rest)?;
    rest = &rest[seq.size..];
    while !rest.is_empty() {
        let (arg, content, after) = encoding(rest)?;
        match (arg.tag.wrapping_sub(0xa0), is_init) {
            (0 | 1 | 3, _) => {}
            (2, _) => mech_token(content, fwd)?,
            _ => return Err("Binpac exception: invalid index for case"),
        }
        rest = after;
    }
    Ok(())
}

/// A mechanism token (Zeek's `GSSAPI_NEG_TOKEN_MECH_TOKEN`).
fn mech_token(b: &[u8], fwd: &mut Vec<(Mech, Vec<u8>)>) -> Result<(), &'static str> {
    let (_, token, _) = encoding(b)?;
    match token.first() {
        Some(b'N') if token.starts_with(b"NTLMSSP") => fwd.push((Mech::Ntlm, token.to_vec())),
        Some(0x60) => {
            let m = meta(token)?;
            let (_, _, after_oid) = encoding(&token[m.size..])?;
            let blob = after_oid.get(2..).ok_or(OUT_OF_BOUND)?;
            fwd.push((Mech::Krb, blob.to_vec()));
        }
        Some(0x6e | 0x6f) => fwd.push((Mech::Krb, token.to_vec())),
        _ => {}
    }
    Ok(())
}

/// GSSAPI analyzer state: the children its tokens went to.
#[derive(Clone, Debug, Default)]
pub struct Gssapi {
    ntlm: Option<Box<Child>>,
    krb: Option<Box<Child>>,
}

impl Analyzer for Gssapi {
    fn tag(&self) -> Tag {
        Tag::Gssapi
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let mut fwd = Vec::new();
        let res = parse(data, &mut fwd);
        for (mech, token) in fwd {
            let aid = cx.aid();
            match mech {
                Mech::Ntlm => self
                    .ntlm
                    .get_or_insert_with(|| Box::new(Child::nth(Box::new(super::ntlm::Ntlm), aid, 1)))
                    .stream(is_orig, &token, cx),
                Mech::Krb => self
                    .krb
                    .get_or_insert_with(|| Box::new(Child::nth(Box::new(super::krb::Krb), aid, 2)))
                    .datagram(is_orig, &token, cx),
            }
        }
        match res {
            Ok(()) => cx.confirm(),
            Err(reason) => cx.violate(reason, None),
        }
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.ntlm.done(cx);
        self.krb.done(cx);
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyzers::testing::Harness;

    /// A BER element: `tag`, its length, `content` (for the tests of the
    /// analyzers that read BER).
    pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        v.extend(content);
        v
    }

    /// An SPNEGO initial token whose mechanism token is `mech`.
    pub(crate) fn spnego_init(mech: &[u8]) -> Vec<u8> {
        let oid = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
        let mech_types = tlv(0xa0, &tlv(0x30, &tlv(0x06, &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02])));
        let mut args = mech_types;
        args.extend(tlv(0xa2, &tlv(0x04, mech)));
        let mut body = oid;
        body.extend(tlv(0xa0, &tlv(0x30, &args)));
        tlv(0x60, &body)
    }

    /// A Kerberos mechanism token: the krb5 OID, token id 0x0100, then `krb`.
    pub(crate) fn krb5_token(krb: &[u8]) -> Vec<u8> {
        let mut body = tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]);
        body.extend([0x01, 0x00]);
        body.extend(krb);
        tlv(0x60, &body)
    }

    #[test]
    fn spnego_tokens_hand_their_mechanism_tokens_on() {
        let krb = crate::analyzers::krb::tests::as_req();
        let mut fwd = Vec::new();
        assert_eq!(parse(&spnego_init(&krb5_token(&krb)), &mut fwd), Ok(()));
        assert_eq!(fwd, [(Mech::Krb, krb.clone())]);
        let ntlm = crate::analyzers::ntlm::tests::negotiate();
        fwd.clear();
        assert_eq!(parse(&spnego_init(&ntlm), &mut fwd), Ok(()));
        assert_eq!(fwd, [(Mech::Ntlm, ntlm)]);
        let mut ap_rep = krb.clone();
        ap_rep[0] = 0x6f;
        let resp = tlv(0xa1, &tlv(0x30, &[tlv(0xa0, &[0x0a, 0x01, 0x00]), tlv(0xa2, &tlv(0x04, &ap_rep))].concat()));
        fwd.clear();
        assert_eq!(parse(&resp, &mut fwd), Ok(()));
        assert_eq!(fwd, [(Mech::Krb, ap_rep)], "a bare AP-REP");
        let bad = tlv(0xa1, &tlv(0x30, &tlv(0xa7, &[])));
        assert!(parse(&bad, &mut fwd).is_err(), "index 7 is no argument");
        assert_eq!(parse(&[0x05, 0x04, 0, 0], &mut fwd), Ok(()), "a wrap token");
        assert!(parse(&spnego_init(&krb)[..10], &mut fwd).is_err());
    }

    #[test]
    fn a_token_confirms_gssapi_and_its_kerberos_child() {
        let mut h = Harness::new(6, 389);
        let mut g = Gssapi::default();
        h.stream(&mut g, true, &spnego_init(&krb5_token(&crate::analyzers::krb::tests::as_req())));
        let mut s = h.conn.snapshot().service;
        s.sort();
        assert_eq!(s, ["GSSAPI", "KRB"]);
    }
}
