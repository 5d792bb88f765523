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
    /// File analysis, for the files the analyzers carry.
    pub files: &'a mut crate::files::Manager,
    /// The worker's signature matcher, when signatures are loaded: a
    /// detecting child analyzer ([`super::pia::Pia`]) matches with it.
    pub matcher: Option<&'a mut crate::signatures::Matcher>,
    /// Which analyzers are enabled (None: all of them).
    pub registry: Option<&'a super::registry::Registry>,
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
    /// A violation disables it once the events of drain number `n` ran
    /// (Zeek's DPD script removes it from the tree when its violation event
    /// is handled): until then it goes on taking the data of that drain.
    pub disable_after_drain: Option<u64>,
}

/// What a violation does (Zeek's `max_analyzer_violations` and the rules of
/// its `base/frameworks/analyzer/dpd.zeek`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViolationRules {
    /// `DPD::ignore_violations`: analyzers a violation never disables
    /// (Zeek's DCE/RPC and NTLM scripts add `DCE_RPC` and `NTLM`).
    pub ignore: Vec<Tag>,
    /// `DPD::ignore_violations_after` (10,240): no analyzer is disabled once
    /// the connection carried more bytes than this (0: always disabled).
    pub ignore_after: u64,
    /// `DPD::track_removed_services_in_connection` (F): a disabled analyzer
    /// that had confirmed stays in the service and `-NAME` joins it, instead
    /// of its name leaving the service.
    pub track_removed: bool,
    /// `max_analyzer_violations` (1,000): violations of one instance that are
    /// reported; the next raises weird `too_many_analyzer_violations`, the
    /// rest nothing.
    pub max_violations: u64,
}

impl Default for ViolationRules {
    fn default() -> Self {
        ViolationRules { ignore: vec![Tag::DceRpc, Tag::Ntlm], ignore_after: 10 * 1024, track_removed: false, max_violations: 1000 }
    }
}

/// `-NAME`, the service entry of a removed analyzer (one string per tag,
/// made once).
fn removed_name(tag: Tag) -> &'static str {
    static NAMES: std::sync::OnceLock<Vec<(Tag, &'static str)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        Tag::ALL.iter().map(|&t| (t, &*Box::leak(format!("-{}", t.name()).into_boxed_str()))).collect()
    });
    names.iter().find(|(t, _)| *t == tag).map_or("-", |(_, n)| n)
}

/// Analyzer `name` (instance `aid`) confirmed its protocol on `conn`: the
/// name joins the service (once) and `protocol_confirmation` is raised.
/// Packet analyzers (tunnels) confirm through here too, with `aid` 0.
pub fn confirm_service(conn: &mut Conn, q: &mut EventQueue, name: &'static str, aid: u64) {
    let service = &mut conn.extra.get_or_insert_with(Box::default).service;
    if !service.contains(&name) {
        service.push(name);
    }
    if q.wants(EventKind::ProtocolConfirmation) {
        let atype = Box::new(AnalyzerTag { name: name.to_string() });
        q.push(Event::ProtocolConfirmation { c: Box::new(conn.snapshot()), atype, aid });
    }
}

/// Whether a subscribed event shows what any analyzer finds:
/// `protocol_confirmation`, `protocol_violation`, `conn_weird`, or
/// `connection_state_remove` (whose record carries the services, as
/// conn.log writes them).
pub fn findings_wanted(subs: &crate::events::Subscriptions) -> bool {
    [EventKind::ProtocolConfirmation, EventKind::ProtocolViolation, EventKind::ConnWeird, EventKind::ConnectionStateRemove]
        .into_iter()
        .any(|k| subs.wants(k))
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

    /// The context of a child analyzer (`tag`, instance `aid`) of this one,
    /// on the same connection ([`super::child::Child`]).
    pub fn for_child<'c>(&'c mut self, tag: Tag, aid: u64, status: &'c mut Status) -> Cx<'c, 'a> {
        Cx { env: &mut *self.env, tag, aid, status }
    }

    /// Whether a violation's disabling of this analyzer holds now: its
    /// drain has run since (Zeek's DPD script removed it).
    pub fn disabled_by_violation(&self) -> bool {
        self.status.disable_after_drain.is_some_and(|d| self.env.q.drains() > d)
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

    /// Whether content of `kind` goes to signature matching: signatures are
    /// loaded and some rule has such a pattern. Ask before building it.
    pub fn signatures_want(&self, kind: crate::signatures::PatternType) -> bool {
        self.env.matcher.as_deref().is_some_and(|m| m.set().has_kind(kind))
    }

    /// Matches one piece of protocol content of side `is_orig` against the
    /// connection's signatures (Zeek's `Connection::Match`): `fresh` starts
    /// the patterns of `kind` over first (a new URI, header or command).
    /// Fired rules raise their events now; what they ask of analyzers is
    /// done by the session layer when this call returns.
    pub fn match_signatures(&mut self, is_orig: bool, kind: crate::signatures::PatternType, data: &[u8], fresh: bool) {
        let env = &mut *self.env;
        let Some(m) = env.matcher.as_deref_mut() else { return };
        let facts = crate::sessions::signatures::facts(env.conn);
        let Some(mut cs) = env.conn.extra.as_mut().and_then(|x| x.signatures.take()) else { return };
        let mut out = crate::sessions::signatures::Collect::new(env.conn, env.q);
        if fresh {
            m.data_fresh(&mut cs, is_orig, kind, data, facts, &mut out);
        } else {
            m.data(&mut cs, is_orig, kind, data, facts, &mut out);
        }
        let fired = out.fired;
        let x = env.conn.extra.get_or_insert_with(Box::default);
        x.signatures = Some(cs);
        if fired.is_empty() {
            return;
        }
        let set = m.set().clone();
        let req = crate::sessions::signatures::raise_fired(&set, fired, env.conn, env.q);
        if req != Default::default() {
            let x = env.conn.extra.get_or_insert_with(Box::default);
            let all = x.signature_requests.get_or_insert_with(Box::default);
            all.enable.extend(req.enable);
            all.disable.extend(req.disable);
        }
    }

    /// The shared environment of the call, for what works below this
    /// analyzer (a detecting child matches signatures through it).
    pub(crate) fn env(&mut self) -> &mut Env<'a> {
        self.env
    }

    /// Raises conn weird `name` with extra text `addl`, from this analyzer.
    pub fn weird(&mut self, name: &'static str, addl: String) {
        let Env { conn, q, cfg, now, .. } = self.env;
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
        confirm_service(self.env.conn, self.env.q, self.tag.name(), self.aid);
    }

    /// The data breaks this analyzer's protocol (Zeek's `AnalyzerViolation`
    /// and the DPD script's rule). Nothing happens on a TCP connection
    /// picked up mid-stream or after a gap (parsing those is unreliable).
    /// Past `max_analyzer_violations` of this instance only the weird
    /// `too_many_analyzer_violations` comes, once. Otherwise the analyzer is
    /// disabled unless its tag is in `DPD::ignore_violations` or the
    /// connection carried more than `DPD::ignore_violations_after` bytes; a
    /// disabled analyzer that had confirmed leaves the service (or, with
    /// `DPD::track_removed_services_in_connection`, gets `-NAME` beside
    /// it). Then `protocol_violation` is raised with `reason`, followed by
    /// an excerpt of `data` when given; its record shows the service after
    /// the rule.
    pub fn violate(&mut self, reason: &str, data: Option<&[u8]>) {
        if self.status.disabled || self.env.conn.unreliable_stream() {
            return;
        }
        self.status.violations += 1;
        let rules = &self.env.cfg.dpd_rules;
        if self.status.violations > rules.max_violations {
            if self.status.violations == rules.max_violations.saturating_add(1) {
                self.weird("too_many_analyzer_violations", String::new());
            }
            return;
        }
        let (o, r) = self.env.conn.sizes();
        let ignored = rules.ignore.contains(&self.tag) || (rules.ignore_after > 0 && o.saturating_add(r) > rules.ignore_after);
        if !ignored {
            self.status.disable_after_drain.get_or_insert(self.env.q.drains());
            let (name, track) = (self.tag.name(), rules.track_removed);
            let service = &mut self.env.conn.extra.get_or_insert_with(Box::default).service;
            if service.contains(&name) {
                if !track {
                    service.retain(|s| *s != name);
                } else if !service.contains(&removed_name(self.tag)) {
                    service.push(removed_name(self.tag));
                }
            }
        }
        if self.wants(EventKind::ProtocolViolation) {
            let reason = match data {
                Some(d) => format!("{reason} {}", excerpt(d)),
                None => reason.to_string(),
            };
            let (name, aid) = (self.tag.name(), self.aid);
            self.raise(|c| Event::ProtocolViolation { c, atype: Box::new(AnalyzerTag { name: name.to_string() }), aid, reason });
        }
    }

    /// Hands file analysis `data` of the file this analyzer carries in
    /// direction `is_orig`, at byte `offset` of the file (None: right after
    /// the bytes handed before). `id` is what the previous call for the same
    /// file returned; without one, `get_file_handle` asks the handlers which
    /// file this is. Returns the id to pass next time; None when no file
    /// takes the data (no handle) or the file is complete.
    pub fn file_data_in(&mut self, is_orig: bool, data: &[u8], offset: Option<u64>, id: Option<&str>) -> Option<String> {
        let Env { conn, q, files, now, .. } = self.env;
        files.data_in(q, *now, &crate::files::Origin { tag: self.tag, conn, is_orig }, data, offset, id)
    }

    /// `len` bytes of the file at `offset` will never come (see
    /// [`file_data_in`](Cx::file_data_in) for `id` and the result).
    pub fn file_missing(&mut self, is_orig: bool, offset: u64, len: u64, id: Option<&str>) -> Option<String> {
        let Env { conn, q, files, now, .. } = self.env;
        files.gap(q, *now, &crate::files::Origin { tag: self.tag, conn, is_orig }, offset, len, id)
    }

    /// The protocol announced the file's size (see
    /// [`file_data_in`](Cx::file_data_in) for `id` and the result): the file is
    /// complete once that many bytes came.
    pub fn file_size(&mut self, is_orig: bool, size: u64, id: Option<&str>) -> Option<String> {
        let Env { conn, q, files, now, .. } = self.env;
        files.set_size(q, *now, &crate::files::Origin { tag: self.tag, conn, is_orig }, size, id)
    }

    /// The protocol says what type the file is (before its data; see
    /// [`file_data_in`](Cx::file_data_in) for `id` and the result). A protocol
    /// that names its files itself passes `Some(&files::id::file_id(handle))`
    /// as `id` to any of these calls, and no `get_file_handle` is raised.
    pub fn file_mime(&mut self, is_orig: bool, mime: &str, id: Option<&str>) -> Option<String> {
        let Env { conn, q, files, now, .. } = self.env;
        files.set_mime(q, *now, &crate::files::Origin { tag: self.tag, conn, is_orig }, mime, id)
    }

    /// The file has ended: `id`, or (None) the one the handlers name for this
    /// analyzer and direction through `get_file_handle`.
    pub fn file_end(&mut self, is_orig: bool, id: Option<&str>) {
        let Env { conn, q, files, now, .. } = self.env;
        files.end_of_file(q, *now, &crate::files::Origin { tag: self.tag, conn, is_orig }, id)
    }

    /// Whether file analysis can take anything (a handler sets file
    /// handles): ask before preparing file data.
    pub fn files_wanted(&self) -> bool {
        crate::files::Manager::active(self.env.q)
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
    use crate::analyzers::testing::{summary, Harness};

    /// Confirms on `ok`, violates on anything else.
    #[derive(Clone, Debug)]
    struct Picky(Tag);

    impl super::super::Analyzer for Picky {
        fn tag(&self) -> Tag {
            self.0
        }
        fn stream(&mut self, _: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
            if data == b"ok" {
                cx.confirm()
            } else {
                cx.violate("bad", Some(data))
            }
        }
        fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
            self.stream(is_orig, data, cx)
        }
        fn clone_box(&self) -> Box<dyn super::super::Analyzer> {
            Box::new(self.clone())
        }
    }

    fn service(h: &Harness) -> Vec<&'static str> {
        h.conn.extra.as_ref().map(|x| x.service.clone()).unwrap_or_default()
    }

    fn reason(evs: &[Event]) -> Option<(String, Vec<String>)> {
        evs.iter().find_map(|e| match e {
            Event::ProtocolViolation { reason, c, .. } => Some((reason.clone(), c.service.clone())),
            _ => None,
        })
    }

    #[test]
    fn a_violation_disables_and_removes_the_confirmed_service() {
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.datagram(&mut a, true, b"ok");
        assert_eq!(service(&h), ["FTP"]);
        let evs = h.datagram(&mut a, true, b"x\r\n");
        assert_eq!(reason(&evs), Some(("bad [x\\x0d\\x0a]".to_string(), vec![])), "the record shows the removal");
        assert!(h.status.disabled);
        assert!(service(&h).is_empty());
        assert!(h.datagram(&mut a, true, b"again").is_empty(), "a disabled analyzer reports nothing");
    }

    #[test]
    fn removed_services_can_be_kept_as_minus_entries() {
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.cfg.dpd_rules.track_removed = true;
        h.datagram(&mut a, true, b"ok");
        let evs = h.datagram(&mut a, true, b"no");
        assert_eq!(reason(&evs).map(|r| r.1), Some(vec!["FTP".to_string(), "-FTP".to_string()]));
        assert_eq!(service(&h), ["FTP", "-FTP"]);
        // An analyzer that never confirmed leaves the service alone.
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.cfg.dpd_rules.track_removed = true;
        h.datagram(&mut a, true, b"no");
        assert!(h.status.disabled && service(&h).is_empty());
    }

    #[test]
    fn ignored_tags_and_big_connections_keep_their_analyzer() {
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.cfg.dpd_rules.ignore = vec![Tag::Ftp];
        h.datagram(&mut a, true, b"ok");
        assert!(reason(&h.datagram(&mut a, true, b"no")).is_some());
        assert!(!h.status.disabled);
        assert_eq!(service(&h), ["FTP"]);
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.conn.o.payload_len = 10 * 1024;
        h.datagram(&mut a, true, b"no");
        assert!(h.status.disabled, "10,240 bytes are not past DPD::ignore_violations_after");
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.conn.o.payload_len = 10 * 1024 + 1;
        h.datagram(&mut a, true, b"no");
        assert!(!h.status.disabled, "past DPD::ignore_violations_after");
        h.cfg.dpd_rules.ignore_after = 0;
        h.datagram(&mut a, true, b"no");
        assert!(h.status.disabled, "0: never ignored");
    }

    #[test]
    fn violations_past_the_limit_raise_one_weird() {
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.cfg.dpd_rules.ignore = vec![Tag::Ftp];
        h.cfg.dpd_rules.max_violations = 2;
        let mut all = Vec::new();
        for _ in 0..5 {
            all.extend(h.datagram(&mut a, true, b"no"));
        }
        assert_eq!(summary(&all), ["protocol_violation", "protocol_violation", "weird:too_many_analyzer_violations"]);
        assert_eq!(h.status.violations, 5);
    }

    #[test]
    fn tcp_violations_after_a_gap_are_not_believed() {
        let (mut h, mut a) = (Harness::new(6, 21), Picky(Tag::Ftp));
        assert!(reason(&h.stream(&mut a, true, b"no")).is_some(), "a whole stream's violation counts");
        let (mut h, mut a) = (Harness::new(6, 21), Picky(Tag::Ftp));
        h.conn.extra.get_or_insert_with(Box::default).had_gap = true;
        assert!(h.stream(&mut a, true, b"no").is_empty());
        assert!(!h.status.disabled);
        // UDP knows no gaps.
        let (mut h, mut a) = (Harness::new(17, 21), Picky(Tag::Ftp));
        h.conn.extra.get_or_insert_with(Box::default).had_gap = true;
        assert!(reason(&h.datagram(&mut a, true, b"no")).is_some());
    }

    #[test]
    fn excerpts_cut_at_forty_bytes_and_escape() {
        assert_eq!(excerpt(b"GET /"), "[GET /]");
        assert_eq!(excerpt(b"a\r\n"), "[a\\x0d\\x0a]");
        let long = [b'x'; 41];
        assert_eq!(excerpt(&long), format!("[{}...]", "x".repeat(40)));
        assert_eq!(excerpt(&long[..40]), format!("[{}]", "x".repeat(40)));
    }
}
