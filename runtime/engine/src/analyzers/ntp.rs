//! The one thing Zeek's NTP analyzer does to a connection's state: it flips
//! the roles when the originator sends a server-mode message or the
//! responder a client-mode one (once per delivery direction). weir reads
//! just the mode byte of a datagram that would parse as an NTP message; it
//! raises no NTP events and fills no `service`.

/// UDP port the NTP analyzer is registered for (the responder's, at creation).
pub const PORT: u16 = 123;

/// Length of a standard NTP message (modes 1 to 5) without extensions.
const STD_MESSAGE_LEN: usize = 48;

const MODE_CLIENT: u8 = 3;
const MODE_SERVER: u8 = 4;

/// Per-connection NTP analyzer state: attached or not, and which delivery
/// directions (originator, responder at the time of the packet) flipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NtpState(u8);

const ATTACHED: u8 = 1;
const FLIPPED_ORIG: u8 = 2;
const FLIPPED_RESP: u8 = 4;

impl NtpState {
    /// The state of a new UDP connection whose responder port is `resp_port`.
    pub fn for_new_udp(resp_port: u16) -> NtpState {
        NtpState(if resp_port == PORT { ATTACHED } else { 0 })
    }

    /// Whether the analyzer is attached.
    pub fn attached(self) -> bool {
        self.0 & ATTACHED != 0
    }

    /// Whether `payload`, delivered from the originator when `is_orig`,
    /// flips the roles; records the flip for that direction.
    pub fn flips(&mut self, is_orig: bool, payload: &[u8]) -> bool {
        if !self.attached() || payload.len() < STD_MESSAGE_LEN {
            return false;
        }
        let mode = payload[0] & 7;
        let done = if is_orig { FLIPPED_ORIG } else { FLIPPED_RESP };
        let mismatch = (mode == MODE_SERVER && is_orig) || (mode == MODE_CLIENT && !is_orig);
        if !mismatch || self.0 & done != 0 {
            return false;
        }
        self.0 |= done;
        true
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

    #[test]
    fn server_mode_from_the_originator_flips_once() {
        let mut s = NtpState::for_new_udp(123);
        assert!(s.flips(true, &msg(MODE_SERVER)));
        assert!(!s.flips(true, &msg(MODE_SERVER)), "a direction flips once");
        assert!(s.flips(false, &msg(MODE_CLIENT)), "the other direction has its own flag");
        assert!(!NtpState::for_new_udp(124).flips(true, &msg(MODE_SERVER)), "not attached");
        assert!(!NtpState::for_new_udp(123).flips(true, &msg(MODE_SERVER)[..47]), "too short to parse");
        assert!(!NtpState::for_new_udp(123).flips(true, &msg(MODE_CLIENT)), "client mode from the originator is normal");
    }
}
