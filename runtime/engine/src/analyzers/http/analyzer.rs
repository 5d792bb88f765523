//! The HTTP analyzer on weir's analyzer interface: the [`Parser`] per
//! connection, its findings raised as the WIT's HTTP events (each built only
//! when a handler takes it), its weirds as conn weirds with source `HTTP`,
//! and Zeek's confirmation (the first request, a reply to one) and
//! violations. Like Zeek's, it reads nothing of a connection that began
//! without a handshake.

use super::{Out, Parser, Sink, Want};
use crate::analyzers::analyzer::Analyzer;
use crate::analyzers::context::Cx;
use crate::analyzers::pia::Pia;
use crate::analyzers::registry::Tag;
use crate::events::{Event, EventKind, HttpMessageStat, HttpStatsRec, MimeHeaderRec};
use crate::sessions::conn::ProtoState;

/// HTTP analyzer state of one connection.
#[derive(Clone, Debug)]
pub struct Http {
    /// Made at the first call that brings something: the many connections
    /// that never carry data cost a settings copy, not a parser.
    parser: Option<Box<Parser>>,
    settings: crate::analyzers::http::Settings,
    /// Per direction (orig first): the file id of the current entity, once
    /// file analysis gave one (Zeek's `precomputed_file_id`).
    files: Box<[Option<String>; 2]>,
    /// What follows a successful CONNECT or an upgrade: detection below
    /// HTTP (Zeek's PIA child), which attaches what it finds.
    tunnel: Option<Box<Pia>>,
}

impl Http {
    /// A new analyzer with the HTTP settings of `cfg`.
    pub fn new(cfg: &crate::config::Config) -> Http {
        Http { parser: None, settings: cfg.http.clone(), files: Box::default(), tunnel: None }
    }

    fn parser(&mut self) -> &mut Parser {
        let settings = &self.settings;
        self.parser.get_or_insert_with(|| Box::new(Parser::new(settings.clone())))
    }

    /// The parser and the sink its findings go to.
    fn parts<'c, 'e, 'a>(&'c mut self, cx: &'c mut Cx<'e, 'a>) -> (&'c mut Parser, CxSink<'c, 'e, 'a>) {
        self.parser();
        let parser = self.parser.as_deref_mut().expect("parser made above");
        (parser, CxSink { cx, files: &mut self.files })
    }
}

/// The string of wire bytes, every byte kept ([`crate::events::text`]).
fn text(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) if !s.chars().any(|c| crate::events::text::raw_byte(c).is_some()) => s,
        Ok(s) => crate::events::text::from_bytes(s.as_bytes()),
        Err(e) => crate::events::text::from_bytes(e.as_bytes()),
    }
}

/// The context seen as the parser's [`Sink`], with the entities' file ids.
struct CxSink<'c, 'e, 'a> {
    cx: &'c mut Cx<'e, 'a>,
    files: &'c mut [Option<String>; 2],
}

fn kind(w: Want) -> EventKind {
    match w {
        Want::Files | Want::Match(_) => unreachable!("asked of file analysis or signatures"),
        Want::Request => EventKind::HttpRequest,
        Want::Reply => EventKind::HttpReply,
        Want::Header => EventKind::HttpHeader,
        Want::AllHeaders => EventKind::HttpAllHeaders,
        Want::BeginEntity => EventKind::HttpBeginEntity,
        Want::EndEntity => EventKind::HttpEndEntity,
        Want::EntityData => EventKind::HttpEntityData,
        Want::ContentType => EventKind::HttpContentType,
        Want::MessageDone => EventKind::HttpMessageDone,
        Want::Event => EventKind::HttpEvent,
        Want::Stats => EventKind::HttpStats,
        Want::Upgrade => EventKind::HttpConnectionUpgrade,
    }
}

impl Sink for CxSink<'_, '_, '_> {
    fn wants(&self, w: Want) -> bool {
        match w {
            Want::Files => self.cx.files_wanted(),
            Want::Match(kind) => self.cx.signatures_want(kind),
            // Headers also feed software identification.
            Want::Header => self.cx.wants(kind(w)) || crate::analyzers::software::wanted(self.cx),
            w => self.cx.wants(kind(w)),
        }
    }

    fn now(&self) -> f64 {
        self.cx.now()
    }

    fn emit(&mut self, o: Out) {
        let cx = &mut *self.cx;
        match o {
            Out::FileSize { is_orig, size } => {
                let slot = &mut self.files[usize::from(!is_orig)];
                *slot = cx.file_size(is_orig, size, slot.take().as_deref());
            }
            Out::FileChunk { is_orig, data, offset } => {
                let slot = &mut self.files[usize::from(!is_orig)];
                *slot = cx.file_data_in(is_orig, &data, offset, slot.take().as_deref());
            }
            Out::FileHole { is_orig, offset, len } => {
                let slot = &mut self.files[usize::from(!is_orig)];
                *slot = cx.file_missing(is_orig, offset, len, slot.take().as_deref());
            }
            Out::Match { is_orig, kind, data, fresh } => cx.match_signatures(is_orig, kind, &data, fresh),
            Out::FileEnd { is_orig } => {
                let id = self.files[usize::from(!is_orig)].take();
                cx.file_end(is_orig, id.as_deref());
            }
            Out::Request { method, original_uri, unescaped_uri, version } => cx.raise(|c| Event::HttpRequest {
                c,
                method: text(method),
                original_uri: text(original_uri),
                unescaped_uri: text(unescaped_uri),
                version,
            }),
            Out::Reply { version, code, reason } => {
                cx.raise(|c| Event::HttpReply { c, version, code, reason: text(reason) })
            }
            Out::Header { is_orig, original_name, name, value } => {
                // The client's User-Agent and the server's Server name their software.
                if (is_orig && name == b"USER-AGENT") || (!is_orig && name == b"SERVER") {
                    crate::analyzers::software::found_on_side(cx, is_orig, &value);
                }
                if cx.wants(EventKind::HttpHeader) {
                    cx.raise(|c| Event::HttpHeader {
                        c,
                        is_orig,
                        original_name: text(original_name),
                        name: text(name),
                        value: text(value),
                    })
                }
            }
            Out::AllHeaders { is_orig, headers } => {
                let hlist = headers
                    .into_iter()
                    .map(|h| MimeHeaderRec {
                        original_name: text(h.original_name),
                        name: text(h.name),
                        value: text(h.value),
                    })
                    .collect();
                cx.raise(|c| Event::HttpAllHeaders { c, is_orig, hlist })
            }
            Out::BeginEntity { is_orig } => cx.raise(|c| Event::HttpBeginEntity { c, is_orig }),
            Out::EndEntity { is_orig } => cx.raise(|c| Event::HttpEndEntity { c, is_orig }),
            Out::EntityData { is_orig, data } => {
                cx.raise(|c| Event::HttpEntityData { c, is_orig, length: data.len() as u64, data })
            }
            Out::ContentType { is_orig, ty, subty } => {
                cx.raise(|c| Event::HttpContentType { c, is_orig, ty: text(ty), subty: text(subty) })
            }
            Out::MessageDone { is_orig, stat } => {
                let stat = Box::new(HttpMessageStat {
                    start: stat.start,
                    interrupted: stat.interrupted,
                    finish_msg: stat.finish_msg.to_string(),
                    body_length: stat.body_length,
                    content_gap_length: stat.content_gap_length,
                    header_length: stat.header_length,
                });
                cx.raise(|c| Event::HttpMessageDone { c, is_orig, stat })
            }
            Out::Event { event_type, detail } => {
                cx.raise(|c| Event::HttpEvent { c, event_type: event_type.to_string(), detail: text(detail) })
            }
            Out::Stats { num_requests, num_replies, request_version, reply_version } => {
                let stats = Box::new(HttpStatsRec { num_requests, num_replies, request_version, reply_version });
                cx.raise(|c| Event::HttpStats { c, stats })
            }
            Out::Upgrade { protocol } => cx.raise(|c| Event::HttpConnectionUpgrade { c, protocol: text(protocol) }),
            Out::Weird(name, addl) => cx.weird(name, addl),
            Out::Limit(name, addl) => cx.limit(name, addl),
            Out::Confirm => cx.confirm(),
            Out::Violate(reason) => cx.violate(reason, None),
        }
    }
}

impl Http {
    fn check_partial(&mut self, cx: &Cx<'_, '_>) {
        self.parser().partial = matches!(&cx.conn().state, ProtoState::Tcp(t) if t.is_partial());
    }
}

impl Analyzer for Http {
    fn tag(&self) -> Tag {
        Tag::Http
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if let Some(t) = self.tunnel.as_mut() {
            return t.stream(is_orig, data, cx);
        }
        self.check_partial(cx);
        let (p, mut sink) = self.parts(cx);
        p.stream(is_orig, data, &mut sink);
        if p.handed_over() {
            // The rest of this chunk is the tunnel's first data.
            let rest = p.rest_at_hand_over().min(data.len());
            let mut t = Pia::new(cx);
            t.stream(is_orig, &data[data.len() - rest..], cx);
            self.tunnel = Some(Box::new(t));
        }
    }

    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        if let Some(t) = self.tunnel.as_mut() {
            return t.gap(is_orig, len, cx);
        }
        self.check_partial(cx);
        let (p, mut sink) = self.parts(cx);
        p.gap(is_orig, len, &mut sink);
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        let (p, mut sink) = self.parts(cx);
        p.end_of_data(is_orig, &mut sink);
        if let Some(t) = self.tunnel.as_mut() {
            t.end_of_data(is_orig, cx);
        }
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some(t) = self.tunnel.as_mut() {
            t.done(cx);
        }
        let (p, mut sink) = self.parts(cx);
        p.done(&mut sink);
        // Zeek's `HTTP_Analyzer::Done` ends the originator's file (a reply's
        // may go on elsewhere, as a 206's does).
        if cx.files_wanted() {
            cx.file_end(true, None);
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}
