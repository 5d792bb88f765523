//! `weir:events/analyzers`: handlers' requests of the engine's analyzers
//! (stop one on a connection, schedule one for an expected connection).
//! They are collected in [`Shared`] and handed to the engine after the drain
//! ([`Sandbox::take_requests`](crate::Sandbox::take_requests)), at most
//! [`MAX_REQUESTS`] per drain.

use std::net::IpAddr;

use super::{HostState, Level, Shared};
use crate::bindings::weir::events::analyzers as wanalyzers;
use crate::bindings::weir::events::types as wtypes;
use crate::convert::FromWit;
use weir_engine::analyzers::requests::{scheduled_orig, tag_named, Request};
use weir_engine::analyzers::Transport;

/// Requests taken from all handlers in one drain; further ones are dropped
/// (a reporter warning says how many).
pub const MAX_REQUESTS: usize = 10_000;

impl Shared {
    /// Queues `r` from handler `name`, or counts it dropped past [`MAX_REQUESTS`].
    fn request(&mut self, r: Request, name: &str) -> bool {
        if self.requests.len() >= MAX_REQUESTS {
            if self.requests_dropped == 0 {
                self.report(Level::Warning, format!("handler {name}: analyzer requests past {MAX_REQUESTS} in one round are dropped"), name, false);
            }
            self.requests_dropped += 1;
            return false;
        }
        self.requests.push(r);
        true
    }

    /// The requests of this drain, in the order they were made.
    pub(crate) fn take_requests(&mut self) -> Vec<Request> {
        self.requests_dropped = 0;
        std::mem::take(&mut self.requests)
    }
}

impl wanalyzers::Host for HostState {
    fn disable_analyzer(&mut self, uid: String, aid: u64) {
        self.charge += uid.len() as u64;
        let name = self.name.clone();
        self.shared.lock().expect("sandbox state").request(Request::Disable { uid, aid }, &name);
    }

    fn schedule_analyzer(
        &mut self,
        orig: wtypes::IpAddress,
        resp: wtypes::IpAddress,
        resp_p: wtypes::Port,
        analyzer: wtypes::AnalyzerTag,
        timeout: f64,
    ) -> bool {
        self.charge += analyzer.name.len() as u64;
        let Some(tag) = tag_named(&analyzer.name) else { return false };
        let transport = match resp_p.proto {
            wtypes::Transport::Tcp => Transport::Tcp,
            wtypes::Transport::Udp => Transport::Udp,
            _ => return false,
        };
        if !(timeout > 0.0 && timeout.is_finite()) || self.clock.get() == 0.0 {
            return false;
        }
        let r = Request::Schedule {
            orig: scheduled_orig(IpAddr::from_wit(orig)),
            resp: IpAddr::from_wit(resp),
            resp_p: resp_p.number,
            transport,
            tag,
            timeout,
        };
        let name = self.name.clone();
        self.shared.lock().expect("sandbox state").request(r, &name)
    }
}
