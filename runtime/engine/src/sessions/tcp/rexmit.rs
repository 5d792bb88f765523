//! Retransmission checks: unacknowledged payload kept to compare with
//! retransmitted bytes (`rexmit_inconsistency`).

use super::endpoint::TcpEndpoint;

/// Payload delivered in order and not yet acknowledged, kept only to
/// compare retransmissions (`rexmit_inconsistency`).
#[derive(Clone, Debug, Default)]
pub(super) struct Kept {
    /// The bytes, starting at relative sequence number `from`.
    pub(super) bytes: std::collections::VecDeque<u8>,
    pub(super) from: u64,
}

/// At most this many unacknowledged bytes are kept per side for
/// retransmission checks; older ones are dropped.
pub(super) const MAX_KEPT: usize = 1 << 16;

impl TcpEndpoint {
    /// Compares a retransmitted payload with the kept bytes it overlaps and
    /// keeps what extends them. Returns (kept, new) bytes when they differ.
    pub(super) fn check_rexmit(&mut self, seq: u64, data: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let k = self.extra().kept.get_or_insert_with(Kept::default);
        if k.bytes.is_empty() {
            k.from = seq;
        }
        let kept_end = k.from + k.bytes.len() as u64;
        let mut diff = None;
        let lo = seq.max(k.from);
        let hi = (seq + data.len() as u64).min(kept_end);
        if lo < hi {
            let old: Vec<u8> = k.bytes.range((lo - k.from) as usize..(hi - k.from) as usize).copied().collect();
            let new = &data[(lo - seq) as usize..(hi - seq) as usize];
            if old != new {
                diff = Some((old, new.to_vec()));
            }
        }
        if seq <= kept_end && seq + data.len() as u64 > kept_end {
            k.bytes.extend(&data[(kept_end - seq) as usize..]);
            while k.bytes.len() > MAX_KEPT {
                k.bytes.pop_front();
                k.from += 1;
            }
        }
        diff
    }

    /// Drops kept bytes the peer acknowledged.
    pub(super) fn trim_kept(&mut self, ack: u64) {
        let Some(k) = self.extra.as_mut().and_then(|x| x.kept.as_mut()) else { return };
        while ack > k.from && !k.bytes.is_empty() {
            k.bytes.pop_front();
            k.from += 1;
        }
    }
}

/// Zeek's letters for a segment's flags in `rexmit_inconsistency`.
pub(super) fn flag_letters(f: u8) -> String {
    [(0x02, 'S'), (0x01, 'F'), (0x04, 'R'), (0x10, 'A'), (0x08, 'P'), (0x20, 'U')]
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|&(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(e: &TcpEndpoint) -> (u64, Vec<u8>) {
        let k = e.extra.as_ref().and_then(|x| x.kept.as_ref()).unwrap();
        (k.from, k.bytes.iter().copied().collect())
    }

    #[test]
    fn differing_overlap_is_reported_and_extensions_kept() {
        let mut e = TcpEndpoint::default();
        assert_eq!(e.check_rexmit(1, b"abcd"), None);
        assert_eq!(e.check_rexmit(3, b"cdef"), None, "overlap agrees, the rest extends");
        assert_eq!(kept(&e), (1, b"abcdef".to_vec()));
        assert_eq!(e.check_rexmit(2, b"bXd"), Some((b"bcd".to_vec(), b"bXd".to_vec())));
        assert_eq!(kept(&e), (1, b"abcdef".to_vec()), "the kept bytes stay");
        assert_eq!(e.check_rexmit(20, b"zz"), None, "beyond a hole: not kept");
        assert_eq!(kept(&e).1.len(), 6);
    }

    #[test]
    fn acknowledged_bytes_are_dropped() {
        let mut e = TcpEndpoint::default();
        e.trim_kept(5); // nothing kept yet
        e.check_rexmit(1, b"abcdef");
        e.trim_kept(4);
        assert_eq!(kept(&e), (4, b"def".to_vec()));
        assert_eq!(e.check_rexmit(1, b"XYZd"), None, "acknowledged bytes are not compared");
        e.trim_kept(100);
        assert_eq!(kept(&e).1, b"");
    }

    #[test]
    fn at_most_max_kept_bytes() {
        let mut e = TcpEndpoint::default();
        let data = vec![7u8; MAX_KEPT + 10];
        e.check_rexmit(1, &data);
        assert_eq!(kept(&e), (11, vec![7u8; MAX_KEPT]));
    }

    #[test]
    fn zeek_flag_letters() {
        assert_eq!(flag_letters(0x3f), "SFRAPU");
        assert_eq!(flag_letters(0x18), "AP");
        assert_eq!(flag_letters(0xc0), "");
    }
}
