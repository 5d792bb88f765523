//! Zeek's TCPStats analyzer counters (`conn_stats`).

/// Zeek's `TCPStats_Endpoint`: IP ID order and retransmissions per side.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// The record `conn_stats` reports.
    pub rec: crate::events::EndpointStats,
    pub(super) last_id: u16,
    pub(super) max_top_seq: u64,
}

impl Stats {
    /// Accounts one packet with IP ID `id` carrying `len` bytes at relative `seq`.
    pub fn packet(&mut self, id: u16, seq: u64, len: u64) {
        let r = &mut self.rec;
        r.num_pkts += 1;
        if r.num_pkts == 1 {
            self.last_id = id;
            return;
        }
        if id == self.last_id {
            r.num_repl += 1;
            return;
        }
        let delta = id.wrapping_sub(self.last_id) as i16;
        let endian_delta = id.swap_bytes().wrapping_sub(self.last_id.swap_bytes()) as i16;
        let (abs, abs_endian) = (delta.unsigned_abs(), endian_delta.unsigned_abs());
        let mut check = |whom: u8| {
            r.endian_type = match r.endian_type {
                0 => whom,
                e if e == whom => e,
                _ => 3,
            }
        };
        let delta = if abs < abs_endian {
            check(1);
            delta
        } else if abs > abs_endian {
            check(2);
            endian_delta
        } else {
            delta
        };
        if delta < 0 && delta > -256 {
            r.num_oo += 1;
            return;
        }
        self.last_id = id;
        r.num_in_order += 1;
        let top = seq + len;
        if top <= self.max_top_seq {
            r.num_rxmit += 1;
            r.num_rxmit_bytes += len;
        } else {
            self.max_top_seq = top;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_ids_in_order_and_retransmissions() {
        let mut s = Stats::default();
        s.packet(10, 1, 100);
        s.packet(11, 101, 100);
        s.packet(12, 1, 100); // the first segment again
        s.packet(12, 1, 100); // same IP ID: a replicated packet
        let r = s.rec;
        assert_eq!((r.num_pkts, r.num_in_order, r.num_repl, r.num_oo), (4, 2, 1, 0));
        assert_eq!((r.num_rxmit, r.num_rxmit_bytes), (1, 100));
        assert_eq!(r.endian_type, 1, "IP IDs grow in host order");
    }

    #[test]
    fn ip_ids_out_of_order_and_byte_swapped() {
        let mut s = Stats::default();
        s.packet(20, 1, 0);
        s.packet(18, 1, 0);
        assert_eq!(s.rec.num_oo, 1);
        let mut s = Stats::default();
        s.packet(0x0100, 1, 0);
        s.packet(0x0200, 1, 0);
        assert_eq!(s.rec.endian_type, 2, "IP IDs grow in swapped byte order");
        s.packet(0x0201, 1, 0);
        assert_eq!(s.rec.endian_type, 3, "both orders seen");
    }
}
