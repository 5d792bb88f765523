//! The one thing Zeek's NTP analyzer does to a connection's state: it flips
//! the roles when the originator sends a server-mode message or the
//! responder a client-mode one (once per delivery direction). weir reads
//! just the mode byte of a datagram that would parse as an NTP message; it
//! raises no NTP events and fills no `service`.

use super::analyzer::{Analyzer, Outcome, Outcomes};
use super::registry::Tag;

/// UDP port the NTP analyzer is registered for (the responder's, at creation).
pub const PORT: u16 = 123;

/// Length of a standard NTP message (modes 1 to 5) without extensions.
const STD_MESSAGE_LEN: usize = 48;

const MODE_CLIENT: u8 = 3;
const MODE_SERVER: u8 = 4;

/// Per-connection NTP analyzer state: which delivery directions
/// (originator, responder at the time of the packet) flipped, and whether
/// a message was seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ntp {
    flipped_orig: bool,
    flipped_resp: bool,
    confirmed: bool,
}

impl Analyzer for Ntp {
    fn tag(&self) -> Tag {
        Tag::Ntp
    }

    /// A datagram long enough to be a standard message confirms NTP; one
    /// whose mode contradicts its sender's role flips the roles (once per
    /// delivery direction).
    fn datagram(&mut self, is_orig: bool, payload: &[u8], out: &mut Outcomes) {
        if payload.len() < STD_MESSAGE_LEN {
            return;
        }
        if !self.confirmed {
            self.confirmed = true;
            out.push(Outcome::Confirm);
        }
        let mode = payload[0] & 7;
        let done = if is_orig { &mut self.flipped_orig } else { &mut self.flipped_resp };
        let mismatch = (mode == MODE_SERVER && is_orig) || (mode == MODE_CLIENT && !is_orig);
        if mismatch && !*done {
            *done = true;
            out.push(Outcome::FlipRoles);
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(mode: u8) -> Vec<u8> {
        let mut m = vec![0u8; STD_MESSAGE_LEN];
        m[0] = (4 << 3) | mode;
        m
    }

    fn flips(n: &mut Ntp, is_orig: bool, payload: &[u8]) -> bool {
        let mut out = Outcomes::default();
        n.datagram(is_orig, payload, &mut out);
        out.0.contains(&Outcome::FlipRoles)
    }

    #[test]
    fn server_mode_from_the_originator_flips_once() {
        let mut s = Ntp::default();
        assert!(flips(&mut s, true, &msg(MODE_SERVER)));
        assert!(!flips(&mut s, true, &msg(MODE_SERVER)), "a direction flips once");
        assert!(flips(&mut s, false, &msg(MODE_CLIENT)), "the other direction has its own flag");
        assert!(!flips(&mut Ntp::default(), true, &msg(MODE_SERVER)[..47]), "too short to parse");
        assert!(!flips(&mut Ntp::default(), true, &msg(MODE_CLIENT)), "client mode from the originator is normal");
    }

    #[test]
    fn a_standard_message_confirms_once() {
        let mut s = Ntp::default();
        let mut out = Outcomes::default();
        s.datagram(true, &msg(MODE_SERVER)[..47], &mut out);
        assert!(out.is_empty());
        s.datagram(true, &msg(MODE_CLIENT), &mut out);
        s.datagram(true, &msg(MODE_CLIENT), &mut out);
        assert_eq!(out.0, [Outcome::Confirm]);
    }
}
