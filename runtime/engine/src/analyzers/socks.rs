//! The SOCKS analyzer (Zeek's `SOCKS`): SOCKS 4/4a (the request, and the
//! reply, whose first byte Zeek reads as the version: only one starting
//! with 4, then a null byte, status, port and address, reads) and SOCKS 5
//! (RFC 1928: method negotiation, RFC 1929 username/password
//! sub-negotiation, request and reply), every delivery
//! read as one message, as Zeek's analyzer reads them. A reply to the
//! request confirms the protocol; a bad version, reserved byte, command or
//! address type, or a message cut short, is a violation (the reserved byte
//! and command ones end the analysis). Once both sides are through, the
//! rest of the connection goes to a detecting child ([`super::pia::Pia`])
//! for the protocol it tunnels. Nothing is analyzed on a connection picked
//! up mid-stream. weir raises no SOCKS events yet.

use super::analyzer::Analyzer;
use super::context::Cx;
use super::pia::Pia;
use super::registry::Tag;
use crate::sessions::conn::ProtoState;

/// TCP port of `SOCKS::ports`.
pub const PORTS: [u16; 1] = [1080];

/// What one message meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// A reply: the protocol is confirmed.
    Confirm,
    /// A violation, with its reason.
    Violate(String),
    /// Weird `name` with its extra text.
    Weird(&'static str, String),
}

/// The SOCKS conversation's state (Zeek's `SOCKS_Conn` members and the
/// analyzer's endpoint flags).
#[derive(Clone, Debug)]
pub struct Parser {
    in_auth_sub_negotiation: bool,
    past_authentication: bool,
    auth_method: u8,
    orig_done: bool,
    resp_done: bool,
    skip: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            in_auth_sub_negotiation: false,
            past_authentication: false,
            auth_method: 255,
            orig_done: false,
            resp_done: false,
            skip: false,
        }
    }
}

const SHORT: &str = "Binpac exception: out of bound: SOCKS message";

/// The length of a SOCKS 5 address at the start of `b` (type byte
/// included), or the violation's reason.
fn address_len(b: &[u8]) -> Result<usize, String> {
    let &t = b.first().ok_or(SHORT)?;
    let len = match t {
        1 => 1 + 4,
        3 => 2 + usize::from(*b.get(1).ok_or(SHORT)?),
        4 => 1 + 16,
        _ => return Err(format!("invalid SOCKSv5 addr type: {t}")),
    };
    if b.len() < len {
        return Err(SHORT.to_string());
    }
    Ok(len)
}

impl Parser {
    /// Whether both sides are through and the rest is the tunneled protocol.
    pub fn tunneling(&self) -> bool {
        self.orig_done && self.resp_done
    }

    /// One delivery of side `is_orig`; what it meant goes to `out`.
    pub fn message(&mut self, is_orig: bool, b: &[u8], out: &mut Vec<Out>) {
        if self.skip {
            return;
        }
        if let Err(reason) = self.parse(is_orig, b, out) {
            out.push(Out::Violate(reason));
        }
    }

    fn parse(&mut self, is_orig: bool, b: &[u8], out: &mut Vec<Out>) -> Result<(), String> {
        if self.in_auth_sub_negotiation {
            if is_orig {
                if self.auth_method == 2 {
                    let &version = b.first().ok_or(SHORT)?;
                    if version == 1 {
                        let ulen = usize::from(*b.get(1).ok_or(SHORT)?);
                        let plen = usize::from(*b.get(2 + ulen).ok_or(SHORT)?);
                        if b.len() < 3 + ulen + plen {
                            return Err(SHORT.to_string());
                        }
                    } else {
                        out.push(Out::Weird(
                            "socks5_unsupported_authentication",
                            format!("method {}, version {version}", self.auth_method),
                        ));
                    }
                } else {
                    out.push(Out::Weird("socks5_unsupported_authentication_method", self.auth_method.to_string()));
                }
            } else {
                if self.auth_method == 2 {
                    let &version = b.first().ok_or(SHORT)?;
                    if version == 1 && b.len() < 2 {
                        return Err(SHORT.to_string());
                    }
                }
                self.in_auth_sub_negotiation = false;
            }
            return Ok(());
        }
        let &version = b.first().ok_or(SHORT)?;
        let b = &b[1..];
        match version {
            4 if is_orig => {
                if b.len() < 7 {
                    return Err(SHORT.to_string());
                }
                let v4a = u32::from_be_bytes([b[3], b[4], b[5], b[6]]) <= 0xff;
                let user_end = b[7..].iter().position(|&c| c == 0).ok_or(SHORT)? + 8;
                if v4a && !b[user_end..].contains(&0) {
                    return Err(SHORT.to_string());
                }
                self.orig_done = true;
            }
            4 => {
                if b.len() < 8 {
                    return Err(SHORT.to_string());
                }
                out.push(Out::Confirm);
                self.resp_done = true;
            }
            5 if !self.past_authentication => {
                if is_orig {
                    let n = usize::from(*b.first().ok_or(SHORT)?);
                    if b.len() < 1 + n {
                        return Err(SHORT.to_string());
                    }
                } else {
                    let &m = b.first().ok_or(SHORT)?;
                    self.in_auth_sub_negotiation = m != 0 && m != 0xff;
                    self.past_authentication = true;
                    self.auth_method = m;
                }
            }
            5 => {
                let (code, reserved) = (*b.first().ok_or(SHORT)?, *b.get(1).ok_or(SHORT)?);
                let alen = address_len(&b[2..])?;
                if b.len() < 2 + alen + 2 {
                    return Err(SHORT.to_string());
                }
                if is_orig {
                    if reserved != 0 {
                        self.skip = true;
                        return Err(format!("invalid value in reserved field: {reserved}"));
                    }
                    if code == 0 || code > 3 {
                        self.skip = true;
                        return Err(format!("undefined value in command field: {code}"));
                    }
                    self.orig_done = true;
                } else {
                    out.push(Out::Confirm);
                    self.resp_done = true;
                }
            }
            v => return Err(format!("unsupported/unknown SOCKS version {v}")),
        }
        Ok(())
    }
}

/// SOCKS analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Socks {
    parser: Parser,
    /// Detection of the tunneled protocol, once both sides are through.
    pia: Option<Box<Pia>>,
}

impl Analyzer for Socks {
    fn tag(&self) -> Tag {
        Tag::Socks
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if matches!(&cx.conn().state, ProtoState::Tcp(t) if t.is_partial()) {
            return;
        }
        if self.parser.tunneling() {
            self.pia.get_or_insert_with(|| Box::new(Pia::new(cx))).stream(is_orig, data, cx);
            return;
        }
        let mut out = Vec::new();
        self.parser.message(is_orig, data, &mut out);
        for o in out {
            match o {
                Out::Confirm => cx.confirm(),
                Out::Violate(r) => cx.violate(&r, None),
                Out::Weird(name, addl) => cx.weird(name, addl),
            }
        }
    }

    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        if let Some(p) = self.pia.as_mut() {
            p.gap(is_orig, len, cx);
        }
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        if let Some(p) = self.pia.as_mut() {
            p.end_of_data(is_orig, cx);
        }
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some(p) = self.pia.as_mut() {
            p.done(cx);
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The input layout of the `socks` fuzz target: deliveries as in
/// [`super::fuzz_input::deliveries`], each one message.
pub mod fuzzing {
    use super::Parser;
    use crate::analyzers::fuzz_input::deliveries;

    /// Runs one input; returns the number of findings.
    pub fn run(data: &[u8]) -> usize {
        let (mut p, mut out) = (Parser::default(), Vec::new());
        for (is_orig, piece) in deliveries(data) {
            p.message(is_orig, piece, &mut out);
        }
        out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::Harness;

    fn run(msgs: &[(bool, &[u8])]) -> (Parser, Vec<Out>) {
        let (mut p, mut out) = (Parser::default(), Vec::new());
        for (o, m) in msgs {
            p.message(*o, m, &mut out);
        }
        (p, out)
    }

    #[test]
    fn socks5_with_a_password_confirms_at_the_reply() {
        let (p, out) = run(&[
            (true, b"\x05\x01\x02"),
            (false, b"\x05\x02"),
            (true, b"\x01\x03bob\x03pwd"),
            (false, b"\x01\x00"),
            (true, b"\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x16"),
        ]);
        assert!(out.is_empty(), "no reply yet: {out:?}");
        assert!(!p.tunneling());
        let (p, out) = run(&[
            (true, b"\x05\x01\x00"),
            (false, b"\x05\x00"),
            (true, b"\x05\x01\x00\x03\x03a.b\x00\x50"),
            (false, b"\x05\x00\x00\x01\x0a\x00\x00\x01\x00\x16"),
        ]);
        assert_eq!(out, [Out::Confirm]);
        assert!(p.tunneling());
    }

    #[test]
    fn socks4_and_violations() {
        let (p, out) = run(&[(true, b"\x04\x01\x00\x50\x0a\x00\x00\x01bob\x00"), (false, b"\x04\x00\x5a\x00\x50\x0a\x00\x00\x01")]);
        assert_eq!(out, [Out::Confirm]);
        assert!(p.tunneling());
        let (_, out) = run(&[(true, b"\x04\x01\x00\x50\x0a\x00\x00\x01bob\x00"), (false, b"\x00\x5a\x00\x50\x0a\x00\x00\x01")]);
        assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("version 0")), "Zeek reads the reply's null byte as its version");
        let (_, out) = run(&[(true, b"\x06\x01")]);
        assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("version 6")));
        let (p, out) = run(&[(true, b"\x05\x01\x00"), (false, b"\x05\x00"), (true, b"\x05\x01\x01\x01\x0a\x00\x00\x01\x00\x16")]);
        assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("reserved")));
        assert!(p.skip, "a bad reserved byte ends the analysis");
        let (_, out) = run(&[(true, b"\x05\x01\x00"), (false, b"\x05\x00"), (true, b"\x05\x01\x00\x07")]);
        assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("addr type: 7")));
        let (_, out) = run(&[(true, b"\x04\x01\x00")]);
        assert!(matches!(&out[..], [Out::Violate(_)]), "cut short");
        assert_eq!(fuzzing::run(b"\x05\x01\x00\xff\xfe\x05\x00"), 0);
    }

    #[test]
    fn the_reply_confirms_the_connection() {
        let mut h = Harness::new(6, 1080);
        let mut s = Socks::default();
        h.stream(&mut s, true, b"\x04\x01\x00\x50\x0a\x00\x00\x01\x00");
        h.stream(&mut s, false, b"\x04\x00\x5a\x00\x50\x0a\x00\x00\x01");
        assert_eq!(h.conn.snapshot().service, ["SOCKS"]);
    }
}
