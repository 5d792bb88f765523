//! A recording [`Sink`] and message builders for the parser's tests.

use super::Sink;
use std::collections::HashSet;
use weir_events::{Connection, Event, EventKind};

/// What the parser reported, in order.
#[derive(Debug, PartialEq)]
pub enum Got {
    Event(Event),
    Weird(&'static str, String),
    Limit(&'static str, String),
    Confirm,
    Violate(&'static str),
    Flip,
}

/// A sink that records everything; it takes every event unless `only` is set.
#[derive(Default)]
pub struct Rec {
    pub got: Vec<Got>,
    pub only: Option<HashSet<EventKind>>,
}

impl Rec {
    /// A sink taking only `kinds`.
    pub fn taking(kinds: &[EventKind]) -> Rec {
        Rec { got: Vec::new(), only: Some(kinds.iter().copied().collect()) }
    }

    /// The names of the weirds and limits, in order.
    pub fn weird_names(&self) -> Vec<String> {
        self.got
            .iter()
            .filter_map(|g| match g {
                Got::Weird(n, _) | Got::Limit(n, _) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The events, in order.
    pub fn events(&self) -> Vec<&Event> {
        self.got.iter().filter_map(|g| if let Got::Event(e) = g { Some(e) } else { None }).collect()
    }

    /// The kinds of the events, in order.
    pub fn kinds(&self) -> Vec<EventKind> {
        self.events().iter().map(|e| e.kind()).collect()
    }
}

impl Sink for Rec {
    fn wants(&self, kind: EventKind) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&kind))
    }
    fn raise<F: FnOnce(Box<Connection>) -> Event>(&mut self, build: F) {
        self.got.push(Got::Event(build(Box::new(super::fuzzing::placeholder_conn()))));
    }
    fn weird(&mut self, name: &'static str, addl: String) {
        self.got.push(Got::Weird(name, addl));
    }
    fn limit(&mut self, name: &'static str, addl: String) {
        self.got.push(Got::Limit(name, addl));
    }
    fn confirm(&mut self) {
        self.got.push(Got::Confirm);
    }
    fn violate(&mut self, reason: &'static str) {
        self.got.push(Got::Violate(reason));
    }
    fn flip_roles(&mut self) {
        self.got.push(Got::Flip);
    }
}


/// Builds a message: header fields, then raw section bytes.
pub struct Build(pub Vec<u8>);

impl Build {
    /// A header with `id`, `flags` and the four counts.
    pub fn new(id: u16, flags: u16, counts: [u16; 4]) -> Build {
        let mut v = Vec::new();
        for w in [id, flags, counts[0], counts[1], counts[2], counts[3]] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        Build(v)
    }

    /// An uncompressed name.
    pub fn name(mut self, n: &str) -> Build {
        for l in n.split('.').filter(|l| !l.is_empty()) {
            self.0.push(l.len() as u8);
            self.0.extend_from_slice(l.as_bytes());
        }
        self.0.push(0);
        self
    }

    /// Raw bytes.
    pub fn raw(mut self, b: &[u8]) -> Build {
        self.0.extend_from_slice(b);
        self
    }

    /// A 16-bit value.
    pub fn u16(self, v: u16) -> Build {
        self.raw(&v.to_be_bytes())
    }

    /// A question.
    pub fn question(self, n: &str, qtype: u16, qclass: u16) -> Build {
        self.name(n).u16(qtype).u16(qclass)
    }

    /// A record with owner `n` (raw name bytes), type, class, TTL and data.
    pub fn rr(self, owner: &[u8], t: u16, class: u16, ttl: u32, data: &[u8]) -> Build {
        self.raw(owner).u16(t).u16(class).raw(&ttl.to_be_bytes()).u16(data.len() as u16).raw(data)
    }
}
