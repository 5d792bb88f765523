//! Zeek's signature grammar (`rule-parse.y`) over the lexer's tokens:
//! `signature <id> { <attribute>* }` blocks into [`Rule`]s. Script
//! identifiers used in place of values come from [`Idents`].

use super::lexer::{lex, mask_addr, Spanned, Tok};
use super::rule::*;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// The value of a script identifier a signature may name in place of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentValue {
    /// A count, port or set of them (`udp_proto_number = 17`).
    Counts(Vec<u32>),
    /// A subnet, address or set of them (`mynets = {10.0.0.0/8, ...}`).
    Prefixes(Vec<Prefix>),
    /// A string or pattern.
    Text(String),
}

/// Script identifiers by name.
pub type Idents = HashMap<String, IdentValue>;

/// `NAME=VALUE` of a script identifier: counts (`17`, `1,2`), subnets or
/// addresses (`{10.0.0.0/8, [::1]}`, braces optional) or `"text"`.
pub fn parse_ident(assignment: &str) -> Result<(String, IdentValue), String> {
    let (name, value) = assignment.split_once('=').ok_or_else(|| format!("'{assignment}' is not NAME=VALUE"))?;
    let v = value.trim();
    if let Some(t) = v.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return Ok((name.trim().to_string(), IdentValue::Text(t.to_string())));
    }
    let inner = v.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or(v);
    let items: Vec<&str> = inner.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if !items.is_empty() && items.iter().all(|s| s.parse::<u32>().is_ok()) {
        return Ok((name.trim().to_string(), IdentValue::Counts(items.iter().map(|s| s.parse().unwrap()).collect())));
    }
    let mut prefixes = Vec::new();
    for it in &items {
        let (a, len) = match it.split_once('/') {
            Some((a, l)) => (a.trim(), Some(l.trim().parse::<u8>().map_err(|_| format!("bad prefix length in '{it}'"))?)),
            None => (*it, None),
        };
        let a: IpAddr = a
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("'{it}' is neither a count nor a subnet"))?;
        let len = len.unwrap_or(if a.is_ipv4() { 32 } else { 128 });
        prefixes.push(Prefix { addr: mask_addr(a, len), len });
    }
    if prefixes.is_empty() {
        return Err(format!("'{value}' has no value"));
    }
    Ok((name.trim().to_string(), IdentValue::Prefixes(prefixes)))
}

/// A load error: where and what (Zeek's "Error in signature (FILE:LINE): ...").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The file's name as given.
    pub file: String,
    /// The line.
    pub line: u32,
    /// What is wrong.
    pub msg: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error in signature ({}:{}): {}", self.file, self.line, self.msg)
    }
}

impl std::error::Error for ParseError {}

/// Parses the text of one signature file named `file`.
pub fn parse(file: &str, src: &[u8], idents: &Idents) -> Result<Vec<Rule>, ParseError> {
    let toks = lex(src).map_err(|(line, msg)| ParseError { file: file.into(), line, msg })?;
    let mut p = Parser { toks, i: 0, file, idents };
    let mut rules = Vec::new();
    while p.i < p.toks.len() {
        rules.push(p.rule()?);
    }
    Ok(rules)
}

struct Parser<'a> {
    toks: Vec<Spanned>,
    i: usize,
    file: &'a str,
    idents: &'a Idents,
}

/// What a content keyword matches against.
fn pattern_type(w: &str) -> Option<PatternType> {
    Some(match w {
        "payload" => PatternType::Payload,
        "http-request" | "http" => PatternType::HttpUri,
        "http-request-header" => PatternType::HttpRequestHeader,
        "http-request-body" => PatternType::HttpRequestBody,
        "http-reply-header" => PatternType::HttpReplyHeader,
        "http-reply-body" | "http-body" => PatternType::HttpReplyBody,
        "ftp" => PatternType::Ftp,
        "finger" => PatternType::Finger,
        "file-magic" => PatternType::FileMagic,
        _ => return None,
    })
}

fn proto(w: &str) -> Option<Proto> {
    Some(match w {
        "ip" => Proto::Ip,
        "ip6" => Proto::Ip6,
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        "icmp6" => Proto::Icmp6,
        _ => return None,
    })
}

/// Words the lexer gives a token of their own in Zeek, never identifiers.
fn is_keyword(w: &str) -> bool {
    proto(w).is_some()
        || pattern_type(w).is_some()
        || matches!(
            w,
            "true"
                | "false"
                | "established"
                | "originator"
                | "responder"
                | "stateless"
                | "lsrr"
                | "lsrre"
                | "rr"
                | "ssrr"
                | "disable"
                | "dst-ip"
                | "dst-port"
                | "enable"
                | "eval"
                | "event"
                | "file-mime"
                | "header"
                | "ip-options"
                | "ip-proto"
                | "payload-size"
                | "requires-signature"
                | "requires-reverse-signature"
                | "signature"
                | "same-ip"
                | "src-ip"
                | "src-port"
                | "tcp-state"
                | "udp-state"
                | "active"
        )
}

impl Parser<'_> {
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        let line = self.toks.get(self.i).or(self.toks.last()).map_or(1, |t| t.line);
        Err(ParseError { file: self.file.into(), line, msg: msg.into() })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.i + 1).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|t| t.tok.clone());
        if t.is_some() {
            self.i += 1;
        }
        t
    }

    fn punct(&mut self, c: char) -> Result<(), ParseError> {
        match self.peek() {
            Some(Tok::Punct(p)) if *p == c => {
                self.i += 1;
                Ok(())
            }
            _ => self.err("syntax error"),
        }
    }

    fn is_punct(&self, c: char) -> bool {
        matches!(self.peek(), Some(Tok::Punct(p)) if *p == c)
    }

    /// An identifier that is not a keyword.
    fn ident(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Word(w)) if !is_keyword(w) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => self.err("syntax error"),
        }
    }

    fn lookup(&self, id: &str) -> Result<&IdentValue, ParseError> {
        match self.idents.get(id) {
            Some(v) => Ok(v),
            None => self.err(format!("unknown script-level identifier {id}")),
        }
    }

    fn cmp(&mut self) -> Result<Cmp, ParseError> {
        match self.next() {
            Some(Tok::Cmp(c)) => Ok(c),
            _ => {
                self.i = self.i.saturating_sub(1);
                self.err("syntax error")
            }
        }
    }

    fn rule(&mut self) -> Result<Rule, ParseError> {
        let line = self.toks[self.i].line;
        match self.next() {
            Some(Tok::Word(w)) if w == "signature" => {}
            _ => {
                self.i -= 1;
                return self.err("syntax error");
            }
        }
        let id = self.ident()?;
        self.punct('{')?;
        let mut r = Rule {
            id,
            location: format!("{}:{}", self.file, line),
            hdr: Vec::new(),
            patterns: Vec::new(),
            conds: Vec::new(),
            requires: Vec::new(),
            actions: Vec::new(),
            active: true,
        };
        while !self.is_punct('}') {
            if self.peek().is_none() {
                return self.err("syntax error");
            }
            self.attribute(&mut r)?;
        }
        self.i += 1;
        Ok(r)
    }

    fn attribute(&mut self, r: &mut Rule) -> Result<(), ParseError> {
        let Some(Tok::Word(w)) = self.next() else {
            self.i -= 1;
            return self.err("syntax error");
        };
        if let Some(kind) = pattern_type(&w) {
            let mut depth = u32::MAX;
            if self.is_punct('[') {
                self.i += 1;
                let (off, len) = self.range_opt()?;
                self.punct(']')?;
                if off > 0 {
                    tracing::warn!("{}: offsets are currently ignored for patterns", r.location);
                }
                depth = len;
            }
            let regex = match self.next() {
                Some(Tok::Re(re)) => re,
                Some(Tok::Word(id)) if !is_keyword(&id) => match self.lookup(&id)? {
                    IdentValue::Text(t) => t.clone(),
                    _ => return self.err(format!("identifier {id} is not a pattern")),
                },
                _ => {
                    self.i -= 1;
                    return self.err("syntax error");
                }
            };
            r.patterns.push(Pattern { kind, regex, depth });
            return Ok(());
        }
        match w.as_str() {
            "src-ip" | "dst-ip" => {
                let cmp = self.cmp()?;
                let prefixes = self.prefix_list()?;
                r.hdr.push(HdrTest::Addr { src: w == "src-ip", cmp, prefixes });
            }
            "src-port" | "dst-port" => {
                let cmp = self.cmp()?;
                let vals = self.value_list()?;
                r.hdr.push(HdrTest::Bytes { proto: Proto::Tcp, off: if w == "src-port" { 0 } else { 2 }, len: 2, cmp, vals });
            }
            "ip-proto" => {
                let cmp = self.cmp()?;
                let vals = match self.peek() {
                    Some(Tok::Word(p)) if proto(p).is_some() => {
                        let n = match proto(p).unwrap() {
                            Proto::Icmp => 1,
                            Proto::Icmp6 => 58,
                            Proto::Tcp => 6,
                            Proto::Udp => 17,
                            // Outer headers of IP-in-IP are not matched: a no-op.
                            Proto::Ip | Proto::Ip6 => 0,
                        };
                        self.i += 1;
                        if n == 0 {
                            return Ok(());
                        }
                        vec![Masked { val: n, mask: u32::MAX }]
                    }
                    _ => self.value_list()?,
                };
                r.hdr.push(HdrTest::NextProto { cmp, vals });
            }
            "header" => {
                let p = match self.next() {
                    Some(Tok::Word(p)) if proto(&p).is_some() => proto(&p).unwrap(),
                    _ => {
                        self.i -= 1;
                        return self.err("syntax error");
                    }
                };
                self.punct('[')?;
                let off = self.integer()?;
                let len = if self.is_punct(':') {
                    self.i += 1;
                    self.integer()?
                } else {
                    1
                };
                self.punct(']')?;
                if !matches!(len, 1 | 2 | 4) {
                    return self.err("length must be 1, 2 or 4");
                }
                let mask = if self.is_punct('&') {
                    self.i += 1;
                    Some(self.integer()?)
                } else {
                    None
                };
                let cmp = self.cmp()?;
                let vals = match mask {
                    Some(mask) => {
                        let v = self.value()?;
                        vec![Masked { val: v.val, mask }]
                    }
                    None => self.value_list()?,
                };
                r.hdr.push(HdrTest::Bytes { proto: p, off, len, cmp, vals });
            }
            "eval" => {
                let f = self.ident()?;
                r.conds.push(Cond::Eval(f));
            }
            "ip-options" => {
                loop {
                    match self.next() {
                        Some(Tok::Word(o)) if matches!(o.as_str(), "lsrr" | "lsrre" | "rr" | "ssrr") => {}
                        _ => {
                            self.i -= 1;
                            return self.err("syntax error");
                        }
                    }
                    if !self.is_punct(',') {
                        break;
                    }
                    self.i += 1;
                }
                r.conds.push(Cond::IpOptions);
            }
            "event" => {
                let action = match self.next() {
                    Some(Tok::Str(msg)) => Action::Event { name: None, msg: Some(msg) },
                    Some(Tok::Word(name)) if !is_keyword(&name) => {
                        let msg = match self.peek() {
                            Some(Tok::Str(m)) => {
                                let m = m.clone();
                                self.i += 1;
                                Some(m)
                            }
                            _ => None,
                        };
                        Action::Event { name: Some(name), msg }
                    }
                    _ => {
                        self.i -= 1;
                        return self.err("syntax error");
                    }
                };
                r.actions.push(action);
            }
            "file-mime" => {
                let mime = match self.next() {
                    Some(Tok::Str(s)) => s,
                    Some(Tok::Word(id)) if !is_keyword(&id) => match self.lookup(&id)? {
                        IdentValue::Text(t) => t.clone(),
                        _ => return self.err(format!("identifier {id} is not a string")),
                    },
                    _ => {
                        self.i -= 1;
                        return self.err("syntax error");
                    }
                };
                let mut strength = 0i64;
                if self.is_punct(',') {
                    self.i += 1;
                    let neg = self.is_punct('-');
                    if neg {
                        self.i += 1;
                    }
                    match self.next() {
                        Some(Tok::Int(n)) => strength = if neg { -(n as i64) } else { n as i64 },
                        _ => {
                            self.i -= 1;
                            return self.err("syntax error");
                        }
                    }
                }
                r.actions.push(Action::FileMime { mime, strength });
            }
            "enable" | "disable" => {
                let Some(Tok::Str(a)) = self.next() else {
                    self.i -= 1;
                    return self.err("syntax error");
                };
                r.actions.push(if w == "enable" { Action::Enable(a) } else { Action::Disable(a) });
            }
            "payload-size" => {
                let cmp = self.cmp()?;
                let n = self.integer()?;
                r.conds.push(Cond::PayloadSize(cmp, n));
            }
            "requires-signature" | "requires-reverse-signature" => {
                let negate = self.is_punct('!');
                if negate {
                    self.i += 1;
                }
                let id = self.ident()?;
                r.requires.push(Requires { id, reverse: w == "requires-reverse-signature", negate });
            }
            "same-ip" => r.conds.push(Cond::SameIp),
            "tcp-state" | "udp-state" => {
                let mut bits = 0u8;
                loop {
                    bits |= match self.next() {
                        Some(Tok::Word(s)) if s == "established" => STATE_ESTABLISHED,
                        Some(Tok::Word(s)) if s == "originator" => STATE_ORIG,
                        Some(Tok::Word(s)) if s == "responder" => STATE_RESP,
                        Some(Tok::Word(s)) if s == "stateless" => STATE_STATELESS,
                        _ => {
                            self.i -= 1;
                            return self.err("syntax error");
                        }
                    };
                    if !self.is_punct(',') {
                        break;
                    }
                    self.i += 1;
                }
                if w == "udp-state" {
                    if bits & STATE_ESTABLISHED != 0 {
                        return self.err("'established' is not a valid 'udp-state'");
                    }
                    r.conds.push(Cond::UdpState(bits));
                } else {
                    r.conds.push(Cond::TcpState(bits));
                }
            }
            "active" => match self.next() {
                Some(Tok::Word(b)) if b == "true" || b == "false" => r.active = b == "true",
                _ => {
                    self.i -= 1;
                    return self.err("syntax error");
                }
            },
            _ => {
                self.i -= 1;
                return self.err("syntax error");
            }
        }
        Ok(())
    }

    /// `n`, `n:m`, `:m` or `n:` of a pattern's range: (offset, length).
    fn range_opt(&mut self) -> Result<(u32, u32), ParseError> {
        if self.is_punct(':') {
            self.i += 1;
            return Ok((0, self.integer()?));
        }
        let off = self.integer()?;
        if !self.is_punct(':') {
            return Ok((off, 1));
        }
        self.i += 1;
        if self.is_punct(']') {
            return Ok((off, u32::MAX));
        }
        Ok((off, self.integer()?))
    }

    /// A number or an identifier holding one.
    fn integer(&mut self) -> Result<u32, ParseError> {
        match self.next() {
            Some(Tok::Int(n)) => Ok(n),
            Some(Tok::Word(id)) if !is_keyword(&id) => match self.lookup(&id)? {
                IdentValue::Counts(v) if v.len() == 1 => Ok(v[0]),
                _ => self.err(format!("identifier {id} is not a count")),
            },
            _ => {
                self.i = self.i.saturating_sub(1);
                self.err("syntax error")
            }
        }
    }

    /// A number or IPv4 value.
    fn value(&mut self) -> Result<Masked, ParseError> {
        match self.next() {
            Some(Tok::Int(n)) => Ok(Masked { val: n, mask: u32::MAX }),
            Some(Tok::Ip4 { val, mask }) => Ok(Masked { val, mask }),
            _ => {
                self.i = self.i.saturating_sub(1);
                self.err("syntax error")
            }
        }
    }

    /// Values, `a-b` ranges and identifiers, comma-separated.
    fn value_list(&mut self) -> Result<Vec<Masked>, ParseError> {
        let mut out = Vec::new();
        loop {
            match (self.peek(), self.peek2()) {
                (Some(Tok::Int(a)), Some(Tok::Punct('-'))) => {
                    let a = *a;
                    self.i += 2;
                    let Some(Tok::Int(b)) = self.next() else {
                        self.i -= 1;
                        return self.err("syntax error");
                    };
                    if b.saturating_sub(a) > 1 << 16 {
                        return self.err("range too large");
                    }
                    out.extend((a..=b).map(|v| Masked { val: v, mask: u32::MAX }));
                }
                (Some(Tok::Word(id)), _) if !is_keyword(id) => {
                    let id = id.clone();
                    self.i += 1;
                    match self.lookup(&id)? {
                        IdentValue::Counts(v) => out.extend(v.iter().map(|&v| Masked { val: v, mask: u32::MAX })),
                        IdentValue::Prefixes(ps) => {
                            for p in ps {
                                if let IpAddr::V4(a) = p.addr {
                                    let mask = if p.len == 0 { 0 } else { u32::MAX << (32 - p.len.min(32) as u32) };
                                    out.push(Masked { val: u32::from(a), mask });
                                }
                            }
                        }
                        IdentValue::Text(_) => return self.err(format!("identifier {id} is not a value")),
                    }
                }
                _ => out.push(self.value()?),
            }
            if !self.is_punct(',') {
                return Ok(out);
            }
            self.i += 1;
        }
    }

    /// Addresses, prefixes and identifiers, comma-separated.
    fn prefix_list(&mut self) -> Result<Vec<Prefix>, ParseError> {
        let mut out = Vec::new();
        loop {
            match self.next() {
                Some(Tok::Ip4 { val, mask }) => {
                    out.push(Prefix { addr: IpAddr::V4(Ipv4Addr::from(val & mask)), len: mask.count_ones() as u8 });
                }
                Some(Tok::Ip6(p)) => out.push(p),
                Some(Tok::Word(id)) if !is_keyword(&id) => match self.lookup(&id)? {
                    IdentValue::Prefixes(ps) => {
                        out.extend(ps.iter().map(|p| Prefix { addr: mask_addr(p.addr, p.len), len: p.len }))
                    }
                    _ => return self.err(format!("identifier {id} is not a subnet")),
                },
                _ => {
                    self.i = self.i.saturating_sub(1);
                    return self.err("syntax error");
                }
            }
            if !self.is_punct(',') {
                return Ok(out);
            }
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Rule {
        let mut rules = parse("t.sig", src.as_bytes(), &Idents::new()).unwrap();
        assert_eq!(rules.len(), 1);
        rules.pop().unwrap()
    }

    #[test]
    fn a_dpd_signature() {
        let r = one(
            "signature dpd_ftp_client {\n  ip-proto == tcp\n  payload /(|.*[\\n\\r]) *[uU][sS][eE][rR] /\n  tcp-state originator\n}\n\
             ",
        );
        assert_eq!(r.id, "dpd_ftp_client");
        assert_eq!(r.location, "t.sig:1");
        assert_eq!(r.hdr, [HdrTest::NextProto { cmp: Cmp::Eq, vals: vec![Masked { val: 6, mask: u32::MAX }] }]);
        assert_eq!(r.patterns[0].kind, PatternType::Payload);
        assert_eq!(r.conds, [Cond::TcpState(STATE_ORIG)]);
    }

    #[test]
    fn every_attribute() {
        let r = one("signature x { src-ip == 10.0.0.0/8, [fe80::]/10 dst-port = 1-3, 80 header ip[9:1] & 0xff != 17 \
             header icmp[0] < 8 payload [:5] /ab/i http-request-body /c/ requires-signature !y \
             requires-reverse-signature z payload-size >= 3 same-ip udp-state responder active false \
             event \"m\" event my_event event my_event \"m2\" enable \"ftp\" disable \"http\" file-mime \"a/b\", -20 \
             ip-options rr, lsrr eval Foo::f }");
        assert_eq!(r.hdr.len(), 4);
        assert_eq!(
            r.hdr[0],
            HdrTest::Addr {
                src: true,
                cmp: Cmp::Eq,
                prefixes: vec![
                    Prefix { addr: "10.0.0.0".parse().unwrap(), len: 8 },
                    Prefix { addr: "fe80::".parse().unwrap(), len: 10 }
                ]
            }
        );
        match &r.hdr[1] {
            HdrTest::Bytes { proto: Proto::Tcp, off: 2, len: 2, vals, .. } => assert_eq!(vals.len(), 4),
            h => panic!("{h:?}"),
        }
        assert_eq!(
            r.hdr[2],
            HdrTest::Bytes { proto: Proto::Ip, off: 9, len: 1, cmp: Cmp::Ne, vals: vec![Masked { val: 17, mask: 255 }] }
        );
        assert_eq!(
            r.hdr[3],
            HdrTest::Bytes { proto: Proto::Icmp, off: 0, len: 1, cmp: Cmp::Lt, vals: vec![Masked { val: 8, mask: u32::MAX }] }
        );
        assert_eq!(r.patterns[0], Pattern { kind: PatternType::Payload, regex: "(?i:ab)".into(), depth: 5 });
        assert_eq!(r.patterns[1].kind, PatternType::HttpRequestBody);
        assert_eq!(
            r.requires,
            [
                Requires { id: "y".into(), reverse: false, negate: true },
                Requires { id: "z".into(), reverse: true, negate: false }
            ]
        );
        assert_eq!(
            r.conds,
            [
                Cond::PayloadSize(Cmp::Ge, 3),
                Cond::SameIp,
                Cond::UdpState(STATE_RESP),
                Cond::IpOptions,
                Cond::Eval("Foo::f".into())
            ]
        );
        assert!(!r.active);
        assert_eq!(
            r.actions,
            [
                Action::Event { name: None, msg: Some("m".into()) },
                Action::Event { name: Some("my_event".into()), msg: None },
                Action::Event { name: Some("my_event".into()), msg: Some("m2".into()) },
                Action::Enable("ftp".into()),
                Action::Disable("http".into()),
                Action::FileMime { mime: "a/b".into(), strength: -20 },
            ]
        );
    }

    #[test]
    fn identifiers_stand_for_values() {
        let mut ids = Idents::new();
        ids.insert("udp_proto_number".into(), IdentValue::Counts(vec![17]));
        ids.insert("mynets".into(), IdentValue::Prefixes(vec![Prefix { addr: "127.0.0.0".parse().unwrap(), len: 24 }]));
        let rules = parse("t.sig", b"signature a { ip-proto == udp_proto_number dst-ip == mynets }", &ids).unwrap();
        assert_eq!(rules[0].hdr[0], HdrTest::NextProto { cmp: Cmp::Eq, vals: vec![Masked { val: 17, mask: u32::MAX }] });
        let e = parse("t.sig", b"signature a {\n dst-ip == nets }", &ids).unwrap_err();
        assert_eq!((e.line, e.msg.contains("nets")), (2, true));
    }

    #[test]
    fn identifier_values_from_the_command_line() {
        assert_eq!(parse_ident("n=17").unwrap(), ("n".into(), IdentValue::Counts(vec![17])));
        assert_eq!(parse_ident("s=\"a b\"").unwrap().1, IdentValue::Text("a b".into()));
        let (_, v) = parse_ident("mynets = { 192.168.1.0/24, 10.1.0.0/8, [::1] }").unwrap();
        assert_eq!(
            v,
            IdentValue::Prefixes(vec![
                Prefix { addr: "192.168.1.0".parse().unwrap(), len: 24 },
                Prefix { addr: "10.0.0.0".parse().unwrap(), len: 8 },
                Prefix { addr: "::1".parse().unwrap(), len: 128 },
            ])
        );
        assert!(parse_ident("x").is_err());
        assert!(parse_ident("x=nope").is_err());
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        for bad in [
            "signature { }",
            "signature a { payload }",
            "signature a {\n\n bogus }",
            "signature a { header ip[0:3] == 1 }",
            "x",
            "signature a {",
        ] {
            let e = parse("t.sig", bad.as_bytes(), &Idents::new()).unwrap_err();
            assert!(e.to_string().starts_with("error in signature (t.sig:"), "{bad}: {e}");
        }
        let e = parse("t.sig", b"signature a {\n\n bogus }", &Idents::new()).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(parse("t.sig", b"# nothing\n", &Idents::new()).unwrap().is_empty());
    }
}
