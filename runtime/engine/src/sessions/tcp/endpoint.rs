//! One side of a TCP connection: its state, sequence numbers and size
//! (Zeek's `TCP_Endpoint`).

use super::super::conn::Scaled;
use super::reassembly::Pending;
use super::rexmit::Kept;
use super::stats::Stats;

/// A jump in sequence space beyond which SYN/RST numbers are not trusted.
pub(super) const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// TCP endpoint states (Zeek's `TCP_ENDPOINT_*` numbering).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum EndpointState {
    /// Nothing seen.
    #[default]
    Inactive = 0,
    /// SYN sent.
    SynSent = 1,
    /// SYN+ACK sent by the originator.
    SynAckSent = 2,
    /// Data without a handshake.
    Partial = 3,
    /// Handshake done.
    Established = 4,
    /// FIN sent.
    Closed = 5,
    /// RST sent.
    Reset = 6,
}

impl EndpointState {
    /// Whether the side is still in the handshake (the inactivity timeout is not yet armed).
    pub(super) fn is_handshake(self) -> bool {
        matches!(self, EndpointState::Inactive | EndpointState::SynSent | EndpointState::SynAckSent)
    }
}

/// One side of a TCP connection: 88 bytes, what nearly every connection
/// uses; the rest is in [`EndpointExtra`], made on first need. No window
/// is kept: the scaled window is zero exactly when the offered one is
/// (a scale of at most 14 keeps it within 32 bits), and Zeek's window
/// recision check reports nothing.
#[derive(Clone, Debug, Default)]
pub struct TcpEndpoint {
    /// Current state.
    pub state: EndpointState,
    /// Previous state.
    pub prev_state: EndpointState,
    /// Whether this side's close was processed.
    pub did_close: bool,
    /// FINs and RSTs sent, saturating (only `> 0` and `>= 1000` matter).
    pub(super) fin_cnt: u16,
    pub(super) rst_cnt: u16,
    pub(super) start_seq: u32,
    pub(super) last_seq: u32,
    pub(super) ack_seq: u32,
    pub(super) seq_wraps: u32,
    pub(super) ack_wraps: u32,
    pub(super) rxmit: Scaled,
    pub(super) fin_seq: u64,
    pub(super) hist_last_syn: u64,
    pub(super) hist_last_fin: u64,
    pub(super) hist_last_rst: u64,
    /// Time of this side's latest packet.
    pub last_time: f64,
    /// Reassembly: relative sequence number up to which data is accounted for.
    pub(super) last_reassem: u64,
    /// Rarely needed state, made on first use.
    pub(super) extra: Option<Box<EndpointExtra>>,
}

/// The parts of a [`TcpEndpoint`] most connections never need.
#[derive(Clone, Debug, Default)]
pub(super) struct EndpointExtra {
    /// Reassembly: captured data above a hole, as disjoint `[seq, upper)`
    /// ranges keyed by `seq` (a tree: segments arrive in any order the
    /// sender likes), at most [`MAX_BLOCKS`](super::reassembly::MAX_BLOCKS) of them.
    pub(super) blocks: std::collections::BTreeMap<u64, u64>,
    /// Reassembly: the bytes kept for in-order delivery to the
    /// connection's analyzers, made on first use when it has any.
    pub(super) pending: Option<Box<Pending>>,
    /// Zero-window letter counter.
    pub(super) win0: Scaled,
    /// Content-gap letter counter.
    pub(super) gap: Scaled,
    /// TCPStats analyzer counters, made on the first packet when
    /// `conn_stats` is wanted (`Config::tcp_stats`).
    pub(super) stats: Option<Stats>,
    /// Unacknowledged payload for retransmission checks, made on first use
    /// when `rexmit_inconsistency` is wanted (`Config::check_rexmit`).
    pub(super) kept: Option<Kept>,
}

/// Signed distance from `b` to `a` in 32-bit sequence space.
pub(super) fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

impl TcpEndpoint {
    /// Starts the side's sequence space at `start` with `last` as the last number seen.
    pub(super) fn init_seqs(&mut self, start: u32, last: u32) {
        self.start_seq = start;
        self.ack_seq = start;
        self.last_seq = last;
    }

    /// Takes a new acknowledgment number, counting a wrap.
    pub(super) fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps += 1;
        }
        self.ack_seq = seq;
    }

    /// Takes a new last sequence number, counting a wrap.
    pub(super) fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps += 1;
        }
        self.last_seq = seq;
    }

    /// Whether the peer acknowledged nothing beyond the SYN (`NoDataAcked`).
    pub(super) fn no_data_acked(&self) -> bool {
        let ack = ((self.ack_wraps as u64) << 32) | self.ack_seq as u64;
        let start = self.start_seq as u64;
        ack == start || ack == start + 1
    }

    /// Sequence number relative to the start (`get_relative_seq`); the flag
    /// says it lies before the start.
    pub(super) fn relative_seq(&self, cur: u32, last: u32, mut wraps: u32) -> (u64, bool) {
        let delta = seq_delta(cur, last);
        if delta < 0 {
            if wraps > 0 && cur > last {
                wraps -= 1;
            }
        } else if delta > 0 && cur < last {
            wraps += 1;
        }
        if wraps == 0 {
            let d = seq_delta(cur, self.start_seq);
            return (d as i64 as u64, d < 0);
        }
        let full = ((wraps as u64) << 32) | cur as u64;
        (full.wrapping_sub(self.start_seq as u64), false)
    }

    /// The `conn_stats` record of this side (zero when not counted).
    pub fn stats_record(&self) -> crate::events::EndpointStats {
        self.extra.as_ref().and_then(|x| x.stats.as_ref()).map(|s| s.rec).unwrap_or_default()
    }

    /// Logical bytes sent (`TCP_Endpoint::Size`); `peer` is the other side.
    pub fn size(&self, peer: &TcpEndpoint) -> u64 {
        if self.prev_state == EndpointState::SynSent
            && self.state == EndpointState::Reset
            && peer.state == EndpointState::Inactive
            && !self.no_data_acked()
        {
            return 0;
        }
        let last = ((self.seq_wraps as u64) << 32) | self.last_seq as u64;
        let ack = ((self.ack_wraps as u64) << 32) | self.ack_seq as u64;
        let top = last.max(ack);
        // The SYN (real or, for partial connections, assumed) and a FIN take
        // sequence space but carry no data.
        let mut size = top.wrapping_sub(self.start_seq as u64).saturating_sub(1);
        if self.fin_cnt > 0 {
            size = size.saturating_sub(1);
        }
        size
    }

    /// Whether the side has sent something and not closed (`IsActive`).
    pub(super) fn is_active(&self) -> bool {
        self.state != EndpointState::Inactive && !self.did_close
    }

    /// The rarely needed state, made now if not yet.
    pub(super) fn extra(&mut self) -> &mut EndpointExtra {
        self.extra.get_or_insert_with(Box::default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_seq_counts_wraps_and_flags_underflow() {
        let mut e = TcpEndpoint::default();
        e.init_seqs(u32::MAX - 10, u32::MAX - 9);
        assert_eq!(e.relative_seq(u32::MAX - 9, e.last_seq, e.seq_wraps), (1, false));
        // Past the wrap, before last_seq is updated: counted as one wrap more.
        assert_eq!(e.relative_seq(5, e.last_seq, e.seq_wraps), (16, false));
        e.update_last_seq(5);
        assert_eq!(e.seq_wraps, 1);
        assert_eq!(e.relative_seq(5, e.last_seq, e.seq_wraps), (16, false));
        // A retransmission from before the wrap.
        assert_eq!(e.relative_seq(u32::MAX - 9, e.last_seq, e.seq_wraps), (1, false));
        let mut e = TcpEndpoint::default();
        e.init_seqs(1000, 1001);
        assert_eq!(e.relative_seq(990, e.last_seq, e.seq_wraps), ((-10i64) as u64, true));
    }

    #[test]
    fn size_leaves_out_syn_and_fin() {
        let mut e = TcpEndpoint::default();
        let peer = TcpEndpoint::default();
        e.init_seqs(100, 101);
        e.update_last_seq(111);
        assert_eq!(e.size(&peer), 10);
        e.fin_cnt = 1;
        e.update_last_seq(112);
        assert_eq!(e.size(&peer), 10, "the FIN takes sequence space, not data");
        e.update_ack_seq(150);
        assert_eq!(e.size(&peer), 48, "acked beyond the last seen byte counts");
    }

    #[test]
    fn size_of_a_rejected_syn_with_a_bogus_ack_is_zero() {
        let mut e = TcpEndpoint::default();
        let peer = TcpEndpoint::default();
        e.init_seqs(100, 101);
        e.update_ack_seq(5000);
        e.prev_state = EndpointState::SynSent;
        e.state = EndpointState::Reset;
        assert_eq!(e.size(&peer), 0);
        e.ack_seq = 101;
        assert_eq!(e.size(&peer), 0, "nothing acked: the ordinary formula, also 0");
        e.ack_seq = 5000;
        e.state = EndpointState::Closed;
        assert_eq!(e.size(&peer), 4899);
    }

    #[test]
    fn ack_wraps_and_no_data_acked() {
        let mut e = TcpEndpoint::default();
        e.init_seqs(u32::MAX, u32::MAX);
        assert!(e.no_data_acked());
        e.update_ack_seq(0);
        assert_eq!(e.ack_wraps, 1);
        assert!(e.no_data_acked(), "start + 1 across the wrap");
        e.update_ack_seq(1);
        assert!(!e.no_data_acked());
    }

    #[test]
    fn handshake_states_and_activity() {
        use EndpointState::*;
        let hs: Vec<_> = [Inactive, SynSent, SynAckSent, Partial, Established, Closed, Reset].into_iter().filter(|s| s.is_handshake()).collect();
        assert_eq!(hs, [Inactive, SynSent, SynAckSent]);
        let mut e = TcpEndpoint::default();
        assert!(!e.is_active());
        e.state = Established;
        assert!(e.is_active());
        e.did_close = true;
        assert!(!e.is_active());
        assert_eq!(e.stats_record(), crate::events::EndpointStats::default(), "no counters unless asked");
    }

    #[test]
    fn seq_delta_is_signed_across_the_wrap() {
        assert_eq!(seq_delta(5, u32::MAX - 4), 10);
        assert_eq!(seq_delta(u32::MAX - 4, 5), -10);
    }
}
