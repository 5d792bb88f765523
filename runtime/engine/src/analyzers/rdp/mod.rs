//! The RDP analyzer (Zeek's `RDP`), as far as the security negotiation:
//! the X.224 connection request (cookie, requested protocols) and confirm
//! (the protocol chosen, or a failure). When the server chooses TLS or
//! CredSSP the rest of the connection goes to an SSL child analyzer. Of
//! standard RDP security's MCS exchange the server's connect response is
//! read (its GCC result confirms the protocol; its security data gives the
//! encryption method and level and the server's certificates, whose X.509
//! ones raise the `x509_*` events); the client's data blocks are not. A
//! connection picked up mid-stream, or after a gap, is not analyzed further
//! (as Zeek does).
//!
//! - [`parser`]: the TPKT/COTP units of both directions;
//! - [`fuzzing`]: the input layout of the `rdp` fuzz target.

pub mod fuzzing;
pub mod parser;

use super::analyzer::Analyzer;
use super::child::{Child, Handover};
use super::context::Cx;
use super::registry::Tag;
use crate::events::{Event, EventKind};
use crate::sessions::conn::ProtoState;
use parser::{Out, Parser};
use weir_events::text::from_bytes as text;

/// TCP port the RDP analyzer is registered for (`RDP::rdp_ports`).
pub const PORTS: [u16; 1] = [3389];

/// RDP analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Rdp {
    parser: Parser,
    /// The SSL analyzer the bytes after the negotiation go to.
    tls: Option<Box<Child>>,
}

/// The event kind of a finding, if it is an event.
pub(crate) fn kind(o: &Out) -> Option<EventKind> {
    Some(match o {
        Out::ConnectRequest { .. } => EventKind::RdpConnectRequest,
        Out::NegotiationResponse { .. } => EventKind::RdpNegotiationResponse,
        Out::NegotiationFailure { .. } => EventKind::RdpNegotiationFailure,
        Out::BeginEncryption(_) => EventKind::RdpBeginEncryption,
        Out::GccServerCreateResponse(_) => EventKind::RdpGccServerCreateResponse,
        Out::ServerSecurity { .. } => EventKind::RdpServerSecurity,
        Out::ServerCertificate { .. } => EventKind::RdpServerCertificate,
        Out::NativeEncryptedData { .. } => EventKind::RdpNativeEncryptedData,
        Out::X509 { .. } | Out::Confirm | Out::Violate(_) | Out::Tls { .. } => return None,
    })
}

/// The event of a finding of [`kind`] `Some`, on connection `c`.
pub(crate) fn event(o: Out, c: Box<crate::events::Connection>) -> Event {
    match o {
        Out::ConnectRequest { cookie, flags } => Event::RdpConnectRequest { c, cookie: text(&cookie), flags },
        Out::NegotiationResponse { security_protocol, flags } => {
            Event::RdpNegotiationResponse { c, security_protocol, flags }
        }
        Out::NegotiationFailure { failure_code, flags } => Event::RdpNegotiationFailure { c, failure_code, flags },
        Out::BeginEncryption(security_protocol) => Event::RdpBeginEncryption { c, security_protocol },
        Out::GccServerCreateResponse(result) => Event::RdpGccServerCreateResponse { c, result },
        Out::ServerSecurity { encryption_method, encryption_level } => {
            Event::RdpServerSecurity { c, encryption_method, encryption_level }
        }
        Out::ServerCertificate { cert_type, permanently_issued } => {
            Event::RdpServerCertificate { c, cert_type, permanently_issued }
        }
        Out::NativeEncryptedData { is_orig, len } => Event::RdpNativeEncryptedData { c, orig: is_orig, len },
        Out::X509 { .. } | Out::Confirm | Out::Violate(_) | Out::Tls { .. } => unreachable!("not an event"),
    }
}

/// The context seen as the X.509 events' sink.
struct X509Sink<'c, 'e, 'a>(&'c mut Cx<'e, 'a>);

impl crate::analyzers::ssl::Sink for X509Sink<'_, '_, '_> {
    fn wants(&self, kind: EventKind) -> bool {
        self.0.wants(kind)
    }
    fn raise<F: FnOnce(Box<crate::events::Connection>) -> Event>(&mut self, build: F) {
        self.0.raise(build)
    }
    fn weird(&mut self, name: &'static str, addl: String) {
        self.0.weird(name, addl)
    }
    fn confirm(&mut self) {
        self.0.confirm()
    }
    fn violate(&mut self, reason: String) {
        self.0.violate(&reason, None)
    }
    fn now(&self) -> f64 {
        self.0.now()
    }
}

impl Analyzer for Rdp {
    fn tag(&self) -> Tag {
        Tag::Rdp
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if matches!(&cx.conn().state, ProtoState::Tcp(t) if t.is_partial()) {
            return;
        }
        let mut out = Vec::new();
        self.parser.feed(is_orig, data, &mut out);
        for o in out {
            match o {
                Out::Tls { is_orig, data } => {
                    let tls = self.tls.get_or_insert_with(|| {
                        Box::new(Child::new(Box::new(crate::analyzers::ssl::start_mid_stream(cx.cfg())), cx.aid()))
                    });
                    tls.stream(is_orig, &data, cx);
                }
                Out::Violate(reason) => cx.violate(&reason, None),
                Out::Confirm => cx.confirm(),
                // Zeek hands every certificate of the chain to file analysis
                // as a user (host) certificate: each is raised as the first.
                Out::X509 { der, .. } => crate::analyzers::ssl::x509::raise(&mut X509Sink(cx), false, 0, &der),
                o => {
                    if kind(&o).is_some_and(|k| cx.wants(k)) {
                        cx.raise(|c| event(o, c));
                    }
                }
            }
        }
    }

    fn gap(&mut self, _: bool, _: u64, _: &mut Cx<'_, '_>) {
        // Zeek's RDP analyzer stops at a gap, TLS included.
        self.parser.dead = true;
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        self.tls.end_of_data(is_orig, cx);
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.tls.done(cx);
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}
