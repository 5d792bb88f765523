//! Both directions of one HTTP connection, after Zeek's `HTTP_Analyzer`:
//! request lines open requests, status lines open replies, each reply
//! answers the oldest unanswered request (pipelining; 1xx replies answer
//! none), a HEAD request or a 1xx/204/304 reply has no body, a successful
//! CONNECT or a 101 upgrade ends HTTP parsing, HTTP/0.9 replies are raw
//! data up to the end. The analyzer confirms with the first request (and a
//! reply to one), and a line that is no request or status line is a
//! violation.

use crate::signatures::PatternType;
use std::collections::VecDeque;

use super::content_line::{ContentLine, Piece};
use super::entity::{ExpectBody, Shared};
use super::lines::{self, set_version};
use super::message::{EnvParts, Message};
use super::{version_number, version_text, Out, Settings, Sink, Want};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReqState {
    Line,
    Message,
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RepState {
    Line,
    Message,
    Nothing,
    Http09,
}

/// Connection-wide weirds raised once per connection (Zeek's `FlagEvent`).
const SINGLE_CR: u8 = 1;
const SINGLE_LF: u8 = 2;

/// HTTP state of one connection.
#[derive(Clone, Debug)]
pub struct Parser {
    settings: Settings,
    shared: Shared,
    cl: [ContentLine; 2],
    req: Option<Message>,
    rep: Option<Message>,
    req_state: ReqState,
    rep_state: RepState,
    reply_ongoing: bool,
    num_requests: u64,
    num_replies: u64,
    unanswered: VecDeque<Vec<u8>>,
    reason: Option<Vec<u8>>,
    connect_request: bool,
    /// A CONNECT tunnel or an upgrade took over: nothing more is HTTP.
    handed_over: bool,
    /// Bytes of the chunk being parsed that followed the hand-over point.
    rest_at_hand_over: usize,
    upgraded: bool,
    flagged: u8,
    remaining: usize,
    /// The connection started without a handshake: Zeek's HTTP analyzer
    /// reads nothing of it.
    pub partial: bool,
}

fn idx(is_orig: bool) -> usize {
    if is_orig {
        0
    } else {
        1
    }
}

/// Whether `method` is a case-insensitive prefix of `word` (how Zeek
/// compares methods with `strncasecmp` over the method's length).
fn method_is(method: &[u8], word: &str) -> bool {
    method.len() <= word.len() && method.eq_ignore_ascii_case(&word.as_bytes()[..method.len()])
}

impl Parser {
    /// A parser with Zeek's `settings`.
    pub fn new(settings: Settings) -> Parser {
        Parser {
            settings,
            shared: Shared::default(),
            cl: [ContentLine::default(), ContentLine::default()],
            req: None,
            rep: None,
            req_state: ReqState::Line,
            rep_state: RepState::Line,
            reply_ongoing: false,
            num_requests: 0,
            num_replies: 0,
            unanswered: VecDeque::new(),
            reason: None,
            connect_request: false,
            handed_over: false,
            rest_at_hand_over: 0,
            upgraded: false,
            flagged: 0,
            remaining: 0,
            partial: false,
        }
    }

    fn parts<'a>(
        cl: &'a mut [ContentLine; 2],
        settings: &'a Settings,
        shared: &'a mut Shared,
        sink: &'a mut dyn Sink,
        is_orig: bool,
    ) -> EnvParts<'a> {
        EnvParts { sink, cl: &mut cl[idx(is_orig)], is_orig, settings, shared }
    }

    /// Feeds a message of one direction; whether it ended normally.
    fn deliver_msg(&mut self, is_orig: bool, d: &[u8], crlf: bool, sink: &mut dyn Sink) -> bool {
        let Parser { cl, settings, shared, req, rep, .. } = self;
        let msg = if is_orig { req } else { rep };
        let Some(m) = msg.as_mut() else { return false };
        let mut p = Self::parts(cl, settings, shared, sink, is_orig);
        m.deliver(d, crlf, &mut p)
    }

    fn done_msg(&mut self, is_orig: bool, interrupted: bool, why: &'static str, sink: &mut dyn Sink) {
        let Parser { cl, settings, shared, req, rep, .. } = self;
        let msg = if is_orig { req } else { rep };
        if let Some(m) = msg.as_mut() {
            let mut p = Self::parts(cl, settings, shared, sink, is_orig);
            m.done(interrupted, why, &mut p);
        }
    }

    fn after(&mut self, is_orig: bool, ended: bool, sink: &mut dyn Sink) {
        if ended {
            if is_orig {
                self.request_made(false, super::message::ENDS_NORMALLY, sink);
            } else {
                self.reply_made(false, super::message::ENDS_NORMALLY, sink);
            }
        }
    }

    /// In-order bytes of one direction.
    pub fn stream(&mut self, is_orig: bool, data: &[u8], sink: &mut dyn Sink) {
        if self.partial || self.handed_over || data.is_empty() {
            return;
        }
        if !is_orig && self.rep_state == RepState::Http09 {
            return self.http09_data(data, sink);
        }
        let i = idx(is_orig);
        if self.cl[i].skip {
            return;
        }
        self.cl[i].begin(data.len());
        let mut pos = 0;
        while !self.handed_over {
            let Some(piece) = self.cl[i].next(data, &mut pos) else { break };
            self.remaining = data.len() - pos;
            self.piece(is_orig, piece, data, sink);
            if !is_orig && self.rep_state == RepState::Http09 {
                // An HTTP/0.9 request turned the rest into raw reply data.
                break;
            }
        }
        if self.cl[i].end(data.len()) && !self.handed_over {
            sink.emit(Out::Weird("line_terminated_without_CRLF", String::new()));
            let mut pos = 0;
            while let Some(piece) = self.cl[i].next(b"\r\n", &mut pos) {
                self.remaining = 0;
                self.piece(is_orig, piece, b"\r\n", sink);
            }
        }
    }

    fn piece(&mut self, is_orig: bool, piece: Piece, data: &[u8], sink: &mut dyn Sink) {
        match piece {
            Piece::Weird(w) => {
                let bit = if w == "line_terminated_with_single_CR" { SINGLE_CR } else { SINGLE_LF };
                if w == "contentline_size_exceeded" || self.flagged & bit == 0 {
                    if w != "contentline_size_exceeded" {
                        self.flagged |= bit;
                    }
                    sink.emit(Out::Weird(w, String::new()));
                }
            }
            Piece::Plain(a, b) => {
                let d = &data[a..b];
                let has = if is_orig { self.req.is_some() } else { self.rep.is_some() };
                if !has {
                    let w = if is_orig { "unexpected_client_HTTP_data" } else { "unexpected_server_HTTP_data" };
                    sink.emit(Out::Weird(w, String::new()));
                    return;
                }
                let ended = self.deliver_msg(is_orig, d, false, sink);
                self.after(is_orig, ended, sink);
            }
            Piece::Line(l) => {
                if is_orig {
                    self.request_side_line(&l, sink);
                } else {
                    self.reply_side_line(&l, sink);
                }
            }
        }
    }

    fn request_side_line(&mut self, l: &[u8], sink: &mut dyn Sink) {
        match self.req_state {
            ReqState::Line => {
                let Parser { shared, .. } = self;
                let r = lines::request_line(l, &mut shared.request_version, &mut shared.keep_alive, sink);
                let Some(r) = r else {
                    if !(self.num_requests == 0 || self.shared.keep_alive) {
                        if sink.wants(Want::Event) {
                            sink.emit(Out::Event { event_type: "crud_trailing_HTTP_request", detail: l.to_vec() });
                        }
                    } else if l.is_empty() {
                        sink.emit(Out::Weird("empty_http_request", String::new()));
                    } else {
                        sink.emit(Out::Violate("not a http request line"));
                        self.req_state = ReqState::Nothing;
                    }
                    return;
                };
                self.num_requests += 1;
                if !self.shared.keep_alive && self.num_requests > 1 {
                    sink.emit(Out::Weird("unexpected_multiple_HTTP_requests", String::new()));
                }
                self.req_state = ReqState::Message;
                self.shared.request_ongoing = true;
                self.unanswered.push_back(r.method.clone());
                sink.emit(Out::Confirm);
                if method_is(&r.method, "CONNECT") {
                    self.connect_request = true;
                }
                if sink.wants(Want::Match(PatternType::HttpUri)) {
                    let data = r.unescaped.clone();
                    sink.emit(Out::Match { is_orig: true, kind: PatternType::HttpUri, data, fresh: true });
                }
                let version = self.shared.request_version;
                if sink.wants(Want::Request) {
                    let t = self.settings.truncate_uri;
                    sink.emit(Out::Request {
                        method: r.method.clone(),
                        original_uri: truncate(r.uri, t),
                        unescaped_uri: truncate(r.unescaped, t),
                        version: version_text(version),
                    });
                }
                self.init_message(true, ExpectBody::Maybe, l.len() as u64, sink);
                if version == (0, 9) {
                    if r.method != b"GET" {
                        sink.emit(Out::Weird(
                            "invalid_http_09_request_method",
                            String::from_utf8_lossy(&r.method).into(),
                        ));
                    }
                    if self.rep.is_some() {
                        sink.emit(Out::Weird("http_09_reply_before_request", String::new()));
                        self.done_msg(false, false, super::message::ENDS_NORMALLY, sink);
                        self.rep = None;
                    }
                    self.rep_state = RepState::Http09;
                }
            }
            ReqState::Message => {
                let ended = self.deliver_msg(true, l, true, sink);
                self.after(true, ended, sink);
            }
            ReqState::Nothing => {}
        }
    }

    fn reply_side_line(&mut self, l: &[u8], sink: &mut dyn Sink) {
        match self.rep_state {
            RepState::Line => {
                let Parser { shared, .. } = self;
                let Some(r) = lines::reply_line(l, &mut shared.reply_version, &mut shared.keep_alive, sink) else {
                    if !l.is_empty() {
                        sink.emit(Out::Violate("not a http reply line"));
                        self.rep_state = RepState::Nothing;
                    }
                    return;
                };
                self.shared.reply_code = r.code;
                self.reason = r.reason;
                self.num_replies += 1;
                if !self.unanswered.is_empty() {
                    sink.emit(Out::Confirm);
                }
                self.rep_state = RepState::Message;
                self.reply_ongoing = true;
                self.http_reply(sink);
                if self.connect_request && r.code != 200 {
                    self.connect_request = false;
                }
                let expect = self.expect_reply_body();
                self.init_message(false, expect, l.len() as u64, sink);
            }
            RepState::Message => {
                let ended = self.deliver_msg(false, l, true, sink);
                self.after(false, ended, sink);
                if self.connect_request && l.is_empty() && !self.handed_over {
                    // The end of a successful CONNECT reply's headers: a tunnel follows.
                    if self.remaining > 0 {
                        sink.emit(Out::Weird("protocol_data_with_HTTP_CONNECT_reply", self.remaining.to_string()));
                    }
                    self.hand_over();
                }
            }
            RepState::Nothing | RepState::Http09 => {}
        }
    }

    fn http_reply(&mut self, sink: &mut dyn Sink) {
        if sink.wants(Want::Reply) {
            sink.emit(Out::Reply {
                version: version_text(self.shared.reply_version),
                code: self.shared.reply_code as u64,
                reason: self.reason.clone().unwrap_or_else(|| b"<empty>".to_vec()),
            });
        }
    }

    fn http09_data(&mut self, data: &[u8], sink: &mut dyn Sink) {
        if self.rep.is_none() {
            let Parser { shared, .. } = self;
            set_version(&mut shared.reply_version, (0, 9), &mut shared.keep_alive, sink);
            if !self.unanswered.is_empty() {
                sink.emit(Out::Confirm);
                self.unanswered.pop_front();
            }
            self.shared.connection_close = true;
            self.reply_ongoing = true;
            self.http_reply(sink);
            let expect = self.expect_reply_body();
            self.init_message(false, expect, 0, sink);
            let ended = self.deliver_msg(false, b"", true, sink);
            self.after(false, ended, sink);
        }
        if self.rep.is_some() {
            let ended = self.deliver_msg(false, data, false, sink);
            self.after(false, ended, sink);
        }
    }

    fn expect_reply_body(&self) -> ExpectBody {
        if self.unanswered.front().is_some_and(|m| method_is(m, "HEAD")) {
            return ExpectBody::No;
        }
        let c = self.shared.reply_code;
        if (100..200).contains(&c) || c == 204 || c == 304 {
            return ExpectBody::No;
        }
        ExpectBody::Yes
    }

    fn init_message(&mut self, is_orig: bool, expect: ExpectBody, header_length: u64, sink: &mut dyn Sink) {
        let slot = if is_orig { &mut self.req } else { &mut self.rep };
        if slot.as_ref().is_some_and(|m| !m.finished()) {
            sink.emit(Out::Weird("HTTP_overlapping_messages", String::new()));
        }
        *slot = Some(Message::new(expect, header_length, sink, is_orig));
    }

    fn request_made(&mut self, interrupted: bool, why: &'static str, sink: &mut dyn Sink) {
        if !self.shared.request_ongoing {
            return;
        }
        self.shared.request_ongoing = false;
        self.done_msg(true, interrupted, why, sink);
        self.req_state = if interrupted { ReqState::Nothing } else { ReqState::Line };
    }

    fn reply_made(&mut self, interrupted: bool, why: &'static str, sink: &mut dyn Sink) {
        if !self.reply_ongoing {
            return;
        }
        self.reply_ongoing = false;
        self.done_msg(false, interrupted, why, sink);
        let code = self.shared.reply_code;
        if !(100..200).contains(&code) {
            self.unanswered.pop_front();
        }
        self.reason = None;
        if code == 101
            && self.unanswered.len() == 1
            && self.shared.upgrade_connection
            && !self.shared.upgrade_protocol.is_empty()
        {
            self.upgrade(sink);
        }
        self.shared.reply_code = 0;
        self.shared.upgrade_connection = false;
        self.shared.upgrade_protocol.clear();
        self.rep_state = if interrupted || self.upgraded { RepState::Nothing } else { RepState::Line };
    }

    fn upgrade(&mut self, sink: &mut dyn Sink) {
        if self.remaining > 0 {
            sink.emit(Out::Weird("protocol_data_with_HTTP_upgrade_reply", self.remaining.to_string()));
        }
        self.upgraded = true;
        self.hand_over();
        if sink.wants(Want::Upgrade) {
            sink.emit(Out::Upgrade { protocol: self.shared.upgrade_protocol.clone() });
        }
    }

    fn hand_over(&mut self) {
        self.handed_over = true;
        self.rest_at_hand_over = self.remaining;
    }

    /// Whether a CONNECT tunnel or an upgrade took the stream over: what
    /// follows is no longer HTTP.
    pub fn handed_over(&self) -> bool {
        self.handed_over
    }

    /// How many bytes at the end of the last chunk followed the hand-over
    /// point (they belong to the protocol that took over).
    pub fn rest_at_hand_over(&self) -> usize {
        self.rest_at_hand_over
    }

    /// `len` bytes of one direction that never came.
    pub fn gap(&mut self, is_orig: bool, len: u64, sink: &mut dyn Sink) {
        if self.partial || self.handed_over {
            return;
        }
        let i = idx(is_orig);
        let seq = self.cl[i].seq + 1;
        self.cl[i].seq += len;
        let has = if is_orig { self.req.is_some() } else { self.rep.is_some() };
        if has && sink.wants(Want::Event) {
            sink.emit(Out::Event { event_type: "content gap", detail: format!("seq={seq}, len={len}").into_bytes() });
        }
        let len = len.min(i64::MAX as u64) as i64;
        let inside = {
            let Parser { cl, settings, shared, req, rep, .. } = self;
            let msg = if is_orig { req } else { rep };
            msg.as_mut().and_then(|m| m.undelivered(len, &mut Self::parts(cl, settings, shared, sink, is_orig)))
        };
        if let Some(ended) = inside {
            return self.after(is_orig, ended, sink);
        }
        if is_orig {
            self.request_made(true, "message interrupted by a content gap", sink);
        }
        self.reply_made(true, "message interrupted by a content gap", sink);
        self.cl[i].skip = true;
    }

    /// One direction ended (its FIN, or the connection's removal).
    pub fn end_of_data(&mut self, is_orig: bool, sink: &mut dyn Sink) {
        if self.partial {
            return;
        }
        let i = idx(is_orig);
        if (is_orig || self.rep_state != RepState::Http09) && !self.handed_over && self.cl[i].has_partial_line() {
            self.stream(is_orig, b"\n", sink);
        }
        const WHY: &str = "message ends as connection contents are completely delivered";
        if is_orig {
            self.request_made(false, WHY, sink);
        } else {
            self.reply_made(false, WHY, sink);
        }
    }

    /// The connection is removed: open messages are interrupted, then
    /// `http_stats`.
    pub fn done(&mut self, sink: &mut dyn Sink) {
        if self.partial {
            return;
        }
        const WHY: &str = "message interrupted when connection done";
        self.request_made(true, WHY, sink);
        self.reply_made(true, WHY, sink);
        if sink.wants(Want::Stats) {
            sink.emit(Out::Stats {
                num_requests: self.num_requests,
                num_replies: self.num_replies,
                request_version: version_number(self.shared.request_version),
                reply_version: version_number(self.shared.reply_version),
            });
        }
    }
}

fn truncate(mut uri: Vec<u8>, limit: i64) -> Vec<u8> {
    if limit >= 0 && uri.len() as i64 > limit {
        uri.truncate(limit as usize);
        uri.extend_from_slice(b"...");
    }
    uri
}
