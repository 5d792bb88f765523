//! Session timers on network time: one priority queue ordered by due time
//! (Zeek's `TimerMgr`). Timers are never cancelled in place: each carries
//! the connection's generation and is ignored when the slot moved on.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

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

/// The timer queue.
#[derive(Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Timer>,
    seq: u64,
}

impl TimerQueue {
    /// Schedules `kind` for the connection in `slot`/`generation` at `due`.
    pub fn add(&mut self, due: f64, slot: u32, generation: u32, kind: TimerKind) {
        self.seq += 1;
        self.heap.push(Timer { due, order: self.seq << 3 | kind as u64, slot, generation });
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: f64) -> Option<Timer> {
        if self.heap.peek().is_some_and(|t| t.due <= now) {
            self.heap.pop()
        } else {
            None
        }
    }

    /// Drops every timer for which `live` is false (the ones whose connection
    /// is gone or moved on), keeping the order of the others.
    pub fn retain(&mut self, live: impl FnMut(&Timer) -> bool) {
        self.heap.retain(live);
    }

    /// Number of pending timers (stale ones included).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
}
