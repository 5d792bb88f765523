//! What an analyzer may do to its connection while it handles data: raise
//! events with the connection record as it is at that moment, raise weirds,
//! limit analysis, flip roles, and confirm or violate its protocol (Zeek's
//! `AnalyzerConfirmation` / `AnalyzerViolation`). A [`Cx`] is made by the
//! connection's [`AnalyzerSet`](super::set::AnalyzerSet) for one analyzer
//! and one call.

use super::registry::Tag;
use crate::config::Config;
use crate::events::{AnalyzerTag, Connection, Event, EventKind, EventQueue};
use crate::sessions::conn::Conn;

/// The connection, queue and settings an analyzer call works on, shared by
/// every analyzer of the set during one call.
pub struct Env<'a> {
    /// The connection (its analyzer set taken out for the call).
    pub conn: &'a mut Conn,
    /// Where events go.
    pub q: &'a mut EventQueue,
    /// The engine's settings.
    pub cfg: &'a Config,
    /// Network time.
    pub now: f64,
}

/// What the set knows of one of its analyzers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// It confirmed the protocol (once; later confirmations change nothing).
    pub confirmed: bool,
    /// Violations it reported.
    pub violations: u64,
    /// It takes no more data (disabled after a violation, or by a handler).
    pub disabled: bool,
}

/// One analyzer's view of its connection during one call.
pub struct Cx<'e, 'a> {
    env: &'e mut Env<'a>,
    tag: Tag,
    aid: u64,
    status: &'e mut Status,
}

impl<'e, 'a> Cx<'e, 'a> {
    /// The context of analyzer `tag` with instance id `aid`.
    pub fn new(env: &'e mut Env<'a>, tag: Tag, aid: u64, status: &'e mut Status) -> Self {
        Cx { env, tag, aid, status }
    }

    /// Whether any handler takes `kind`: ask before building an event.
    #[inline]
    pub fn wants(&self, kind: EventKind) -> bool {
        self.env.q.wants(kind)
    }

    /// Queues the event `build` makes from the connection record as it is
    /// now (services confirmed so far included). Callers ask
    /// [`wants`](Cx::wants) first.
    pub fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event) {
        let c = Box::new(self.env.conn.snapshot());
        self.env.q.push(build(c));
    }

    /// Network time.
    pub fn now(&self) -> f64 {
        self.env.now
    }

    /// The engine's settings.
    pub fn cfg(&self) -> &Config {
        self.env.cfg
    }

    /// The connection itself.
    pub fn conn(&self) -> &Conn {
        self.env.conn
    }

    /// The analyzer's instance id.
    pub fn aid(&self) -> u64 {
        self.aid
    }

    /// Raises conn weird `name` with extra text `addl`, from this analyzer.
    pub fn weird(&mut self, name: &'static str, addl: String) {
        let Env { conn, q, cfg, now } = self.env;
        conn.weird(name, addl, self.tag.source(), cfg, *now, q);
    }

    /// An analyzer limit was reached: weird `name`, then history `X`.
    pub fn limit(&mut self, name: &'static str, addl: String) {
        self.weird(name, addl);
        self.env.conn.analysis_limited();
    }

    /// Swaps originator and responder, history bits kept (an analyzer's
    /// `Connection::FlipRoles`).
    pub fn flip_roles(&mut self) {
        self.env.conn.flip_roles_keeping_history_bits();
    }

    /// The data is this analyzer's protocol: the first time, the analyzer's
    /// name joins the connection's service and `protocol_confirmation` is
    /// raised.
    pub fn confirm(&mut self) {
        if self.status.confirmed || self.status.disabled {
            return;
        }
        self.status.confirmed = true;
        let name = self.tag.name();
        let service = &mut self.env.conn.extra.get_or_insert_with(Box::default).service;
        if !service.contains(&name) {
            service.push(name);
        }
        if self.wants(EventKind::ProtocolConfirmation) {
            let aid = self.aid;
            self.raise(|c| Event::ProtocolConfirmation { c, atype: Box::new(AnalyzerTag { name: name.to_string() }), aid });
        }
    }

    /// The data breaks this analyzer's protocol: `protocol_violation` with
    /// `reason`, followed by an excerpt of `data` when given.
    pub fn violate(&mut self, reason: &str, data: Option<&[u8]>) {
        if self.status.disabled {
            return;
        }
        self.status.violations += 1;
        if self.wants(EventKind::ProtocolViolation) {
            let reason = match data {
                Some(d) => format!("{reason} {}", excerpt(d)),
                None => reason.to_string(),
            };
            let (name, aid) = (self.tag.name(), self.aid);
            self.raise(|c| Event::ProtocolViolation { c, atype: Box::new(AnalyzerTag { name: name.to_string() }), aid, reason });
        }
    }

    /// Stops handing this analyzer data.
    pub fn disable(&mut self) {
        self.status.disabled = true;
    }

    /// What the set knows of this analyzer so far.
    pub fn status(&self) -> &Status {
        self.status
    }
}

/// Bytes shown after a violation's reason.
const EXCERPT: usize = 40;

/// The start of `data` as a violation's reason shows it: `[bytes]`, or
/// `[bytes...]` when cut, non-printable bytes escaped as `\xNN`.
fn excerpt(data: &[u8]) -> String {
    let mut s = String::from("[");
    for &b in &data[..data.len().min(EXCERPT)] {
        if (0x20..0x7f).contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if data.len() > EXCERPT {
        s.push_str("...");
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_at_forty_bytes_and_escape() {
        assert_eq!(excerpt(b"GET /"), "[GET /]");
        assert_eq!(excerpt(b"a\r\n"), "[a\\x0d\\x0a]");
        let long = [b'x'; 41];
        assert_eq!(excerpt(&long), format!("[{}...]", "x".repeat(40)));
        assert_eq!(excerpt(&long[..40]), format!("[{}]", "x".repeat(40)));
    }
}
