//! The PostgreSQL analyzer (Zeek's `PostgreSQL`): the frontend/backend
//! protocol 3.0 as far as Zeek reads it: the client's SSLRequest and the
//! server's `S`/`N` answer (after `S` the rest of the connection is TLS,
//! handed to an SSL child analyzer), the StartupMessage and its parameters,
//! authentication, simple queries, and the server's errors, notices, rows,
//! parameter statuses and ReadyForQuery. The StartupMessage and the answer
//! to an SSLRequest confirm the protocol; a message that cannot be parsed
//! is a violation.
//!
//! - [`parser`]: both directions and their state;
//! - [`fuzzing`]: the input layout of the `postgresql` fuzz target.

pub mod fuzzing;
pub mod parser;

use super::analyzer::Analyzer;
use super::child::{Child, Handover};
use super::context::Cx;
use super::registry::Tag;
use crate::events::{Connection, Event, EventKind};
use parser::{Out, Parser};
use weir_events::text::from_bytes as text;

/// TCP port the PostgreSQL analyzer is registered for (`PostgreSQL::ports`).
pub const PORTS: [u16; 1] = [5432];

/// PostgreSQL analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Postgresql {
    parser: Parser,
    /// The SSL analyzer the bytes after an `S` answer go to.
    tls: Option<Box<Child>>,
}

/// Where the analyzer's findings go: the connection's [`Cx`], or the fuzz
/// target's counter.
pub(crate) trait Sink {
    /// Whether `kind` is taken.
    fn wants(&self, kind: EventKind) -> bool;
    /// Queues the event `build` makes.
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event);
    /// Protocol confirmed.
    fn confirm(&mut self);
    /// Protocol violated.
    fn violate(&mut self, reason: &str);
}

struct CxSink<'c, 'e, 'a>(&'c mut Cx<'e, 'a>);

impl Sink for CxSink<'_, '_, '_> {
    fn wants(&self, kind: EventKind) -> bool {
        self.0.wants(kind)
    }
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event) {
        self.0.raise(build)
    }
    fn confirm(&mut self) {
        self.0.confirm()
    }
    fn violate(&mut self, reason: &str) {
        self.0.violate(reason, None)
    }
}

fn ch(b: u8) -> String {
    text(&[b])
}

/// Raises what one finding (other than TLS bytes) means.
pub(crate) fn emit(o: Out, s: &mut impl Sink) {
    use EventKind as K;
    let kind = match &o {
        Out::SslRequest => K::PostgresqlSslRequest,
        Out::SslReply(_) => K::PostgresqlSslReply,
        Out::StartupParameter { .. } => K::PostgresqlStartupParameter,
        Out::StartupMessage { .. } => K::PostgresqlStartupMessage,
        Out::AuthenticationRequest { .. } => K::PostgresqlAuthenticationRequest,
        Out::AuthenticationOk => K::PostgresqlAuthenticationOk,
        Out::AuthenticationResponse(_) => K::PostgresqlAuthenticationResponse,
        Out::SimpleQuery(_) => K::PostgresqlSimpleQuery,
        Out::ReadyForQuery(_) => K::PostgresqlReadyForQuery,
        Out::ErrorField { .. } => K::PostgresqlErrorResponseIdentifiedField,
        Out::ErrorResponse => K::PostgresqlErrorResponse,
        Out::NoticeField { .. } => K::PostgresqlNoticeResponseIdentifiedField,
        Out::NoticeResponse => K::PostgresqlNoticeResponse,
        Out::Terminate => K::PostgresqlTerminate,
        Out::DataRow(_) => K::PostgresqlDataRow,
        Out::ParameterStatus { .. } => K::PostgresqlParameterStatus,
        Out::BackendKeyData { .. } => K::PostgresqlBackendKeyData,
        Out::NotImplemented { .. } => K::PostgresqlNotImplemented,
        Out::Confirm => return s.confirm(),
        Out::Violate(reason) => return s.violate(reason),
        Out::Tls { .. } => return,
    };
    if !s.wants(kind) {
        return;
    }
    s.raise(|c| match o {
        Out::SslRequest => Event::PostgresqlSslRequest { c },
        Out::SslReply(b) => Event::PostgresqlSslReply { c, data: ch(b) },
        Out::StartupParameter { name, value } => {
            Event::PostgresqlStartupParameter { c, name: text(&name), value: text(&value) }
        }
        Out::StartupMessage { major, minor } => Event::PostgresqlStartupMessage { c, major, minor },
        Out::AuthenticationRequest { identifier, data } => {
            Event::PostgresqlAuthenticationRequest { c, identifier, data: text(&data) }
        }
        Out::AuthenticationOk => Event::PostgresqlAuthenticationOk { c },
        Out::AuthenticationResponse(data) => Event::PostgresqlAuthenticationResponse { c, data: text(&data) },
        Out::SimpleQuery(q) => Event::PostgresqlSimpleQuery { c, query: text(&q) },
        Out::ReadyForQuery(b) => Event::PostgresqlReadyForQuery { c, transaction_status: ch(b) },
        Out::ErrorField { code, value } => {
            Event::PostgresqlErrorResponseIdentifiedField { c, code: ch(code), value: text(&value) }
        }
        Out::ErrorResponse => Event::PostgresqlErrorResponse { c },
        Out::NoticeField { code, value } => {
            Event::PostgresqlNoticeResponseIdentifiedField { c, code: ch(code), value: text(&value) }
        }
        Out::NoticeResponse => Event::PostgresqlNoticeResponse { c },
        Out::Terminate => Event::PostgresqlTerminate { c },
        Out::DataRow(column_values) => Event::PostgresqlDataRow { c, column_values },
        Out::ParameterStatus { name, value } => {
            Event::PostgresqlParameterStatus { c, name: text(&name), value: text(&value) }
        }
        Out::BackendKeyData { process_id, secret_key } => Event::PostgresqlBackendKeyData { c, process_id, secret_key },
        Out::NotImplemented { is_orig, typ, chunk } => {
            Event::PostgresqlNotImplemented { c, is_orig, typ: ch(typ), chunk: text(&chunk) }
        }
        Out::Confirm | Out::Violate(_) | Out::Tls { .. } => unreachable!("handled above"),
    });
}

impl Postgresql {
    fn handle(&mut self, out: Vec<Out>, cx: &mut Cx<'_, '_>) {
        for o in out {
            if let Out::Tls { is_orig, data } = o {
                let tls = self.tls.get_or_insert_with(|| {
                    Box::new(Child::new(Box::new(crate::analyzers::ssl::start_mid_stream(cx.cfg())), cx.aid()))
                });
                tls.stream(is_orig, &data, cx);
            } else {
                emit(o, &mut CxSink(cx));
            }
        }
    }
}

impl Analyzer for Postgresql {
    fn tag(&self) -> Tag {
        Tag::Postgresql
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let mut out = Vec::new();
        self.parser.feed(is_orig, data, &mut out);
        self.handle(out, cx);
    }

    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        if self.parser.is_tls(is_orig) {
            self.tls.gap(is_orig, len, cx);
        }
        self.parser.gap(is_orig);
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

#[cfg(test)]
mod tests;
