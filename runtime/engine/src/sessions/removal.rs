//! The end of connections: timers run on network time (inactivity, TCP
//! expiry and attempts, deletion, status updates), removal with its final
//! events, and the end of input.

use super::conn::ProtoState;
use super::timers::{self, TimerKind, TimerQueue};
use super::{tcp, Sessions, TIMER_SLACK};
use crate::events::{Event, EventKind, EventQueue};
use std::hash::BuildHasher;

impl Sessions {
    /// Runs the timers due at or before `now`, at most `max_timer_expires` of them.
    pub fn advance(&mut self, now: f64, q: &mut EventQueue) {
        // Network time only goes back at the start of the input (see
        // `crate::clock`), before anything is due.
        self.now = now;
        self.expire_tunnels(now);
        let max = self.cfg.max_timer_expires;
        let mut n = 0;
        while max == 0 || n < max {
            let Some(tm) = self.timers.pop_due(now) else { break };
            n += 1;
            self.fire(tm, now, q);
        }
        self.files.expire(q, now);
    }

    pub(super) fn fire(&mut self, tm: timers::Timer, t: f64, q: &mut EventQueue) {
        let Some(c) = self.slots.get(tm.slot as usize).and_then(|c| c.as_ref()) else { return };
        if c.timer_gen != tm.generation {
            return;
        }
        match tm.kind() {
            TimerKind::Inactivity => {
                if c.inactivity_timeout <= 0.0 {
                    return;
                }
                if c.last_time + c.inactivity_timeout <= t {
                    self.timeout_and_remove(tm.slot, q);
                } else {
                    let due = c.last_time + c.inactivity_timeout;
                    self.timers.add(due, tm.slot, tm.generation, TimerKind::Inactivity);
                }
            }
            TimerKind::TcpExpire => match tcp::expire_check(c, t, &self.cfg) {
                tcp::ExpireDecision::Remove => self.timeout_and_remove(tm.slot, q),
                tcp::ExpireDecision::Reschedule => {
                    self.timers.add(t + self.cfg.tcp_session_timer, tm.slot, tm.generation, TimerKind::TcpExpire)
                }
            },
            TimerKind::TcpAttempt => {
                if c.is_active && tcp::attempt_failed(c) {
                    self.remove(tm.slot, q);
                }
            }
            TimerKind::ConnDelete => {
                if c.is_active {
                    self.timeout_and_remove(tm.slot, q);
                } else {
                    self.remove(tm.slot, q);
                }
            }
            TimerKind::TcpDelete => self.remove(tm.slot, q),
            TimerKind::DnsExpire => {
                // The analyzer's timer goes with it.
                let dns = c.extra.as_ref().and_then(|x| x.analyzers.status(crate::analyzers::Tag::Dns));
                if dns.is_none_or(|s| s.disabled) {
                    return;
                }
                let timeout = self.cfg.dns_session_timeout;
                // A second of slack spares a second timer for the usual
                // request and reply.
                if t - c.last_time >= timeout - 1.0 {
                    self.timeout_and_remove(tm.slot, q);
                } else {
                    self.timers.add(t + timeout, tm.slot, tm.generation, TimerKind::DnsExpire);
                }
            }
            TimerKind::StatusUpdate => {
                if q.wants(EventKind::ConnectionStatusUpdate) {
                    q.push(Event::ConnectionStatusUpdate { c: Box::new(c.snapshot()) });
                }
                let iv = self.cfg.connection_status_update_interval;
                if iv > 0.0 {
                    self.timers.add(t + iv, tm.slot, tm.generation, TimerKind::StatusUpdate);
                }
            }
        }
    }

    /// Schedules the DNS analyzer's idle check of the UDP connection in
    /// `slot` when it has a DNS analyzer (Zeek's analyzer starts it when made).
    pub(super) fn dns_timer(&mut self, slot: u32, now: f64) {
        let Some(c) = self.conn(slot) else { return };
        let has_dns = c.extra.as_ref().and_then(|x| x.analyzers.status(crate::analyzers::Tag::Dns)).is_some();
        if c.proto == 17 && has_dns {
            let generation = c.timer_gen;
            self.timers.add(now + self.cfg.dns_session_timeout, slot, generation, TimerKind::DnsExpire);
        }
    }

    pub(super) fn timeout_and_remove(&mut self, slot: u32, q: &mut EventQueue) {
        if q.wants(EventKind::ConnectionTimeout) {
            if let Some(c) = self.conn(slot) {
                q.push(Event::ConnectionTimeout { c: Box::new(c.snapshot()) });
            }
        }
        self.remove(slot, q);
    }

    /// Removes a connection, ending its analyzers' data first, and raising
    /// `udp_session_done` (by the registry, for the responder port at
    /// removal), `conn_stats` (TCP) and `connection_state_remove`.
    pub fn remove(&mut self, slot: u32, q: &mut EventQueue) {
        self.end_of_data(slot, q);
        self.sig_finish(slot, q);
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.take()) else { return };
        if c.proto == 17 && self.registry.udp_session_done(c.resp.1) && q.wants(EventKind::UdpSessionDone) {
            q.push(Event::UdpSessionDone { u: Box::new(c.snapshot()) });
        }
        if let (ProtoState::Tcp(t), true) = (&c.state, q.wants(EventKind::ConnStats)) {
            q.push(Event::ConnStats { c: Box::new(c.snapshot()), os: Box::new(t.orig.stats_record()), rs: Box::new(t.resp.stats_record()) });
        }
        if q.wants(EventKind::ConnectionStateRemove) {
            q.push(Event::ConnectionStateRemove { c: Box::new(c.snapshot()) });
        }
        if let Ok(e) = self.table.find_entry(self.hasher.hash_one(c.key(self.cfg.vlan_conn_key)), |&s| s == slot) {
            e.remove();
        }
        self.free.push(slot);
    }

    /// End of input: unanswered SYNs are settled, then every remaining
    /// connection is removed, oldest first.
    pub fn finish(&mut self, q: &mut EventQueue) {
        // No timer fires any more: free the queue before the list is made.
        self.timers = TimerQueue::default();
        let mut live: Vec<u32> =
            self.slots.iter().enumerate().filter_map(|(i, c)| c.as_ref().map(|_| i as u32)).collect();
        // Slots break ties, so an unstable sort (no buffer) gives the same order.
        live.sort_unstable_by(|a, b| {
            let (ca, cb) = (self.conn(*a).unwrap(), self.conn(*b).unwrap());
            ca.start_time.total_cmp(&cb.start_time).then(a.cmp(b))
        });
        for slot in live {
            self.remove(slot, q);
        }
        self.files.terminate(q, self.now);
    }

    /// Drops the timers of removed connections once they outnumber the live
    /// ones by far: they would only be skipped when due, but a flood of short
    /// connections (or evictions under the table cap) would otherwise grow the
    /// queue with the arrival rate times the timeouts instead of with the
    /// table. Amortized: the next compaction waits for the queue to double.
    pub(super) fn compact_timers(&mut self) {
        if self.timers.len() <= self.compact_timers_at {
            return;
        }
        let slots = &self.slots;
        self.timers.retain(|t| slots.get(t.slot as usize).and_then(|c| c.as_ref()).is_some_and(|c| c.timer_gen == t.generation));
        self.compact_timers_at = (2 * self.timers.len()).max(4 * self.table.len() + TIMER_SLACK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::decode::L2Info;
    use crate::sessions::conn::Conn;
    use crate::sessions::key::ConnKey;
    use std::net::IpAddr;

    /// Tracks a UDP connection from port `port` started at 0 with an
    /// inactivity timeout of 10 and its timer.
    fn tracked(s: &mut Sessions, port: u16) -> u32 {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let key = ConnKey::new((a, port), (b, 9), 17, false);
        let mut c = Conn::new(key, (a, port), (b, 9), 17, s.uids.next_words(), 0.0, &L2Info::default(), &[], 0);
        c.inactivity_timeout = 10.0;
        c.timer_gen = s.fresh_timer_gen();
        let generation = c.timer_gen;
        let slot = s.insert(c);
        s.timers.add(10.0, slot, generation, TimerKind::Inactivity);
        slot
    }

    #[test]
    fn inactivity_removes_an_idle_connection_and_waits_for_an_active_one() {
        let mut s = Sessions::new(Config::default());
        let mut q = EventQueue::default();
        let idle = tracked(&mut s, 1001);
        let active = tracked(&mut s, 1002);
        s.slots[active as usize].as_mut().unwrap().last_time = 6.0;
        s.advance(9.9, &mut q);
        assert_eq!(s.len(), 2, "nothing due yet");
        s.advance(10.0, &mut q);
        assert!(s.conn(idle).is_none());
        assert!(s.conn(active).is_some(), "active since: the check moves to 16");
        s.advance(15.9, &mut q);
        assert!(s.conn(active).is_some());
        s.advance(16.0, &mut q);
        assert!(s.is_empty());
    }

    #[test]
    fn a_cancelled_timer_does_nothing_and_finish_removes_everything() {
        let mut s = Sessions::new(Config::default());
        let mut q = EventQueue::default();
        let slot = tracked(&mut s, 1001);
        tracked(&mut s, 1002);
        s.slots[slot as usize].as_mut().unwrap().timer_gen = s.fresh_timer_gen();
        s.advance(100.0, &mut q);
        assert!(s.conn(slot).is_some(), "its timer was cancelled");
        assert_eq!(s.len(), 1);
        s.finish(&mut q);
        assert!(s.is_empty());
        assert_eq!(s.pending_timers(), 0);
    }
}
