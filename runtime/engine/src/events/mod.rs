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

/// Runs the queued events through the handlers in the middle of a packet:
/// file analysis needs the handlers' answer at once (Zeek drains its queue
/// right after `get_file_handle`, `file_new`, `file_over_new_connection`,
/// `file_sniff` and `file_timeout`). The pipeline gives the engine one that
/// calls its handlers; without one, events wait for the normal drain.
/// The same hook answers signature `eval` conditions, which call a
/// handler's function in the middle of matching.
pub trait Drain: Send {
    /// Runs every event queued in `q` now, at network time `now`, and
    /// returns the file handle a handler set during it (`set-file-handle`),
    /// if any.
    fn drain(&mut self, q: &mut EventQueue, now: f64) -> Option<String>;
    /// Whether the handler function `func` holds for the signature in
    /// `state` matching `data` (false when no handler answers for it).
    fn eval(&mut self, func: &str, state: &SignatureState, data: &[u8]) -> bool {
        let _ = (func, state, data);
        false
    }
}

/// The FIFO of events waiting for dispatch.
#[derive(Default)]
pub struct EventQueue {
    queue: VecDeque<Event>,
    /// What handlers take; events outside it are dropped on push.
    pub subs: Subscriptions,
    /// How many times the queue was drained ([`EventQueue::take`]).
    drains: u64,
    /// The forced drain of file analysis, if the pipeline gave one.
    drain: Option<Box<dyn Drain>>,
    /// File analyzers handlers attached or detached, for file analysis.
    file_requests: Vec<crate::files::FileRequest>,
}

impl EventQueue {
    /// A queue that keeps only the events in `subs`.
    pub fn new(subs: Subscriptions) -> Self {
        EventQueue { queue: VecDeque::new(), subs, drains: 0, drain: None, file_requests: Vec::new() }
    }
    /// Sets the hook [`drain_now`](EventQueue::drain_now) runs.
    pub fn set_drain(&mut self, drain: Box<dyn Drain>) {
        self.drain = Some(drain);
    }
    /// Takes the hook back (the pipeline does at the end of a run).
    pub fn take_drain(&mut self) -> Option<Box<dyn Drain>> {
        self.drain.take()
    }
    /// Runs the queued events through the handlers now (a forced drain);
    /// returns the file handle a handler set. Without a hook nothing runs
    /// and no handle comes back.
    pub fn drain_now(&mut self, now: f64) -> Option<String> {
        let mut d = self.drain.take()?;
        let handle = d.drain(self, now);
        if self.drain.is_none() {
            self.drain = Some(d);
        }
        handle
    }
    /// Answers a signature's `eval func` condition through the hook
    /// ([`Drain::eval`]); false without one.
    pub fn eval(&mut self, func: &str, state: &SignatureState, data: &[u8]) -> bool {
        match self.drain.as_mut() {
            Some(d) => d.eval(func, state, data),
            None => false,
        }
    }
    /// Hands file analysis what handlers asked of a file's analyzers
    /// (`files.add-analyzer`, `files.remove-analyzer`).
    pub fn file_requests(&mut self, reqs: impl IntoIterator<Item = crate::files::FileRequest>) {
        self.file_requests.extend(reqs);
    }
    /// The file analyzer requests handed in since the last call.
    pub fn take_file_requests(&mut self) -> Vec<crate::files::FileRequest> {
        std::mem::take(&mut self.file_requests)
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
    /// Counts a drain that found nothing to run and was skipped (the
    /// dispatcher's fast path), as [`EventQueue::take`] would have.
    pub fn count_empty_drain(&mut self) {
        debug_assert!(self.queue.is_empty());
        self.drains += 1;
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
