//! The SSL analyzer on a TCP connection: each direction's in-order bytes
//! go to the [`Parser`](super::record::Parser) with the connection's [`Cx`]
//! as its [`Sink`]. As in Zeek, nothing is parsed on a connection picked up
//! mid-stream or after a content gap, and (with
//! `SSL::disable_analyzer_after_detection`) nothing after the connection
//! is established.

use super::record::Parser;
use super::{Sink, SslConfig};
use crate::analyzers::analyzer::Analyzer;
use crate::analyzers::pia::Pia;
use crate::analyzers::context::Cx;
use crate::analyzers::registry::Tag;
use weir_events::{Connection, Event, EventKind};

/// SSL analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Ssl {
    parser: Parser,
    had_gap: bool,
    /// The analyzer below that decrypted application data goes to.
    below: Option<Box<Pia>>,
}

impl Ssl {
    /// A new analyzer with the engine's SSL settings.
    pub fn new(cfg: SslConfig) -> Ssl {
        Ssl { parser: Parser::new(cfg), had_gap: false, below: None }
    }

    /// Hands decrypted application data to detection below SSL (Zeek's
    /// PIA child, made at the first bytes), which attaches the analyzer
    /// the signatures find (HTTP, mostly).
    fn forward_decrypted(&mut self, is_client: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if self.below.is_none() {
            self.below = Some(Box::new(Pia::new(cx)));
        }
        if let Some(below) = self.below.as_mut() {
            below.stream(is_client, data, cx);
        }
    }

    /// Whether the connection's handshake is over (`ssl_established` came).
    pub fn established(&self) -> bool {
        self.parser.established
    }
}

impl Analyzer for Ssl {
    fn tag(&self) -> Tag {
        Tag::Ssl
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if self.had_gap || cx.conn().unreliable_stream() || self.parser.skip {
            return;
        }
        let stop_after = self.parser.cfg.disable_analyzer_after_detection;
        self.parser.feed(&mut CxSink(cx), is_orig, data);
        for (is_client, plain) in std::mem::take(&mut self.parser.decryption.plaintext) {
            self.forward_decrypted(is_client, &plain, cx);
        }
        if stop_after && self.parser.established {
            cx.disable();
        }
    }

    fn gap(&mut self, _is_orig: bool, _len: u64, _cx: &mut Cx<'_, '_>) {
        self.had_gap = true;
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        if let Some(below) = self.below.as_mut() {
            below.end_of_data(is_orig, cx);
        }
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some(below) = self.below.as_mut() {
            below.done(cx);
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The connection's context as the parser's sink.
pub(super) struct CxSink<'c, 'e, 'a>(pub(super) &'c mut Cx<'e, 'a>);

impl Sink for CxSink<'_, '_, '_> {
    fn wants(&self, kind: EventKind) -> bool {
        self.0.wants(kind)
    }
    fn raise<F: FnOnce(Box<Connection>) -> Event>(&mut self, build: F) {
        self.0.raise(build);
    }
    fn weird(&mut self, name: &'static str, addl: String) {
        self.0.weird(name, addl);
    }
    fn confirm(&mut self) {
        self.0.confirm();
    }
    fn violate(&mut self, reason: String) {
        self.0.violate(&reason, None);
    }
    fn now(&self) -> f64 {
        self.0.now()
    }
}
