//! The SMTP analyzer on weir's analyzer interface: the [`Parser`] per
//! connection, its findings raised as the WIT's SMTP and MIME events (each
//! built only when a handler takes it), its weirds as conn weirds with
//! source `SMTP`, Zeek's confirmation (the first command) and violation (a
//! reply code out of range), and the software strings it finds. Like
//! Zeek's, it reads nothing of a connection that began without a handshake.

use super::{Out, Parser, Settings, Sink, Want};
use crate::analyzers::analyzer::Analyzer;
use crate::analyzers::child::{Child, Handover};
use crate::analyzers::context::Cx;
use crate::analyzers::mime;
use crate::analyzers::registry::Tag;
use crate::analyzers::software;
use crate::events::{Event, EventKind, MimeHeaderRec};
use crate::sessions::conn::ProtoState;

/// SMTP analyzer state of one connection.
#[derive(Clone, Debug)]
pub struct Smtp {
    /// Made at the first call that brings something.
    parser: Option<Box<Parser>>,
    settings: Settings,
    /// The SSL analyzer the bytes after an accepted STARTTLS go to.
    tls: Option<Box<Child>>,
    /// The file id of the current MIME entity (`cur_entity_id`).
    file: Option<String>,
}

impl Smtp {
    /// A new analyzer with the SMTP and MIME settings of `cfg`.
    pub fn new(cfg: &crate::config::Config) -> Smtp {
        let mut settings = cfg.smtp.clone();
        settings.mime.max_depth = cfg.http.max_depth;
        settings.mime.max_header_bytes = cfg.http.max_header_bytes;
        Smtp { parser: None, settings, tls: None, file: None }
    }

    fn parser(&mut self, cx: &Cx<'_, '_>) -> &mut Parser {
        let settings = &self.settings;
        let p = self.parser.get_or_insert_with(|| {
            let mut p = Parser::new(settings.clone());
            p.partial = matches!(&cx.conn().state, ProtoState::Tcp(t) if t.is_partial());
            Box::new(p)
        });
        p
    }

    /// Runs `f` on the parser with the context as its sink.
    fn with_parser<R>(&mut self, cx: &mut Cx<'_, '_>, f: impl FnOnce(&mut Parser, &mut CxSink) -> R) -> R {
        self.parser(cx);
        let p = self.parser.as_deref_mut().expect("made above");
        f(p, &mut CxSink(cx, &mut self.file))
    }

    /// The TLS hand-over: bytes of a connection whose STARTTLS was
    /// accepted go to an SSL child analyzer, made at the first of them (as
    /// Zeek's SMTP analyzer makes one).
    fn forward_to_tls(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let tls = self
            .tls
            .get_or_insert_with(|| Box::new(Child::new(Box::new(crate::analyzers::ssl::start_mid_stream(cx.cfg())), cx.aid())));
        tls.stream(is_orig, data, cx);
    }
}

fn text(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn header(h: crate::analyzers::http::HeaderRec) -> MimeHeaderRec {
    MimeHeaderRec { original_name: text(h.original_name), name: text(h.name), value: text(h.value) }
}

/// The context seen as the parser's [`Sink`], with the current entity's
/// file id.
struct CxSink<'c, 'e, 'a>(&'c mut Cx<'e, 'a>, &'c mut Option<String>);

fn kind(w: Want) -> Option<EventKind> {
    Some(match w {
        Want::Request => EventKind::SmtpRequest,
        Want::Reply => EventKind::SmtpReply,
        Want::Data => EventKind::SmtpData,
        Want::Unexpected => EventKind::SmtpUnexpected,
        Want::StartTls => EventKind::SmtpStarttls,
        Want::Software => return None,
        Want::Mime(m) => match m {
            mime::Want::BeginEntity => EventKind::MimeBeginEntity,
            mime::Want::EndEntity => EventKind::MimeEndEntity,
            mime::Want::OneHeader => EventKind::MimeOneHeader,
            mime::Want::AllHeaders => EventKind::MimeAllHeaders,
            mime::Want::SegmentData => EventKind::MimeSegmentData,
            mime::Want::EntityData => EventKind::MimeEntityData,
            mime::Want::AllData => EventKind::MimeAllData,
            mime::Want::Event => EventKind::MimeEvent,
            mime::Want::Files => return None,
        },
    })
}

impl Sink for CxSink<'_, '_, '_> {
    fn wants(&self, w: Want) -> bool {
        match (kind(w), w) {
            (Some(k), _) => self.0.wants(k),
            (None, Want::Mime(mime::Want::Files)) => self.0.files_wanted(),
            (None, _) => software::wanted(self.0),
        }
    }

    fn emit(&mut self, o: Out) {
        let cx = &mut *self.0;
        match o {
            Out::Request { is_orig, command, arg } => {
                cx.raise(|c| Event::SmtpRequest { c, is_orig, command: text(command), arg: text(arg) })
            }
            Out::Reply { is_orig, code, cmd, msg, cont_resp } => cx.raise(|c| Event::SmtpReply {
                c,
                is_orig,
                code,
                cmd: cmd.to_string(),
                msg: text(msg),
                cont_resp,
            }),
            Out::Data { is_orig, data } => cx.raise(|c| Event::SmtpData { c, is_orig, data: text(data) }),
            Out::Unexpected { is_orig, msg, detail } => {
                cx.raise(|c| Event::SmtpUnexpected { c, is_orig, msg: msg.to_string(), detail: text(detail) })
            }
            Out::StartTls => cx.raise(|c| Event::SmtpStarttls { c }),
            Out::Software { orig_host, text } => software::found_on_side(cx, orig_host, &text),
            Out::Mime(m) => match m {
                mime::Out::BeginEntity => cx.raise(|c| Event::MimeBeginEntity { c }),
                mime::Out::EndEntity => cx.raise(|c| Event::MimeEndEntity { c }),
                mime::Out::OneHeader(h) => {
                    let h = Box::new(header(h));
                    cx.raise(|c| Event::MimeOneHeader { c, h })
                }
                mime::Out::AllHeaders(hs) => {
                    let hlist = hs.into_iter().map(header).collect();
                    cx.raise(|c| Event::MimeAllHeaders { c, hlist })
                }
                mime::Out::SegmentData(data) => {
                    cx.raise(|c| Event::MimeSegmentData { c, length: data.len() as u64, data })
                }
                mime::Out::EntityData(data) => {
                    cx.raise(|c| Event::MimeEntityData { c, length: data.len() as u64, data })
                }
                mime::Out::AllData(data) => cx.raise(|c| Event::MimeAllData { c, length: data.len() as u64, data }),
                mime::Out::Event(event_type, detail) => {
                    cx.raise(|c| Event::MimeEvent { c, event_type: event_type.to_string(), detail })
                }
                mime::Out::Limit(name, addl) => cx.limit(name, addl),
                // The message's data travels from the client (Zeek's MIME_Mail is made with is_orig T).
                mime::Out::FileChunk(data) => *self.1 = cx.file_data_in(true, &data, None, self.1.take().as_deref()),
                mime::Out::FileGap { offset, len } => {
                    *self.1 = cx.file_missing(true, offset, len, self.1.take().as_deref())
                }
                mime::Out::FileEnd => {
                    if let Some(id) = self.1.take() {
                        cx.file_end(true, Some(&id));
                    }
                }
            },
            Out::Weird(name, addl) => cx.weird(name, addl),
            Out::Confirm => cx.confirm(),
            Out::Violate(reason, data) => cx.violate(&reason, Some(&data)),
        }
    }
}

impl Analyzer for Smtp {
    fn tag(&self) -> Tag {
        Tag::Smtp
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let used = self.with_parser(cx, |p, sink| p.stream(is_orig, data, sink));
        if used < data.len() {
            self.forward_to_tls(is_orig, &data[used..], cx);
        }
    }

    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        self.with_parser(cx, |p, sink| p.gap(is_orig, len, sink));
        self.tls.gap(is_orig, len, cx);
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        self.with_parser(cx, |p, sink| p.end_of_data(is_orig, sink));
        self.tls.end_of_data(is_orig, cx);
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.with_parser(cx, |p, sink| p.done(sink));
        self.tls.done(cx);
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}
