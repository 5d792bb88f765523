//! The session layer's side of the application analyzers: it hands the
//! connection's analyzer set the reassembler's in-order data and gaps and
//! the end of data, and carries out what the analyzers found (weirds,
//! limits, role flips).

use super::tcp;
use super::Sessions;
use crate::analyzers::set::Effects as Found;
use crate::analyzers::{AnalyzerSet, Outcome};
use crate::events::EventQueue;

impl Sessions {
    /// In-order TCP payload (or a gap) from the reassembler for the
    /// connection's analyzers.
    pub(super) fn app_data(&mut self, slot: u32, from_orig: bool, d: tcp::Delivery, q: &mut EventQueue) {
        let Some(set) = self.analyzers(slot) else { return };
        let found = match d {
            tcp::Delivery::Data(data) => set.stream(from_orig, &data),
            tcp::Delivery::Gap => set.gap(from_orig),
        };
        self.carry_out(slot, found, q);
    }

    /// Both directions of the connection's data have ended, for its analyzers.
    pub(super) fn end_of_data(&mut self, slot: u32, q: &mut EventQueue) {
        let Some(set) = self.analyzers(slot) else { return };
        if set.is_empty() {
            return;
        }
        let mut found = set.end_of_data(true);
        found.extend(set.end_of_data(false));
        self.carry_out(slot, found, q);
    }

    /// The analyzer set of the connection in `slot`, if it has made one.
    pub(super) fn analyzers(&mut self, slot: u32) -> Option<&mut AnalyzerSet> {
        self.slots.get_mut(slot as usize)?.as_mut()?.extra.as_mut().map(|x| &mut x.analyzers)
    }

    /// Carries out what the analyzers found, in order: weirds, limits
    /// (the weird, then history `X`) and role flips.
    pub(super) fn carry_out(&mut self, slot: u32, found: Found, q: &mut EventQueue) {
        for (tag, o) in found {
            match o {
                Outcome::Weird(name, addl) => self.weird_with(slot, name, addl, tag.source(), q),
                Outcome::Limit(name, addl) => {
                    self.weird_with(slot, name, addl, tag.source(), q);
                    self.analysis_limited(slot);
                }
                Outcome::FlipRoles => {
                    if let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) {
                        c.flip_roles_keeping_history_bits();
                    }
                }
                Outcome::Confirm | Outcome::Violate(_) => {}
            }
        }
    }
}
