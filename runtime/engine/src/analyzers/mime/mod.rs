//! A mail message as Zeek's MIME code reads it (`MIME_Mail` over
//! `MIME_Entity`, RFC 2045/2046 with Zeek's leniency), fed one line at a
//! time by a mail protocol (SMTP's DATA and BDAT): each entity's header
//! fields (folded lines joined), its Content-Type and
//! Content-Transfer-Encoding, then its body: a multipart body is split at
//! its boundary into child entities, a `message/*` body holds one, any
//! other body is decoded (base64, quoted-printable, or as is) and handed
//! out in segments. Nesting stops at `MIME::max_depth` (the deeper
//! entity's lines stay in its parent, with the limit weird
//! `exceeded_mime_max_depth`); a header longer than
//! `MIME::max_header_bytes` is cut (limit weird
//! `exceeded_mime_max_header_bytes`).
//!
//! Header fields are parsed by the HTTP analyzer's MIME helpers
//! ([`crate::analyzers::http::mime`]); what the message holds goes to a
//! [`Sink`] as [`Out`] items, each built only when the sink
//! [`wants`](Sink::wants) its kind.

use crate::analyzers::http::entity::Base64;
use crate::analyzers::http::mime::{self, ieq, Header};
use crate::analyzers::http::HeaderRec;

#[cfg(test)]
mod tests;

/// Zeek's settings the parser reads.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `MIME::max_header_bytes` (0: no limit).
    pub max_header_bytes: u64,
    /// `MIME::max_depth` (0: no limit).
    pub max_depth: u64,
    /// `mime_segment_length`: largest `mime_segment_data` chunk (1024).
    pub segment_length: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_header_bytes: 65536, max_depth: 100, segment_length: 1024 }
    }
}

/// The kinds of MIME events, for [`Sink::wants`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// `mime_begin_entity`.
    BeginEntity,
    /// `mime_end_entity`.
    EndEntity,
    /// `mime_one_header`.
    OneHeader,
    /// `mime_all_headers`.
    AllHeaders,
    /// `mime_segment_data`.
    SegmentData,
    /// `mime_entity_data`.
    EntityData,
    /// `mime_all_data`.
    AllData,
    /// `mime_event`.
    Event,
    /// File analysis (an entity's content is a file).
    Files,
}

/// One thing the parser found, in the order Zeek raises it.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// `mime_begin_entity`.
    BeginEntity,
    /// `mime_end_entity`.
    EndEntity,
    /// `mime_one_header(h)`.
    OneHeader(HeaderRec),
    /// `mime_all_headers(hlist)`.
    AllHeaders(Vec<HeaderRec>),
    /// `mime_segment_data(length, data)`.
    SegmentData(Vec<u8>),
    /// `mime_entity_data(length, data)`.
    EntityData(Vec<u8>),
    /// `mime_all_data(length, data)`.
    AllData(Vec<u8>),
    /// `mime_event(event_type, detail)`.
    Event(&'static str, String),
    /// A limit was reached: a weird with its addl, and history `X`.
    Limit(&'static str, String),
    /// Decoded content of the current entity, for file analysis (the same
    /// bytes as `mime_segment_data`'s).
    FileChunk(Vec<u8>),
    /// `len` bytes of the current entity's content never came, at `offset`
    /// of it (`MIME_Mail::Undelivered`).
    FileGap {
        /// Bytes of the entity's content before the hole.
        offset: u64,
        /// The hole's length.
        len: u64,
    },
    /// The current entity ended: its file, if it has one, ends.
    FileEnd,
}

/// Where the parser's findings go.
pub trait Sink {
    /// Whether events of kind `w` are taken (ask before building one).
    fn wants(&self, w: Want) -> bool;
    /// Takes one finding.
    fn emit(&mut self, o: Out);
}

/// A [`Sink`] that keeps everything (tests, fuzzing).
#[derive(Debug, Default)]
pub struct Collect {
    /// What was found, in order.
    pub out: Vec<Out>,
}

impl Sink for Collect {
    fn wants(&self, _: Want) -> bool {
        true
    }
    fn emit(&mut self, o: Out) {
        self.out.push(o);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    Multipart,
    Message,
    Text,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    SevenBit,
    EightBit,
    Binary,
    QuotedPrintable,
    Base64,
    Other,
}

impl Encoding {
    fn of(token: &[u8]) -> Encoding {
        [
            ("7BIT", Encoding::SevenBit),
            ("8BIT", Encoding::EightBit),
            ("BINARY", Encoding::Binary),
            ("QUOTED-PRINTABLE", Encoding::QuotedPrintable),
            ("BASE64", Encoding::Base64),
        ]
        .into_iter()
        .find(|(n, _)| ieq(token, n))
        .map_or(Encoding::Other, |(_, e)| e)
    }
}

/// The message-wide state entities work with.
struct Ctx<'a> {
    sink: &'a mut dyn Sink,
    settings: &'a Settings,
    /// `mime_entity_data`'s content of the current entity.
    entity_content: Vec<u8>,
    /// `mime_all_data`'s content of the message.
    all_content: Vec<u8>,
    /// Content bytes of the current entity so far (`cur_entity_len`).
    entity_len: u64,
}

impl Ctx<'_> {
    fn event(&mut self, event_type: &'static str, detail: &str) {
        if self.sink.wants(Want::Event) {
            self.sink.emit(Out::Event(event_type, detail.to_string()));
        }
    }
    fn illegal_format(&mut self, detail: &str) {
        self.event("illegal format", detail);
    }
    fn illegal_encoding(&mut self, detail: &str) {
        self.event("illegal encoding", detail);
    }
    fn begin_entity(&mut self) {
        self.entity_len = 0;
        if self.sink.wants(Want::BeginEntity) {
            self.sink.emit(Out::BeginEntity);
        }
    }
    fn end_entity(&mut self) {
        if self.sink.wants(Want::EntityData) {
            let data = std::mem::take(&mut self.entity_content);
            self.sink.emit(Out::EntityData(data));
        }
        if self.sink.wants(Want::EndEntity) {
            self.sink.emit(Out::EndEntity);
        }
        if self.sink.wants(Want::Files) {
            self.sink.emit(Out::FileEnd);
        }
    }
    /// One chunk of decoded content (`MIME_Mail::SubmitData`).
    fn submit(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        if self.sink.wants(Want::EntityData) {
            self.entity_content.extend_from_slice(&data);
        }
        if self.sink.wants(Want::AllData) {
            self.all_content.extend_from_slice(&data);
        }
        let len = data.len() as u64;
        if self.sink.wants(Want::Files) {
            self.sink.emit(Out::FileChunk(data.clone()));
        }
        if self.sink.wants(Want::SegmentData) {
            self.sink.emit(Out::SegmentData(data));
        }
        self.entity_len += len;
    }
}

/// One entity (`MIME_Entity`) and, while its body is read, its current child.
#[derive(Clone, Debug)]
struct Entity {
    in_header: bool,
    end_of_data: bool,
    /// The lines of the header field being read, and their bytes.
    header_lines: Option<(Vec<Vec<u8>>, u64)>,
    ty: Type,
    encoding: Encoding,
    boundary: Option<Vec<u8>>,
    child: Option<Box<Entity>>,
    base64: Option<Base64>,
    depth: u64,
    parent_multipart: bool,
    delay_crlf: bool,
    headers: Vec<HeaderRec>,
    /// Decoded bytes not yet submitted (at most one segment).
    pending: Vec<u8>,
}

impl Entity {
    fn new(parent: Option<&Entity>) -> Entity {
        Entity {
            in_header: true,
            end_of_data: false,
            header_lines: None,
            ty: Type::Text,
            encoding: parent.map_or(Encoding::Other, |p| p.encoding),
            boundary: None,
            child: None,
            base64: None,
            depth: parent.map_or(0, |p| p.depth + 1),
            parent_multipart: parent.is_some_and(|p| p.ty == Type::Multipart),
            delay_crlf: false,
            headers: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn deliver(&mut self, d: &[u8], trailing_crlf: bool, cx: &mut Ctx) {
        if self.in_header {
            if d.is_empty() || d[0] == 0 {
                self.finish_header(cx);
                self.in_header = false;
                self.submit_all_headers(cx);
                if !self.end_of_data {
                    self.begin_body(cx);
                }
            } else if d[0] == b' ' || d[0] == b'\t' {
                self.cont_header(d, cx);
            } else {
                self.new_header(d, cx);
            }
        } else {
            self.new_data_line(d, trailing_crlf, cx);
        }
    }

    fn new_header(&mut self, d: &[u8], cx: &mut Ctx) {
        self.finish_header(cx);
        if !d.is_empty() {
            self.header_lines = Some((vec![d.to_vec()], d.len() as u64));
        }
    }

    fn cont_header(&mut self, d: &[u8], cx: &mut Ctx) {
        let Some((lines, bytes)) = &mut self.header_lines else {
            cx.illegal_format("first header line starts with linear whitespace");
            let ws = d.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
            self.new_header(&d[ws..], cx);
            return;
        };
        let max = cx.settings.max_header_bytes;
        if max > 0 && *bytes >= max {
            cx.sink.emit(Out::Limit("exceeded_mime_max_header_bytes", bytes.to_string()));
            return;
        }
        *bytes += d.len() as u64;
        lines.push(d.to_vec());
    }

    fn finish_header(&mut self, cx: &mut Ctx) {
        let Some((lines, _)) = self.header_lines.take() else { return };
        let h = Header::parse(&lines);
        let Some(name) = h.name.clone() else { return };
        if h.is("content-type") {
            self.parse_content_type(&h, cx);
        } else if h.is("content-transfer-encoding") {
            self.parse_encoding(&h, cx);
        }
        let rec = HeaderRec { name: name.to_ascii_uppercase(), original_name: name, value: h.value };
        if cx.sink.wants(Want::AllHeaders) {
            self.headers.push(rec.clone());
        }
        if cx.sink.wants(Want::OneHeader) {
            cx.sink.emit(Out::OneHeader(rec));
        }
    }

    fn parse_content_type(&mut self, h: &Header, cx: &mut Ctx) {
        let Some((ty, _subty, used)) = mime::slash_token_pair(&h.value) else {
            cx.illegal_format("media type/subtype not found in content type");
            return;
        };
        self.ty = if ieq(ty, "MULTIPART") {
            Type::Multipart
        } else if ieq(ty, "MESSAGE") {
            Type::Message
        } else if ieq(ty, "TEXT") {
            Type::Text
        } else {
            Type::Other
        };
        if matches!(self.ty, Type::Multipart | Type::Message) {
            let rest = &h.value[used..];
            let want = self.ty == Type::Multipart;
            let mut problems = Vec::new();
            if let Some(b) = mime::parameters(rest, want, &mut |why| problems.push(why)) {
                self.boundary = Some(b);
            }
            for p in problems {
                cx.illegal_format(p);
            }
        }
        if self.ty == Type::Multipart && self.boundary.is_none() {
            cx.illegal_format(
                "boundary delimiter is not specified for a multipart entity -- content is treated as type application/octet-stream",
            );
            self.ty = Type::Other;
        }
    }

    fn parse_encoding(&mut self, h: &Header, cx: &mut Ctx) {
        let Some((tok, rest)) = h.value_token() else {
            cx.illegal_format("encoding type not found in content encoding");
            return;
        };
        self.encoding = Encoding::of(tok);
        if matches!(self.ty, Type::Multipart | Type::Message) && !rest.is_empty() {
            let mut problems = Vec::new();
            mime::parameters(rest, false, &mut |why| problems.push(why));
            for p in problems {
                cx.illegal_format(p);
            }
        }
    }

    fn submit_all_headers(&mut self, cx: &mut Ctx) {
        if cx.sink.wants(Want::AllHeaders) {
            let all = std::mem::take(&mut self.headers);
            cx.sink.emit(Out::AllHeaders(all));
        }
    }

    fn begin_body(&mut self, cx: &mut Ctx) {
        if self.encoding == Encoding::Base64 {
            self.base64 = Some(Base64::default());
        }
        if self.ty == Type::Message {
            self.begin_child(cx);
        }
    }

    fn begin_child(&mut self, cx: &mut Ctx) {
        let max = cx.settings.max_depth;
        if max > 0 && self.depth >= max {
            cx.sink.emit(Out::Limit("exceeded_mime_max_depth", self.depth.to_string()));
            return;
        }
        self.child = Some(Box::new(Entity::new(Some(self))));
        cx.begin_entity();
    }

    fn end_child(&mut self, cx: &mut Ctx) {
        if let Some(mut c) = self.child.take() {
            c.end(cx);
        }
    }

    /// The entity's data ended (`EndOfData`).
    fn end(&mut self, cx: &mut Ctx) {
        if self.end_of_data {
            return;
        }
        self.end_of_data = true;
        if self.in_header {
            self.finish_header(cx);
            self.in_header = false;
            self.submit_all_headers(cx);
            cx.illegal_format("entity body missing");
        } else {
            if self.child.is_some() {
                if self.ty == Type::Multipart {
                    cx.illegal_format("multipart closing boundary delimiter missing");
                }
                self.end_child(cx);
            }
            if let Some(mut b) = self.base64.take() {
                let rest = b.finish();
                self.octets(&rest, cx);
            }
            self.flush(cx);
        }
        cx.end_entity();
    }

    /// 1 for a boundary line, 2 for the closing one, 0 otherwise.
    fn boundary_kind(&self, d: &[u8]) -> u8 {
        let Some(b) = &self.boundary else { return 0 };
        let Some(rest) = d.strip_prefix(b"--") else { return 0 };
        let Some(after) = rest.strip_prefix(b.as_slice()) else { return 0 };
        if after.starts_with(b"--") {
            2
        } else {
            1
        }
    }

    fn new_data_line(&mut self, d: &[u8], trailing_crlf: bool, cx: &mut Ctx) {
        if self.ty == Type::Multipart {
            match self.boundary_kind(d) {
                1 => {
                    self.end_child(cx);
                    if !self.end_of_data {
                        self.begin_child(cx);
                    }
                    return;
                }
                2 => {
                    self.end_child(cx);
                    self.end(cx);
                    return;
                }
                _ => {}
            }
        }
        if matches!(self.ty, Type::Multipart | Type::Message) {
            if let Some(c) = &mut self.child {
                c.deliver(d, trailing_crlf, cx);
            }
            return;
        }
        match self.encoding {
            Encoding::QuotedPrintable => self.decode_qp(d, cx),
            Encoding::Base64 => {
                if let Some(b) = &mut self.base64 {
                    let out = b.decode(d);
                    self.octets(&out, cx);
                }
            }
            _ => {
                if self.delay_crlf {
                    self.delay_crlf = false;
                    self.octets(b"\r\n", cx);
                }
                self.octets(d, cx);
                if trailing_crlf {
                    if self.parent_multipart {
                        self.delay_crlf = true;
                    } else {
                        self.octets(b"\r\n", cx);
                    }
                }
            }
        }
        self.flush(cx);
    }

    fn decode_qp(&mut self, d: &[u8], cx: &mut Ctx) {
        let out = crate::analyzers::http::entity::decode_qp_line(d, &mut |m| cx.illegal_encoding(m));
        self.octets(&out, cx);
    }

    /// Decoded bytes: submitted whenever a segment is full.
    fn octets(&mut self, mut d: &[u8], cx: &mut Ctx) {
        let seg = cx.settings.segment_length.max(1);
        while !d.is_empty() {
            let n = (seg - self.pending.len()).min(d.len());
            self.pending.extend_from_slice(&d[..n]);
            d = &d[n..];
            if self.pending.len() == seg {
                cx.submit(std::mem::take(&mut self.pending));
            }
        }
    }

    fn flush(&mut self, cx: &mut Ctx) {
        if !self.pending.is_empty() {
            cx.submit(std::mem::take(&mut self.pending));
        }
    }
}

/// One mail message (`MIME_Mail`): made when the message's data begins,
/// fed its lines, and ended with [`done`](Mail::done).
#[derive(Clone, Debug)]
pub struct Mail {
    top: Entity,
    settings: Settings,
    entity_content: Vec<u8>,
    all_content: Vec<u8>,
    entity_len: u64,
    done: bool,
}

impl Mail {
    /// A new message: its top entity begins.
    pub fn new(settings: Settings, sink: &mut dyn Sink) -> Mail {
        let mut m = Mail {
            top: Entity::new(None),
            settings,
            entity_content: Vec::new(),
            all_content: Vec::new(),
            entity_len: 0,
            done: false,
        };
        m.with(sink, |_, cx| cx.begin_entity());
        m
    }

    fn with(&mut self, sink: &mut dyn Sink, f: impl FnOnce(&mut Entity, &mut Ctx)) {
        let mut cx = Ctx {
            sink,
            settings: &self.settings,
            entity_content: std::mem::take(&mut self.entity_content),
            all_content: std::mem::take(&mut self.all_content),
            entity_len: self.entity_len,
        };
        f(&mut self.top, &mut cx);
        self.entity_content = cx.entity_content;
        self.all_content = cx.all_content;
        self.entity_len = cx.entity_len;
    }

    /// `len` bytes of the message never came (`MIME_Mail::Undelivered`):
    /// a hole in the current entity's file.
    pub fn undelivered(&mut self, len: u64, sink: &mut dyn Sink) {
        if self.done || len == 0 {
            return;
        }
        if sink.wants(Want::Files) {
            sink.emit(Out::FileGap { offset: self.entity_len, len });
        }
        self.entity_len += len;
    }

    /// One line of the message without its line end; `trailing_crlf` says
    /// whether a CRLF ended it.
    pub fn deliver(&mut self, line: &[u8], trailing_crlf: bool, sink: &mut dyn Sink) {
        if self.done {
            return;
        }
        self.with(sink, |top, cx| {
            if !top.end_of_data {
                top.deliver(line, trailing_crlf, cx)
            }
        });
    }

    /// The message ended: open entities end, then `mime_all_data`.
    pub fn done(&mut self, sink: &mut dyn Sink) {
        if self.done {
            return;
        }
        self.done = true;
        self.with(sink, |top, cx| top.end(cx));
        if sink.wants(Want::AllData) {
            sink.emit(Out::AllData(std::mem::take(&mut self.all_content)));
        }
    }
}
