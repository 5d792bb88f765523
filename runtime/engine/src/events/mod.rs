//! Engine events and the FIFO queue with Zeek's ordering rules: events run in
//! the order they were queued, a packet's timer events before its own, and
//! `raw_packet` last among a packet's events.
//!
//! The events and every value they carry are generated from the WIT (crate
//! `weir-events`, re-exported here). An event nobody subscribed to is never
//! built: producers ask [`EventQueue::wants`] first.

pub mod pkt;
pub mod values;

use std::collections::VecDeque;

pub use weir_events::*;

/// The FIFO of events waiting for dispatch.
#[derive(Default)]
pub struct EventQueue {
    queue: VecDeque<Event>,
    /// What handlers take; events outside it are dropped on push.
    pub subs: Subscriptions,
    /// How many times the queue was drained ([`EventQueue::take`]).
    drains: u64,
}

impl EventQueue {
    /// A queue that keeps only the events in `subs`.
    pub fn new(subs: Subscriptions) -> Self {
        EventQueue { queue: VecDeque::new(), subs, drains: 0 }
    }
    /// Whether anyone takes `kind` (ask before building an event).
    #[inline]
    pub fn wants(&self, kind: EventKind) -> bool {
        self.subs.wants(kind)
    }
    /// Queues `ev` if subscribed.
    pub fn push(&mut self, ev: Event) {
        if self.subs.wants(ev.kind()) {
            self.queue.push_back(ev);
        }
    }
    /// Takes every queued event, oldest first: the dispatcher's drain.
    pub fn take(&mut self) -> VecDeque<Event> {
        self.drains += 1;
        std::mem::take(&mut self.queue)
    }
    /// How many drains there were so far: what is decided "when the events
    /// run" (an analyzer's removal after a violation) waits for the next one.
    pub fn drains(&self) -> u64 {
        self.drains
    }
    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
