//! What handlers ask of the analyzers (the `analyzers` host interface):
//! stopping an analyzer instance on a connection, and scheduling an
//! analyzer for a connection that is expected (Zeek's
//! `Analyzer::schedule_analyzer`). The sandbox collects the requests while
//! handlers run; the pipeline hands them to the engine after each drain.
//!
//! [`Scheduled`] keeps the expected connections as Zeek's analyzer manager
//! does: keyed by originator address (or any), responder address, responder
//! port and transport; an entry is not used up by a match; scheduling the
//! same analyzer again only extends its time; expired entries are dropped
//! when a later schedule call looks (oldest first), and until then only the
//! any-originator entries check their time at a match.

use super::registry::{Tag, Transport};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

/// One request of a handler.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Stop analyzer instance `aid` on connection `uid`.
    Disable {
        /// The connection's uid.
        uid: String,
        /// The analyzer instance.
        aid: u64,
    },
    /// Expect a connection and give it `tag` at creation.
    Schedule {
        /// The originator, `None` for any.
        orig: Option<IpAddr>,
        /// The responder.
        resp: IpAddr,
        /// The responder port.
        resp_p: u16,
        /// The connection's transport.
        transport: Transport,
        /// The analyzer to attach.
        tag: Tag,
        /// Seconds of network time the entry lasts.
        timeout: f64,
    },
}

/// Expected connections kept at once; a schedule call past it is refused.
pub const MAX_SCHEDULED: usize = 100_000;

/// The tag a handler names: Zeek's name in any case, with or without the
/// `ANALYZER_` / `Analyzer::ANALYZER_` prefix of its enum.
pub fn tag_named(name: &str) -> Option<Tag> {
    let n = name.strip_prefix("Analyzer::").unwrap_or(name);
    Tag::from_name(n.strip_prefix("ANALYZER_").unwrap_or(n))
}

/// The originator of a schedule call: `None` (any) for `0.0.0.0` and `::`.
pub fn scheduled_orig(a: IpAddr) -> Option<IpAddr> {
    (!a.is_unspecified()).then_some(a)
}

/// Key of an expected connection.
type Key = (Option<IpAddr>, IpAddr, u16, Transport);

#[derive(Clone, Debug)]
struct Entry {
    tag: Tag,
    /// When it expires.
    timeout: f64,
}

/// Expected connections and the analyzers scheduled for them.
#[derive(Clone, Debug, Default)]
pub struct Scheduled {
    entries: HashMap<Key, Vec<Entry>>,
    /// Expiry checks, earliest first.
    queue: BinaryHeap<Reverse<Check>>,
    seq: u64,
    len: usize,
}

/// A queued expiry check: when, and which entry; ordered by time, then
/// insertion (timeouts are checked positive and finite, never NaN).
#[derive(Clone, Copy, Debug)]
struct Check {
    at: f64,
    seq: u64,
    key: Key,
    tag: Tag,
}

impl PartialEq for Check {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Check {}
impl PartialOrd for Check {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Check {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.at.total_cmp(&o.at).then(self.seq.cmp(&o.seq))
    }
}

impl Scheduled {
    /// Schedules `tag` at network time `now` for `timeout` seconds; false
    /// (nothing scheduled) when the table already holds `cap` entries or
    /// the timeout is not a positive number.
    pub fn schedule(&mut self, now: f64, key: (Option<IpAddr>, IpAddr, u16, Transport), tag: Tag, timeout: f64, cap: usize) -> bool {
        if !(timeout > 0.0 && timeout.is_finite()) {
            return false;
        }
        self.expire(now);
        let until = now + timeout;
        let list = self.entries.entry(key).or_default();
        if let Some(e) = list.iter_mut().find(|e| e.tag == tag) {
            e.timeout = e.timeout.max(until);
            return true;
        }
        if self.len >= cap {
            if list.is_empty() {
                self.entries.remove(&key);
            }
            return false;
        }
        list.push(Entry { tag, timeout: until });
        self.len += 1;
        self.seq += 1;
        self.queue.push(Reverse(Check { at: until, seq: self.seq, key, tag }));
        true
    }

    /// Drops the entries expired by `now`, oldest first; one whose time was
    /// extended goes back in line.
    fn expire(&mut self, now: f64) {
        while let Some(&Reverse(Check { at, key, tag, .. })) = self.queue.peek() {
            if at > now {
                return;
            }
            self.queue.pop();
            let Some(list) = self.entries.get_mut(&key) else { continue };
            let Some(i) = list.iter().position(|e| e.tag == tag) else { continue };
            if list[i].timeout > now {
                self.seq += 1;
                self.queue.push(Reverse(Check { at: list[i].timeout, seq: self.seq, key, tag }));
                continue;
            }
            list.swap_remove(i);
            self.len -= 1;
            if list.is_empty() {
                self.entries.remove(&key);
            }
        }
    }

    /// The analyzers scheduled for a new connection from `orig` to
    /// `resp`:`resp_p` at network time `now`, in scheduling order, each once:
    /// those for this originator, then the unexpired ones for any.
    pub fn lookup(&self, now: f64, orig: IpAddr, resp: IpAddr, resp_p: u16, transport: Transport) -> Vec<Tag> {
        let mut tags = Vec::new();
        if self.len == 0 {
            return tags;
        }
        for e in self.entries.get(&(Some(orig), resp, resp_p, transport)).into_iter().flatten() {
            if !tags.contains(&e.tag) {
                tags.push(e.tag);
            }
        }
        for e in self.entries.get(&(None, resp, resp_p, transport)).into_iter().flatten() {
            if e.timeout > now && !tags.contains(&e.tag) {
                tags.push(e.tag);
            }
        }
        tags
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tags_by_name() {
        assert_eq!(tag_named("FTP"), Some(Tag::Ftp));
        assert_eq!(tag_named("Analyzer::ANALYZER_NTP"), Some(Tag::Ntp));
        assert_eq!(tag_named("ANALYZER_dns"), Some(Tag::Dns));
        assert_eq!(tag_named("NOPE"), None);
    }

    #[test]
    fn unspecified_originators_are_wildcards() {
        assert_eq!(scheduled_orig(a("0.0.0.0")), None);
        assert_eq!(scheduled_orig(a("::")), None);
        assert_eq!(scheduled_orig(a("10.0.0.1")), Some(a("10.0.0.1")));
    }

    #[test]
    fn exact_and_wildcard_entries_match_and_are_not_used_up() {
        let mut s = Scheduled::default();
        let (o, r) = (a("10.0.0.1"), a("10.0.0.2"));
        assert!(s.schedule(100.0, (Some(o), r, 2000, Transport::Tcp), Tag::Ftp, 10.0, 100));
        assert!(s.schedule(100.0, (None, r, 2000, Transport::Tcp), Tag::Ntp, 10.0, 100));
        assert_eq!(s.lookup(101.0, o, r, 2000, Transport::Tcp), [Tag::Ftp, Tag::Ntp]);
        assert_eq!(s.lookup(101.0, o, r, 2000, Transport::Tcp), [Tag::Ftp, Tag::Ntp], "not used up");
        assert_eq!(s.lookup(101.0, a("10.0.0.9"), r, 2000, Transport::Tcp), [Tag::Ntp], "any originator");
        assert!(s.lookup(101.0, o, r, 2000, Transport::Udp).is_empty(), "other transport");
        assert!(s.lookup(101.0, o, r, 2001, Transport::Tcp).is_empty(), "other port");
        // Past the timeout only the exact entry still matches (until a schedule call expires it).
        assert_eq!(s.lookup(111.0, o, r, 2000, Transport::Tcp), [Tag::Ftp]);
        assert!(s.schedule(111.0, (None, a("10.0.0.3"), 1, Transport::Udp), Tag::Ntp, 1.0, 100));
        assert!(s.lookup(111.0, o, r, 2000, Transport::Tcp).is_empty());
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn scheduling_again_extends_the_time() {
        let mut s = Scheduled::default();
        let r = a("10.0.0.2");
        let key = (None, r, 53, Transport::Udp);
        assert!(s.schedule(100.0, key, Tag::Dns, 10.0, 100));
        assert!(s.schedule(105.0, key, Tag::Dns, 10.0, 100));
        assert_eq!(s.len(), 1, "one entry");
        assert!(s.schedule(112.0, (None, r, 54, Transport::Udp), Tag::Dns, 1.0, 100), "expiry runs");
        assert_eq!(s.lookup(112.0, a("1.2.3.4"), r, 53, Transport::Udp), [Tag::Dns], "extended to 115");
        assert!(s.lookup(115.0, a("1.2.3.4"), r, 53, Transport::Udp).is_empty());
        assert!(s.schedule(120.0, (None, r, 55, Transport::Udp), Tag::Dns, 1.0, 100));
        assert_eq!(s.len(), 1, "both old entries expired");
    }

    #[test]
    fn bad_timeouts_and_a_full_table_are_refused() {
        let mut s = Scheduled::default();
        let key = (None, a("10.0.0.2"), 53, Transport::Udp);
        assert!(!s.schedule(1.0, key, Tag::Dns, 0.0, 100));
        assert!(!s.schedule(1.0, key, Tag::Dns, f64::NAN, 100));
        assert!(!s.schedule(1.0, key, Tag::Dns, f64::INFINITY, 100));
        assert!(s.schedule(1.0, key, Tag::Dns, 5.0, 1));
        assert!(!s.schedule(1.0, (None, a("10.0.0.2"), 54, Transport::Udp), Tag::Dns, 5.0, 1), "full");
        assert!(s.schedule(1.0, key, Tag::Dns, 9.0, 1), "extending needs no room");
        assert!(!s.is_empty() && s.len() == 1);
    }
}
