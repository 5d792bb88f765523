//! The interface every application analyzer implements, after Zeek's
//! `analyzer::Analyzer`: the session layer offers it the connection's first
//! data ([`Analyzer::probe`]), then hands it in-order TCP payload per
//! direction, gaps (bytes that never came) and the end of each direction,
//! or whole UDP datagrams. What the analyzer finds goes into [`Outcomes`]:
//! effects on the connection (weirds, a limit reached, a role flip) for the
//! session layer to carry out, and protocol confirmation or violation
//! (Zeek's `protocol_confirmation` / `protocol_violation`), which the
//! per-connection [`AnalyzerSet`](super::set::AnalyzerSet) records.

use super::registry::Tag;

/// One thing an analyzer found while handling data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A conn weird (name, addl), raised with the analyzer's source name.
    Weird(&'static str, String),
    /// An analyzer limit was reached: the weird, then history `X`.
    Limit(&'static str, String),
    /// The roles of originator and responder swap, history bits kept
    /// (Zeek's `Connection::FlipRoles` called by an analyzer).
    FlipRoles,
    /// The data is the analyzer's protocol (`AnalyzerConfirmation`).
    Confirm,
    /// The data breaks the analyzer's protocol (`AnalyzerViolation`), with the reason.
    Violate(String),
}

/// What an analyzer reports from one call, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcomes(pub Vec<Outcome>);

impl Outcomes {
    /// Appends an outcome.
    pub fn push(&mut self, o: Outcome) {
        self.0.push(o);
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

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
    fn stream(&mut self, is_orig: bool, data: &[u8], out: &mut Outcomes) {
        let _ = (is_orig, data, out);
    }

    /// One UDP datagram's payload.
    fn datagram(&mut self, is_orig: bool, data: &[u8], out: &mut Outcomes) {
        let _ = (is_orig, data, out);
    }

    /// Bytes of one direction that will never come: any partial state built
    /// from what came before is stale.
    fn gap(&mut self, is_orig: bool, out: &mut Outcomes) {
        let _ = (is_orig, out);
    }

    /// One direction has ended: no more data comes from it (the session
    /// layer says so for both directions when it removes the connection).
    fn end_of_data(&mut self, is_orig: bool, out: &mut Outcomes) {
        let _ = (is_orig, out);
    }

    /// A copy of this analyzer and its state.
    fn clone_box(&self) -> Box<dyn Analyzer>;
}

impl Clone for Box<dyn Analyzer> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
