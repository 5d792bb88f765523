//! Both directions of a PostgreSQL connection (frontend/backend protocol
//! 3.0): the client's SSLRequest or StartupMessage, the server's one-byte
//! answer to an SSLRequest, then typed messages (a type byte, a 4-byte
//! length that counts itself, the body). After an `S` answer both
//! directions are TLS and go out as [`Out::Tls`] unread.
//!
//! Each direction is buffered until a whole unit is there. A direction that
//! cannot be parsed (a violation, a gap) is read no further.

/// The SSLRequest's "version" (1234 in the high half, 5679 in the low).
const SSL_REQUEST_CODE: u32 = 80_877_103;

/// How many bytes one direction may buffer while it waits for the other
/// to say how it goes on (Zeek buffers four deliveries).
const MAX_WAITING: usize = 1 << 16;

/// One thing the parser found, in the order Zeek raises it. Fields are the
/// event's arguments.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    SslRequest,
    SslReply(u8),
    StartupParameter { name: Vec<u8>, value: Vec<u8> },
    StartupMessage { major: u64, minor: u64 },
    AuthenticationRequest { identifier: u64, data: Vec<u8> },
    AuthenticationOk,
    AuthenticationResponse(Vec<u8>),
    SimpleQuery(Vec<u8>),
    ReadyForQuery(u8),
    ErrorField { code: u8, value: Vec<u8> },
    ErrorResponse,
    NoticeField { code: u8, value: Vec<u8> },
    NoticeResponse,
    Terminate,
    DataRow(u64),
    ParameterStatus { name: Vec<u8>, value: Vec<u8> },
    BackendKeyData { process_id: u64, secret_key: u64 },
    NotImplemented { is_orig: bool, typ: u8, chunk: Vec<u8> },
    /// The protocol is confirmed (a StartupMessage, or the answer to an
    /// SSLRequest).
    Confirm,
    /// The data breaks the protocol.
    Violate(String),
    /// Bytes of one direction after the switch to TLS.
    Tls { is_orig: bool, data: Vec<u8> },
}

/// Where the client's side is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Front {
    /// Before its first message.
    Start,
    /// SSL was requested: waiting for the server's answer.
    AwaitReply,
    /// A StartupMessage comes next.
    Startup,
    /// Typed messages.
    Messages,
    /// TLS.
    Tls,
    /// Not read any further.
    Dead,
}

/// Where the server's side is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Back {
    /// Until the client's first message says how the server answers.
    AwaitFront,
    /// The answer to an SSLRequest comes next.
    SslByte,
    /// Typed messages.
    Messages,
    /// TLS.
    Tls,
    /// Not read any further.
    Dead,
}

/// The parser of one connection.
#[derive(Clone, Debug)]
pub struct Parser {
    front: Front,
    back: Back,
    /// Unparsed bytes of the client, of the server.
    buf: [Vec<u8>; 2],
}

impl Default for Parser {
    fn default() -> Self {
        Parser { front: Front::Start, back: Back::AwaitFront, buf: [Vec::new(), Vec::new()] }
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// A NUL-terminated string at the start of `b`: (it, what follows the NUL).
fn cstr(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = b.iter().position(|&c| c == 0)?;
    Some((&b[..i], &b[i + 1..]))
}

fn is_name(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'/'))
}

fn is_printable(b: &[u8]) -> bool {
    b.iter().all(|&c| (0x20..=0x7e).contains(&c))
}

impl Parser {
    /// Takes the next in-order bytes of one direction.
    pub fn feed(&mut self, is_orig: bool, data: &[u8], out: &mut Vec<Out>) {
        let tls = if is_orig { self.front == Front::Tls } else { self.back == Back::Tls };
        if tls {
            if !data.is_empty() {
                out.push(Out::Tls { is_orig, data: data.to_vec() });
            }
            return;
        }
        let dead = if is_orig { self.front == Front::Dead } else { self.back == Back::Dead };
        if dead {
            return;
        }
        self.buf[usize::from(!is_orig)].extend_from_slice(data);
        self.run(out);
        let waiting = if is_orig { self.front == Front::AwaitReply } else { self.back == Back::AwaitFront };
        if waiting && self.buf[usize::from(!is_orig)].len() > MAX_WAITING {
            out.push(Out::Violate(format!(
                "too many {} bytes buffered",
                if is_orig { "frontend" } else { "backend" }
            )));
            self.kill(is_orig);
        }
    }

    /// `len` bytes of one direction never came: that direction is read no
    /// further (TLS goes on: the SSL analyzer copes with gaps itself).
    pub fn gap(&mut self, is_orig: bool) {
        if is_orig && self.front != Front::Tls {
            self.kill(true);
        } else if !is_orig && self.back != Back::Tls {
            self.kill(false);
        }
    }

    /// Whether bytes of this direction go to TLS now.
    pub fn is_tls(&self, is_orig: bool) -> bool {
        if is_orig {
            self.front == Front::Tls
        } else {
            self.back == Back::Tls
        }
    }

    fn kill(&mut self, is_orig: bool) {
        if is_orig {
            self.front = Front::Dead;
        } else {
            self.back = Back::Dead;
        }
        self.buf[usize::from(!is_orig)] = Vec::new();
    }

    fn violate(&mut self, is_orig: bool, reason: String, out: &mut Vec<Out>) {
        out.push(Out::Violate(reason));
        self.kill(is_orig);
    }

    /// Parses whatever both buffers allow (one side's progress may unblock
    /// the other), the client's side first: it says how the server's goes.
    fn run(&mut self, out: &mut Vec<Out>) {
        loop {
            let progressed = self.step_front(out) || self.step_back(out);
            if !progressed {
                return;
            }
        }
    }

    /// One unit of the client's side, if there is one.
    fn step_front(&mut self, out: &mut Vec<Out>) -> bool {
        let b = &self.buf[0];
        match self.front {
            Front::Start => {
                if b.len() < 8 {
                    return false;
                }
                let (len, code) = (be32(b), be32(&b[4..]));
                if len < 8 {
                    self.violate(true, format!("error while parsing PostgreSQL: length {len} too short"), out);
                } else if len == 8 && code == SSL_REQUEST_CODE {
                    self.buf[0].drain(..8);
                    out.push(Out::SslRequest);
                    self.front = Front::AwaitReply;
                    if self.back == Back::AwaitFront {
                        self.back = Back::SslByte;
                    }
                } else if code >> 16 != 3 {
                    self.violate(true, format!("unsupported PostgreSQL major version {}", code >> 16), out);
                } else {
                    self.front = Front::Startup;
                    if self.back == Back::AwaitFront {
                        self.back = Back::Messages;
                    }
                }
                true
            }
            Front::AwaitReply | Front::Dead => false,
            Front::Tls => {
                if self.buf[0].is_empty() {
                    return false;
                }
                out.push(Out::Tls { is_orig: true, data: std::mem::take(&mut self.buf[0]) });
                true
            }
            Front::Startup => {
                if b.len() < 4 {
                    return false;
                }
                let len = be32(b) as usize;
                if len < 9 {
                    self.violate(true, format!("error while parsing PostgreSQL StartupMessage: length {len} too short"), out);
                    return true;
                }
                if b.len() < len {
                    return false;
                }
                let msg: Vec<u8> = self.buf[0].drain(..len).collect();
                self.startup(&msg, out);
                true
            }
            Front::Messages => {
                let Some((typ, body)) = self.message(0, out) else { return false };
                let Some(body) = body else { return true };
                self.frontend_message(typ, body, out);
                true
            }
        }
    }

    /// One unit of the server's side, if there is one.
    fn step_back(&mut self, out: &mut Vec<Out>) -> bool {
        match self.back {
            Back::AwaitFront | Back::Dead => false,
            Back::SslByte => {
                let Some(&c) = self.buf[1].first() else { return false };
                match c {
                    b'S' | b'N' => {
                        self.buf[1].remove(0);
                        out.push(Out::SslReply(c));
                        out.push(Out::Confirm);
                        if c == b'S' {
                            self.back = Back::Tls;
                            self.front = Front::Tls;
                        } else {
                            self.back = Back::Messages;
                            self.front = Front::Startup;
                        }
                    }
                    _ => self.violate(false, format!("error while parsing PostgreSQL: SSL reply {c:#04x}"), out),
                }
                true
            }
            Back::Tls => {
                if self.buf[1].is_empty() {
                    return false;
                }
                out.push(Out::Tls { is_orig: false, data: std::mem::take(&mut self.buf[1]) });
                true
            }
            Back::Messages => {
                let Some((typ, body)) = self.message(1, out) else { return false };
                let Some(body) = body else { return true };
                self.backend_message(typ, body, out);
                true
            }
        }
    }

    /// The next typed message of direction `side` (0 the client): `None`
    /// when it is not all there, `Some((typ, None))` when its length broke
    /// the protocol (the direction is dead then).
    fn message(&mut self, side: usize, out: &mut Vec<Out>) -> Option<(u8, Option<Vec<u8>>)> {
        let b = &self.buf[side];
        if b.len() < 5 {
            return None;
        }
        let (typ, len) = (b[0], be32(&b[1..]) as usize);
        if len < 4 {
            self.violate(side == 0, format!("error while parsing PostgreSQL: message length {len} too short"), out);
            return Some((typ, None));
        }
        if b.len() < 1 + len {
            return None;
        }
        let body = self.buf[side][5..1 + len].to_vec();
        self.buf[side].drain(..1 + len);
        Some((typ, Some(body)))
    }

    fn startup(&mut self, msg: &[u8], out: &mut Vec<Out>) {
        let (major, minor) = (u64::from(u16::from_be_bytes([msg[4], msg[5]])), u64::from(u16::from_be_bytes([msg[6], msg[7]])));
        if major != 3 {
            self.violate(true, format!("error while parsing PostgreSQL StartupMessage: version {major}"), out);
            return;
        }
        if msg[msg.len() - 1] != 0 {
            self.violate(true, "error while parsing PostgreSQL StartupMessage: no terminating NUL".into(), out);
            return;
        }
        let mut rest = &msg[8..msg.len() - 1];
        while !rest.is_empty() {
            let param = cstr(rest).and_then(|(name, r)| cstr(r).map(|(value, r)| (name, value, r)));
            match param {
                Some((name, value, r)) if is_name(name) && !value.is_empty() && is_printable(value) => {
                    out.push(Out::StartupParameter { name: name.to_vec(), value: value.to_vec() });
                    rest = r;
                }
                _ => {
                    self.violate(true, "error while parsing PostgreSQL StartupMessage: bad parameter".into(), out);
                    return;
                }
            }
        }
        out.push(Out::StartupMessage { major, minor });
        out.push(Out::Confirm);
        self.front = Front::Messages;
    }

    fn frontend_message(&mut self, typ: u8, body: Vec<u8>, out: &mut Vec<Out>) {
        match typ {
            b'p' => out.push(Out::AuthenticationResponse(body)),
            b'X' => out.push(Out::Terminate),
            b'Q' => match cstr(&body) {
                Some((q, _)) => out.push(Out::SimpleQuery(q.to_vec())),
                None => self.violate(true, "error while parsing PostgreSQL: query without NUL".into(), out),
            },
            _ => out.push(Out::NotImplemented { is_orig: true, typ, chunk: body }),
        }
    }

    /// Fields of an ErrorResponse or NoticeResponse: a code byte and a
    /// NUL-terminated value each, up to a NUL code.
    fn fields(body: &[u8]) -> Option<Vec<(u8, Vec<u8>)>> {
        let mut rest = body;
        let mut fields = Vec::new();
        loop {
            let (&code, r) = rest.split_first()?;
            if code == 0 {
                return Some(fields);
            }
            let (value, r) = cstr(r)?;
            fields.push((code, value.to_vec()));
            rest = r;
        }
    }

    fn backend_message(&mut self, typ: u8, body: Vec<u8>, out: &mut Vec<Out>) {
        let bad = |what: &str| format!("error while parsing PostgreSQL: bad {what}");
        match typ {
            b'K' if body.len() >= 8 => out.push(Out::BackendKeyData {
                process_id: u64::from(be32(&body)),
                secret_key: u64::from(be32(&body[4..])),
            }),
            b'E' | b'N' => match Self::fields(&body) {
                Some(fields) => {
                    for (code, value) in fields {
                        out.push(if typ == b'E' { Out::ErrorField { code, value } } else { Out::NoticeField { code, value } });
                    }
                    out.push(if typ == b'E' { Out::ErrorResponse } else { Out::NoticeResponse });
                }
                None => self.violate(false, bad("response fields"), out),
            },
            b'R' if body.len() >= 4 => {
                let identifier = be32(&body);
                if identifier > 12 || (identifier == 0 && body.len() != 4) {
                    self.violate(false, bad("authentication request"), out);
                } else if identifier == 0 {
                    out.push(Out::AuthenticationOk);
                } else {
                    out.push(Out::AuthenticationRequest { identifier: u64::from(identifier), data: body[4..].to_vec() });
                }
            }
            b'S' => {
                let status = cstr(&body).and_then(|(name, r)| cstr(r).map(|(value, _)| (name, value)));
                match status {
                    Some((name, value)) if is_name(name) && is_printable(value) => {
                        out.push(Out::ParameterStatus { name: name.to_vec(), value: value.to_vec() })
                    }
                    _ => self.violate(false, bad("parameter status"), out),
                }
            }
            b'D' if body.len() >= 2 => out.push(Out::DataRow(u64::from(u16::from_be_bytes([body[0], body[1]])))),
            b'Z' if matches!(body.first(), Some(b'I' | b'T' | b'E')) => out.push(Out::ReadyForQuery(body[0])),
            b'K' | b'R' | b'D' | b'Z' => self.violate(false, bad(&format!("message {:?}", typ as char)), out),
            _ => out.push(Out::NotImplemented { is_orig: false, typ, chunk: body }),
        }
    }
}
