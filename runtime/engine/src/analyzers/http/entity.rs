//! One entity of an HTTP message, after Zeek's `HTTP_Entity` on top of its
//! `MIME_Entity`: header lines (folded lines joined, Content-Type,
//! Content-Length, Content-Range of a 206 reply, Transfer-Encoding,
//! Content-Encoding, Expect), then the body by Content-Length, chunks,
//! until the connection closes, or as lines; multipart bodies are split at
//! their boundary into child entities, `message/*` bodies hold one.
//! Content-Transfer-Encoding base64 and quoted-printable are decoded. The
//! weirds and `http_event`s are Zeek's, by name.

use super::content_line::ContentLine;
use super::mime::{self, ieq, Header};
use super::zip::Zip;
use super::{HeaderRec, Out, Settings, Sink, Version, Want};
use crate::signatures::PatternType;

/// Whether a message may, must or must not have a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectBody {
    /// No body (HEAD replies, 1xx, 204, 304).
    No,
    /// A body, maybe empty (replies; child entities).
    Yes,
    /// A body only if the headers announce one (requests).
    Maybe,
}

/// Analyzer state the entities read and change while parsing headers.
#[derive(Clone, Debug, Default)]
pub struct Shared {
    /// The client asked for a persistent connection (or spoke above 1.0).
    pub keep_alive: bool,
    /// The server said `Connection: close` (or spoke HTTP/0.9).
    pub connection_close: bool,
    /// The server said `Connection: upgrade`.
    pub upgrade_connection: bool,
    /// The server's `Upgrade:` protocol.
    pub upgrade_protocol: Vec<u8>,
    /// The current reply's code (0 outside a reply).
    pub reply_code: u32,
    /// The requests' version.
    pub request_version: Version,
    /// The replies' version.
    pub reply_version: Version,
    /// A request message is being parsed.
    pub request_ongoing: bool,
}

/// Message-level totals the top entity feeds.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Body bytes of the top entity.
    pub body_length: u64,
    /// Header bytes of the top entity (added to the first line's).
    pub header_length: u64,
    /// The top entity has ended.
    pub top_ended: bool,
}

/// What an entity works with besides itself.
pub struct Env<'a> {
    /// Where findings go.
    pub sink: &'a mut dyn Sink,
    /// The line splitter of the entity's direction.
    pub cl: &'a mut ContentLine,
    /// The direction.
    pub is_orig: bool,
    /// Zeek's settings.
    pub settings: &'a Settings,
    /// Analyzer state.
    pub shared: &'a mut Shared,
    /// Message totals.
    pub totals: &'a mut Totals,
}

impl Env<'_> {
    fn weird(&mut self, name: &'static str, addl: &[u8]) {
        self.sink.emit(Out::Weird(name, String::from_utf8_lossy(addl).into_owned()));
    }
    fn event(&mut self, event_type: &'static str, detail: &str) {
        if self.sink.wants(Want::Event) {
            self.sink.emit(Out::Event { event_type, detail: detail.as_bytes().to_vec() });
        }
    }
    fn illegal_format(&mut self, why: &str) {
        self.event("illegal format", why);
    }
    fn illegal_encoding(&mut self, why: &str) {
        self.event("illegal encoding", why);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ContentType {
    Multipart,
    Message,
    Text,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TransferEncoding {
    Base64,
    QuotedPrintable,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunked {
    None,
    Before,
    Size,
    Data,
    DataCrlf,
    Trailer,
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

/// The end of an entity's body that Zeek uses when it runs to the end of
/// the connection (`INT_MAX`).
const TO_THE_END: i64 = i32::MAX as i64;

/// One entity and its children.
#[derive(Clone, Debug)]
pub struct Entity {
    depth: u64,
    parent_multipart: bool,
    expect_body: ExpectBody,
    in_header: bool,
    end_of_data: bool,
    header_lines: Option<Vec<Vec<u8>>>,
    header_bytes: u64,
    headers: Vec<HeaderRec>,
    content_type: ContentType,
    type_str: Vec<u8>,
    subtype_str: Vec<u8>,
    boundary: Option<Vec<u8>>,
    transfer_encoding: TransferEncoding,
    child: Option<Box<Entity>>,
    b64: Base64,
    data_buf: Vec<u8>,
    delay_crlf: bool,
    chunked: Chunked,
    content_length: i64,
    range_length: i64,
    expect_data_length: i64,
    /// Body bytes, after content decoding.
    pub body_length: u64,
    /// Header bytes (lines without their ends).
    pub header_length: u64,
    encoding: Encoding,
    zip: Option<Zip>,
    is_partial_content: bool,
    instance_length: i64,
    expect_100: bool,
    /// The file's size was announced, or need not be (`send_size` cleared).
    size_sent: bool,
    /// Where the next file bytes of a partial reply go (Content-Range's first byte).
    file_offset: u64,
}

impl Entity {
    /// A new entity at `depth` (0: the message itself).
    pub fn new(depth: u64, parent_multipart: bool, parent_encoding: Option<u8>, expect_body: ExpectBody) -> Entity {
        let transfer_encoding = match parent_encoding {
            Some(1) => TransferEncoding::Base64,
            Some(2) => TransferEncoding::QuotedPrintable,
            _ => TransferEncoding::Other,
        };
        Entity {
            depth,
            parent_multipart,
            expect_body,
            in_header: true,
            end_of_data: false,
            header_lines: None,
            header_bytes: 0,
            headers: Vec::new(),
            content_type: ContentType::Text,
            type_str: b"TEXT".to_vec(),
            subtype_str: b"PLAIN".to_vec(),
            boundary: None,
            transfer_encoding,
            child: None,
            b64: Base64::default(),
            data_buf: Vec::new(),
            delay_crlf: false,
            chunked: Chunked::None,
            content_length: -1,
            range_length: -1,
            expect_data_length: 0,
            body_length: 0,
            header_length: 0,
            encoding: Encoding::Identity,
            zip: None,
            is_partial_content: false,
            instance_length: -1,
            expect_100: false,
            size_sent: false,
            file_offset: 0,
        }
    }

    fn encoding_code(&self) -> u8 {
        match self.transfer_encoding {
            TransferEncoding::Base64 => 1,
            TransferEncoding::QuotedPrintable => 2,
            TransferEncoding::Other => 0,
        }
    }

    /// Whether this entity has ended.
    pub fn ended(&self) -> bool {
        self.end_of_data
    }

    /// One line (`trailing_crlf`) or plain stretch of the entity
    /// (`HTTP_Entity::Deliver`).
    pub fn deliver(&mut self, d: &[u8], trailing_crlf: bool, env: &mut Env) {
        if self.end_of_data {
            if self.content_type != ContentType::Multipart {
                env.illegal_format("data trailing the end of entity");
            }
            return;
        }
        if self.in_header {
            if !trailing_crlf {
                env.weird("http_no_crlf_in_header_list", b"");
            }
            self.header_length += d.len() as u64;
            self.mime_deliver(d, trailing_crlf, env);
            return;
        }
        if matches!(self.content_type, ContentType::Multipart | ContentType::Message) {
            self.deliver_body(d, trailing_crlf, env);
            if self.depth == 0 && self.content_length > 0 && !self.end_of_data {
                self.expect_data_length -= d.len() as i64 + if trailing_crlf { 2 } else { 0 };
                if self.expect_data_length <= 0 {
                    env.cl.plain = 0;
                    self.end(env);
                }
            }
        } else if self.chunked != Chunked::None {
            match self.chunked {
                Chunked::Size => {
                    self.expect_data_length = match mime::atoi(d, 16) {
                        Some(n) => n,
                        None => {
                            env.weird("HTTP_bad_chunk_size", d);
                            0
                        }
                    };
                    if self.expect_data_length > 0 {
                        self.chunked = Chunked::Data;
                        env.cl.plain = self.expect_data_length;
                    } else {
                        self.in_header = true;
                        self.chunked = Chunked::Trailer;
                    }
                }
                Chunked::Data => {
                    self.expect_data_length -= d.len() as i64;
                    if self.expect_data_length <= 0 {
                        env.cl.plain = 0;
                        self.chunked = Chunked::DataCrlf;
                    }
                    self.deliver_body(d, false, env);
                }
                Chunked::DataCrlf => {
                    if !d.is_empty() {
                        env.illegal_format("inaccurate chunk size: data before <CR><LF>");
                    }
                    self.chunked = Chunked::Size;
                }
                _ => {}
            }
        } else if self.content_length >= 0 {
            self.deliver_body(d, false, env);
            self.expect_data_length -= d.len() as i64;
            if self.expect_data_length <= 0 {
                env.cl.plain = 0;
                env.cl.delivery_length = -1;
                self.end(env);
            }
        } else {
            self.deliver_body(d, trailing_crlf, env);
        }
    }

    fn deliver_body(&mut self, d: &[u8], trailing_crlf: bool, env: &mut Env) {
        if self.encoding == Encoding::Identity {
            return self.deliver_body_clear(d, trailing_crlf, env);
        }
        let mut zip = self.zip.take().unwrap_or_default();
        let mut decoded: Vec<Vec<u8>> = Vec::new();
        let mut weirds: Vec<&'static str> = Vec::new();
        zip.feed(d, &mut |o| decoded.push(o.to_vec()), &mut |w| weirds.push(w));
        self.zip = Some(zip);
        for w in weirds {
            env.weird(w, b"");
        }
        for o in decoded {
            self.deliver_body_clear(&o, false, env);
        }
    }

    fn deliver_body_clear(&mut self, d: &[u8], trailing_crlf: bool, env: &mut Env) {
        let fresh = self.body_length == 0;
        self.body_length += d.len() as u64 + if trailing_crlf { 2 } else { 0 };
        let kind = body_pattern(env.is_orig);
        if env.sink.wants(Want::Match(kind)) {
            env.sink.emit(Out::Match { is_orig: env.is_orig, kind, data: d.to_vec(), fresh });
        }
        self.mime_deliver(d, trailing_crlf, env);
    }

    /// A gap of `len` bytes: whether it lies inside the body, so that
    /// parsing can go on after it (`HTTP_Entity::Undelivered`).
    pub fn undelivered(&mut self, len: i64, env: &mut Env) -> bool {
        if let Some(c) = self.child.as_mut() {
            return c.undelivered(len, env);
        }
        if (self.end_of_data && self.in_header) || self.body_length == 0 {
            return false;
        }
        if env.sink.wants(Want::Files) {
            env.sink.emit(Out::FileHole { is_orig: env.is_orig, offset: self.body_length, len: len as u64 });
        }
        if self.is_partial_content {
            self.file_offset += len as u64;
        }
        if self.chunked != Chunked::None {
            if self.chunked == Chunked::Data && self.expect_data_length >= len {
                self.body_length += len as u64;
                self.expect_data_length -= len;
                env.cl.plain = self.expect_data_length;
                if self.expect_data_length == 0 {
                    self.chunked = Chunked::DataCrlf;
                }
                return true;
            }
            return false;
        }
        if self.content_length >= 0 {
            if self.expect_data_length >= len {
                self.body_length += len as u64;
                self.expect_data_length -= len;
                env.cl.plain = self.expect_data_length;
                if self.expect_data_length <= 0 {
                    self.end(env);
                }
                return true;
            }
            return false;
        }
        false
    }

    /// `MIME_Entity::Deliver`.
    fn mime_deliver(&mut self, d: &[u8], trailing_crlf: bool, env: &mut Env) {
        if self.in_header {
            if d.is_empty() || d[0] == 0 {
                self.finish_header(env);
                self.in_header = false;
                self.submit_all_headers(env);
                if !self.end_of_data {
                    self.begin_body(env);
                }
            } else if super::lines::is_lws(d[0]) {
                self.cont_header(d, env);
            } else {
                self.new_header(d, env);
            }
        } else {
            self.new_data_line(d, trailing_crlf, env);
        }
    }

    fn new_header(&mut self, d: &[u8], env: &mut Env) {
        self.finish_header(env);
        if d.is_empty() {
            return;
        }
        self.header_bytes = d.len() as u64;
        self.header_lines = Some(vec![d.to_vec()]);
    }

    fn cont_header(&mut self, d: &[u8], env: &mut Env) {
        let Some(lines) = self.header_lines.as_mut() else {
            env.illegal_format("first header line starts with linear whitespace");
            let ws = d.iter().position(|&c| !super::lines::is_lws(c)).unwrap_or(d.len());
            return self.new_header(&d[ws..], env);
        };
        let max = env.settings.max_header_bytes;
        if max > 0 && self.header_bytes >= max {
            env.sink.emit(Out::Limit("exceeded_mime_max_header_bytes", self.header_bytes.to_string()));
            return;
        }
        self.header_bytes += d.len() as u64;
        lines.push(d.to_vec());
    }

    fn finish_header(&mut self, env: &mut Env) {
        let Some(lines) = self.header_lines.take() else { return };
        let h = Header::parse(&lines);
        let Some(name) = h.name.clone() else { return };
        if h.is("content-type") {
            self.parse_content_type(&h, env);
        } else if h.is("content-transfer-encoding") {
            match h.value_token() {
                None => env.illegal_format("encoding type not found in content encoding"),
                Some((t, _)) => {
                    self.transfer_encoding = if ieq(t, "base64") {
                        TransferEncoding::Base64
                    } else if ieq(t, "quoted-printable") {
                        TransferEncoding::QuotedPrintable
                    } else {
                        TransferEncoding::Other
                    }
                }
            }
        }
        self.submit_header(&h, env);
        if env.sink.wants(Want::AllHeaders) {
            let upper = name.to_ascii_uppercase();
            self.headers.push(HeaderRec { original_name: name, name: upper, value: h.value.clone() });
        }
    }

    fn parse_content_type(&mut self, h: &Header, env: &mut Env) {
        let Some((ty, subty, n)) = mime::slash_token_pair(&h.value) else {
            env.illegal_format("media type/subtype not found in content type");
            return;
        };
        self.type_str = ty.to_ascii_uppercase();
        self.subtype_str = subty.to_ascii_uppercase();
        self.content_type = if ieq(ty, "multipart") {
            ContentType::Multipart
        } else if ieq(ty, "message") {
            ContentType::Message
        } else if ieq(ty, "text") {
            ContentType::Text
        } else {
            ContentType::Other
        };
        if matches!(self.content_type, ContentType::Multipart | ContentType::Message) {
            let mut problems = Vec::new();
            let b =
                mime::parameters(&h.value[n..], self.content_type == ContentType::Multipart, &mut |p| problems.push(p));
            for p in problems {
                env.illegal_format(p);
            }
            if b.is_some() {
                self.boundary = b;
            }
        }
        if self.content_type == ContentType::Multipart && self.boundary.is_none() {
            env.illegal_format(
                "boundary delimiter is not specified for a multipart entity -- content is treated as type application/octet-stream",
            );
            self.content_type = ContentType::Other;
        }
    }

    /// `HTTP_Entity::SubmitHeader`, then the analyzer's own header handling.
    fn submit_header(&mut self, h: &Header, env: &mut Env) {
        let name = h.name.as_deref().unwrap_or_default();
        if self.depth == 0 && h.fold_lines > 1 {
            env.weird("HTTP_obsolete_line_folding", name);
        }
        if h.is("content-length") {
            if self.chunked != Chunked::None {
                env.weird("HTTP_content_length_and_chunked", b"");
            }
            if let Some((vt, _)) = h.value_token() {
                match mime::atoi(vt, 10) {
                    Some(n) if n >= 0 => {
                        if n > 0 && vt[0] == b'0' {
                            env.weird("HTTP_content_length_leading_zeros", vt);
                        }
                        self.content_length = n;
                        if self.is_partial_content && self.range_length != self.content_length {
                            env.weird("HTTP_range_not_matching_len", b"");
                            self.content_length = self.content_length.max(self.range_length);
                        }
                        if self.content_length == 0 && self.expect_100 {
                            env.weird("HTTP_content_length_0_and_expect_100_cont", b"");
                        }
                    }
                    _ => {
                        env.weird("HTTP_bad_content_length", vt);
                        self.content_length = 0;
                    }
                }
            }
        } else if h.is("content-range") && env.shared.reply_code == 206 {
            self.content_range(h, env);
        } else if h.is("transfer-encoding") {
            if self.depth == 0 {
                let version =
                    if env.shared.request_ongoing { env.shared.request_version } else { env.shared.reply_version };
                if let Some((vt, rest)) = h.value_token() {
                    if ieq(vt, "chunked") && version == (1, 1) {
                        self.chunked = Chunked::Before;
                        if !rest.is_empty() {
                            env.weird("HTTP_chunked_multi", rest);
                        }
                        if self.content_length >= 0 {
                            env.weird("HTTP_content_length_and_chunked", b"");
                        }
                    }
                }
            } else {
                env.weird("HTTP_nested_transfer_encoding_header", b"");
            }
        } else if h.is("content-encoding") {
            if let Some((vt, _)) = h.value_token() {
                if ieq(vt, "gzip") || ieq(vt, "x-gzip") {
                    self.encoding = Encoding::Gzip;
                }
                if ieq(vt, "deflate") {
                    self.encoding = Encoding::Deflate;
                }
            }
        } else if h.is("expect") {
            let vt = h.value_token().map(|(t, _)| t).unwrap_or_default();
            if !ieq(vt, "100-continue") {
                env.weird("HTTP_expect_not_100_continue", vt);
            }
            self.expect_100 = true;
            if self.content_length == 0 {
                env.weird("HTTP_content_length_0_and_expect_100_cont", b"");
            }
        }
        analyzer_header(h, env);
    }

    fn content_range(&mut self, h: &Header, env: &mut Env) {
        if self.chunked != Chunked::None {
            env.weird("HTTP_content_range_and_chunked", b"");
        }
        let (unit, rest) = h.value_token().unwrap_or_default();
        let range: Vec<u8> = rest.iter().copied().filter(|&c| c != b' ').collect();
        if unit != b"bytes" {
            env.weird("HTTP_content_range_unknown_byte_unit", b"");
            return;
        }
        let Some(slash) = range.iter().position(|&c| c == b'/') else {
            env.weird("HTTP_content_range_cannot_parse", b"");
            return;
        };
        let (spec, instance) = (&range[..slash], &range[slash + 1..]);
        let Some(dash) = spec.iter().position(|&c| c == b'-') else {
            env.weird("HTTP_content_range_cannot_parse", b"");
            return;
        };
        let (Some(f), Some(l)) = (mime::atoi(&spec[..dash], 10), mime::atoi(&spec[dash + 1..], 10)) else {
            env.weird("HTTP_content_range_cannot_parse", &range);
            return;
        };
        if f < 0 || l < 0 {
            env.weird("HTTP_content_range_invalid", &range);
            return;
        }
        if l < f {
            env.weird("HTTP_non_positive_content_range", &range);
            return;
        }
        if l - f > i64::MAX - 1 {
            env.weird("HTTP_content_range_overflow", &range);
            return;
        }
        let len = l - f + 1;
        if instance != b"*" {
            self.instance_length = match mime::atoi(instance, 10) {
                Some(n) => n,
                None => {
                    env.weird("HTTP_content_range_invalid_instance", &range);
                    0
                }
            };
        }
        self.is_partial_content = true;
        self.file_offset = f as u64;
        self.range_length = len;
        if self.content_length > 0 {
            if self.content_length != self.range_length {
                env.weird("HTTP_range_not_matching_len", b"");
                self.content_length = self.content_length.max(self.range_length);
            }
        } else {
            self.content_length = self.range_length;
        }
    }

    /// `HTTP_Entity::SubmitAllHeaders`: the headers are complete; how the body comes.
    fn submit_all_headers(&mut self, env: &mut Env) {
        if self.parent_multipart {
            env.cl.suppress_weirds = true;
            env.cl.any_eol = false;
        }
        if self.content_length >= 0 {
            env.cl.delivery_length = self.content_length;
        }
        if self.chunked == Chunked::Trailer {
            self.chunked = Chunked::Nothing;
            self.end(env);
            return;
        }
        if env.sink.wants(Want::AllHeaders) {
            let headers = std::mem::take(&mut self.headers);
            env.sink.emit(Out::AllHeaders { is_orig: env.is_orig, headers });
        }
        if env.sink.wants(Want::ContentType) {
            let (ty, subty) = (self.type_str.clone(), self.subtype_str.clone());
            env.sink.emit(Out::ContentType { is_orig: env.is_orig, ty, subty });
        }
        if self.expect_body == ExpectBody::No {
            self.end(env);
            return;
        }
        if matches!(self.content_type, ContentType::Multipart | ContentType::Message) {
            if self.chunked != Chunked::None {
                env.weird("HTTP_chunked_transfer_for_multipart_message", b"");
            }
            if self.depth == 0 && self.content_length >= 0 {
                if self.content_length > 0 {
                    self.expect_data_length = self.content_length;
                    env.cl.delivery_length = self.content_length;
                } else {
                    self.end(env);
                }
            }
        } else if self.chunked != Chunked::None {
            self.chunked = Chunked::Size;
        } else if self.content_length >= 0 {
            if self.content_length > 0 {
                self.expect_data_length = self.content_length;
                env.cl.plain = self.content_length;
            } else {
                self.end(env);
            }
        } else if env.shared.connection_close || self.encoding != Encoding::Identity {
            self.expect_data_length = TO_THE_END;
            env.cl.plain = TO_THE_END;
        } else if self.expect_body != ExpectBody::Yes {
            self.end(env);
        }
    }

    fn begin_body(&mut self, env: &mut Env) {
        if self.transfer_encoding == TransferEncoding::Base64 {
            self.b64 = Base64::default();
        }
        if self.content_type == ContentType::Message {
            self.begin_child(env);
        }
    }

    fn begin_child(&mut self, env: &mut Env) {
        let max = env.settings.max_depth;
        if max > 0 && self.depth >= max {
            env.sink.emit(Out::Limit("exceeded_mime_max_depth", self.depth.to_string()));
            return;
        }
        let multipart = self.content_type == ContentType::Multipart;
        self.child =
            Some(Box::new(Entity::new(self.depth + 1, multipart, Some(self.encoding_code()), ExpectBody::Yes)));
        if env.sink.wants(Want::BeginEntity) {
            env.sink.emit(Out::BeginEntity { is_orig: env.is_orig });
        }
    }

    fn end_child(&mut self, env: &mut Env) {
        if let Some(mut c) = self.child.take() {
            c.end(env);
        }
    }

    /// Ends the entity (`EndOfData`): its headers or body are complete.
    pub fn end(&mut self, env: &mut Env) {
        if self.end_of_data {
            return;
        }
        self.zip = None;
        self.end_of_data = true;
        if self.in_header {
            self.finish_header(env);
            self.in_header = false;
            self.submit_all_headers(env);
            env.illegal_format("entity body missing");
        } else {
            if self.child.is_some() {
                if self.content_type == ContentType::Multipart {
                    env.illegal_format("multipart closing boundary delimiter missing");
                }
                self.end_child(env);
            }
            if self.transfer_encoding == TransferEncoding::Base64 {
                let rest = self.b64.finish();
                self.octets(&rest, env);
            }
            self.flush(env);
        }
        // The end of the body for `$` in body patterns.
        let kind = body_pattern(env.is_orig);
        if env.sink.wants(Want::Match(kind)) {
            env.sink.emit(Out::Match { is_orig: env.is_orig, kind, data: Vec::new(), fresh: false });
        }
        // The message's end of this entity (`HTTP_Message::EndEntity`).
        if self.depth == 0 {
            env.totals.body_length += self.body_length;
            env.totals.header_length += self.header_length;
        }
        if env.sink.wants(Want::EndEntity) {
            env.sink.emit(Out::EndEntity { is_orig: env.is_orig });
        }
        // A 206 reply's parts may continue on other connections: its file goes on.
        if env.sink.wants(Want::Files) && (env.is_orig || env.shared.reply_code != 206) {
            env.sink.emit(Out::FileEnd { is_orig: env.is_orig });
        }
        if self.parent_multipart {
            env.cl.suppress_weirds = false;
            env.cl.any_eol = true;
        }
        if self.depth == 0 {
            env.totals.top_ended = true;
        }
    }

    fn boundary_kind(&self, d: &[u8]) -> u8 {
        let Some(b) = self.boundary.as_deref() else { return 0 };
        if d.len() >= 2 && &d[..2] == b"--" {
            let d = &d[2..];
            if d.len() < b.len() || &d[..b.len()] != b {
                return 0;
            }
            let d = &d[b.len()..];
            return if d.len() >= 2 && &d[..2] == b"--" { 2 } else { 1 };
        }
        0
    }

    fn new_data_line(&mut self, d: &[u8], trailing_crlf: bool, env: &mut Env) {
        if self.content_type == ContentType::Multipart {
            match self.boundary_kind(d) {
                1 => {
                    self.end_child(env);
                    if !self.end_of_data {
                        self.begin_child(env);
                    }
                    return;
                }
                2 => {
                    self.end_child(env);
                    self.end(env);
                    return;
                }
                _ => {}
            }
        }
        if matches!(self.content_type, ContentType::Multipart | ContentType::Message) {
            if let Some(c) = self.child.as_mut() {
                c.deliver(d, trailing_crlf, env);
            }
        } else {
            match self.transfer_encoding {
                TransferEncoding::QuotedPrintable => self.decode_qp(d, env),
                TransferEncoding::Base64 => {
                    let out = self.b64.decode(d);
                    self.octets(&out, env);
                }
                TransferEncoding::Other => {
                    if self.delay_crlf {
                        self.delay_crlf = false;
                        self.octets(b"\r\n", env);
                    }
                    self.octets(d, env);
                    if trailing_crlf {
                        if self.parent_multipart {
                            self.delay_crlf = true;
                        } else {
                            self.octets(b"\r\n", env);
                        }
                    }
                }
            }
            self.flush(env);
        }
    }

    fn decode_qp(&mut self, d: &[u8], env: &mut Env) {
        let out = decode_qp_line(d, &mut |m| env.illegal_encoding(m));
        self.octets(&out, env);
    }

    /// Buffers decoded body bytes, handing on full `http_entity_data` chunks
    /// (and the same chunks to file analysis).
    fn octets(&mut self, mut d: &[u8], env: &mut Env) {
        if !env.sink.wants(Want::EntityData) && !env.sink.wants(Want::Files) {
            return;
        }
        let size = env.settings.entity_data_delivery_size.max(1);
        while !d.is_empty() {
            let n = (size - self.data_buf.len()).min(d.len());
            self.data_buf.extend_from_slice(&d[..n]);
            d = &d[n..];
            if self.data_buf.len() == size {
                let data = std::mem::take(&mut self.data_buf);
                self.submit(data, env);
            }
        }
    }

    fn flush(&mut self, env: &mut Env) {
        if !self.data_buf.is_empty() {
            let data = std::mem::take(&mut self.data_buf);
            self.submit(data, env);
        }
    }

    /// One chunk of decoded body (`HTTP_Entity::SubmitData`): `http_entity_data`,
    /// and the entity's file: its size first (Content-Length, or a partial
    /// reply's instance length; not for gzip or deflate bodies, whose
    /// decoded size differs), then the bytes (at their Content-Range offset
    /// in a partial reply).
    fn submit(&mut self, data: Vec<u8>, env: &mut Env) {
        if env.sink.wants(Want::Files) {
            let is_orig = env.is_orig;
            if !self.size_sent && self.encoding == Encoding::Identity {
                let size = if self.is_partial_content { self.instance_length } else { self.content_length };
                if size > 0 {
                    env.sink.emit(Out::FileSize { is_orig, size: size as u64 });
                }
            }
            self.size_sent = true;
            let offset = self.is_partial_content.then_some(self.file_offset);
            if self.is_partial_content {
                self.file_offset += data.len() as u64;
            }
            if !env.sink.wants(Want::EntityData) {
                env.sink.emit(Out::FileChunk { is_orig, data, offset });
                return;
            }
            env.sink.emit(Out::FileChunk { is_orig, data: data.clone(), offset });
        }
        if env.sink.wants(Want::EntityData) {
            env.sink.emit(Out::EntityData { is_orig: env.is_orig, data });
        }
    }
}

/// The pattern type of a request's or a reply's body.
fn body_pattern(is_orig: bool) -> PatternType {
    if is_orig {
        PatternType::HttpRequestBody
    } else {
        PatternType::HttpReplyBody
    }
}

/// The analyzer's view of each header (`HTTP_Analyzer::HTTP_Header`):
/// keep-alive, close and upgrade, then `http_header`.
fn analyzer_header(h: &Header, env: &mut Env) {
    let tok = h.value_token().map(|(t, _)| t);
    if h.is("connection") {
        if env.is_orig {
            if tok.is_some_and(|t| ieq(t, "keep-alive")) {
                env.shared.keep_alive = true;
            }
        } else if tok.is_some_and(|t| ieq(t, "close")) {
            env.shared.connection_close = true;
        } else if tok.is_some_and(|t| ieq(t, "upgrade")) {
            env.shared.upgrade_connection = true;
        }
    }
    if !env.is_orig && h.is("upgrade") {
        env.shared.upgrade_protocol = tok.unwrap_or_default().to_vec();
    }
    let kind = if env.is_orig { PatternType::HttpRequestHeader } else { PatternType::HttpReplyHeader };
    if env.sink.wants(Want::Match(kind)) {
        // Name, ": ", value: three pieces, matched from the start of each
        // header (a rule fires on the piece where its match completes).
        let name = h.name.clone().unwrap_or_default();
        env.sink.emit(Out::Match { is_orig: env.is_orig, kind, data: name, fresh: true });
        env.sink.emit(Out::Match { is_orig: env.is_orig, kind, data: b": ".to_vec(), fresh: false });
        env.sink.emit(Out::Match { is_orig: env.is_orig, kind, data: h.value.clone(), fresh: false });
    }
    if env.sink.wants(Want::Header) {
        let original_name = h.name.clone().unwrap_or_default();
        let name = original_name.to_ascii_uppercase();
        env.sink.emit(Out::Header { is_orig: env.is_orig, original_name, name, value: h.value.clone() });
    }
}

/// A lenient base64 decoder across lines: characters outside the alphabet
/// are skipped, `=` ends the group. The mail MIME parser uses it too.
#[derive(Clone, Debug, Default)]
pub struct Base64 {
    acc: u32,
    n: u8,
    done: bool,
}

impl Base64 {
    /// The bytes `d` completes.
    pub fn decode(&mut self, d: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(d.len() * 3 / 4 + 3);
        for &c in d {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => {
                    self.done = true;
                    continue;
                }
                _ => continue,
            };
            if self.done {
                self.done = false;
                self.acc = 0;
                self.n = 0;
            }
            self.acc = (self.acc << 6) | v as u32;
            self.n += 1;
            if self.n == 4 {
                out.extend_from_slice(&[(self.acc >> 16) as u8, (self.acc >> 8) as u8, self.acc as u8]);
                self.acc = 0;
                self.n = 0;
            }
        }
        if self.done {
            out.extend(self.finish());
        }
        out
    }

    /// The bytes of a last, incomplete group.
    pub fn finish(&mut self) -> Vec<u8> {
        let out = match self.n {
            2 => vec![(self.acc >> 4) as u8],
            3 => vec![(self.acc >> 10) as u8, (self.acc >> 2) as u8],
            _ => Vec::new(),
        };
        self.acc = 0;
        self.n = 0;
        out
    }
}

/// One line of a quoted-printable body decoded (RFC 2045 section 6.7, as
/// Zeek's MIME decoder reads it): trailing blanks dropped, `=XX` escapes
/// decoded, a final `=` a soft line break, otherwise CRLF appended; what
/// breaks the encoding is kept as it is and reported to `illegal`.
pub(crate) fn decode_qp_line(d: &[u8], illegal: &mut dyn FnMut(&str)) -> Vec<u8> {
    let end = d.iter().rposition(|&c| c != b'\t' && c != b' ');
    let mut out = Vec::with_capacity(d.len() + 2);
    let mut soft_break = false;
    if let Some(end) = end {
        let mut i = 0;
        while i <= end {
            let c = d[i];
            if c == b'=' {
                if i == end {
                    soft_break = true;
                } else {
                    let hex = |x: u8| (x as char).to_digit(16);
                    match (d.get(i + 1).and_then(|&x| hex(x)), d.get(i + 2).and_then(|&x| hex(x))) {
                        (Some(a), Some(b)) if i + 2 < d.len() => {
                            out.push((a * 16 + b) as u8);
                            i += 2;
                        }
                        _ => {
                            illegal("= is not followed by two hexadecimal digits in quoted-printable encoding");
                            out.push(c);
                        }
                    }
                }
            } else if (33..=60).contains(&c) || (62..=126).contains(&c) || c == b'\t' || c == b' ' {
                out.push(c);
            } else {
                illegal(&format!("control characters in quoted-printable encoding: {}", c as i8));
                out.push(c);
            }
            i += 1;
        }
    }
    if !soft_break {
        out.extend_from_slice(b"\r\n");
    }
    out
}
