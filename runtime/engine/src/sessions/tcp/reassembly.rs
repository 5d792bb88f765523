//! Reassembly ranges: which bytes of a side were captured, and the holes
//! the peer's acknowledgments reveal (`content_gap`, history `G`).

use super::endpoint::TcpEndpoint;

/// Most disjoint ranges above a hole kept per side: a sender choosing
/// sequence numbers could otherwise grow them without end. Far more than
/// any real window holds.
pub(super) const MAX_BLOCKS: usize = 16_384;

impl TcpEndpoint {
    /// Captured payload `[seq, seq + len)` (relative) entered reassembly.
    pub(super) fn data_sent(&mut self, seq: u64, len: u64) {
        let upper = seq + len;
        if self.last_reassem == 0 {
            self.last_reassem = 1;
        }
        if upper <= self.last_reassem {
            return;
        }
        if seq <= self.last_reassem {
            self.last_reassem = upper;
        } else {
            let blocks = &mut self.extra().blocks;
            let (mut lo, mut hi) = (seq, upper);
            // Merge with overlapping or touching neighbours.
            if let Some((&s, &u)) = blocks.range(..=seq).next_back() {
                if u >= seq {
                    lo = s;
                    hi = hi.max(u);
                    blocks.remove(&s);
                }
            }
            while let Some((&s, &u)) = blocks.range(lo..=hi).next() {
                hi = hi.max(u);
                blocks.remove(&s);
            }
            blocks.insert(lo, hi);
            if blocks.len() > MAX_BLOCKS {
                // The highest range goes: its bytes count as missing if acknowledged.
                blocks.pop_last();
            }
        }
        while let Some((s, u)) = self.first_block() {
            if s > self.last_reassem {
                break;
            }
            self.last_reassem = self.last_reassem.max(u);
            self.drop_first_block();
        }
    }

    /// The lowest captured block above a hole.
    pub(super) fn first_block(&self) -> Option<(u64, u64)> {
        self.extra.as_ref().and_then(|x| x.blocks.first_key_value()).map(|(&s, &u)| (s, u))
    }

    /// Removes the lowest captured block.
    pub(super) fn drop_first_block(&mut self) {
        if let Some(x) = self.extra.as_mut() {
            x.blocks.pop_first();
        }
    }

    /// The peer acknowledged this side's data up to `seq` (relative): holes
    /// below it are gaps, returned as `(seq, len)` (`TCP_Reassembler::AckReceived`).
    pub(super) fn ack_received(&mut self, mut seq: u64, is_partial: bool, gaps: &mut Vec<(u64, u64)>) {
        if self.last_reassem == 0 {
            self.last_reassem = 1;
        }
        if self.fin_cnt > 0 && seq >= self.fin_seq {
            seq = self.fin_seq.saturating_sub(1);
        }
        if seq <= self.last_reassem {
            return;
        }
        if seq <= 2 && is_partial {
            // The faked SYN of a partial connection is not a gap.
            self.last_reassem = seq;
            return;
        }
        while let Some((s, u)) = self.first_block() {
            if s >= seq {
                break;
            }
            if s > self.last_reassem {
                gaps.push((self.last_reassem, s - self.last_reassem));
            }
            self.last_reassem = self.last_reassem.max(u);
            self.drop_first_block();
        }
        if seq > self.last_reassem {
            gaps.push((self.last_reassem, seq - self.last_reassem));
            self.last_reassem = seq;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(e: &TcpEndpoint) -> Vec<(u64, u64)> {
        e.extra.as_ref().map(|x| x.blocks.iter().map(|(&s, &u)| (s, u)).collect()).unwrap_or_default()
    }

    #[test]
    fn ranges_above_a_hole_merge_in_any_order() {
        let mut e = TcpEndpoint::default();
        e.data_sent(1, 10); // in order: [1, 11)
        e.data_sent(30, 5);
        e.data_sent(20, 5);
        e.data_sent(25, 5); // touches both neighbours
        e.data_sent(50, 10);
        e.data_sent(45, 20); // covers [50, 60)
        assert_eq!(ranges(&e), [(20, 35), (45, 65)]);
        let mut gaps = Vec::new();
        e.ack_received(70, false, &mut gaps);
        assert_eq!(gaps, [(11, 9), (35, 10), (65, 5)]);
        assert!(ranges(&e).is_empty());
    }

    #[test]
    fn ranges_above_a_hole_are_capped() {
        let mut e = TcpEndpoint::default();
        e.data_sent(1, 1);
        // Every other byte, highest first: the worst order for a sorted list.
        for k in (0..3 * MAX_BLOCKS as u64).rev() {
            e.data_sent(10 + 2 * k, 1);
        }
        assert_eq!(ranges(&e).len(), MAX_BLOCKS);
        assert_eq!(ranges(&e)[0], (10, 11), "the lowest ranges are the ones kept");
    }

    #[test]
    fn the_faked_syn_of_a_partial_connection_is_no_gap() {
        let mut gaps = Vec::new();
        let mut e = TcpEndpoint::default();
        e.ack_received(2, true, &mut gaps);
        assert!(gaps.is_empty());
        assert_eq!(e.last_reassem, 2);
        let mut e = TcpEndpoint::default();
        e.ack_received(2, false, &mut gaps);
        assert_eq!(gaps, [(1, 1)], "with a handshake it is a missing byte");
    }

    #[test]
    fn acks_past_the_fin_stop_at_the_fin() {
        let mut e = TcpEndpoint::default();
        e.data_sent(1, 10);
        e.fin_cnt = 1;
        e.fin_seq = 12; // the FIN at 11 takes one number
        let mut gaps = Vec::new();
        e.ack_received(12, false, &mut gaps);
        assert!(gaps.is_empty(), "the FIN is not a missing byte: {gaps:?}");
        e.ack_received(500, false, &mut gaps);
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!(e.last_reassem, 11);
    }

    #[test]
    fn in_order_and_repeated_data_moves_the_edge_only() {
        let mut e = TcpEndpoint::default();
        e.data_sent(1, 10);
        e.data_sent(5, 3);
        e.data_sent(11, 4);
        assert_eq!(e.last_reassem, 15);
        assert!(ranges(&e).is_empty());
        e.data_sent(20, 5);
        e.data_sent(15, 5); // fills the hole
        assert_eq!(e.last_reassem, 25);
        assert!(ranges(&e).is_empty());
    }
}
