//! One direction of a stream cut into length-framed units, the reader the
//! binary TCP protocols share (DCE/RPC PDUs, Modbus/TCP PDUs, Kerberos
//! records): bytes wait until a unit's header and then the whole unit are
//! there; a header that cannot start a valid unit, or a gap, ends the
//! direction's parsing.

/// What a unit (or a whole message) means for the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It is the protocol: confirm.
    Confirm,
    /// It breaks the protocol: a violation, with its reason.
    Violate(String),
}

impl Verdict {
    /// Confirms or violates on the analyzer's context.
    pub fn report(self, cx: &mut super::context::Cx<'_, '_>) {
        match self {
            Verdict::Confirm => cx.confirm(),
            Verdict::Violate(r) => cx.violate(&r, None),
        }
    }
}

/// What a unit's header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The unit is this many bytes long, its header included.
    Len(usize),
    /// The header breaks the protocol: the violation's reason.
    Bad(String),
}

/// The framing state of one direction.
#[derive(Clone, Debug, Default)]
pub struct Frames {
    buf: Vec<u8>,
    dead: bool,
}

impl Frames {
    /// The next bytes of the direction. `header` reads the first
    /// `header_len` bytes of each unit; `unit` gets each whole unit. The
    /// reason of a bad header comes back, after the units before it.
    pub fn feed(
        &mut self,
        data: &[u8],
        header_len: usize,
        mut header: impl FnMut(&[u8]) -> Frame,
        mut unit: impl FnMut(&[u8]),
    ) -> Option<String> {
        if self.dead {
            return None;
        }
        self.buf.extend_from_slice(data);
        let mut at = 0;
        while let Some(h) = self.buf.get(at..at + header_len) {
            let len = match header(h) {
                Frame::Len(n) => n.max(header_len),
                Frame::Bad(reason) => {
                    self.stop();
                    return Some(reason);
                }
            };
            let Some(u) = self.buf.get(at..at + len) else { break };
            unit(u);
            at += len;
        }
        self.buf.drain(..at);
        None
    }

    /// Bytes of the direction never came (or it broke the protocol): its
    /// parsing ends.
    pub fn stop(&mut self) {
        self.dead = true;
        self.buf = Vec::new();
    }
}
