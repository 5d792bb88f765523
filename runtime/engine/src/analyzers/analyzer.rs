//! The interface every application analyzer implements, after Zeek's
//! `analyzer::Analyzer`: the session layer offers it the connection's first
//! data ([`Analyzer::probe`]), then hands it in-order TCP payload per
//! direction, gaps (bytes that never came) and the end of each direction,
//! or whole UDP datagrams, and finally says the connection is done. What
//! the analyzer does about it (events, weirds, a limit reached, a role
//! flip, protocol confirmation or violation) goes through its [`Cx`].

use super::context::Cx;
use super::registry::Tag;

/// An application analyzer attached to one connection. `is_orig` always
/// names the direction as the connection sees it when the data arrives.
/// Every method but [`tag`](Analyzer::tag) and
/// [`clone_box`](Analyzer::clone_box) has a default that ignores its input,
/// so an analyzer implements only what its transport brings.
pub trait Analyzer: std::fmt::Debug + Send {
    /// Which analyzer this is.
    fn tag(&self) -> Tag;

    /// Whether this analyzer may take the connection, judged from its first
    /// data (`data`, sent by the originator when `is_orig`). An analyzer
    /// chosen by port alone says yes, as the default does.
    fn probe(&self, is_orig: bool, data: &[u8]) -> bool {
        let _ = (is_orig, data);
        true
    }

    /// The next in-order bytes of one direction of a TCP connection.
    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let _ = (is_orig, data, cx);
    }

    /// One UDP datagram's payload.
    fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let _ = (is_orig, data, cx);
    }

    /// `len` bytes of one direction that will never come: any partial state
    /// built from what came before is stale.
    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        let _ = (is_orig, len, cx);
    }

    /// One direction has ended: no more data comes from it (the session
    /// layer says so for both directions when it removes the connection).
    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        let _ = (is_orig, cx);
    }

    /// The connection is being removed (Zeek's `Analyzer::Done`), after the
    /// end of both directions: anything still pending is finished now.
    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        let _ = cx;
    }

    /// A copy of this analyzer and its state.
    fn clone_box(&self) -> Box<dyn Analyzer>;
}

impl Clone for Box<dyn Analyzer> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
