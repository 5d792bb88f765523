//! Per-connection state a handler keeps between events, keyed by the
//! connection's uid, with a cap on how many connections it holds at once:
//! a handler's memory stays bounded whatever the traffic, and the first
//! connection refused past the cap is reported once, as a reporter warning.

use std::collections::BTreeMap;

/// A handler's per-connection states.
pub struct ConnStates<S> {
    map: BTreeMap<String, S>,
    cap: usize,
    handler: &'static str,
    what: &'static str,
    full_reported: bool,
}

impl<S> ConnStates<S> {
    /// At most `cap` states; when full, the warning is
    /// `"{handler}: {cap} {what}"`, once.
    pub const fn new(cap: usize, handler: &'static str, what: &'static str) -> Self {
        ConnStates { map: BTreeMap::new(), cap, handler, what, full_reported: false }
    }

    /// Runs `f` on the state of connection `uid`, made by `init` on first
    /// use; `None` (and nothing run) when a new state would pass the cap.
    pub fn with<R>(&mut self, uid: &str, init: impl FnOnce() -> S, f: impl FnOnce(&mut S) -> R) -> Option<R> {
        if let Some(st) = self.map.get_mut(uid) {
            return Some(f(st));
        }
        if self.map.len() >= self.cap {
            if !std::mem::replace(&mut self.full_reported, true) {
                crate::reporter::warning(&format!("{}: {} {}", self.handler, self.cap, self.what));
            }
            return None;
        }
        Some(f(self.map.entry(uid.to_string()).or_insert_with(init)))
    }

    /// The state of connection `uid`, if it has one.
    pub fn get_mut(&mut self, uid: &str) -> Option<&mut S> {
        self.map.get_mut(uid)
    }

    /// Forgets connection `uid`, handing back its state.
    pub fn remove(&mut self, uid: &str) -> Option<S> {
        self.map.remove(uid)
    }
}
