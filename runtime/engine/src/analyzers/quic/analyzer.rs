//! The QUIC analyzer on a UDP connection: each datagram goes to the
//! connection's [`State`], whose findings reach the connection's [`Cx`]
//! (confirmation, violations) and whose TLS bytes go to an SSL child
//! analyzer, made at the connection's first datagram as Zeek attaches it.

use super::parse::{Found, Out, State};
use crate::analyzers::analyzer::Analyzer;
use crate::analyzers::child::Child;
use crate::analyzers::context::Cx;
use crate::analyzers::registry::Tag;

/// QUIC analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Quic {
    state: State,
    ssl: Option<Box<Child>>,
}

impl Quic {
    /// A new analyzer; `max_discarded_events` is `QUIC::max_discarded_packet_events`.
    pub fn new(max_discarded_events: i64) -> Quic {
        Quic { state: State::new(max_discarded_events), ssl: None }
    }
}

/// The connection's context and SSL child as the parser's output.
struct CxOut<'s, 'c, 'e, 'a> {
    cx: &'c mut Cx<'e, 'a>,
    ssl: &'s mut Option<Box<Child>>,
}

impl CxOut<'_, '_, '_, '_> {
    fn child(&mut self) -> &mut Child {
        let cx = &*self.cx;
        self.ssl.get_or_insert_with(|| Box::new(Child::new(Box::new(crate::analyzers::ssl::Ssl::new(cx.cfg().ssl.clone())), cx.aid())))
    }
}

impl Out for CxOut<'_, '_, '_, '_> {
    fn event(&mut self, ev: Found) {
        super::analyzer::raise(self.cx, ev);
    }
    fn confirm(&mut self) {
        self.cx.confirm();
    }
    fn violate(&mut self, reason: String) {
        self.cx.violate(&reason, None);
    }
    fn ssl(&mut self, is_orig: bool, data: &[u8]) {
        self.child();
        if let Some(c) = self.ssl.as_mut() {
            c.stream(is_orig, data, self.cx);
        }
    }
    fn ssl_close(&mut self) {
        if let Some(mut c) = self.ssl.take() {
            c.done(self.cx);
        }
    }
}

/// Raises the event of a finding, if a handler takes it.
pub(super) fn raise(cx: &mut Cx<'_, '_>, ev: Found) {
    let _ = (cx, ev);
}

impl Analyzer for Quic {
    fn tag(&self) -> Tag {
        Tag::Quic
    }

    fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let mut out = CxOut { cx, ssl: &mut self.ssl };
        out.child();
        self.state.datagram(&mut out, is_orig, data);
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some(c) = self.ssl.as_mut() {
            c.done(cx);
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}
