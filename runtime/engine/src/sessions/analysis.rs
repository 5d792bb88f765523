//! The session layer's side of the application analyzers: it hands the
//! connection's analyzer set the reassembler's in-order data and gaps,
//! datagrams, the end of data and the connection's end. The set is taken
//! out of the connection for the call, so that its analyzers can work on
//! the connection itself through their context.

use super::tcp;
use super::Sessions;
use crate::analyzers::{AnalyzerSet, Env, Tag};
use crate::events::EventQueue;

impl Sessions {
    /// In-order TCP payload (or a gap) from the reassembler for the
    /// connection's analyzers.
    pub(super) fn app_data(&mut self, slot: u32, from_orig: bool, d: tcp::Delivery, q: &mut EventQueue) {
        self.with_analyzers(slot, q, |set, env| match d {
            tcp::Delivery::Data(data) => set.stream(from_orig, &data, env),
            tcp::Delivery::Gap(len) => set.gap(from_orig, len, env),
            tcp::Delivery::End => set.end_of_data(from_orig, env),
        });
    }

    /// A UDP datagram's payload for the connection's analyzers.
    pub(super) fn app_datagram(&mut self, slot: u32, is_orig: bool, payload: &[u8], q: &mut EventQueue) {
        self.with_analyzers(slot, q, |set, env| set.datagram(is_orig, payload, env));
    }

    /// The connection goes: both directions of its data end, then its
    /// analyzers are done.
    pub(super) fn end_of_data(&mut self, slot: u32, q: &mut EventQueue) {
        self.with_analyzers(slot, q, |set, env| {
            set.end_of_data(true, env);
            set.end_of_data(false, env);
            set.done(env);
        });
    }

    /// Attaches analyzer `tag`, found by dynamic protocol detection, to the
    /// connection in `slot`, replaying the start its detector kept; false
    /// when nothing was attached.
    pub(super) fn enable_analyzer(&mut self, slot: u32, tag: Tag, q: &mut EventQueue) -> bool {
        if !self.registry.is_enabled(tag) {
            return false;
        }
        let aid = self.next_aid;
        let mut attached = false;
        self.with_analyzers(slot, q, |set, env| attached = set.enable(tag, aid, env));
        if attached {
            self.next_aid += 1;
            if tag == Tag::Dns {
                self.dns_timer(slot, self.now);
            }
        }
        attached
    }

    /// The analyzer set of the connection in `slot`, if it has one.
    pub(super) fn analyzers(&mut self, slot: u32) -> Option<&mut AnalyzerSet> {
        self.slots.get_mut(slot as usize)?.as_mut()?.extra.as_mut().map(|x| &mut x.analyzers)
    }

    /// Runs `f` on the analyzer set of the connection in `slot`, if it has
    /// one that is not empty, with the connection as its environment.
    pub(super) fn with_analyzers(&mut self, slot: u32, q: &mut EventQueue, f: impl FnOnce(&mut AnalyzerSet, &mut Env<'_>)) {
        let Some(conn) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        let Some(x) = conn.extra.as_mut().filter(|x| !x.analyzers.is_empty()) else { return };
        let mut set = std::mem::take(&mut x.analyzers);
        let mut env = Env { conn, q, cfg: &self.cfg, now: self.now, files: &mut self.files, matcher: self.matcher.as_mut(), registry: Some(&self.registry) };
        f(&mut set, &mut env);
        let mut req = None;
        if let Some(x) = conn.extra.as_mut() {
            x.analyzers = set;
            req = x.signature_requests.take();
        }
        if let Some(req) = req {
            self.signature_requests(slot, *req, q);
        }
    }
}
