//! The connection table itself: connections live in slots, found through
//! a hash index over their keys; insertion reuses freed slots, and under
//! [`Config::max_connections`](crate::config::Config::max_connections) an
//! approximate least-recently-active connection makes room.

use super::conn::Conn;
use super::key::ConnKey;
use super::Sessions;
use crate::events::{Event, EventKind, EventQueue};
use std::hash::BuildHasher;

/// How many tracked connections an eviction compares (the least recently
/// active of them goes): an approximate LRU that needs no list per connection.
const EVICTION_SAMPLE: usize = 8;

impl Sessions {
    pub(super) fn insert(&mut self, c: Conn) -> u32 {
        let vlan_key = self.cfg.vlan_conn_key;
        let key = c.key(vlan_key);
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(c);
                s
            }
            None => {
                self.slots.push(Some(c));
                (self.slots.len() - 1) as u32
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        let rehash = |s: &u32| slots[*s as usize].as_ref().map_or(0, |c| hasher.hash_one(c.key(vlan_key)));
        self.table.insert_unique(hasher.hash_one(key), slot, rehash);
        slot
    }

    /// The slot of the connection with `key`, if tracked.
    pub(super) fn lookup(&self, key: &ConnKey) -> Option<u32> {
        let slots = &self.slots;
        let vlan_key = self.cfg.vlan_conn_key;
        let same = |s: &u32| slots[*s as usize].as_ref().is_some_and(|c| c.has_key(key, vlan_key));
        self.table.find(self.hasher.hash_one(key), same).copied()
    }

    /// Makes room under [`Config::max_connections`]: of the next
    /// [`EVICTION_SAMPLE`] tracked connections after the cursor, removes the
    /// one with the oldest last packet, as a removal at a timeout would
    /// (`conn_stats`, `connection_state_remove`), and raises the sampled
    /// `connection_table_full` net weird.
    pub(super) fn evict(&mut self, q: &mut EventQueue) {
        let n = self.slots.len();
        let mut oldest: Option<(f64, u32)> = None;
        let mut seen = 0;
        for step in 0..n {
            let i = (self.evict_cursor + step) % n;
            let Some(c) = &self.slots[i] else { continue };
            if oldest.is_none_or(|(t, _)| c.last_time < t) {
                oldest = Some((c.last_time, i as u32));
            }
            seen += 1;
            if seen == EVICTION_SAMPLE {
                self.evict_cursor = (i + 1) % n;
                break;
            }
        }
        let Some((_, slot)) = oldest else { return };
        self.evictions += 1;
        if q.wants(EventKind::NetWeird) && self.cfg.weird_sampling.permit(self.evictions) {
            let addl = format!("{} connections tracked", self.table.len());
            q.push(Event::NetWeird { name: "connection_table_full".into(), addl, source: String::new() });
        }
        self.remove(slot, q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::decode::L2Info;
    use std::net::IpAddr;

    /// A UDP connection from 10.0.0.1:`port` to 10.0.0.2:9 last active at `t`.
    fn conn(s: &mut Sessions, port: u16, t: f64) -> (ConnKey, Conn) {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let key = ConnKey::new((a, port), (b, 9), 17, false);
        let c = Conn::new(key, (a, port), (b, 9), 17, s.uids.next_words(), t, &L2Info::default(), &[], 0);
        (key, c)
    }

    #[test]
    fn inserted_connections_are_found_by_key_and_slots_reused() {
        let mut s = Sessions::new(Config::default());
        let (k1, c1) = conn(&mut s, 1001, 0.0);
        let (k2, c2) = conn(&mut s, 1002, 0.0);
        let (s1, s2) = (s.insert(c1), s.insert(c2));
        assert_ne!(s1, s2);
        assert_eq!(s.lookup(&k1), Some(s1));
        assert_eq!(s.lookup(&k2), Some(s2));
        assert_eq!(s.len(), 2);
        s.remove(s1, &mut EventQueue::default());
        assert_eq!(s.lookup(&k1), None);
        assert_eq!(s.lookup(&k2), Some(s2), "the other stays findable");
        let (k3, c3) = conn(&mut s, 1003, 0.0);
        assert_eq!(s.insert(c3), s1, "the freed slot is reused");
        assert_eq!(s.lookup(&k3), Some(s1));
        assert_eq!(s.lookup(&k1), None);
    }

    #[test]
    fn eviction_takes_the_least_recently_active_of_a_sample() {
        let mut s = Sessions::new(Config::default());
        let mut slots = Vec::new();
        for (i, t) in [5.0, 1.0, 3.0].into_iter().enumerate() {
            let (_, c) = conn(&mut s, 2000 + i as u16, t);
            slots.push(s.insert(c));
        }
        let mut q = EventQueue::default();
        s.evict(&mut q);
        assert!(s.conn(slots[1]).is_none(), "the one idle longest goes");
        assert_eq!(s.len(), 2);
        assert_eq!(s.evictions(), 1);
        s.evict(&mut q);
        assert!(s.conn(slots[2]).is_none());
        assert!(s.conn(slots[0]).is_some());
    }
}
