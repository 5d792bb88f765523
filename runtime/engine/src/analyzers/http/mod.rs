//! HTTP/1.x as Zeek's HTTP analyzer reads it: a lenient hand parser (strict
//! crates such as httparse refuse request lines, folded headers and bodies
//! that Zeek logs). One file per concept:
//!
//! - [`content_line`]: a direction split into lines or plain body bytes;
//! - [`lines`]: request and status lines, versions;
//! - [`uri`]: unescaping the request URI, with Zeek's weirds;
//! - [`mime`]: header fields, tokens and parameters (Zeek's MIME code);
//! - [`entity`]: one message entity: headers, Content-Length, chunked,
//!   Content-Range, content encodings, multipart parts;
//! - [`message`]: one request or reply message and its statistics;
//! - [`parser`]: both directions of a connection: request/reply pairing,
//!   pipelining, CONNECT, upgrades, HTTP/0.9, gaps and the end;
//! - [`analyzer`]: the parser on the analyzer interface, raising the events.
//!
//! What the parser finds goes to a [`Sink`] as [`Out`] items, each built
//! only when the sink [`wants`](Sink::wants) its kind.

pub mod analyzer;
pub mod content_line;
pub mod entity;
pub mod fuzzing;
pub mod lines;
pub mod message;
pub mod mime;
pub mod parser;
pub mod uri;
pub mod zip;

#[cfg(test)]
mod tests;

pub use analyzer::Http;
pub use parser::Parser;

/// TCP ports the HTTP analyzer is registered for (`HTTP::ports`).
pub const PORTS: [u16; 8] = [80, 81, 631, 1080, 3128, 8000, 8080, 8888];

/// An HTTP version as Zeek keeps it (`0.0` when unknown).
pub type Version = (u8, u8);

/// The version's text in events (`%.1f` of major + minor / 10).
pub fn version_text(v: Version) -> String {
    format!("{}.{}", v.0, v.1)
}

/// The version as a number (`http_stats_rec`).
pub fn version_number(v: Version) -> f64 {
    v.0 as f64 + v.1 as f64 * 0.1
}

/// Zeek's settings the parser reads.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `http_entity_data_delivery_size`: largest `http_entity_data` chunk.
    pub entity_data_delivery_size: usize,
    /// `truncate_http_URI` (-1: never).
    pub truncate_uri: i64,
    /// `MIME::max_header_bytes` (0: no limit).
    pub max_header_bytes: u64,
    /// `MIME::max_depth` (0: no limit).
    pub max_depth: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { entity_data_delivery_size: 1500, truncate_uri: -1, max_header_bytes: 65536, max_depth: 100 }
    }
}

/// The kinds of protocol events, for [`Sink::wants`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// `http_request`.
    Request,
    /// `http_reply`.
    Reply,
    /// `http_header`.
    Header,
    /// `http_all_headers`.
    AllHeaders,
    /// `http_begin_entity`.
    BeginEntity,
    /// `http_end_entity`.
    EndEntity,
    /// `http_entity_data`.
    EntityData,
    /// `http_content_type`.
    ContentType,
    /// `http_message_done`.
    MessageDone,
    /// `http_event`.
    Event,
    /// `http_stats`.
    Stats,
    /// `http_connection_upgrade`.
    Upgrade,
    /// File analysis: the entities' bodies as files.
    Files,
    /// Signature matching of HTTP content of this pattern type (a loaded
    /// rule has an `http-*` pattern of it).
    Match(crate::signatures::PatternType),
}

/// `http_message_stat`.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageStat {
    /// When the request/reply line was complete.
    pub start: f64,
    /// Whether the message was interrupted.
    pub interrupted: bool,
    /// Why the message ended.
    pub finish_msg: &'static str,
    /// Body bytes processed (after content decoding).
    pub body_length: u64,
    /// Bytes of gaps inside the body.
    pub content_gap_length: u64,
    /// Header bytes, the first line included, line ends not.
    pub header_length: u64,
}

/// One header of `http_all_headers` (`mime_header_rec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderRec {
    /// The name as sent.
    pub original_name: Vec<u8>,
    /// The name in upper case.
    pub name: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

/// One thing the parser found, in the order Zeek raises it. The fields are
/// the event's arguments under their Zeek names.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// `http_request(method, original_URI, unescaped_URI, version)`.
    Request { method: Vec<u8>, original_uri: Vec<u8>, unescaped_uri: Vec<u8>, version: String },
    /// `http_reply(version, code, reason)`.
    Reply { version: String, code: u64, reason: Vec<u8> },
    /// `http_header(is_orig, original_name, name, value)`.
    Header { is_orig: bool, original_name: Vec<u8>, name: Vec<u8>, value: Vec<u8> },
    /// `http_all_headers(is_orig, hlist)`.
    AllHeaders { is_orig: bool, headers: Vec<HeaderRec> },
    /// `http_begin_entity(is_orig)`.
    BeginEntity { is_orig: bool },
    /// `http_end_entity(is_orig)`.
    EndEntity { is_orig: bool },
    /// `http_entity_data(is_orig, length, data)`.
    EntityData { is_orig: bool, data: Vec<u8> },
    /// `http_content_type(is_orig, ty, subty)`, both upper case.
    ContentType { is_orig: bool, ty: Vec<u8>, subty: Vec<u8> },
    /// `http_message_done(is_orig, stat)`.
    MessageDone { is_orig: bool, stat: MessageStat },
    /// `http_event(event_type, detail)`.
    Event { event_type: &'static str, detail: Vec<u8> },
    /// `http_stats(stats)`.
    Stats { num_requests: u64, num_replies: u64, request_version: f64, reply_version: f64 },
    /// `http_connection_upgrade(protocol)`.
    Upgrade { protocol: Vec<u8> },
    /// File analysis: the current entity's file has `size` bytes.
    FileSize { is_orig: bool, size: u64 },
    /// File analysis: bytes of the current entity's file, at `offset` in a
    /// partial reply (else after the bytes before).
    FileChunk { is_orig: bool, data: Vec<u8>, offset: Option<u64> },
    /// File analysis: a gap in the current entity's file.
    FileHole { is_orig: bool, offset: u64, len: u64 },
    /// File analysis: the current entity's file has ended.
    FileEnd { is_orig: bool },
    /// Content for the connection's signatures of pattern type `kind`;
    /// `fresh`: the patterns start over at it (Zeek's `Connection::Match`).
    Match { is_orig: bool, kind: crate::signatures::PatternType, data: Vec<u8>, fresh: bool },
    /// A conn weird with its addl.
    Weird(&'static str, String),
    /// A limit was reached: a weird and history `X`.
    Limit(&'static str, String),
    /// The analyzer confirms the protocol.
    Confirm,
    /// The data breaks the protocol, with the reason.
    Violate(&'static str),
}

/// Where the parser's findings go.
pub trait Sink {
    /// Whether events of kind `w` are taken (ask before building one).
    fn wants(&self, w: Want) -> bool;
    /// Network time now.
    fn now(&self) -> f64;
    /// Takes one finding.
    fn emit(&mut self, o: Out);
}

/// A [`Sink`] that keeps everything (tests, fuzzing).
#[derive(Debug, Default)]
pub struct Collect {
    /// What was found, in order.
    pub out: Vec<Out>,
    /// The network time reported.
    pub now: f64,
}

impl Sink for Collect {
    fn wants(&self, _: Want) -> bool {
        true
    }
    fn now(&self) -> f64 {
        self.now
    }
    fn emit(&mut self, o: Out) {
        self.out.push(o);
    }
}
