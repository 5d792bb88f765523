//! Session timers on network time: one priority queue ordered by due time
//! (Zeek's `TimerMgr`). Timers are never cancelled in place: each carries
//! the connection's generation and is ignored when the slot moved on.
//!
//! The queue is split by the whole second a timer is due in: a small heap
//! per second, the seconds in a map. The order is the same as one heap's
//! (every timer of an earlier second is due earlier), but a pop sifts
//! through a heap of one second's timers that stays in cache instead of
//! one over every pending timer (hundreds of thousands at 100 k
//! connections, each TCP one rescheduling its expire check every
//! `tcp_session_timer`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TimerKind {
    /// Protocol inactivity timeout (`Session::InactivityTimer`).
    Inactivity,
    /// TCP linger/expire check (`TCPSessionAdapter::ExpireTimer`).
    TcpExpire,
    /// Unanswered SYN (`TCPSessionAdapter::AttemptTimer`).
    TcpAttempt,
    /// Removal after a complete close, with `connection_timeout` (`ConnDeleteTimer`).
    ConnDelete,
    /// Removal after a complete close without an event (`tcp_close_delay` = 0).
    TcpDelete,
    /// `connection_status_update`.
    StatusUpdate,
    /// A UDP DNS connection's idle check (`DNS_Analyzer::ExpireTimer`).
    DnsExpire,
}

impl TimerKind {
    const ALL: [TimerKind; 7] = [
        TimerKind::Inactivity,
        TimerKind::TcpExpire,
        TimerKind::TcpAttempt,
        TimerKind::ConnDelete,
        TimerKind::TcpDelete,
        TimerKind::StatusUpdate,
        TimerKind::DnsExpire,
    ];
}

/// A scheduled timer.
#[derive(Clone, Copy, Debug)]
pub struct Timer {
    /// Due time (network time).
    pub due: f64,
    /// Insertion order (to keep ties FIFO) shifted left by 3, with the
    /// kind in the low bits: 24 bytes a timer instead of 32.
    order: u64,
    /// Connection slot.
    pub slot: u32,
    /// Generation of the connection in that slot.
    pub generation: u32,
}

impl Timer {
    /// Action.
    pub fn kind(&self) -> TimerKind {
        TimerKind::ALL[(self.order & 7) as usize]
    }
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.due.total_cmp(&self.due).then_with(|| other.order.cmp(&self.order))
    }
}

/// Emptied heaps kept for reuse (their allocations), at most, and the most
/// timers a kept one keeps room for (a busy second's heap is not kept whole).
const SPARE_HEAPS: usize = 64;
const SPARE_CAPACITY: usize = 1024;

/// The timer queue.
#[derive(Default)]
pub struct TimerQueue {
    /// Pending timers by the second they are due in; no heap here is empty.
    seconds: BTreeMap<i64, BinaryHeap<Timer>>,
    /// Emptied heaps, for the next new second.
    spare: Vec<BinaryHeap<Timer>>,
    len: usize,
    seq: u64,
}

/// The second a due time falls in, in the order of `f64::total_cmp` (a NaN
/// goes last).
fn second(due: f64) -> i64 {
    if due.is_nan() {
        i64::MAX
    } else {
        // `as` saturates at the ends, which keeps the order.
        due.floor() as i64
    }
}

impl TimerQueue {
    /// Schedules `kind` for the connection in `slot`/`generation` at `due`.
    pub fn add(&mut self, due: f64, slot: u32, generation: u32, kind: TimerKind) {
        self.seq += 1;
        self.len += 1;
        let spare = &mut self.spare;
        let heap = self.seconds.entry(second(due)).or_insert_with(|| spare.pop().unwrap_or_default());
        heap.push(Timer { due, order: self.seq << 3 | kind as u64, slot, generation });
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: f64) -> Option<Timer> {
        let mut first = self.seconds.first_entry()?;
        if !first.get().peek().is_some_and(|t| t.due <= now) {
            return None;
        }
        let t = first.get_mut().pop();
        if first.get().is_empty() {
            let mut heap = first.remove();
            if self.spare.len() < SPARE_HEAPS {
                heap.shrink_to(SPARE_CAPACITY);
                self.spare.push(heap);
            }
        }
        self.len -= 1;
        t
    }

    /// Drops every timer for which `live` is false (the ones whose connection
    /// is gone or moved on), keeping the order of the others.
    pub fn retain(&mut self, mut live: impl FnMut(&Timer) -> bool) {
        self.seconds.retain(|_, heap| {
            heap.retain(&mut live);
            !heap.is_empty()
        });
        self.len = self.seconds.values().map(BinaryHeap::len).sum();
    }

    /// Number of pending timers (stale ones included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_ties_in_insertion_order() {
        let mut q = TimerQueue::default();
        q.add(5.0, 1, 0, TimerKind::Inactivity);
        q.add(1.0, 2, 0, TimerKind::TcpExpire);
        q.add(1.0, 3, 0, TimerKind::TcpAttempt);
        assert!(q.pop_due(0.5).is_none());
        assert_eq!(q.pop_due(10.0).unwrap().slot, 2);
        let t = q.pop_due(10.0).unwrap();
        assert_eq!((t.slot, t.kind()), (3, TimerKind::TcpAttempt));
        assert_eq!(q.pop_due(10.0).unwrap().slot, 1);
        assert!(q.pop_due(10.0).is_none());
    }

    /// The queue pops in exactly one heap's order (due time, then insertion)
    /// across seconds, fractions, negative times and ties, with timers added
    /// while others are popped (some due at once), and `retain` keeps it.
    #[test]
    fn split_by_second_pops_in_one_heaps_order() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut q = TimerQueue::default();
        let mut reference = BinaryHeap::new();
        let mut seq = 0u64;
        let mut add = |q: &mut TimerQueue, reference: &mut BinaryHeap<Timer>, due: f64, slot: u32| {
            q.add(due, slot, 0, TimerKind::Inactivity);
            seq += 1;
            reference.push(Timer { due, order: seq << 3, slot, generation: 0 });
        };
        let mut slot = 0;
        for _ in 0..2000 {
            slot += 1;
            // Eighths of a second: many ties.
            let due = (rnd() % 4000) as f64 / 8.0 - 100.0;
            add(&mut q, &mut reference, due, slot);
        }
        add(&mut q, &mut reference, -0.0, 0);
        add(&mut q, &mut reference, 0.0, 0);
        q.retain(|t| t.slot % 3 != 1);
        reference.retain(|t| t.slot % 3 != 1);
        assert_eq!(q.len(), reference.len());
        let mut now = -120.0;
        let mut popped = 0;
        while now < 600.0 {
            now += 7.25;
            loop {
                let want = reference.peek().filter(|t| t.due <= now).map(|t| (t.due.to_bits(), t.slot));
                let got = q.pop_due(now);
                assert_eq!(got.map(|t| (t.due.to_bits(), t.slot)), want, "at {now}");
                let Some(t) = got else { break };
                reference.pop();
                popped += 1;
                if t.slot % 5 == 0 {
                    slot += 1;
                    let due = t.due + (rnd() % 40) as f64 / 4.0 - 1.0;
                    add(&mut q, &mut reference, due, slot);
                }
            }
            assert_eq!(q.len(), reference.len());
        }
        assert!(popped > 1500 && q.is_empty(), "{popped} popped, {} left", q.len());
        assert!(second(-0.5) < second(0.0) && second(f64::NAN) == i64::MAX && second(f64::NEG_INFINITY) == i64::MIN);
    }
}
