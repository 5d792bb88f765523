//! History letters of TCP segments (Zeek's `TCPSessionAdapter::UpdateHistory`
//! and the zero-window check).

use super::super::conn::{hist, Conn};
use super::endpoint::EndpointState;
use super::{tcp, Flags};

/// Adds the letter of a segment's flags or payload (`UpdateHistory`): one
/// per kind and direction, SYN, FIN and RST again at a new sequence number.
pub(super) fn update_history(c: &mut Conn, is_orig: bool, flags: Flags, rel_seq: u64, len: u32) {
    let bits = flags.syn() as u8 + flags.fin() as u8 + flags.rst() as u8;
    if bits > 1 {
        if flags.fin() && flags.rst() {
            c.check_history_dir(is_orig, hist::FIN_RST_PKT, 'I');
        } else {
            c.check_history_dir(is_orig, hist::MULTI_FLAG_PKT, 'Q');
        }
    } else if bits == 1 {
        if flags.syn() {
            let code = if flags.ack() { 'H' } else { 'S' };
            let last = tcp(c).ep(is_orig).0.hist_last_syn;
            if c.check_history_dir(is_orig, hist::SYN_PKT, code) && rel_seq != last {
                c.add_history_dir(is_orig, code);
            }
            tcp(c).ep(is_orig).0.hist_last_syn = rel_seq;
        }
        if flags.fin() {
            let last = tcp(c).ep(is_orig).0.hist_last_fin;
            if c.check_history_dir(is_orig, hist::FIN_PKT, 'F') && rel_seq + len as u64 != last {
                c.add_history_dir(is_orig, 'F');
            }
            tcp(c).ep(is_orig).0.hist_last_fin = rel_seq + len as u64;
        }
        if flags.rst() {
            let last = tcp(c).ep(is_orig).0.hist_last_rst;
            if c.check_history_dir(is_orig, hist::RST_PKT, 'R') && rel_seq != last {
                c.add_history_dir(is_orig, 'R');
            }
            tcp(c).ep(is_orig).0.hist_last_rst = rel_seq;
        }
    } else if len > 0 {
        c.check_history_dir(is_orig, hist::DATA_PKT, 'D');
    } else if flags.ack() {
        c.check_history_dir(is_orig, hist::ACK_PKT, 'A');
    }
}

/// History `W` for a zero window (logarithmic), except on a RST or a closed peer.
pub(super) fn update_window(c: &mut Conn, is_orig: bool, window: u16, flags: Flags) {
    let (ep, peer) = tcp(c).ep(is_orig);
    let zero = window == 0
        && !flags.rst()
        && peer.state != EndpointState::Closed
        && ep.state != EndpointState::Reset
        && ep.extra().win0.hit();
    if zero {
        c.add_history_dir(is_orig, 'W');
    }
}

/// Records a bad checksum for a side (history `C`/`c`, logarithmic).
pub fn checksum_error(c: &mut Conn, is_orig: bool) {
    if c.side(is_orig).chk.hit() {
        c.add_history_dir(is_orig, 'C');
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Feed, A, F, R, S};
    use super::*;

    #[test]
    fn one_letter_per_kind_and_direction() {
        let mut f = Feed::default();
        f.handshake();
        f.send(true, 1.0, A, 101, 501, b"ab");
        f.send(true, 1.1, A, 103, 501, b"cd");
        f.send(false, 1.2, A, 501, 105, b"xy");
        f.send(true, 1.3, F | A, 105, 503, b"");
        f.send(false, 1.4, F | A, 503, 106, b"");
        assert_eq!(f.history(), "ShADdFf");
    }

    #[test]
    fn multi_flag_letters() {
        let mut f = Feed::default();
        f.send(true, 0.0, F | R, 100, 0, b"");
        f.send(false, 0.1, S | F, 500, 0, b"");
        assert_eq!(f.history(), "Iq");
    }

    #[test]
    fn repeated_syn_fin_rst_letters_need_a_new_seq() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        f.send(true, 1.0, S, 100, 0, b"");
        assert_eq!(f.history(), "S", "a retransmitted SYN");
        f.send(true, 2.0, S, 900, 0, b"");
        assert_eq!(f.history(), "S", "a SYN jump re-bases the numbers: it sits at the same relative seq");
        f.send(true, 3.0, R, 901, 0, b"");
        f.send(true, 3.1, R, 901, 0, b"");
        f.send(true, 3.2, R, 950, 0, b"");
        assert_eq!(f.history(), "SRR", "a retransmitted RST adds no letter, one at a new seq does");
    }

    #[test]
    fn zero_window_letter() {
        let mut f = Feed::default();
        f.handshake();
        let mut s = super::super::testing::seg(A, 101, 501, b"", &[]);
        s.win = 0;
        f.send_seg(true, 1.0, &s);
        f.send_seg(true, 1.1, &s);
        assert_eq!(f.history(), "ShAW", "logarithmic: the first zero window only");
        s.flags = R;
        let mut g = Feed::default();
        g.handshake();
        g.send_seg(true, 1.0, &s);
        assert!(!g.history().contains('W'), "not on a RST");
    }

    #[test]
    fn checksum_letters_are_logarithmic() {
        let mut f = Feed::default();
        for _ in 0..10 {
            checksum_error(&mut f.c, true);
        }
        checksum_error(&mut f.c, false);
        assert_eq!(f.history(), "CCc");
    }
}
