//! The one thing Zeek's NTP analyzer does to a connection's state: it flips
//! the roles when the originator sends a server-mode message or the
//! responder a client-mode one (once per delivery direction). weir reads
//! just the mode byte of a datagram that would parse as an NTP message; it
//! raises no NTP events and fills no `service`.

use super::analyzer::Analyzer;
use super::context::Cx;
use super::registry::Tag;

/// UDP port the NTP analyzer is registered for (the responder's, at creation).
pub const PORT: u16 = 123;

/// Length of a standard NTP message (modes 1 to 5) without extensions.
const STD_MESSAGE_LEN: usize = 48;

const MODE_CLIENT: u8 = 3;
const MODE_SERVER: u8 = 4;

/// Per-connection NTP analyzer state: which delivery directions
/// (originator, responder at the time of the packet) flipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ntp {
    flipped_orig: bool,
    flipped_resp: bool,
}

impl Analyzer for Ntp {
    fn tag(&self) -> Tag {
        Tag::Ntp
    }

    /// A datagram long enough to be a standard message confirms NTP; one
    /// whose mode contradicts its sender's role flips the roles (once per
    /// delivery direction).
    fn datagram(&mut self, is_orig: bool, payload: &[u8], cx: &mut Cx<'_, '_>) {
        if payload.len() < STD_MESSAGE_LEN {
            return;
        }
        cx.confirm();
        let mode = payload[0] & 7;
        let done = if is_orig { &mut self.flipped_orig } else { &mut self.flipped_resp };
        let mismatch = (mode == MODE_SERVER && is_orig) || (mode == MODE_CLIENT && !is_orig);
        if mismatch && !*done {
            *done = true;
            cx.flip_roles();
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::{summary, Harness};

    fn msg(mode: u8) -> Vec<u8> {
        let mut m = vec![0u8; STD_MESSAGE_LEN];
        m[0] = (4 << 3) | mode;
        m
    }

    fn flips(h: &mut Harness, n: &mut Ntp, is_orig: bool, payload: &[u8]) -> bool {
        let before = h.conn.history.as_str().matches('^').count();
        h.datagram(n, is_orig, payload);
        h.conn.history.as_str().matches('^').count() > before
    }

    #[test]
    fn server_mode_from_the_originator_flips_once() {
        let (mut h, mut s) = (Harness::new(17, 123), Ntp::default());
        assert!(flips(&mut h, &mut s, true, &msg(MODE_SERVER)));
        assert!(!flips(&mut h, &mut s, true, &msg(MODE_SERVER)), "a direction flips once");
        assert!(flips(&mut h, &mut s, false, &msg(MODE_CLIENT)), "the other direction has its own flag");
        let mut h = Harness::new(17, 123);
        assert!(!flips(&mut h, &mut Ntp::default(), true, &msg(MODE_SERVER)[..47]), "too short to parse");
        assert!(!flips(&mut h, &mut Ntp::default(), true, &msg(MODE_CLIENT)), "client mode from the originator is normal");
    }

    #[test]
    fn a_standard_message_confirms_once() {
        let (mut h, mut s) = (Harness::new(17, 123), Ntp::default());
        assert!(h.datagram(&mut s, true, &msg(MODE_SERVER)[..47]).is_empty());
        let mut out = summary(&h.datagram(&mut s, true, &msg(MODE_CLIENT)));
        out.extend(summary(&h.datagram(&mut s, true, &msg(MODE_CLIENT))));
        assert_eq!(out, ["protocol_confirmation"]);
        assert_eq!(h.conn.snapshot().service, ["NTP"]);
    }
}
