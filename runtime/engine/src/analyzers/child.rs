//! A child analyzer (Zeek's analyzer tree below a protocol): the analyzer
//! a protocol hands the rest of its stream to, as SMTP after a STARTTLS
//! hands the TLS that follows to SSL. The child works on the same
//! connection through its own context: its own tag, instance id and status,
//! so it confirms (its name joins the service), violates and is disabled
//! under the DPD rules like any analyzer. Handlers cannot disable it by
//! instance id: the connection's analyzer set does not list it.

use super::analyzer::Analyzer;
use super::context::{Cx, Status};

/// Added to the parent's instance id to give the child its own: unique on
/// the connection, whose other ids come from one counter far below it.
const CHILD_AID: u64 = 1 << 32;

/// One child analyzer and what it has said so far.
#[derive(Debug)]
pub struct Child {
    analyzer: Box<dyn Analyzer>,
    aid: u64,
    status: Status,
}

impl Clone for Child {
    fn clone(&self) -> Self {
        Child { analyzer: self.analyzer.clone_box(), aid: self.aid, status: self.status.clone() }
    }
}

impl Child {
    /// `analyzer` as the child of the analyzer with instance id `parent_aid`.
    pub fn new(analyzer: Box<dyn Analyzer>, parent_aid: u64) -> Child {
        Child { analyzer, aid: parent_aid.wrapping_add(CHILD_AID), status: Status::default() }
    }

    /// `analyzer` as the `n`th child (from 0) of the analyzer with instance
    /// id `parent_aid`, for a parent with several ([`super::pia::Pia`]).
    pub fn nth(analyzer: Box<dyn Analyzer>, parent_aid: u64, n: u64) -> Child {
        let aid = parent_aid.wrapping_add(CHILD_AID.wrapping_mul(n + 1));
        Child { analyzer, aid, status: Status::default() }
    }

    /// The child's protocol.
    pub fn tag(&self) -> super::registry::Tag {
        self.analyzer.tag()
    }

    /// What the child has said about its protocol.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The next in-order bytes of one direction.
    pub fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        self.with(cx, |a, c| a.stream(is_orig, data, c));
    }

    /// One datagram (a delivery the child reads as a whole packet, as
    /// GSSAPI hands Kerberos its tokens).
    pub fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        self.with(cx, |a, c| a.datagram(is_orig, data, c));
    }

    /// `len` bytes of one direction that never came.
    pub fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        self.with(cx, |a, c| a.gap(is_orig, len, c));
    }

    /// The end of one direction's data.
    pub fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        self.with(cx, |a, c| a.end_of_data(is_orig, c));
    }

    /// The parent is done: so is the child.
    pub fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.with(cx, |a, c| a.done(c));
        self.status.disabled = true;
    }

    /// Runs `f` on the child unless it is disabled; a violation's disabling
    /// holds once its drain ran (finishing the child), as in the set.
    fn with(&mut self, cx: &mut Cx<'_, '_>, f: impl FnOnce(&mut dyn Analyzer, &mut Cx<'_, '_>)) {
        if self.status.disabled {
            return;
        }
        let tag = self.analyzer.tag();
        let mut c = cx.for_child(tag, self.aid, &mut self.status);
        if c.disabled_by_violation() {
            self.analyzer.done(&mut c);
            self.status.disabled = true;
            return;
        }
        f(self.analyzer.as_mut(), &mut c);
        if c.status().disabled {
            self.analyzer.done(&mut c);
        }
    }
}

/// The child an analyzer may have handed its stream to (STARTTLS and the
/// like): the end of data, gaps and the end reach it once it exists.
pub trait Handover {
    /// `len` bytes of one direction that never came.
    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>);
    /// The end of one direction's data.
    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>);
    /// The parent is done.
    fn done(&mut self, cx: &mut Cx<'_, '_>);
}

impl Handover for Option<Box<Child>> {
    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        if let Some(c) = self.as_mut() {
            c.gap(is_orig, len, cx);
        }
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        if let Some(c) = self.as_mut() {
            c.end_of_data(is_orig, cx);
        }
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some(c) = self.as_mut() {
            c.done(cx);
        }
    }
}
