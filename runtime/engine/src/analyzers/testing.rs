//! A connection, queue and settings for driving one analyzer in unit tests,
//! with every event subscribed.

use super::analyzer::Analyzer;
use super::context::{Cx, Env, Status};
use crate::config::Config;
use crate::events::{Event, EventQueue, Subscriptions};
use crate::sessions::conn::Conn;
use crate::sessions::key::ConnKey;
use crate::sessions::uid::UidGen;

/// One analyzer's world in a test: a connection from 10.0.0.1:1234 to
/// 10.0.0.2 at the given port, and its events.
pub struct Harness {
    /// The connection the analyzer works on.
    pub conn: Conn,
    /// Every event raised so far.
    pub q: EventQueue,
    /// Settings (defaults unless a test changes them).
    pub cfg: Config,
    /// Network time handed to the analyzer.
    pub now: f64,
    /// What the analyzer said about its protocol.
    pub status: Status,
    /// File analysis.
    pub files: crate::files::Manager,
    /// Signatures for detection below an analyzer (none unless a test sets them).
    pub matcher: Option<crate::signatures::Matcher>,
}

impl Harness {
    /// A connection of IP protocol `proto` to responder port `port`.
    pub fn new(proto: u8, port: u16) -> Harness {
        let a = ("10.0.0.1".parse().unwrap(), 1234);
        let b = ("10.0.0.2".parse().unwrap(), port);
        let l2 = Default::default();
        let conn = Conn::new(ConnKey::new(a, b, proto, false), a, b, proto, UidGen::new(Some(1)).next_words(), 1.0, &l2, &[], 0);
        Harness { conn, q: EventQueue::new(Subscriptions::all()), cfg: Config::default(), now: 1.0, status: Status::default(), files: crate::files::Manager::new(Default::default(), None), matcher: None }
    }

    /// Loads the signatures of `src` (weir's own detection rules left out)
    /// and sets both sides of the connection up for matching, as the
    /// session layer does at each side's first packet.
    pub fn with_signatures(&mut self, src: &str) {
        use crate::signatures::{parse, ConnMatch, Idents, Matcher, PacketView, RuleSet};
        let rules = parse("test.sig", src.as_bytes(), &Idents::new()).expect("test signatures parse");
        let mut m = Matcher::new(std::sync::Arc::new(RuleSet::compile(rules).expect("test signatures compile")));
        let mut cs = Box::<ConnMatch>::default();
        let facts = crate::sessions::signatures::facts(&self.conn);
        let (a, b) = (self.conn.orig, self.conn.resp);
        for (is_orig, (src, dst)) in [(true, (a, b)), (false, (b, a))] {
            let mut tcp = [0u8; 20];
            tcp[0..2].copy_from_slice(&src.1.to_be_bytes());
            tcp[2..4].copy_from_slice(&dst.1.to_be_bytes());
            let view = PacketView { version: 4, ip: &[0x45; 20], next_proto: self.conn.proto, src: src.0, dst: dst.0, transport: &tcp };
            m.init_endpoint(&mut cs, is_orig, &view, facts, &mut Vec::new());
        }
        self.conn.extra.get_or_insert_with(Box::default).signatures = Some(cs);
        self.matcher = Some(m);
    }

    /// Runs `f` on `a` with its context; returns the events it raised.
    /// Each call is one drain: a violation's disabling holds after it.
    pub fn run<A: Analyzer + ?Sized>(&mut self, a: &mut A, f: impl FnOnce(&mut A, &mut Cx<'_, '_>)) -> Vec<Event> {
        let mut env = Env { conn: &mut self.conn, q: &mut self.q, cfg: &self.cfg, now: self.now, files: &mut self.files, matcher: self.matcher.as_mut(), registry: None };
        let tag = a.tag();
        let mut cx = Cx::new(&mut env, tag, 1, &mut self.status);
        f(a, &mut cx);
        let evs = self.q.take().into_iter().collect();
        if self.status.disable_after_drain.is_some() {
            self.status.disabled = true;
        }
        evs
    }

    /// Hands `a` stream bytes of one direction.
    pub fn stream<A: Analyzer + ?Sized>(&mut self, a: &mut A, is_orig: bool, data: &[u8]) -> Vec<Event> {
        self.run(a, |a, cx| a.stream(is_orig, data, cx))
    }

    /// Hands `a` one datagram.
    pub fn datagram<A: Analyzer + ?Sized>(&mut self, a: &mut A, is_orig: bool, data: &[u8]) -> Vec<Event> {
        self.run(a, |a, cx| a.datagram(is_orig, data, cx))
    }

    /// Tells `a` that `len` bytes of one direction never came.
    pub fn gap<A: Analyzer + ?Sized>(&mut self, a: &mut A, is_orig: bool, len: u64) -> Vec<Event> {
        self.run(a, |a, cx| a.gap(is_orig, len, cx))
    }
}

/// Each event as `name` or, for weirds, `weird:NAME addl`, for assertions.
pub fn summary(evs: &[Event]) -> Vec<String> {
    evs.iter()
        .map(|e| match e {
            Event::ConnWeird { name, addl, .. } if addl.is_empty() => format!("weird:{name}"),
            Event::ConnWeird { name, addl, .. } => format!("weird:{name} {addl}"),
            e => e.kind().name().to_string(),
        })
        .collect()
}
