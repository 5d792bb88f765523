//! The driver: one packet through decode and sessions, events into the queue.

use crate::capture::Packet;
use crate::config::Config;
use crate::events::{Event, EventQueue, Subscriptions};

/// One engine instance: owns every stage's state.
pub struct Engine {
    /// Settings.
    pub cfg: Config,
    /// Events waiting for dispatch.
    pub queue: EventQueue,
    /// Network time: the latest packet timestamp seen.
    pub network_time: f64,
}

impl Engine {
    /// A new engine raising the events in `subs`.
    pub fn new(cfg: Config, subs: Subscriptions) -> Self {
        Engine { cfg, queue: EventQueue::new(subs), network_time: 0.0 }
    }

    /// Queues `bro_init`.
    pub fn start(&mut self) {
        self.queue.push(Event::BroInit);
    }

    /// Runs one captured packet through the stages; its events end up in `queue`.
    pub fn process(&mut self, pkt: &Packet<'_>) {
        let _ = pkt;
        todo!()
    }

    /// End of input: expires what Zeek expires at shutdown, removes every
    /// remaining connection, then queues `bro_done`.
    pub fn finish(&mut self) {
        self.queue.push(Event::BroDone);
    }
}
