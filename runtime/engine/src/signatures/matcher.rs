//! Matching one connection against a [`RuleSet`], as Zeek's `RuleMatcher`
//! does it: each side (endpoint) is set up on its first packet, where the
//! header conditions pick the groups and pattern-less rules that apply;
//! its data is fed to those groups; a rule whose patterns have all matched
//! and whose other conditions hold fires, at most once per endpoint, and
//! its actions run at most once per connection. Rules that depend on a
//! rule are tried again when it fires; negated dependencies are decided
//! at the end of a side's data (for datagrams, after each one).

use super::header::{all_hold, PacketView};
use super::patterns::{GroupCache, Stream};
use super::rule::{Cmp, Cond, PatternType, STATE_ESTABLISHED, STATE_ORIG, STATE_RESP, STATE_STATELESS};
use super::set::RuleSet;
use std::sync::Arc;

/// Facts about the connection some conditions read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnFacts {
    /// The transport is TCP.
    pub tcp: bool,
    /// The transport is UDP.
    pub udp: bool,
    /// Both TCP endpoints are established.
    pub established: bool,
    /// Originator and responder address are the same.
    pub same_ip: bool,
}

/// A signature that fired: its actions are to be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// The rule's index in the set.
    pub rule: u32,
    /// Whether the originator's data matched.
    pub is_orig: bool,
    /// The chunk being matched when it fired (empty for header-only rules).
    pub data: Vec<u8>,
    /// Where in `data` the rule's patterns' match ended (0 without patterns).
    pub end_of_match: u64,
    /// The side's first non-empty chunk size (0 if none yet).
    pub payload_size: u64,
}

/// Where a match's results go: the rules that fired, and the answers to
/// `eval` conditions (a handler's function, see
/// [`EventQueue::eval`](crate::events::EventQueue::eval)). A plain
/// `Vec<Fired>` collects and answers every `eval` with false, as when no
/// handler is loaded.
pub trait Output {
    /// A rule fired.
    fn fired(&mut self, f: Fired);
    /// Whether condition `eval func` holds for signature `sig_id` on side
    /// `is_orig` (its first chunk's size `payload_size`), matching `data`.
    fn eval(&mut self, func: &str, sig_id: &str, is_orig: bool, payload_size: u64, data: &[u8]) -> bool {
        let _ = (func, sig_id, is_orig, payload_size, data);
        false
    }
}

impl Output for Vec<Fired> {
    fn fired(&mut self, f: Fired) {
        self.push(f);
    }
}

/// One side's matching state (Zeek's `RuleEndpointState`).
#[derive(Clone, Debug, Default)]
struct Endpoint {
    /// Header-condition sets that held on the side's first packet.
    hdr_ok: Vec<u32>,
    /// Progress through each applicable group.
    streams: Vec<(u32, Stream)>,
    /// Rules fired on this side.
    matched: Vec<u32>,
    /// Rules whose patterns all matched: (rule, chunk, end of match).
    pattern_matches: Vec<(u32, Vec<u8>, u64)>,
    /// Size of the first non-empty chunk; -1 before any chunk.
    payload_size: i64,
    /// Bytes fed so far per pattern type (since the last datagram started).
    pos: [u64; 9],
}

/// A connection's matching state: both sides and the `dpd_buffer_size` /
/// `dpd_max_packets` budget.
#[derive(Clone, Debug, Default)]
pub struct ConnMatch {
    eps: [Option<Box<Endpoint>>; 2],
    buffered: u64,
    chunks: u64,
    skipping: bool,
}

/// The limits on how much of a connection is matched.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// `dpd_buffer_size`.
    pub buffer_size: u64,
    /// `dpd_max_packets`.
    pub max_packets: u64,
    /// `dpd_match_only_beginning`.
    pub only_beginning: bool,
}

impl ConnMatch {
    /// Whether the side is set up already.
    pub fn started(&self, is_orig: bool) -> bool {
        self.eps[side(is_orig)].is_some()
    }

    /// Whether the budget is spent: nothing more is matched.
    pub fn done(&self) -> bool {
        self.skipping
    }

    /// Counts a chunk against the budget as Zeek's PIA does (one buffer
    /// for both directions): whether it is still matched. Once the buffer
    /// is full while `only_beginning`, nothing more is.
    pub fn admit(&mut self, len: usize, b: &Budget) -> Admit {
        if self.skipping {
            return Admit { now: false };
        }
        if len > 0 {
            self.buffered += len as u64;
            self.chunks += 1;
            if (self.buffered > b.buffer_size || self.chunks > b.max_packets) && b.only_beginning {
                self.skipping = true;
            }
        }
        Admit { now: true }
    }
}

/// The budget's answer for one chunk.
#[derive(Clone, Copy, Debug)]
pub struct Admit {
    /// Match this chunk.
    pub now: bool,
}

fn side(is_orig: bool) -> usize {
    if is_orig {
        0
    } else {
        1
    }
}

/// A signature set with the DFA caches of one worker.
#[derive(Clone, Debug)]
pub struct Matcher {
    set: Arc<RuleSet>,
    caches: Vec<GroupCache>,
}

struct Run<'a> {
    set: &'a RuleSet,
    cs: &'a mut ConnMatch,
    facts: ConnFacts,
    out: &'a mut dyn Output,
}

impl Matcher {
    /// A matcher for `set`.
    pub fn new(set: Arc<RuleSet>) -> Matcher {
        let caches = set.groups.iter().map(|g| g.group.cache()).collect();
        Matcher { set, caches }
    }

    /// The signature set.
    pub fn set(&self) -> &Arc<RuleSet> {
        &self.set
    }

    /// Sets up side `is_orig` on its first packet `pkt` if not done yet:
    /// header conditions are evaluated and pattern-less rules tried.
    pub fn init_endpoint(
        &mut self,
        cs: &mut ConnMatch,
        is_orig: bool,
        pkt: &PacketView<'_>,
        facts: ConnFacts,
        out: &mut dyn Output,
    ) {
        if cs.started(is_orig) {
            return;
        }
        let set = &*self.set;
        let mut ep = Endpoint { payload_size: -1, ..Endpoint::default() };
        for (h, tests) in set.hdr_sets.iter().enumerate() {
            if all_hold(tests, pkt) {
                ep.hdr_ok.push(h as u32);
            }
        }
        ep.hdr_ok.sort_by_key(|&h| set.hdr_rank[h as usize]);
        for (g, info) in set.groups.iter().enumerate() {
            if ep.hdr_ok.contains(&info.hdr_set) {
                ep.streams.push((g as u32, Stream::default()));
            }
        }
        cs.eps[side(is_orig)] = Some(Box::new(ep));
        let mut run = Run { set, cs, facts, out };
        let s = side(is_orig);
        let pure: Vec<u32> = run.ep(s).hdr_ok.iter().flat_map(|&h| set.pure_rules[h as usize].iter().copied()).collect();
        for r in pure {
            if run.eval(r, s, false, &[]) {
                run.exec_actions(r, s, &[], 0, false);
            }
        }
        // The start of the data: patterns matching the empty string.
        run.feed(&mut self.caches, s, PatternType::Payload, b"");
    }

    /// The next chunk of side `is_orig`'s data for patterns of `kind`
    /// (the side must be set up).
    pub fn data(
        &mut self,
        cs: &mut ConnMatch,
        is_orig: bool,
        kind: PatternType,
        data: &[u8],
        facts: ConnFacts,
        out: &mut dyn Output,
    ) {
        if !cs.started(is_orig) {
            return;
        }
        let mut run = Run { set: &self.set, cs, facts, out };
        run.feed(&mut self.caches, side(is_orig), kind, data);
    }

    /// One piece of protocol content (a request URI, a header, a command
    /// line) of side `is_orig` for patterns of `kind`, matched from the
    /// start of its own: the patterns of that kind start over first, as
    /// Zeek clears their state for each (what already fired stays fired).
    pub fn data_fresh(
        &mut self,
        cs: &mut ConnMatch,
        is_orig: bool,
        kind: PatternType,
        data: &[u8],
        facts: ConnFacts,
        out: &mut dyn Output,
    ) {
        let set = &*self.set;
        let Some(ep) = cs.eps[side(is_orig)].as_deref_mut() else { return };
        for (g, st) in &mut ep.streams {
            if set.groups[*g as usize].kind == kind {
                st.reset();
            }
        }
        ep.pos[kind as usize] = 0;
        self.data(cs, is_orig, kind, data, facts, out);
    }

    /// After a datagram: negated dependencies are decided and the side's
    /// pattern state starts over for the next one (Zeek's `ClearEndpointState`).
    pub fn clear_endpoint(&mut self, cs: &mut ConnMatch, is_orig: bool, facts: ConnFacts, out: &mut dyn Output) {
        if !cs.started(is_orig) {
            return;
        }
        let s = side(is_orig);
        let mut run = Run { set: &self.set, cs, facts, out };
        run.exec_pure_rules(s, true);
        let ep = run.ep(s);
        ep.payload_size = -1;
        ep.pos = [0; 9];
        for (_, st) in &mut ep.streams {
            st.reset();
        }
    }

    /// After an ICMP packet: the side's patterns start over at the next
    /// packet's payload, keeping what matched (Zeek's `clear` of the match state).
    pub fn restart_endpoint(&mut self, cs: &mut ConnMatch, is_orig: bool) {
        if let Some(ep) = cs.eps[side(is_orig)].as_mut() {
            ep.pos = [0; 9];
            for (_, st) in &mut ep.streams {
                st.restart();
            }
        }
    }

    /// The end of the connection's data: each side's negated dependencies
    /// are decided, originator first.
    pub fn finish(&mut self, cs: &mut ConnMatch, facts: ConnFacts, out: &mut dyn Output) {
        for s in 0..2 {
            if cs.eps[s].is_none() {
                continue;
            }
            let mut run = Run { set: &self.set, cs, facts, out };
            run.exec_pure_rules(s, true);
            let pm: Vec<(u32, Vec<u8>)> = run.ep(s).pattern_matches.iter().map(|(r, d, _)| (*r, d.clone())).collect();
            for (r, d) in pm {
                run.exec_purely(r, Some(&d), s, true);
            }
        }
    }
}

impl Run<'_> {
    fn ep(&mut self, s: usize) -> &mut Endpoint {
        self.cs.eps[s].as_mut().expect("endpoint set up")
    }

    fn has(&self, s: usize) -> bool {
        self.cs.eps[s].is_some()
    }

    fn matched(&self, s: usize, r: u32) -> bool {
        self.cs.eps[s].as_ref().is_some_and(|e| e.matched.contains(&r))
    }

    fn feed(&mut self, caches: &mut [GroupCache], s: usize, kind: PatternType, data: &[u8]) {
        let set = self.set;
        let ep = self.ep(s);
        if kind == PatternType::Payload {
            if ep.payload_size <= 0 && !data.is_empty() {
                ep.payload_size = data.len() as i64;
            } else if ep.payload_size < 0 {
                ep.payload_size = 0;
            }
        }
        let pre = ep.pos[kind as usize];
        let mut new = false;
        for (g, st) in &mut ep.streams {
            let info = &set.groups[*g as usize];
            if info.kind == kind && info.group.feed(&mut caches[*g as usize], st, data) {
                new = true;
            }
        }
        ep.pos[kind as usize] += data.len() as u64;
        if !new {
            return;
        }
        // Rules whose patterns have all matched, in rule order.
        let mut done: Vec<(u32, u64)> = Vec::new();
        for (g, st) in &ep.streams {
            for &(p, _) in &st.accepted {
                let (r, _) = set.groups[*g as usize].owners[p as usize];
                if done.iter().any(|(d, _)| *d == r) {
                    continue;
                }
                if let Some(end) = all_patterns_matched(set, ep, r) {
                    done.push((r, end));
                }
            }
        }
        done.sort_unstable();
        for (r, end) in done {
            if self.matched(s, r) {
                continue;
            }
            let ep = self.ep(s);
            if !ep.pattern_matches.iter().any(|(q, _, _)| *q == r) {
                ep.pattern_matches.push((r, data.to_vec(), end.saturating_sub(pre)));
            }
            if !self.eval(r, s, false, data) {
                continue;
            }
            let eom = end.saturating_sub(pre);
            self.exec_actions(r, s, data, eom, false);
        }
    }

    fn eval(&mut self, r: u32, s: usize, eos: bool, data: &[u8]) -> bool {
        let set = self.set;
        for pc in &set.preconds[r as usize] {
            let ps = if pc.reverse { 1 - s } else { s };
            if pc.reverse && !self.has(ps) {
                return false;
            }
            let m = self.matched(ps, pc.rule);
            if !pc.negate {
                if !m {
                    return false;
                }
            } else if !eos || m {
                return false;
            }
        }
        let is_orig = s == 0;
        let f = self.facts;
        let ps = self.cs.eps[s].as_ref().map_or(-1, |e| e.payload_size);
        let rule = set.rule(r);
        let out = &mut *self.out;
        rule.conds.iter().all(|c| match c {
            Cond::TcpState(bits) => f.tcp && state_ok(*bits, is_orig, f.established),
            Cond::UdpState(bits) => f.udp && state_ok(*bits, is_orig, true),
            Cond::PayloadSize(cmp, n) => ps > 0 && cmp_u32(*cmp, ps as u32, *n),
            Cond::SameIp => f.same_ip,
            Cond::IpOptions => false,
            Cond::Eval(func) => out.eval(func, &rule.id, is_orig, ps.max(0) as u64, data),
        })
    }

    fn exec_actions(&mut self, r: u32, s: usize, data: &[u8], eom: u64, eos: bool) {
        if self.matched(1 - s, r) {
            return;
        }
        let ep = self.ep(s);
        ep.matched.push(r);
        let payload_size = ep.payload_size.max(0) as u64;
        self.out.fired(Fired { rule: r, is_orig: s == 0, data: data.to_vec(), end_of_match: eom, payload_size });
        for &dep in &self.set.dependents[r as usize] {
            self.exec_rule(dep, s, eos);
            if self.has(1 - s) {
                self.exec_rule(dep, 1 - s, eos);
            }
        }
    }

    fn exec_rule(&mut self, r: u32, s: usize, eos: bool) {
        if self.matched(s, r) {
            return;
        }
        let set = self.set;
        let ep = self.ep(s);
        if !ep.hdr_ok.contains(&set.rule_hdr[r as usize]) {
            return;
        }
        if set.rule_patterns[r as usize].is_empty() {
            self.exec_purely(r, None, s, eos);
        } else if let Some((_, d, _)) = ep.pattern_matches.iter().find(|(q, _, _)| *q == r) {
            let d = d.clone();
            self.exec_purely(r, Some(&d), s, eos);
        }
    }

    fn exec_purely(&mut self, r: u32, data: Option<&[u8]>, s: usize, eos: bool) -> bool {
        if self.matched(s, r) {
            return false;
        }
        if self.eval(r, s, eos, data.unwrap_or(&[])) {
            let eom = if data.is_some() {
                self.cs.eps[s].as_ref().and_then(|e| e.pattern_matches.iter().find(|(q, _, _)| *q == r)).map_or(0, |m| m.2)
            } else {
                0
            };
            self.exec_actions(r, s, data.unwrap_or(&[]), eom, eos);
            return true;
        }
        false
    }

    fn exec_pure_rules(&mut self, s: usize, eos: bool) {
        let set = self.set;
        let pure: Vec<u32> = self.ep(s).hdr_ok.iter().flat_map(|&h| set.pure_rules[h as usize].iter().copied()).collect();
        for r in pure {
            self.exec_purely(r, None, s, eos);
        }
    }
}

/// Whether every pattern of rule `r` has matched within its depth on this
/// side; if so, the latest end among them.
fn all_patterns_matched(set: &RuleSet, ep: &Endpoint, r: u32) -> Option<u64> {
    let mut end = 0;
    for (i, &(g, p)) in set.rule_patterns[r as usize].iter().enumerate() {
        let st = &ep.streams.iter().find(|(q, _)| *q == g)?.1;
        let e = st.matched(p)?;
        if e > set.rule(r).patterns[i].depth as u64 {
            return None;
        }
        end = end.max(e);
    }
    Some(end)
}

fn state_ok(bits: u8, is_orig: bool, established: bool) -> bool {
    if bits & STATE_STATELESS != 0 {
        return true;
    }
    if bits & STATE_ORIG != 0 && !is_orig {
        return false;
    }
    if bits & STATE_RESP != 0 && is_orig {
        return false;
    }
    bits & STATE_ESTABLISHED == 0 || established
}

fn cmp_u32(c: Cmp, a: u32, b: u32) -> bool {
    c.holds(a, b)
}
