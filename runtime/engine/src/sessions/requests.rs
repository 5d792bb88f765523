//! Handlers' analyzer requests carried out on the connection table:
//! stopping an analyzer instance, and scheduling analyzers that new
//! connections get at creation (see [`crate::analyzers::requests`]).

use super::Sessions;
use crate::analyzers::requests::{Request, MAX_SCHEDULED};
use crate::analyzers::{AnalyzerSet, Tag, Transport};
use std::net::IpAddr;

impl Sessions {
    /// Carries out one handler request.
    pub fn apply_request(&mut self, r: Request) {
        match r {
            Request::Disable { uid, aid } => {
                let found = self.slots.iter_mut().flatten().find(|c| c.uid.is(&uid));
                let done = found.and_then(|c| c.extra.as_mut()).is_some_and(|x| x.analyzers.disable(aid));
                if !done {
                    tracing::debug!(%uid, aid, "disable-analyzer: no such analyzer");
                }
            }
            Request::Schedule { orig, resp, resp_p, transport, tag, timeout } => {
                if !self.scheduled.schedule(self.now, (orig, resp, resp_p, transport), tag, timeout, MAX_SCHEDULED) {
                    tracing::warn!("schedule-analyzer: {MAX_SCHEDULED} expected connections scheduled already; {} not scheduled", tag.name());
                }
            }
        }
    }

    /// The analyzers a new connection from `orig` to `resp`:`resp_p` gets:
    /// the ones scheduled for it (and the tags made, for
    /// `scheduled_analyzer_applied`) if any were, else those of its port
    /// unless `dpd_ignore_ports` is set.
    pub(super) fn initial_analyzers(&mut self, orig: IpAddr, resp: IpAddr, resp_p: u16, transport: Transport) -> (AnalyzerSet, Vec<Tag>) {
        let scheduled = self.scheduled.lookup(self.now, orig, resp, resp_p, transport);
        if scheduled.is_empty() {
            if self.cfg.dpd_ignore_ports {
                return (AnalyzerSet::default(), Vec::new());
            }
            return (self.registry.analyzers_for(transport, resp_p, &self.cfg, &mut self.next_aid), Vec::new());
        }
        let mut set = AnalyzerSet::default();
        let mut applied = Vec::new();
        for tag in scheduled.into_iter().filter(|&t| self.registry.is_enabled(t)) {
            if let Some(a) = tag.instantiate(&self.cfg) {
                set.add(a, self.next_aid);
                self.next_aid += 1;
                applied.push(tag);
            }
        }
        (set, applied)
    }
}
