//! Network time: how packet timestamps move it.
//!
//! Zeek's rule (`run_state::detail::dispatch_packet`): network time never
//! goes back. A packet older than network time is analysed with its own
//! timestamp, but timers and everything else keep the later time; Zeek
//! raises no weird for it (only `negative_packet_timestamp`, for a time
//! before 1970, in `PktSrc`).
//!
//! Zeek follows a jump forward at once, however far, so one packet dated
//! years ahead expires every timer and freezes network time there: every
//! later packet then opens a connection that times out at the next packet,
//! and windows counted in network time never close. weir adds a rule of
//! its own for that case: a packet more than
//! [`crate::Config::time_jump_threshold`] seconds ahead of network time is
//! analysed, but moves network time only once
//! [`crate::Config::time_jump_confirm_packets`] packets in a row lie that
//! far ahead (a trace that really resumes later, or merged captures). A
//! jump that is not confirmed (packets near network time come again, or the
//! input ends) raises the `network_time_jump_ignored` net weird, a weird of
//! weir's own; a confirmed one raises nothing, as in Zeek. The same holds
//! for the very first packets, which have no network time to be compared
//! with: while fewer than `time_jump_confirm_packets` packets have been
//! seen, a packet more than the threshold behind network time restarts it
//! there (nothing can be due yet between the two), so a stray packet from
//! the future at the start of a trace does not freeze time either.

/// What one packet's timestamp did to network time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Network time moved to the packet's time, or it already was there.
    Followed,
    /// The packet is older than network time, which stays.
    Backwards,
    /// The packet is far ahead; network time waits for confirmation.
    JumpHeld,
    /// Enough packets in a row confirmed a jump: network time followed it.
    JumpFollowed,
    /// One of the first packets lay far behind the ones before it: network
    /// time went back to it (they were strays from the future).
    Restarted,
}

/// Counters of the clock, for the operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockStats {
    /// Packets older than network time.
    pub backwards: u64,
    /// Packets that were far ahead and did not move network time.
    pub jump_held: u64,
    /// Jumps network time followed once confirmed.
    pub jumps_followed: u64,
}

/// Network time as the packets move it.
#[derive(Clone, Debug)]
pub struct NetworkClock {
    now: f64,
    threshold: f64,
    confirm: u32,
    /// Packets in a row lying beyond the threshold.
    pending: u32,
    /// Time of the first of them.
    pending_since: f64,
    /// A jump given up, not yet reported: (its first packet's time, packets held).
    ignored: Option<(f64, u32)>,
    /// Packets seen, counted up to `confirm` (the start is settled then).
    seen: u32,
    stats: ClockStats,
}

impl NetworkClock {
    /// A clock at 0 (no packet yet) with the jump rule's settings
    /// (`threshold` 0 turns it off).
    pub fn new(threshold: f64, confirm: u32) -> Self {
        NetworkClock {
            now: 0.0,
            threshold,
            confirm: confirm.max(1),
            pending: 0,
            pending_since: 0.0,
            ignored: None,
            seen: 0,
            stats: ClockStats::default(),
        }
    }

    /// The clock of `cfg`'s settings.
    pub fn for_config(cfg: &crate::Config) -> Self {
        NetworkClock::new(cfg.time_jump_threshold, cfg.time_jump_confirm_packets)
    }

    /// Current network time (0 before the first packet).
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Counters since the start.
    pub fn stats(&self) -> ClockStats {
        self.stats
    }

    /// A packet stamped `ts` (not negative) arrived.
    pub fn packet(&mut self, ts: f64) -> Step {
        if self.seen < self.confirm {
            self.seen += 1;
            if self.now > 0.0 && self.threshold > 0.0 && self.now - ts > self.threshold {
                self.ignored = Some((self.now, self.seen - 1));
                self.now = ts;
                self.pending = 0;
                return Step::Restarted;
            }
        }
        if self.pending > 0 && ts - self.now <= self.threshold {
            // Back near network time: the jump was a stray packet (or a few).
            self.give_up_jump();
        }
        if ts <= self.now {
            if ts < self.now {
                self.stats.backwards += 1;
                return Step::Backwards;
            }
            return Step::Followed;
        }
        if self.now == 0.0 || self.threshold <= 0.0 || ts - self.now <= self.threshold {
            self.now = ts;
            return Step::Followed;
        }
        if self.pending == 0 {
            self.pending_since = ts;
        }
        self.pending += 1;
        if self.pending >= self.confirm {
            self.pending = 0;
            self.now = ts;
            self.stats.jumps_followed += 1;
            return Step::JumpFollowed;
        }
        self.stats.jump_held += 1;
        Step::JumpHeld
    }

    fn give_up_jump(&mut self) {
        if self.pending > 0 {
            self.ignored = Some((self.pending_since, self.pending));
            self.pending = 0;
        }
    }

    /// A jump given up since the last call: the time of its first packet
    /// and how many packets it had.
    pub fn take_ignored_jump(&mut self) -> Option<(f64, u32)> {
        self.ignored.take()
    }

    /// End of input: a jump still waiting for confirmation is given up
    /// (see [`NetworkClock::take_ignored_jump`]).
    pub fn finish(&mut self) {
        self.give_up_jump();
    }

    /// Moves network time on to `t` without a packet (a quiet live source's
    /// wall clock, a worker told where the reader is); never back.
    pub fn advance_to(&mut self, t: f64) {
        if t > self.now {
            self.now = t;
            // Time got there without the packets (another reader saw the
            // confirmation): the jump waiting here is confirmed too.
            if self.pending > 0 && self.pending_since - t <= self.threshold {
                self.pending = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_back_and_jumps_wait_for_confirmation() {
        let mut c = NetworkClock::new(100.0, 3);
        assert_eq!(c.packet(1000.0), Step::Followed);
        assert_eq!(c.packet(999.0), Step::Backwards);
        assert_eq!(c.now(), 1000.0);
        assert_eq!(c.packet(1050.0), Step::Followed);
        assert_eq!(c.packet(9e9), Step::JumpHeld);
        assert_eq!(c.take_ignored_jump(), None);
        assert_eq!(c.packet(1051.0), Step::Followed, "back to normal: the jump is given up");
        assert_eq!(c.take_ignored_jump(), Some((9e9, 1)));
        assert_eq!(c.packet(5000.0), Step::JumpHeld);
        assert_eq!(c.packet(5001.0), Step::JumpHeld);
        assert_eq!(c.packet(5002.0), Step::JumpFollowed);
        assert_eq!(c.now(), 5002.0);
        assert_eq!(c.take_ignored_jump(), None, "a confirmed jump is not reported");
        assert_eq!(c.packet(9e9), Step::JumpHeld);
        c.advance_to(5003.0);
        c.finish();
        assert_eq!(c.take_ignored_jump(), Some((9e9, 1)), "unconfirmed at the end");
        c.packet(20_000.0);
        c.advance_to(19_990.0);
        c.finish();
        assert_eq!(c.take_ignored_jump(), None, "confirmed by the time another reader gave");
        let mut start = NetworkClock::new(100.0, 3);
        assert_eq!(start.packet(9e9), Step::Followed);
        assert_eq!(start.packet(1000.0), Step::Restarted, "a stray first packet from the future");
        assert_eq!((start.now(), start.take_ignored_jump()), (1000.0, Some((9e9, 1))));
        assert_eq!(start.packet(1001.0), Step::Followed);
        assert_eq!(start.packet(10.0), Step::Backwards, "the start is settled after three packets");
        assert_eq!(c.stats(), ClockStats { backwards: 1, jump_held: 5, jumps_followed: 1 });
        let mut off = NetworkClock::new(0.0, 3);
        off.packet(1.0);
        assert_eq!(off.packet(9e9), Step::Followed);
    }
}
