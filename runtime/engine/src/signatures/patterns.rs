//! The content patterns of one group (the signatures of one pattern type
//! and one set of header conditions) compiled into a single lazy DFA over
//! bytes (regex-automata's hybrid DFA, Unicode off, `.` matching a newline,
//! every pattern implicitly anchored at the start). A [`Stream`] steps it
//! across the chunks of one endpoint's data and collects which patterns
//! have matched and where their first match ended.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::nfa::thompson;
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};

/// Lazy-DFA cache bytes per group.
const CACHE_BYTES: usize = 4 << 20;
/// Bytes of a stream kept to rebuild its state after the shared cache was
/// cleared; a longer stream whose state is lost stops matching.
const REPLAY_CAP: usize = 64 << 10;

/// A compiled group of patterns.
#[derive(Clone, Debug)]
pub struct Group {
    dfa: DFA,
}

/// The group's cache of DFA states, shared by all streams of one worker.
#[derive(Clone, Debug)]
pub struct GroupCache {
    cache: Cache,
}

/// One endpoint's progress through a group's DFA.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Current state (None before the first byte).
    sid: Option<LazyStateID>,
    /// The cache's clear count `sid` belongs to.
    clears: usize,
    /// Bytes consumed since the start (or the last reset).
    pos: u64,
    /// No pattern can match any more.
    dead: bool,
    /// The bytes consumed, up to [`REPLAY_CAP`], to rebuild `sid`.
    seen: Vec<u8>,
    /// (pattern index in the group, end of its first match), in match order.
    pub accepted: Vec<(u32, u64)>,
}

impl Stream {
    /// Starts over at the beginning (a new datagram), forgetting what matched.
    pub fn reset(&mut self) {
        *self = Stream::default();
    }

    /// Starts over at the beginning of new data, keeping what matched.
    pub fn restart(&mut self) {
        let accepted = std::mem::take(&mut self.accepted);
        *self = Stream { accepted, ..Stream::default() };
    }

    /// The end of pattern `p`'s first match, if it matched.
    pub fn matched(&self, p: u32) -> Option<u64> {
        self.accepted.iter().find(|(q, _)| *q == p).map(|(_, e)| *e)
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }
}

impl Group {
    /// Compiles regex-syntax patterns (already translated from Zeek's syntax).
    pub fn build(patterns: &[String]) -> Result<Group, String> {
        let dfa = DFA::builder()
            .configure(DFA::config().match_kind(MatchKind::All).cache_capacity(CACHE_BYTES).skip_cache_capacity_check(true))
            .syntax(regex_automata::util::syntax::Config::new().unicode(false).utf8(false).dot_matches_new_line(true))
            .thompson(thompson::Config::new().utf8(false).which_captures(thompson::WhichCaptures::None))
            .build_many(patterns)
            .map_err(|e| e.to_string())?;
        Ok(Group { dfa })
    }

    /// A fresh cache for this group.
    pub fn cache(&self) -> GroupCache {
        GroupCache { cache: self.dfa.create_cache() }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.dfa.pattern_len()
    }

    /// Whether the group has no pattern.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Feeds the next chunk of the stream; returns whether a pattern matched
    /// for the first time.
    pub fn feed(&self, gc: &mut GroupCache, st: &mut Stream, data: &[u8]) -> bool {
        if st.dead {
            return false;
        }
        let cache = &mut gc.cache;
        let before = st.accepted.len();
        let mut sid = match st.sid {
            Some(sid) if st.clears == cache.clear_count() => sid,
            Some(_) if st.seen.len() as u64 != st.pos => {
                tracing::debug!("signature stream state lost after {} bytes", st.pos);
                st.dead = true;
                return false;
            }
            stale => {
                let Ok(mut sid) = self.dfa.start_state(cache, &start::Config::new().anchored(Anchored::Yes)) else {
                    st.dead = true;
                    return false;
                };
                if stale.is_some() {
                    // Rebuild the state from the bytes seen (matches are known already).
                    for &b in &st.seen {
                        match self.dfa.next_state(cache, sid, b) {
                            Ok(s) if !s.is_dead() && !s.is_quit() => sid = s,
                            _ => {
                                st.dead = true;
                                return false;
                            }
                        }
                    }
                }
                sid
            }
        };
        for &b in data {
            sid = match self.dfa.next_state(cache, sid, b) {
                Ok(s) => s,
                Err(_) => {
                    st.dead = true;
                    break;
                }
            };
            if sid.is_match() {
                self.record(cache, sid, st.pos, st);
            }
            if sid.is_dead() || sid.is_quit() {
                st.dead = true;
                break;
            }
            st.pos += 1;
            if st.seen.len() < REPLAY_CAP {
                st.seen.push(b);
            }
        }
        if !st.dead {
            st.clears = cache.clear_count();
            st.sid = Some(sid);
            // A match that ends with the chunk shows only at its end.
            match self.dfa.next_eoi_state(cache, sid) {
                Ok(eoi) if eoi.is_match() => self.record(cache, eoi, st.pos, st),
                _ => {}
            }
            if cache.clear_count() != st.clears {
                st.clears = usize::MAX;
            }
        }
        st.accepted.len() > before
    }

    fn record(&self, cache: &Cache, sid: LazyStateID, end: u64, st: &mut Stream) {
        for i in 0..self.dfa.match_len(cache, sid) {
            let p = self.dfa.match_pattern(cache, sid, i).as_u32();
            if st.matched(p).is_none() {
                st.accepted.push((p, end));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(ps: &[&str]) -> (Group, GroupCache) {
        let g = Group::build(&ps.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap();
        let c = g.cache();
        (g, c)
    }

    #[test]
    fn anchored_patterns_across_chunks() {
        let (g, mut c) = group(&["abc", ".*xyz", "b"]);
        let mut st = Stream::default();
        assert!(!g.feed(&mut c, &mut st, b"a"));
        assert!(g.feed(&mut c, &mut st, b"bc"), "abc spans two chunks");
        assert_eq!(st.accepted, [(0, 3)]);
        assert!(g.feed(&mut c, &mut st, b"\n\nxyz"), ". matches a newline");
        assert_eq!(st.matched(1), Some(8));
        assert_eq!(st.matched(2), None, "b is anchored at the start");
        st.reset();
        assert!(g.feed(&mut c, &mut st, b"b"));
        assert_eq!(st.accepted, [(2, 1)]);
    }

    #[test]
    fn a_dead_stream_stops_and_empty_patterns_match_at_once() {
        let (g, mut c) = group(&["ab", "(|x)"]);
        let mut st = Stream::default();
        assert!(g.feed(&mut c, &mut st, b""));
        assert_eq!(st.accepted, [(1, 0)]);
        assert!(!g.feed(&mut c, &mut st, b"zz"));
        assert!(!g.feed(&mut c, &mut st, b"ab"));
        assert_eq!(st.matched(0), None);
    }

    #[test]
    fn case_insensitive_and_bytes() {
        let (g, mut c) = group(&["(?i:get )", "\\xff\\x00"]);
        let mut st = Stream::default();
        assert!(g.feed(&mut c, &mut st, b"GeT /"));
        let mut st2 = Stream::default();
        assert!(g.feed(&mut c, &mut st2, &[0xff, 0, 1]));
        assert_eq!(st2.accepted, [(1, 2)]);
    }

    #[test]
    fn a_cleared_cache_is_survived() {
        let (g, mut c) = group(&[".*abc"]);
        let mut st = Stream::default();
        g.feed(&mut c, &mut st, b"xxab");
        // Another stream clears the cache.
        c.cache.reset(&g.dfa);
        c.cache = g.dfa.create_cache();
        let mut other = g.cache();
        std::mem::swap(&mut other, &mut c);
        c.cache.reset(&g.dfa);
        st.clears = usize::MAX - 1;
        assert!(g.feed(&mut c, &mut st, b"c"), "the state is rebuilt from the bytes seen");
        assert_eq!(st.matched(0), Some(5));
    }
}
