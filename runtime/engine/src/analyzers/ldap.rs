//! The LDAP analyzers (Zeek's `LDAP_TCP` and `LDAP_UDP`), as far as Zeek's
//! confirmation, violation and child analyzers go. Each direction is a
//! series of BER-encoded LDAPMessages (RFC 4511 section 4.1.1): a SEQUENCE
//! holding an INTEGER message id and an application-tagged protocol
//! operation of a known opcode; every message read confirms the protocol,
//! one that cannot be read is a violation and ends the direction's parsing.
//!
//! SASL binds are followed as Zeek follows them: the credentials of a
//! GSS-SPNEGO or GSSAPI bind go to a GSSAPI child analyzer, NTLMSSP ones
//! (inside GSS-SPNEGO, the NTLM mechanism, or Sicily binds) to an NTLM
//! child, the server's credentials the same way. After a successful SASL
//! bind a message starting with anything but a SEQUENCE is taken as SASL
//! wrapped: skipped whole, or, for Kerberos wrap tokens (a chosen MS KRB5
//! mechanism, or token id 0x0504 after the 4-byte length), stripped so that
//! the LDAP messages of unsealed tokens are read. After a successful
//! StartTLS extended operation the rest of the connection goes to an SSL
//! child. weir raises no LDAP events yet.

use super::analyzer::Analyzer;
use super::ber::{self, Class};
use super::child::{Child, Handover};
use super::context::Cx;
use super::registry::Tag;

/// TCP ports of `LDAP::ports_tcp`.
pub const TCP_PORTS: [u16; 2] = [389, 3268];
/// UDP port of `LDAP::ports_udp`.
pub const UDP_PORTS: [u16; 1] = [389];

/// The largest message (or SASL buffer) weir buffers; a larger one is a
/// violation.
const MAX_MESSAGE: u64 = 1 << 24;

/// The StartTLS extended operation's name (RFC 4511 section 4.14.1).
const STARTTLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";
/// The DER encoding of 1.2.840.48018.1.2.2, Microsoft's Kerberos 5 mechanism.
const MS_KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];

/// Protocol operations Zeek's analyzer knows (RFC 4511's application tags).
const OPCODES: [u64; 21] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 23, 24, 25];

/// What the parser found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// A message was read.
    Confirm,
    /// A violation, with its reason.
    Violate(String),
    /// A token for the GSSAPI child.
    Gssapi {
        /// From the originator.
        is_orig: bool,
        /// The bytes.
        data: Vec<u8>,
    },
    /// A token for the NTLM child.
    Ntlm {
        /// From the originator.
        is_orig: bool,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Bytes after StartTLS, for the SSL child.
    Tls {
        /// From the originator.
        is_orig: bool,
        /// The bytes.
        data: Vec<u8>,
    },
}

/// How the next message of either direction is read (Zeek's `MessageMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    /// Plain messages, nothing negotiated.
    #[default]
    Undef,
    /// Kerberos wrap tokens carrying messages.
    MsKrb5,
    /// Everything is TLS.
    Tls,
    /// A SASL bind succeeded: the next message decides.
    MaybeEncrypted,
    /// Plain messages after a SASL bind.
    Cleartext,
    /// SASL buffers skipped whole.
    Encrypted,
}

/// One direction's bytes not read yet.
#[derive(Clone, Debug, Default)]
struct Side {
    buf: Vec<u8>,
    /// Bytes of a skipped SASL buffer still to come.
    skip: u64,
    dead: bool,
}

/// Both directions of one LDAP connection and what they negotiated.
#[derive(Clone, Debug, Default)]
pub struct Parser {
    mode: Mode,
    /// The SASL mechanism the client asked for.
    mech: Vec<u8>,
    starttls_requested: bool,
    sides: [Side; 2],
}

/// Why a read stopped.
enum Stop {
    /// More bytes are needed.
    Incomplete,
    /// The bytes break the protocol.
    Bad(String),
}

impl Parser {
    /// The next bytes of one direction; findings go to `out`.
    pub fn feed(&mut self, is_orig: bool, data: &[u8], out: &mut Vec<Out>) {
        let i = usize::from(!is_orig);
        if self.sides[i].dead {
            return;
        }
        if self.mode == Mode::Tls {
            out.push(Out::Tls { is_orig, data: data.to_vec() });
            return;
        }
        let mut data = data;
        let side = &mut self.sides[i];
        if side.skip > 0 {
            let n = data.len().min(usize::try_from(side.skip).unwrap_or(usize::MAX));
            side.skip -= n as u64;
            data = &data[n..];
        }
        side.buf.extend_from_slice(data);
        let buf = std::mem::take(&mut self.sides[i].buf);
        let mut at = 0;
        while at < buf.len() && self.sides[i].skip == 0 {
            if self.mode == Mode::Tls {
                out.push(Out::Tls { is_orig, data: buf[at..].to_vec() });
                at = buf.len();
                break;
            }
            match self.dispatch(is_orig, &buf[at..], out) {
                Ok(n) => at += n,
                Err(Stop::Incomplete) => break,
                Err(Stop::Bad(reason)) => {
                    out.push(Out::Violate(reason));
                    self.sides[i].dead = true;
                    return;
                }
            }
        }
        let mut buf = buf;
        if self.sides[i].skip > 0 {
            buf.clear();
        } else {
            buf.drain(..at);
        }
        self.sides[i].buf = buf;
    }

    /// Whether one direction's parsing ended (after a violation or a gap).
    pub fn gap(&mut self, is_orig: bool) {
        if self.mode != Mode::Tls {
            self.sides[usize::from(!is_orig)].dead = true;
        }
    }

    /// Whether the connection went over to TLS.
    pub fn is_tls(&self) -> bool {
        self.mode == Mode::Tls
    }

    /// Bytes left over in one direction (an incomplete message).
    pub fn pending(&self, is_orig: bool) -> usize {
        self.sides[usize::from(!is_orig)].buf.len()
    }

    /// Forgets one direction's partial message (a datagram ended).
    pub fn reset(&mut self, is_orig: bool) {
        let s = &mut self.sides[usize::from(!is_orig)];
        s.buf.clear();
        s.skip = 0;
    }

    /// Reads one unit in the current mode from `b`; returns its length.
    fn dispatch(&mut self, is_orig: bool, b: &[u8], out: &mut Vec<Out>) -> Result<usize, Stop> {
        match self.mode {
            Mode::Undef | Mode::Cleartext => self.message(is_orig, b, out),
            Mode::MaybeEncrypted => {
                if b[0] == 0x30 {
                    self.mode = Mode::Cleartext;
                    return Ok(0);
                }
                let gss = self.mech.is_empty() || self.mech.starts_with(b"GSS");
                if gss {
                    let len = b.get(..4).ok_or(Stop::Incomplete)?;
                    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
                    if len >= 2 && b.get(4..6).ok_or(Stop::Incomplete)? == [0x05, 0x04] {
                        self.mode = Mode::MsKrb5;
                        return Ok(0);
                    }
                }
                self.mode = Mode::Encrypted;
                Ok(0)
            }
            Mode::Encrypted => {
                let len = b.get(..4).ok_or(Stop::Incomplete)?;
                let len = u64::from(u32::from_be_bytes([len[0], len[1], len[2], len[3]]));
                let have = (b.len() - 4) as u64;
                if have >= len {
                    Ok(4 + len as usize)
                } else {
                    self.sides[usize::from(!is_orig)].skip = len - have;
                    Ok(b.len())
                }
            }
            Mode::MsKrb5 => self.krb5_wrapped(is_orig, b, out),
            Mode::Tls => Ok(0),
        }
    }

    /// A SASL buffer of Kerberos wrap tokens (Zeek's `SaslMsKrb5Stripper`).
    fn krb5_wrapped(&mut self, is_orig: bool, b: &[u8], out: &mut Vec<Out>) -> Result<usize, Stop> {
        let len = b.get(..4).ok_or(Stop::Incomplete)?;
        let len = u64::from(u32::from_be_bytes([len[0], len[1], len[2], len[3]]));
        if len > MAX_MESSAGE {
            return Err(Stop::Bad(format!("SASL buffer of {len} bytes")));
        }
        let total = 4 + len as usize;
        let unit = b.get(..total).ok_or(Stop::Incomplete)?;
        let short = || Stop::Bad("premature end of SASL buffer".to_string());
        let tok_id = unit.get(4..6).ok_or_else(short)?;
        if tok_id != [0x05, 0x04] {
            return Ok(total);
        }
        let w = unit.get(6..20).ok_or_else(short)?;
        let sealed = w[0] & 0x02 != 0;
        if w[1] != 0xff {
            return Err(Stop::Bad("wrap token filler is not 0xff".to_string()));
        }
        let ec = usize::from(u16::from_be_bytes([w[2], w[3]]));
        let rrc = usize::from(u16::from_be_bytes([w[4], w[5]]));
        let (header_ec, trailer_ec) = if rrc == ec {
            (ec, 0)
        } else if rrc == 0 {
            (0, ec)
        } else if sealed {
            (0, 0)
        } else {
            return Err(Stop::Bad(format!("Unhandled rc {ec} and ec {rrc}")));
        };
        let start = 20 + header_ec;
        let end = total.checked_sub(trailer_ec).filter(|&e| e >= start).ok_or_else(short)?;
        if !sealed {
            let mut inner = &unit[start..end];
            while !inner.is_empty() {
                match self.message(is_orig, inner, out) {
                    Ok(n) => inner = &inner[n..],
                    Err(Stop::Incomplete) => return Err(short()),
                    Err(bad) => return Err(bad),
                }
            }
        }
        Ok(total)
    }

    /// One LDAPMessage (Zeek's `Message`).
    fn message(&mut self, is_orig: bool, b: &[u8], out: &mut Vec<Out>) -> Result<usize, Stop> {
        let h = ber::header(b).map_err(|e| match e {
            ber::Error::Incomplete => Stop::Incomplete,
            ber::Error::Invalid => Stop::Bad("invalid ASN.1 length".to_string()),
        })?;
        if h.class != Class::Universal || h.number != 16 {
            return Err(Stop::Bad(format!("LDAP message is not a SEQUENCE (tag 0x{:02x})", h.first)));
        }
        if h.len > MAX_MESSAGE {
            return Err(Stop::Bad(format!("LDAP message of {} bytes", h.len)));
        }
        let total = h.total().ok_or(Stop::Incomplete)?;
        let content = b.get(h.header_len..total).ok_or(Stop::Incomplete)?;
        let bad = |what: &str| Stop::Bad(format!("malformed LDAP message: {what}"));
        let (id, _, rest) = ber::element(content).ok_or_else(|| bad("message id"))?;
        if id.class != Class::Universal || id.number != 2 {
            return Err(bad("message id is not an INTEGER"));
        }
        let (op, body, _) = ber::element(rest).ok_or_else(|| bad("protocol operation"))?;
        if op.class != Class::Application {
            return Err(bad("protocol operation is not application-tagged"));
        }
        if !OPCODES.contains(&op.number) {
            return Err(Stop::Bad(format!("unknown LDAP opcode {}", op.number)));
        }
        match op.number {
            0 => self.bind_request(is_orig, body, out)?,
            1 => self.bind_response(is_orig, body, out),
            23 => {
                if let Some((n, name, _)) = ber::element(body) {
                    if n.class == Class::Context && n.number == 0 && name == STARTTLS_OID {
                        self.starttls_requested = true;
                    }
                }
            }
            24 => {
                if self.starttls_requested && result_code(body) == Some(0) {
                    self.mode = Mode::Tls;
                }
            }
            _ => {}
        }
        out.push(Out::Confirm);
        Ok(total)
    }

    /// A BindRequest: its credentials go to the children.
    fn bind_request(&mut self, is_orig: bool, body: &[u8], out: &mut Vec<Out>) -> Result<(), Stop> {
        let parts = ber::children(body);
        let Some(&(auth, data)) = parts.get(2).filter(|(h, _)| matches!(h.class, Class::Context | Class::Application))
        else {
            return Err(Stop::Bad("bind request without authentication".to_string()));
        };
        match auth.number {
            3 => {
                let Some((_, mech, rest)) = ber::element(data) else { return Ok(()) };
                self.mech = mech.to_vec();
                let Some((c, payload, _)) = ber::element(rest).filter(|(c, _, _)| c.number == 4 && !c.constructed) else {
                    return Ok(());
                };
                let _ = c;
                let data = payload.to_vec();
                if mech == b"GSS-SPNEGO" && payload.starts_with(b"NTLMSSP") || mech == b"NTLM" {
                    out.push(Out::Ntlm { is_orig, data });
                } else if mech == b"GSS-SPNEGO" || mech == b"GSSAPI" {
                    out.push(Out::Gssapi { is_orig, data });
                }
            }
            10 | 11 if !data.is_empty() => out.push(Out::Ntlm { is_orig, data: data.to_vec() }),
            _ => {}
        }
        Ok(())
    }

    /// A BindResponse: the server's SASL credentials go to the children,
    /// and a successful SASL bind changes how messages are read.
    fn bind_response(&mut self, is_orig: bool, body: &[u8], out: &mut Vec<Out>) {
        if !self.mech.is_empty() && result_code(body) == Some(0) {
            self.mode = Mode::MaybeEncrypted;
        }
        let creds: Vec<&[u8]> = ber::children(body)
            .into_iter()
            .skip(3)
            .filter(|(h, _)| h.class == Class::Context && h.number == 7)
            .map(|(_, c)| c)
            .collect();
        let Some(first) = creds.first() else { return };
        let spnego = self.mech == b"GSS-SPNEGO";
        let ntlm = (spnego && first.starts_with(b"NTLMSSP")) || self.mech == b"NTLM";
        if spnego && first.first() == Some(&0xa1) && ms_krb5_chosen(first) {
            self.mode = Mode::MsKrb5;
        }
        for c in creds {
            if ntlm {
                out.push(Out::Ntlm { is_orig, data: c.to_vec() });
            } else if spnego || self.mech == b"GSSAPI" {
                out.push(Out::Gssapi { is_orig, data: c.to_vec() });
            }
        }
    }
}

/// The resultCode of an LDAPResult at the start of `body`.
fn result_code(body: &[u8]) -> Option<i64> {
    let (_, code, _) = ber::element(body)?;
    ber::integer(code)
}

/// Whether a negTokenResp chose Microsoft's Kerberos 5 mechanism and
/// carries a response token.
fn ms_krb5_chosen(token: &[u8]) -> bool {
    let Some((_, resp, _)) = ber::element(token) else { return false };
    let Some((_, seq, _)) = ber::element(resp) else { return false };
    let args = ber::children(seq);
    let mech = args.iter().find(|(h, _)| h.number == 1).and_then(|(_, c)| ber::element(c)).map(|(_, oid, _)| oid);
    mech == Some(MS_KRB5_OID) && args.iter().any(|(h, _)| h.number == 2)
}

/// LDAP analyzer state of one connection.
#[derive(Clone, Debug)]
pub struct Ldap {
    tcp: bool,
    parser: Parser,
    gssapi: Option<Box<Child>>,
    ntlm: Option<Box<Child>>,
    tls: Option<Box<Child>>,
}

impl Ldap {
    /// The analyzer for TCP (`LDAP_TCP`) or UDP (`LDAP_UDP`).
    pub fn new(tcp: bool) -> Ldap {
        Ldap { tcp, parser: Parser::default(), gssapi: None, ntlm: None, tls: None }
    }

    fn handle(&mut self, out: Vec<Out>, cx: &mut Cx<'_, '_>) {
        let aid = cx.aid();
        for o in out {
            match o {
                Out::Confirm => cx.confirm(),
                Out::Violate(reason) => cx.violate(&reason, None),
                Out::Gssapi { is_orig, data } => self
                    .gssapi
                    .get_or_insert_with(|| Box::new(Child::nth(Box::new(super::gssapi::Gssapi::default()), aid, 1)))
                    .stream(is_orig, &data, cx),
                Out::Ntlm { is_orig, data } => self
                    .ntlm
                    .get_or_insert_with(|| Box::new(Child::nth(Box::new(super::ntlm::Ntlm), aid, 2)))
                    .stream(is_orig, &data, cx),
                Out::Tls { is_orig, data } => {
                    let cfg = cx.cfg();
                    self.tls
                        .get_or_insert_with(|| {
                            Box::new(Child::nth(Box::new(crate::analyzers::ssl::start_mid_stream(cfg)), aid, 3))
                        })
                        .stream(is_orig, &data, cx)
                }
            }
        }
    }
}

impl Analyzer for Ldap {
    fn tag(&self) -> Tag {
        if self.tcp {
            Tag::LdapTcp
        } else {
            Tag::LdapUdp
        }
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let mut out = Vec::new();
        self.parser.feed(is_orig, data, &mut out);
        self.handle(out, cx);
    }

    fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let mut out = Vec::new();
        self.parser.feed(is_orig, data, &mut out);
        if self.parser.pending(is_orig) > 0 {
            out.push(Out::Violate("premature end of LDAP datagram".to_string()));
            self.parser.reset(is_orig);
        }
        self.handle(out, cx);
    }

    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        if self.parser.is_tls() {
            self.tls.gap(is_orig, len, cx);
        }
        self.parser.gap(is_orig);
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        self.tls.end_of_data(is_orig, cx);
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.gssapi.done(cx);
        self.ntlm.done(cx);
        self.tls.done(cx);
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The input layout of the `ldap` fuzz target: deliveries as in
/// [`super::fuzz_input::deliveries`] through the LDAP parser, every token
/// it hands on read by the GSSAPI or NTLM parser, and Kerberos tokens by
/// the Kerberos check.
pub mod fuzzing {
    use super::{Out, Parser};
    use crate::analyzers::fuzz_input::deliveries;
    use crate::analyzers::{gssapi, krb, ntlm};

    /// Runs one input; returns the number of findings.
    pub fn run(data: &[u8]) -> usize {
        let (mut p, mut out, mut n) = (Parser::default(), Vec::new(), 0);
        for (is_orig, piece) in deliveries(data) {
            p.feed(is_orig, piece, &mut out);
            for o in out.drain(..) {
                n += 1;
                match o {
                    Out::Gssapi { data, .. } => {
                        let mut fwd = Vec::new();
                        n += usize::from(gssapi::parse(&data, &mut fwd).is_ok());
                        for (_, token) in fwd {
                            n += usize::from(krb::check_pdu(&token).is_ok() || ntlm::check_token(&token).is_ok());
                        }
                    }
                    Out::Ntlm { data, .. } => n += usize::from(ntlm::check_token(&data).is_ok()),
                    _ => {}
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::gssapi::tests::tlv;
    use crate::analyzers::testing::Harness;

    fn message(id: u8, op: u8, body: &[u8]) -> Vec<u8> {
        tlv(0x30, &[tlv(0x02, &[id]), tlv(op, body)].concat())
    }

    fn sasl_bind(mech: &[u8], creds: &[u8]) -> Vec<u8> {
        let sasl = [tlv(0x04, mech), tlv(0x04, creds)].concat();
        message(1, 0x60, &[tlv(0x02, &[3]), tlv(0x04, b""), tlv(0xa3, &sasl)].concat())
    }

    fn bind_response(code: u8, creds: Option<&[u8]>) -> Vec<u8> {
        let mut body = [tlv(0x0a, &[code]), tlv(0x04, b""), tlv(0x04, b"")].concat();
        if let Some(c) = creds {
            body.extend(tlv(0x87, c));
        }
        message(1, 0x61, &body)
    }

    fn sorted(h: &Harness) -> Vec<String> {
        let mut s = h.conn.snapshot().service;
        s.sort();
        s
    }

    #[test]
    fn a_message_confirms_even_in_pieces() {
        let simple = message(1, 0x60, &[tlv(0x02, &[3]), tlv(0x04, b"cn=x"), tlv(0x80, b"pw")].concat());
        let mut h = Harness::new(6, 389);
        let mut l = Ldap::new(true);
        h.stream(&mut l, true, &simple[..5]);
        assert!(sorted(&h).is_empty());
        h.stream(&mut l, true, &simple[5..]);
        assert_eq!(sorted(&h), ["LDAP_TCP"]);
        let mut h = Harness::new(17, 389);
        h.datagram(&mut Ldap::new(false), true, &simple);
        assert_eq!(sorted(&h), ["LDAP_UDP"]);
    }

    #[test]
    fn broken_messages_violate_and_end_the_direction() {
        let mut p = Parser::default();
        let mut out = Vec::new();
        p.feed(true, &tlv(0x31, &[]), &mut out);
        assert!(matches!(out[..], [Out::Violate(_)]), "a SET is no message");
        out.clear();
        p.feed(true, &message(1, 0x42, &[]), &mut out);
        assert!(out.is_empty(), "the direction is done");
        p.feed(false, &message(1, 0x7e, &[]), &mut out);
        assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("opcode 30")), "{out:?}");
        let mut p = Parser::default();
        out.clear();
        p.feed(true, &message(1, 0x60, &[tlv(0x02, &[3]), tlv(0x04, b"")].concat()), &mut out);
        assert!(matches!(out[..], [Out::Violate(_)]), "a bind needs its authentication");
    }

    #[test]
    fn sasl_binds_feed_gssapi_kerberos_and_ntlm() {
        let krb = crate::analyzers::krb::tests::as_req();
        let token = crate::analyzers::gssapi::tests::spnego_init(&crate::analyzers::gssapi::tests::krb5_token(&krb));
        let mut h = Harness::new(6, 389);
        let mut l = Ldap::new(true);
        h.stream(&mut l, true, &sasl_bind(b"GSS-SPNEGO", &token));
        assert_eq!(sorted(&h), ["GSSAPI", "KRB", "LDAP_TCP"]);
        let ntlm = crate::analyzers::ntlm::tests::negotiate();
        let mut h = Harness::new(6, 389);
        let mut l = Ldap::new(true);
        h.stream(&mut l, true, &sasl_bind(b"GSS-SPNEGO", &ntlm));
        assert_eq!(sorted(&h), ["LDAP_TCP", "NTLM"], "NTLMSSP inside GSS-SPNEGO skips GSSAPI");
        let mut h = Harness::new(6, 389);
        let mut l = Ldap::new(true);
        h.stream(&mut l, true, &sasl_bind(b"SCRAM-SHA-512", b"n,,n=user"));
        assert_eq!(sorted(&h), ["LDAP_TCP"]);
    }

    #[test]
    fn after_a_sasl_bind_wrapped_messages_are_stripped_or_skipped() {
        let mut p = Parser::default();
        let mut out = Vec::new();
        p.feed(true, &sasl_bind(b"GSSAPI", b"x"), &mut out);
        p.feed(false, &bind_response(0, None), &mut out);
        assert_eq!(p.mode, Mode::MaybeEncrypted);
        // An unsealed wrap token (ec = rrc = 0) around a search done.
        let inner = message(2, 0x65, &[tlv(0x0a, &[0]), tlv(0x04, b""), tlv(0x04, b"")].concat());
        let mut tok = vec![0x05, 0x04, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        tok.extend(&inner);
        let mut buf = (tok.len() as u32).to_be_bytes().to_vec();
        buf.extend(&tok);
        out.clear();
        p.feed(false, &buf, &mut out);
        assert_eq!(p.mode, Mode::MsKrb5);
        assert_eq!(out, [Out::Confirm], "the wrapped message is read");
        // A sealed one is skipped, in pieces too.
        tok[2] = 0x02;
        let mut buf = (tok.len() as u32).to_be_bytes().to_vec();
        buf.extend(&tok);
        out.clear();
        p.feed(true, &buf[..9], &mut out);
        p.feed(true, &buf[9..], &mut out);
        assert!(out.is_empty());
        // Other SASL layers are skipped by their length.
        let mut p = Parser::default();
        p.feed(true, &sasl_bind(b"DIGEST-MD5", b"x"), &mut out);
        p.feed(false, &bind_response(0, None), &mut out);
        out.clear();
        p.feed(true, &[0, 0, 0, 5, 1, 2], &mut out);
        p.feed(true, &[3, 4, 5], &mut out);
        p.feed(true, &[0, 0, 0, 1, 9], &mut out);
        assert!(out.is_empty() && p.mode == Mode::Encrypted, "{out:?}");
        assert!(fuzzing::run(&sasl_bind(b"GSSAPI", b"x")) > 0);
    }

    #[test]
    fn starttls_hands_the_rest_to_ssl() {
        let mut p = Parser::default();
        let mut out = Vec::new();
        p.feed(true, &message(1, 0x77, &tlv(0x80, STARTTLS_OID)), &mut out);
        p.feed(false, &[message(1, 0x78, &[tlv(0x0a, &[0]), tlv(0x04, b""), tlv(0x04, b"")].concat()), vec![0x16, 3, 1]].concat(), &mut out);
        assert_eq!(out[2], Out::Tls { is_orig: false, data: vec![0x16, 3, 1] });
        assert!(p.is_tls());
    }
}
