//! Both directions of an SMTP connection and Zeek's state machine: it does
//! not check that the session is correct, it guesses where it is
//! (particularly whether the client is sending a message) from each
//! command and, later, the reply that answers it, and says so through
//! `smtp_unexpected` where the guess and the traffic disagree.

use super::bdat::{self, Chunks};
use super::{MimeSink, Out, Settings, Sink, Want};
use crate::analyzers::http::content_line::{ContentLine, Piece};
use crate::analyzers::mime::Mail;
use std::collections::VecDeque;

/// Command codes, in Zeek's order (`SMTP_cmd.def`); [`WORDS`] names them.
#[allow(missing_docs)]
pub mod cmd {
    pub const EHLO: i32 = 0;
    pub const HELO: i32 = 1;
    pub const MAIL: i32 = 2;
    pub const RCPT: i32 = 3;
    pub const DATA: i32 = 4;
    pub const QUIT: i32 = 5;
    pub const RSET: i32 = 6;
    pub const VRFY: i32 = 7;
    pub const EXPN: i32 = 8;
    pub const HELP: i32 = 9;
    pub const NOOP: i32 = 10;
    pub const STARTTLS: i32 = 11;
    pub const X_ANONYMOUSTLS: i32 = 12;
    pub const CONN_ESTABLISHMENT: i32 = 13;
    pub const END_OF_DATA: i32 = 14;
    pub const SEND: i32 = 15;
    pub const SOML: i32 = 16;
    pub const SAML: i32 = 17;
    pub const TURN: i32 = 18;
    pub const BDAT: i32 = 19;
    pub const ETRN: i32 = 20;
    pub const AUTH: i32 = 21;
    pub const AUTH_ANSWER: i32 = 22;
}

/// The command words by code; `CONN_ESTABLISHMENT`, `END_OF_DATA` and
/// `AUTH_ANSWER` stand for no command on the wire.
pub const WORDS: [&str; 23] = [
    "EHLO",
    "HELO",
    "MAIL",
    "RCPT",
    "DATA",
    "QUIT",
    "RSET",
    "VRFY",
    "EXPN",
    "HELP",
    "NOOP",
    "STARTTLS",
    "X_ANONYMOUSTLS",
    "CONN_ESTABLISHMENT",
    "END_OF_DATA",
    "SEND",
    "SOML",
    "SAML",
    "TURN",
    "BDAT",
    "ETRN",
    "AUTH",
    "AUTH_ANSWER",
];

const UNKNOWN: &str = "(UNKNOWN)";

fn word(code: i32) -> &'static str {
    usize::try_from(code).ok().and_then(|c| WORDS.get(c)).copied().unwrap_or(UNKNOWN)
}

/// The session states (Zeek's numbers appear in `smtp_unexpected` details).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum State {
    Connected = 0,
    Initiated = 1,
    NotAvailable = 2,
    Ready = 3,
    MailOk = 4,
    RcptOk = 5,
    InData = 6,
    AfterData = 7,
    InAuth = 8,
    InTls = 9,
    Quit = 10,
    AfterGap = 11,
    GapRecovery = 12,
    InBdat = 13,
}

/// The state of one SMTP connection.
#[derive(Clone, Debug)]
pub struct Parser {
    settings: Settings,
    state: State,
    expect_sender: bool,
    expect_recver: bool,
    last_replied_cmd: i32,
    first_cmd: i32,
    pending_reply: u32,
    pending_cmds: VecDeque<i32>,
    skip_data: bool,
    orig_is_sender: bool,
    mail: Option<Mail>,
    bdat: Option<Chunks>,
    cl: [ContentLine; 2],
    /// Bytes of each direction delivered or lost so far (gap offsets).
    seq: [u64; 2],
    /// Line-splitter weirds already raised (each once per connection).
    flagged: Vec<&'static str>,
    /// The connection began without a handshake: nothing is read.
    pub partial: bool,
    ended: [bool; 2],
    /// The greeting was handed to software identification.
    banner_seen: bool,
}

fn skip_ws(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    &d[n..]
}

/// Weirds and MIME events raised while a message is parsed.
fn mime_sink(sink: &mut dyn Sink) -> MimeSink<'_> {
    MimeSink(sink)
}

impl Parser {
    /// A parser for a new connection.
    pub fn new(settings: Settings) -> Parser {
        let mut p = Parser {
            settings,
            state: State::Connected,
            expect_sender: false,
            expect_recver: true,
            last_replied_cmd: -1,
            first_cmd: cmd::CONN_ESTABLISHMENT,
            pending_reply: 0,
            // Some clients pipeline whether or not the server offers it.
            pending_cmds: VecDeque::new(),
            skip_data: false,
            orig_is_sender: true,
            mail: None,
            bdat: None,
            cl: [ContentLine::default(), ContentLine::default()],
            seq: [0; 2],
            flagged: Vec::new(),
            partial: false,
            ended: [false; 2],
            banner_seen: false,
        };
        let mut none = super::Collect::default();
        p.update_state(cmd::CONN_ESTABLISHMENT, 0, true, &mut none);
        p
    }

    /// Whether the connection switched to TLS (STARTTLS accepted): its
    /// bytes are TLS from here on.
    pub fn in_tls(&self) -> bool {
        self.state == State::InTls
    }

    /// The next bytes of one direction; returns how many of them were
    /// SMTP: past that offset they are TLS (STARTTLS was accepted).
    pub fn stream(&mut self, is_orig: bool, data: &[u8], sink: &mut dyn Sink) -> usize {
        let d = usize::from(!is_orig);
        self.seq[d] += data.len() as u64;
        if self.in_tls() {
            return 0;
        }
        if self.partial {
            return data.len();
        }
        let mut pos = 0;
        while let Some(piece) = self.cl[d].next(data, &mut pos) {
            match piece {
                Piece::Line(l) => self.deliver(is_orig, &l, false, sink),
                Piece::Plain(a, b) => self.deliver(is_orig, &data[a..b], true, sink),
                Piece::Weird(w) => {
                    if !self.flagged.contains(&w) {
                        self.flagged.push(w);
                        sink.emit(Out::Weird(w, String::new()));
                    }
                }
            }
            if self.in_tls() {
                // The rest of this delivery is TLS.
                return pos;
            }
        }
        data.len()
    }

    fn unexpected(&mut self, is_sender: bool, msg: &'static str, detail: &[u8], sink: &mut dyn Sink) {
        self.expect_sender = true;
        self.expect_recver = true;
        if sink.wants(Want::Unexpected) {
            let is_orig = if self.orig_is_sender { is_sender } else { !is_sender };
            sink.emit(Out::Unexpected { is_orig, msg, detail: detail.to_vec() });
        }
    }

    /// One line, or (`plain`) bytes of a BDAT chunk (Zeek's `DeliverStream`).
    fn deliver(&mut self, orig: bool, mut line: &[u8], plain: bool, sink: &mut dyn Sink) {
        let is_sender = if self.orig_is_sender { orig } else { !orig };
        if is_sender && self.bdat.is_some() && !line.is_empty() {
            let b = self.bdat.as_mut().expect("checked");
            let n = (line.len() as u64).min(b.remaining()) as usize;
            if n > 0 {
                let mut lines = Vec::new();
                let mut weirds = Vec::new();
                b.data(&line[..n], &mut lines, &mut |w, a| weirds.push((w, a)));
                for (w, a) in weirds {
                    sink.emit(Out::Weird(w, a));
                }
                if let Some(m) = &mut self.mail {
                    for (l, crlf) in lines {
                        m.deliver(&l, crlf, &mut mime_sink(sink));
                    }
                }
            }
            let b = self.bdat.as_ref().expect("checked");
            if b.is_last() && b.remaining() == 0 {
                self.update_state(cmd::END_OF_DATA, 0, orig, sink);
            }
            line = &line[n..];
            if line.is_empty() {
                return;
            }
        }
        if plain {
            // Chunk bytes without a transfer to take them.
            return;
        }
        if line.last() == Some(&b'\r') {
            self.unexpected(is_sender, "more than one <CR> at the end of line", line, sink);
            while line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
        }
        if line.iter().any(|&c| c == b'\r' || c == b'\n') {
            self.unexpected(is_sender, "Bare <CR> or <LF> appears in the middle of line", line, sink);
        }
        self.process_line(orig, line, sink);
    }

    fn request(&mut self, command: &[u8], arg: &[u8], sink: &mut dyn Sink) {
        sink.emit(Out::Confirm);
        if sink.wants(Want::Request) {
            sink.emit(Out::Request {
                is_orig: self.orig_is_sender,
                command: command.to_ascii_uppercase(),
                arg: arg.to_vec(),
            });
        }
    }

    fn process_line(&mut self, orig: bool, line: &[u8], sink: &mut dyn Sink) {
        let is_sender = if self.orig_is_sender { orig } else { !orig };
        if is_sender {
            self.sender_line(orig, line, sink);
        } else {
            self.reply_line(orig, line, sink);
        }
    }

    fn sender_line(&mut self, orig: bool, line: &[u8], sink: &mut dyn Sink) {
        let mut code = -1;
        let mut command: &[u8] = b"";
        let mut arg = line;
        if self.state == State::AfterGap {
            // Whether this is a command or message data is unknown.
        } else if self.state == State::InData && line == b"." {
            command = b".";
            code = cmd::END_OF_DATA;
            self.new_cmd(code, sink);
            self.expect_sender = false;
            self.expect_recver = true;
        } else if self.state == State::InData {
            self.expect_recver = false;
            let data = line.strip_prefix(b".").unwrap_or(line);
            if self.mail.is_none() {
                // Data after the end (a RST that was ignored, say).
                self.begin_data(orig, State::InData, sink);
            }
            if let Some(m) = &mut self.mail {
                m.deliver(data, true, &mut mime_sink(sink));
            }
            if !self.skip_data && sink.wants(Want::Data) {
                sink.emit(Out::Data { is_orig: orig, data: data.to_vec() });
            }
        } else if self.state == State::InAuth {
            // Zeek reports the answer as command `**`.
            command = b"**";
            code = cmd::AUTH_ANSWER;
            self.new_cmd(code, sink);
        } else {
            self.expect_sender = false;
            self.expect_recver = true;
            let n = line.iter().position(|&c| c.is_ascii_whitespace() || c == 0).unwrap_or(line.len());
            command = &line[..n];
            arg = skip_ws(&line[n..]);
            code = parse_cmd(command);
            if code < 0 {
                self.unexpected(true, "unknown command", command, sink);
            } else {
                self.new_cmd(code, sink);
            }
        }
        if code < 0 {
            return;
        }
        if code == cmd::END_OF_DATA {
            self.update_state(code, 0, orig, sink);
        }
        if !command.is_empty() || !arg.is_empty() {
            self.request(command, arg, sink);
        }
        let mut do_update = code != cmd::END_OF_DATA;
        if code == cmd::BDAT {
            do_update = self.bdat_arg(arg, orig, sink);
        } else if self.bdat.is_some() {
            // Other commands while a BDAT transfer never got its last chunk.
            sink.emit(Out::Weird("smtp_missing_bdat_last_chunk", String::new()));
            self.end_data(sink);
        }
        if do_update {
            self.update_state(code, 0, orig, sink);
        }
    }

    fn reply_line(&mut self, orig: bool, line: &[u8], sink: &mut dyn Sink) {
        let code = if line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit) {
            line[..3].iter().fold(0u32, |a, &c| a * 10 + (c - b'0') as u32)
        } else {
            0
        };
        if !(100..=599).contains(&code) {
            self.unexpected(false, "reply code out of range", line, sink);
            sink.emit(Out::Violate("reply code -1 out of range".to_string(), line.to_vec()));
            return;
        }
        if self.pending_reply != 0 && code != self.pending_reply {
            self.unexpected(false, "reply code does not match the continuing reply", line, sink);
            self.pending_reply = 0;
        }
        if self.pending_reply == 0 {
            self.new_reply(code, orig, sink);
        }
        let msg = if line.len() > 3 && line[3] == b'-' {
            self.pending_reply = code;
            skip_ws(&line[4..])
        } else {
            self.pending_reply = 0;
            self.expect_sender = true;
            self.expect_recver = false;
            skip_ws(&line[3..])
        };
        let cmd = match self.last_replied_cmd {
            cmd::CONN_ESTABLISHMENT => ">",
            cmd::END_OF_DATA => ".",
            c => word(c),
        };
        if self.last_replied_cmd == cmd::CONN_ESTABLISHMENT && !self.banner_seen && sink.wants(Want::Software) {
            // The server's greeting names its software.
            self.banner_seen = true;
            if code == 220 {
                sink.emit(Out::Software { orig_host: !self.orig_is_sender, text: msg.to_vec() });
            }
        }
        if sink.wants(Want::Reply) {
            sink.emit(Out::Reply { is_orig: orig, code: code as u64, cmd, msg: msg.to_vec(), cont_resp: self.pending_reply > 0 });
        }
    }

    fn new_cmd(&mut self, code: i32, sink: &mut dyn Sink) {
        if self.first_cmd < 0 {
            self.first_cmd = code;
        } else {
            if self.pending_cmds.len() == 1000 {
                sink.emit(Out::Weird("smtp_excessive_pending_cmds", String::new()));
                self.pending_cmds.clear();
            }
            self.pending_cmds.push_back(code);
        }
    }

    fn new_reply(&mut self, code: u32, orig: bool, sink: &mut dyn Sink) {
        if self.state == State::AfterGap {
            self.state = State::GapRecovery;
            self.request(UNKNOWN.as_bytes(), b"", sink);
        }
        let c = self.first_cmd;
        self.last_replied_cmd = c;
        self.first_cmd = self.pending_cmds.pop_front().unwrap_or(-1);
        self.update_state(c, code, orig, sink);
    }

    fn unexpected_command(&mut self, code: i32, reply: u32, sink: &mut dyn Sink) {
        let d = format!("{} reply = {} state = {}", word(code), reply, self.state as u8);
        self.unexpected(true, "unexpected command", d.as_bytes(), sink);
    }

    fn unexpected_reply(&mut self, code: i32, reply: u32, sink: &mut dyn Sink) {
        let d = format!("{} state = {}, last command = {}", reply, self.state as u8, word(code));
        self.unexpected(true, "unexpected reply", d.as_bytes(), sink);
    }

    /// The state after `code` and its reply (`reply` 0: not seen yet, the
    /// command assumed to succeed; clients pipeline beyond what RFC 2920
    /// allows).
    fn update_state(&mut self, code: i32, reply: u32, orig: bool, sink: &mut dyn Sink) {
        use State as S;
        let st = self.state;
        if st == S::Quit && reply == 0 {
            self.unexpected_command(code, reply, sink);
        }
        match code {
            cmd::CONN_ESTABLISHMENT => match reply {
                0 => {
                    if st != S::Connected {
                        self.unexpected_command(code, reply, sink);
                    }
                    self.state = S::Initiated;
                }
                220 => {}
                421 | 554 => self.state = S::NotAvailable,
                _ => self.unexpected_reply(code, reply, sink),
            },
            cmd::EHLO | cmd::HELO => match reply {
                0 => {
                    if st != S::Initiated {
                        self.unexpected_command(code, reply, sink);
                    }
                    self.state = S::Ready;
                }
                250 => {}
                421 | 500 | 501 | 504 | 550 => self.state = S::Initiated,
                _ => self.unexpected_reply(code, reply, sink),
            },
            cmd::MAIL | cmd::SEND | cmd::SOML | cmd::SAML => match reply {
                0 => {
                    if st != S::Ready {
                        self.unexpected_command(code, reply, sink);
                    }
                    self.state = S::MailOk;
                }
                250 => {}
                421 | 451 | 452 | 500 | 501 | 503 | 550 | 552 | 553 => {
                    if self.state != S::InData {
                        self.state = S::Ready;
                    }
                }
                _ => self.unexpected_reply(code, reply, sink),
            },
            cmd::RCPT => match reply {
                0 => {
                    if st != S::MailOk && st != S::RcptOk {
                        self.unexpected_command(code, reply, sink);
                    }
                    self.state = S::RcptOk;
                }
                250 | 251 | 421 | 450 | 451 | 452 | 500 | 501 | 503 | 550 | 551 | 552 | 553 | 554 => {}
                _ => self.unexpected_reply(code, reply, sink),
            },
            cmd::DATA => match reply {
                0 => {
                    if self.state != S::RcptOk {
                        self.unexpected_command(code, reply, sink);
                    }
                    self.begin_data(orig, S::InData, sink);
                }
                354 => {}
                421 => {
                    if self.state == S::InData {
                        self.end_data(sink);
                    }
                    self.state = S::Quit;
                }
                500 | 501 | 503 | 451 | 554 => {
                    if self.state == S::InData {
                        self.end_data(sink);
                    }
                    self.state = S::Ready;
                }
                _ => {
                    self.unexpected_reply(code, reply, sink);
                    if self.state == S::InData {
                        self.end_data(sink);
                    }
                    self.state = S::Ready;
                }
            },
            cmd::BDAT => match reply {
                0 => {
                    if self.state != S::RcptOk {
                        self.unexpected_command(code, reply, sink);
                    }
                    self.state = S::InBdat;
                }
                // The client completes the chunk in flight whatever the server says.
                250 | 421 | 500 | 501 | 503 | 451 | 554 => {}
                _ => self.unexpected_reply(code, reply, sink),
            },
            cmd::END_OF_DATA => {
                match reply {
                    0 => {
                        if st != S::InData && st != S::InBdat {
                            self.unexpected_command(code, reply, sink);
                        }
                        self.end_data(sink);
                        self.state = S::AfterData;
                    }
                    250 | 421 | 451 | 452 | 552 | 554 => {}
                    _ => self.unexpected_reply(code, reply, sink),
                }
                if reply > 0 {
                    self.state = S::Ready;
                }
            }
            cmd::RSET => match reply {
                0 => self.state = S::Ready,
                250 => {}
                _ => self.unexpected_reply(code, reply, sink),
            },
            cmd::QUIT => match reply {
                0 => self.state = S::Quit,
                221 => {}
                _ => self.unexpected_reply(code, reply, sink),
            },
            cmd::AUTH => {
                if st != S::Ready {
                    self.unexpected_command(code, reply, sink);
                }
                match reply {
                    0 => {}
                    334 => self.state = S::InAuth,
                    _ => self.state = S::Initiated,
                }
            }
            cmd::AUTH_ANSWER => {
                if st != S::InAuth {
                    self.unexpected_command(code, reply, sink);
                }
                match reply {
                    0 => {}
                    334 => self.state = S::InAuth,
                    _ => self.state = S::Initiated,
                }
            }
            cmd::TURN => {
                if st != S::Ready {
                    self.unexpected_command(code, reply, sink);
                }
                if reply == 250 {
                    self.orig_is_sender = !self.orig_is_sender;
                    self.state = S::Connected;
                    self.expect_sender = false;
                    self.expect_recver = true;
                }
            }
            cmd::STARTTLS | cmd::X_ANONYMOUSTLS => {
                if st != S::Ready {
                    self.unexpected_command(code, reply, sink);
                }
                if reply == 220 {
                    self.start_tls(sink);
                }
            }
            _ => {
                if st == S::GapRecovery && reply == 354 {
                    self.begin_data(orig, S::InData, sink);
                }
            }
        }
    }

    /// STARTTLS was accepted: SMTP parsing ends and `smtp_starttls` is
    /// raised. The analyzer hands the connection's further bytes to TLS
    /// ([`super::analyzer::Smtp`]).
    fn start_tls(&mut self, sink: &mut dyn Sink) {
        self.state = State::InTls;
        self.expect_sender = true;
        self.expect_recver = true;
        if sink.wants(Want::StartTls) {
            sink.emit(Out::StartTls);
        }
    }

    fn bdat_arg(&mut self, arg: &[u8], orig: bool, sink: &mut dyn Sink) -> bool {
        let a = match bdat::parse_arg(arg) {
            Ok(a) => a,
            Err(e) => {
                sink.emit(Out::Weird("smtp_invalid_bdat_command", e.to_string()));
                return false;
            }
        };
        if a.chunk_size > i64::MAX as u64 {
            sink.emit(Out::Weird("smtp_huge_bdat_chunk", a.chunk_size.to_string()));
            return false;
        }
        self.cl[usize::from(!orig)].plain = a.chunk_size as i64;
        if self.bdat.is_none() {
            self.begin_data(orig, State::InBdat, sink);
            self.bdat = Some(Chunks::new(self.settings.bdat_max_line_length));
        }
        if let Some(b) = &mut self.bdat {
            b.next_chunk(a.chunk_size, a.last);
        }
        true
    }

    fn begin_data(&mut self, _orig: bool, state: State, sink: &mut dyn Sink) {
        self.state = state;
        self.skip_data = false;
        if let Some(mut m) = self.mail.take() {
            sink.emit(Out::Weird("smtp_nested_mail_transaction", String::new()));
            m.done(&mut mime_sink(sink));
        }
        self.mail = Some(Mail::new(self.settings.mime.clone(), &mut mime_sink(sink)));
    }

    fn end_data(&mut self, sink: &mut dyn Sink) {
        if let Some(mut b) = self.bdat.take() {
            if b.remaining() > 0 {
                sink.emit(Out::Weird("smtp_bdat_remaining_at_end_data", String::new()));
                self.cl[0].plain = 0;
                self.cl[1].plain = 0;
            }
            let mut lines = Vec::new();
            let mut weirds = Vec::new();
            b.done(&mut lines, &mut |w, a| weirds.push((w, a)));
            for (w, a) in weirds {
                sink.emit(Out::Weird(w, a));
            }
            if let Some(m) = &mut self.mail {
                for (l, crlf) in lines {
                    m.deliver(&l, crlf, &mut mime_sink(sink));
                }
            }
        }
        match self.mail.take() {
            None => sink.emit(Out::Weird("smtp_unmatched_end_of_data", String::new())),
            Some(mut m) => m.done(&mut mime_sink(sink)),
        }
    }

    /// `len` bytes of one direction never came (Zeek's `Undelivered`).
    pub fn gap(&mut self, is_orig: bool, len: u64, sink: &mut dyn Sink) {
        let d = usize::from(!is_orig);
        let seq = self.seq[d] + 1;
        self.seq[d] += len;
        if self.partial || self.in_tls() || len == 0 {
            return;
        }
        let detail = format!("seq = {seq}, len = {len}");
        self.unexpected(is_orig, "content gap", detail.as_bytes(), sink);
        if matches!(self.state, State::InData | State::InBdat) {
            if let Some(m) = &mut self.mail {
                m.undelivered(len, &mut mime_sink(sink));
            }
            self.end_data(sink);
        }
        // A partial line before the gap is stale.
        let plain = self.cl[d].plain;
        self.cl[d] = ContentLine::default();
        self.cl[d].plain = plain;
        self.pending_cmds.clear();
        self.first_cmd = -1;
        self.last_replied_cmd = -1;
        self.state = State::AfterGap;
    }

    /// One direction ended; when both have, an open message ends (Zeek's
    /// `ConnectionFinished`).
    pub fn end_of_data(&mut self, is_orig: bool, sink: &mut dyn Sink) {
        self.ended[usize::from(!is_orig)] = true;
        if self.ended[0] && self.ended[1] && self.mail.is_some() {
            self.end_data(sink);
        }
    }

    /// The connection is removed: an open message ends.
    pub fn done(&mut self, sink: &mut dyn Sink) {
        if self.mail.is_some() {
            self.end_data(sink);
        }
    }
}

/// The code of a command word, any case (`X-ANONYMOUSTLS` has a dash on
/// the wire); -1 for none.
fn parse_cmd(w: &[u8]) -> i32 {
    if w.eq_ignore_ascii_case(b"X-ANONYMOUSTLS") {
        return cmd::X_ANONYMOUSTLS;
    }
    WORDS.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(w)).map_or(-1, |p| p as i32)
}
