//! The analyzers attached to one connection (Zeek's analyzer tree, flat):
//! what the registry chose at creation, minus any that declined the first
//! data or were disabled. The set hands data to each in turn, each with its
//! own [`Cx`] over the shared [`Env`], and keeps what each has said about
//! its protocol ([`Status`]).

use super::analyzer::Analyzer;
use super::context::{Cx, Env, Status};
use super::detect::{Chunk, Detector};
use super::registry::Tag;

#[derive(Clone, Debug)]
struct Entry {
    analyzer: Box<dyn Analyzer>,
    aid: u64,
    status: Status,
}

/// A connection's analyzers, in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct AnalyzerSet {
    entries: Vec<Entry>,
    probed: bool,
    /// Dynamic protocol detection's buffer, when the connection has one.
    detector: Option<Box<Detector>>,
    /// Which directions' data ended (originator, responder).
    ended: [bool; 2],
}

impl AnalyzerSet {
    /// Adds an analyzer with instance id `aid`.
    pub fn add(&mut self, analyzer: Box<dyn Analyzer>, aid: u64) {
        self.entries.push(Entry { analyzer, aid, status: Status::default() });
    }

    /// Whether no analyzer is attached and nothing detects one.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.detector.is_none()
    }

    /// Gives the connection a detector: its first bytes are kept for
    /// analyzers enabled later ([`enable`](AnalyzerSet::enable)).
    pub fn detect(&mut self) {
        self.detector.get_or_insert_with(Box::default);
    }

    /// The connection's detector, if it has one.
    pub fn detector(&self) -> Option<&Detector> {
        self.detector.as_deref()
    }

    /// Attaches the analyzer `tag` with instance id `aid`, found by dynamic
    /// protocol detection, and replays to it what the detector kept. Nothing
    /// happens when `tag` is attached already, is not implemented, or the
    /// detector's buffer is gone (a late match); true when attached.
    /// An instance a violation disabled is no obstacle once its drain ran
    /// (Zeek's tree no longer has it, and nothing prevents a new one).
    pub fn enable(&mut self, tag: Tag, aid: u64, env: &mut Env<'_>) -> bool {
        self.settle(env);
        if self.entries.iter().any(|e| e.analyzer.tag() == tag && !e.status.disabled) {
            return false;
        }
        let Some(det) = self.detector.as_mut() else { return false };
        let Some(replay) = det.replay(&env.cfg.dpd) else { return false };
        let Some(analyzer) = tag.instantiate(env.cfg) else { return false };
        let mut e = Entry { analyzer, aid, status: Status::default() };
        for (is_orig, chunk) in replay {
            if e.status.disabled {
                break;
            }
            let mut cx = Cx::new(env, tag, aid, &mut e.status);
            match chunk {
                Chunk::Data(d) if env_is_tcp(&cx) => e.analyzer.stream(*is_orig, d, &mut cx),
                Chunk::Data(d) => e.analyzer.datagram(*is_orig, d, &mut cx),
                Chunk::Gap(n) => e.analyzer.gap(*is_orig, *n, &mut cx),
            }
        }
        self.entries.push(e);
        true
    }

    /// The tags of the attached analyzers, in order.
    pub fn tags(&self) -> Vec<Tag> {
        self.entries.iter().map(|e| e.analyzer.tag()).collect()
    }

    /// What the analyzer `tag` has said so far, if attached.
    pub fn status(&self, tag: Tag) -> Option<&Status> {
        self.entries.iter().rev().find(|e| e.analyzer.tag() == tag).map(|e| &e.status)
    }

    /// Stops handing data to the attached analyzer `tag`, if any.
    pub fn disable_tag(&mut self, tag: Tag) {
        for e in self.entries.iter_mut().filter(|e| e.analyzer.tag() == tag) {
            e.status.disabled = true;
        }
    }

    /// Stops handing data to the analyzer with instance id `aid`; false if
    /// none is attached.
    pub fn disable(&mut self, aid: u64) -> bool {
        self.entries.iter_mut().find(|e| e.aid == aid).map(|e| e.status.disabled = true).is_some()
    }

    /// The next in-order TCP bytes from the originator when `is_orig`;
    /// the detector keeps them after the attached analyzers had them.
    pub fn stream(&mut self, is_orig: bool, data: &[u8], env: &mut Env<'_>) {
        self.settle(env);
        self.probe(is_orig, data);
        self.each(env, |a, cx| a.stream(is_orig, data, cx));
        if let Some(d) = self.detector.as_mut() {
            d.data(is_orig, data, &env.cfg.dpd);
        }
    }

    /// A UDP datagram's payload from the originator when `is_orig`.
    pub fn datagram(&mut self, is_orig: bool, data: &[u8], env: &mut Env<'_>) {
        self.settle(env);
        self.probe(is_orig, data);
        self.each(env, |a, cx| a.datagram(is_orig, data, cx));
        if let Some(d) = self.detector.as_mut() {
            d.data(is_orig, data, &env.cfg.dpd);
        }
    }

    /// `len` bytes of one direction that never came.
    pub fn gap(&mut self, is_orig: bool, len: u64, env: &mut Env<'_>) {
        self.settle(env);
        env.conn.extra.get_or_insert_with(Box::default).had_gap = true;
        self.each(env, |a, cx| a.gap(is_orig, len, cx));
        if let Some(d) = self.detector.as_mut() {
            d.gap(is_orig, len, &env.cfg.dpd);
        }
    }

    /// The end of one direction's data (once per direction).
    pub fn end_of_data(&mut self, is_orig: bool, env: &mut Env<'_>) {
        self.settle(env);
        let ended = &mut self.ended[usize::from(!is_orig)];
        if !std::mem::replace(ended, true) {
            self.each(env, |a, cx| a.end_of_data(is_orig, cx));
        }
    }

    /// The connection is being removed.
    pub fn done(&mut self, env: &mut Env<'_>) {
        self.each(env, |a, cx| a.done(cx));
    }

    /// On the first data, drops the analyzers that decline it.
    fn probe(&mut self, is_orig: bool, data: &[u8]) {
        if !self.probed {
            self.probed = true;
            self.entries.retain(|e| e.analyzer.probe(is_orig, data));
        }
    }

    /// Disables, finishing what each has open, the analyzers whose
    /// violation's drain has run since.
    fn settle(&mut self, env: &mut Env<'_>) {
        for e in self.entries.iter_mut().filter(|e| !e.status.disabled) {
            let tag = e.analyzer.tag();
            let mut cx = Cx::new(env, tag, e.aid, &mut e.status);
            if cx.disabled_by_violation() {
                e.analyzer.done(&mut cx);
                e.status.disabled = true;
            }
        }
    }

    /// Runs `f` on every analyzer still enabled.
    /// An analyzer disabled during the call is done at once (Zeek removes it
    /// from the tree, which finishes what it has open).
    fn each(&mut self, env: &mut Env<'_>, mut f: impl FnMut(&mut dyn Analyzer, &mut Cx<'_, '_>)) {
        for e in self.entries.iter_mut().filter(|e| !e.status.disabled) {
            let tag = e.analyzer.tag();
            let mut cx = Cx::new(env, tag, e.aid, &mut e.status);
            f(e.analyzer.as_mut(), &mut cx);
            if cx.status().disabled {
                e.analyzer.done(&mut cx);
            }
        }
    }

    /// Disables the analyzer with instance id `aid` now, finishing what it
    /// has open (its `done`); false if none such is enabled.
    pub fn disable_now(&mut self, aid: u64, env: &mut Env<'_>) -> bool {
        let Some(e) = self.entries.iter_mut().find(|e| e.aid == aid && !e.status.disabled) else { return false };
        e.status.disabled = true;
        let tag = e.analyzer.tag();
        let mut cx = Cx::new(env, tag, e.aid, &mut e.status);
        e.analyzer.done(&mut cx);
        true
    }
}

/// Whether the connection is TCP (replayed data is stream data then).
fn env_is_tcp(cx: &Cx<'_, '_>) -> bool {
    cx.conn().proto == 6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::events::{Event, EventKind, EventQueue, Subscriptions};
    use crate::sessions::conn::Conn;
    use crate::sessions::key::ConnKey;
    use crate::sessions::uid::UidGen;

    /// Declines data starting with `no`; confirms `ok`, violates `bad`,
    /// raises a weird on `w`, flips on `f`, disables itself on `off`.
    #[derive(Clone, Debug, Default)]
    struct Toy {
        seen: Vec<String>,
    }

    impl Analyzer for Toy {
        fn tag(&self) -> Tag {
            Tag::Ftp
        }
        fn probe(&self, _: bool, data: &[u8]) -> bool {
            !data.starts_with(b"no")
        }
        fn stream(&mut self, _: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
            self.seen.push(String::from_utf8_lossy(data).into_owned());
            match data {
                b"ok" => cx.confirm(),
                b"bad" => cx.violate("bad data", Some(data)),
                b"w" => cx.weird("toy_weird", "x".into()),
                b"f" => cx.flip_roles(),
                b"off" => cx.disable(),
                _ => {}
            }
        }
        fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
            cx.limit("toy_gap", format!("{is_orig} {len}"));
        }
        fn clone_box(&self) -> Box<dyn Analyzer> {
            Box::new(self.clone())
        }
    }

    fn conn() -> Conn {
        let a = ("10.0.0.1".parse().unwrap(), 1234);
        let b = ("10.0.0.2".parse().unwrap(), 21);
        let l2 = Default::default();
        Conn::new(ConnKey::new(a, b, 6, false), a, b, 6, UidGen::new(Some(1)).next_words(), 1.0, &l2, &[], 0)
    }

    fn queue() -> EventQueue {
        let mut subs = Subscriptions::default();
        for k in [EventKind::ProtocolConfirmation, EventKind::ProtocolViolation, EventKind::ConnWeird] {
            subs.insert(k);
        }
        EventQueue::new(subs)
    }

    #[test]
    fn confirmation_names_the_service_once_and_violations_excerpt_the_data() {
        let (mut c, mut q, mut cfg) = (conn(), queue(), Config::default());
        cfg.dpd_rules.ignore = vec![Tag::Ftp]; // the violation does not disable it

        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()), 7);
        let mut files = crate::files::Manager::new(Default::default(), None);
        let mut env = Env { conn: &mut c, q: &mut q, cfg: &cfg, now: 2.0, files: &mut files, matcher: None, registry: None };
        s.stream(true, b"ok", &mut env);
        s.stream(true, b"ok", &mut env);
        s.stream(true, b"bad", &mut env);
        s.stream(true, b"w", &mut env);
        s.gap(false, 5, &mut env);
        let evs: Vec<Event> = q.take().into_iter().collect();
        assert_eq!(evs.len(), 4, "{evs:?}");
        match &evs[0] {
            Event::ProtocolConfirmation { c, atype, aid } => {
                assert_eq!((atype.name.as_str(), *aid), ("FTP", 7));
                assert_eq!(c.service, ["FTP"], "the record shows the new service");
            }
            e => panic!("{e:?}"),
        }
        match &evs[1] {
            Event::ProtocolViolation { reason, .. } => assert_eq!(reason, "bad data [bad]"),
            e => panic!("{e:?}"),
        }
        assert!(matches!(&evs[2], Event::ConnWeird { name, source, .. } if name == "toy_weird" && source == "FTP"));
        assert!(matches!(&evs[3], Event::ConnWeird { name, addl, .. } if name == "toy_gap" && addl == "false 5"));
        assert!(c.history.contains('X'), "a limit marks the history");
        let st = s.status(Tag::Ftp).unwrap();
        assert!(st.confirmed);
        assert_eq!(st.violations, 1);
    }

    #[test]
    fn a_disabled_analyzer_takes_no_more_data() {
        let (mut c, mut q, cfg) = (conn(), queue(), Config::default());
        let mut files = crate::files::Manager::new(Default::default(), None);
        let mut env = Env { conn: &mut c, q: &mut q, cfg: &cfg, now: 2.0, files: &mut files, matcher: None, registry: None };
        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()), 1);
        s.stream(true, b"f", &mut env);
        assert_eq!(env.conn.history.as_str(), "^", "an analyzer's flip");
        s.stream(true, b"off", &mut env);
        s.stream(true, b"ok", &mut env);
        assert!(!s.status(Tag::Ftp).unwrap().confirmed, "disabled before it confirmed");
        assert!(env.q.is_empty());
        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()), 3);
        assert!(s.disable(3) && !s.disable(4));
        s.stream(true, b"ok", &mut env);
        assert!(!s.status(Tag::Ftp).unwrap().confirmed);
    }

    #[test]
    fn an_enabled_analyzer_sees_the_buffered_start_once() {
        let (mut c, mut q, cfg) = (conn(), queue(), Config::default());
        let mut files = crate::files::Manager::new(Default::default(), None);
        let mut env = Env { conn: &mut c, q: &mut q, cfg: &cfg, now: 2.0, files: &mut files, matcher: None, registry: None };
        let mut s = AnalyzerSet::default();
        assert!(!s.enable(Tag::Ftp, 1, &mut env), "no detector, nothing kept to replay");
        s.detect();
        assert!(!s.is_empty(), "a detector alone keeps the data coming");
        s.stream(false, b"220 ready\r\n", &mut env);
        s.stream(true, b"USER anonymous\r\n", &mut env);
        assert!(env.q.is_empty());
        assert!(s.enable(Tag::Ftp, 5, &mut env));
        assert!(!s.enable(Tag::Ftp, 6, &mut env), "attached once");
        assert!(!s.enable(Tag::Snmp, 7, &mut env), "not implemented: nothing attached");
        assert_eq!(s.tags(), [Tag::Ftp]);
        let evs: Vec<Event> = env.q.take().into_iter().collect();
        assert!(matches!(&evs[..], [Event::ProtocolConfirmation { aid: 5, .. }]), "{evs:?}");
        assert!(s.status(Tag::Ftp).unwrap().confirmed, "the replayed command confirmed FTP");
    }

    #[test]
    fn an_analyzer_declining_the_first_data_goes() {
        let (mut c, mut q, cfg) = (conn(), queue(), Config::default());
        let mut files = crate::files::Manager::new(Default::default(), None);
        let mut env = Env { conn: &mut c, q: &mut q, cfg: &cfg, now: 2.0, files: &mut files, matcher: None, registry: None };
        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()), 1);
        s.stream(true, b"no thanks", &mut env);
        assert!(s.is_empty());
        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()), 1);
        s.stream(true, b"hello", &mut env);
        s.stream(true, b"no longer asked", &mut env);
        assert_eq!(s.tags(), [Tag::Ftp], "only the first data is probed");
        assert_eq!(s.clone().tags(), [Tag::Ftp]);
    }

    #[test]
    fn a_violation_disables_at_the_next_drain_and_a_new_instance_may_follow() {
        let (mut c, mut q, cfg) = (conn(), queue(), Config::default());
        let mut files = crate::files::Manager::new(Default::default(), None);
        let mut env = Env { conn: &mut c, q: &mut q, cfg: &cfg, now: 2.0, files: &mut files, matcher: None, registry: None };
        let mut s = AnalyzerSet::default();
        s.detect();
        s.add(Box::new(Toy::default()), 1);
        s.stream(true, b"bad", &mut env);
        s.stream(true, b"ok", &mut env);
        assert!(s.status(Tag::Ftp).unwrap().confirmed, "the rest of the drain still reaches it");
        assert!(!s.enable(Tag::Ftp, 2, &mut env), "still attached until the events ran");
        env.q.take();
        s.stream(true, b"w", &mut env);
        assert!(s.status(Tag::Ftp).unwrap().disabled, "gone after the drain");
        let evs: Vec<Event> = env.q.take().into_iter().collect();
        assert!(evs.is_empty(), "a disabled analyzer raises nothing: {evs:?}");
        assert!(s.enable(Tag::Ftp, 2, &mut env), "nothing prevents a new instance");
        assert_eq!(s.tags(), [Tag::Ftp, Tag::Ftp]);
        assert!(!s.status(Tag::Ftp).unwrap().disabled, "the status is the new instance's");
    }
}
