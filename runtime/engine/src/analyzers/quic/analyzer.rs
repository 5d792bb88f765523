//! The QUIC analyzer on a UDP connection: each datagram goes to the
//! connection's [`State`], whose findings reach the connection's [`Cx`]
//! (confirmation, violations) and whose TLS bytes go to an SSL child
//! analyzer, made at the connection's first datagram as Zeek attaches it.

use super::parse::{Found, Out, State};
use crate::analyzers::analyzer::Analyzer;
use crate::analyzers::child::Child;
use crate::analyzers::context::Cx;
use crate::analyzers::registry::Tag;
use weir_events::{Event, EventKind};

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
        raise(self.cx, ev);
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
    match ev {
        Found::Initial(h) if cx.wants(EventKind::QuicInitialPacket) => {
            cx.raise(|c| Event::QuicInitialPacket { c, is_orig: h.is_orig, version: h.version, dcid: h.dcid, scid: h.scid })
        }
        Found::Handshake(h) if cx.wants(EventKind::QuicHandshakePacket) => {
            cx.raise(|c| Event::QuicHandshakePacket { c, is_orig: h.is_orig, version: h.version, dcid: h.dcid, scid: h.scid })
        }
        Found::ZeroRtt(h) if cx.wants(EventKind::QuicZeroRttPacket) => {
            cx.raise(|c| Event::QuicZeroRttPacket { c, is_orig: h.is_orig, version: h.version, dcid: h.dcid, scid: h.scid })
        }
        Found::Retry(h, retry_token, retry_integrity_tag) if cx.wants(EventKind::QuicRetryPacket) => cx.raise(|c| Event::QuicRetryPacket {
            c,
            is_orig: h.is_orig,
            version: h.version,
            dcid: h.dcid,
            scid: h.scid,
            retry_token,
            retry_integrity_tag,
        }),
        Found::ConnectionClose(h, error_code, reason) if cx.wants(EventKind::QuicConnectionCloseFrame) => {
            let reason_phrase = weir_events::text::from_bytes(&reason);
            cx.raise(|c| Event::QuicConnectionCloseFrame { c, is_orig: h.is_orig, version: h.version, dcid: h.dcid, scid: h.scid, error_code, reason_phrase })
        }
        Found::UnhandledVersion(h) if cx.wants(EventKind::QuicUnhandledVersion) => {
            cx.raise(|c| Event::QuicUnhandledVersion { c, is_orig: h.is_orig, version: h.version, dcid: h.dcid, scid: h.scid })
        }
        Found::Discarded(is_orig, total_decrypted) if cx.wants(EventKind::QuicDiscardedPacket) => {
            cx.raise(|c| Event::QuicDiscardedPacket { c, is_orig, total_decrypted })
        }
        Found::ShortThreshold(is_orig, threshold) if cx.wants(EventKind::QuicShortHeaderPacketThresholdCrossed) => {
            cx.raise(|c| Event::QuicShortHeaderPacketThresholdCrossed { c, is_orig, threshold })
        }
        _ => {}
    }
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
