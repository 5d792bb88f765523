//! The reassembler of one side of a TCP connection, after Zeek's
//! `TCP_Reassembler`: the one place a side's payload enters. It keeps
//! which bytes were captured (the in-order edge `last_reassem` and the
//! ranges above a hole), from which the peer's acknowledgments reveal
//! holes (`content_gap`, history `G`); and, when the connection has
//! analyzers, it keeps the bytes themselves and hands them on in order
//! ([`Delivery`]). Retransmitted bytes are not delivered again;
//! out-of-order ones wait until the hole before them fills, or until the
//! peer acknowledges past it: then the hole is given up for delivery
//! ([`Delivery::Gap`]) and delivery resumes after it. Zeek's limits on
//! what is held ([`crate::config::TcpLimits`]) stop a side's delivery with
//! a weird; beyond them, at most [`MAX_PENDING`] bytes wait above a hole
//! before it is given up (a bound against hostile traffic). Delivery
//! starts at the first byte captured.

use super::endpoint::TcpEndpoint;
use std::collections::BTreeMap;

/// Most disjoint ranges above a hole kept per side: a sender choosing
/// sequence numbers could otherwise grow them without end. Far more than
/// any real window holds.
pub(super) const MAX_BLOCKS: usize = 16_384;

/// Most out-of-order bytes kept per side for delivery.
pub const MAX_PENDING: usize = 64 * 1024;

/// What the limits on held bytes read (Zeek's `TCP_Reassembler::DataSent`).
struct Held<'a> {
    limits: &'a crate::config::TcpLimits,
    /// The peer acknowledged none of the side's data yet.
    no_data_acked: bool,
}

/// What a side's reassembler hands the connection's analyzers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The next bytes of the side's stream.
    Data(Vec<u8>),
    /// This many bytes that never came (a hole given up).
    Gap(u64),
    /// The side's stream has ended: everything up to its FIN was handed on.
    End,
}

/// The bytes of a side kept for in-order delivery, in relative sequence
/// numbers; only made when the connection has analyzers.
#[derive(Clone, Debug, Default)]
pub(super) struct Pending {
    /// Relative sequence number of the next byte to deliver (`None` before the first segment).
    next: Option<u64>,
    /// Segments waiting above a hole, keyed by their first byte.
    waiting: BTreeMap<u64, Vec<u8>>,
    /// Bytes in `waiting`.
    bytes: usize,
    /// Relative sequence number of the side's FIN, once seen.
    fin: Option<u64>,
    /// [`Delivery::End`] was handed on.
    ended: bool,
    /// Bytes below this are no longer held: the peer acknowledged them, or
    /// they were let go without waiting for its acks.
    trim: u64,
    /// A limit was hit: nothing more is delivered (Zeek's `skip_deliveries`).
    skipping: bool,
}

impl Pending {
    /// A segment's payload `data` at relative sequence number `seq`; every
    /// newly contiguous run (and every given-up hole, and the end once the
    /// FIN is reached) goes to `out`.
    fn segment(&mut self, seq: u64, data: &[u8], held: &Held, out: &mut Vec<Delivery>) -> Option<&'static str> {
        if self.skipping {
            return None;
        }
        self.add(seq, data, out);
        self.check_end(out);
        self.check_limits(seq + data.len() as u64, held)
    }

    /// Zeek's limits on what a side's reassembler holds, after a segment
    /// ending at relative `upper`: the weird of the one that ends delivery.
    fn check_limits(&mut self, upper: u64, h: &Held) -> Option<&'static str> {
        let next = self.next.unwrap_or(0);
        let lim = h.limits;
        if h.no_data_acked && lim.max_initial_window > 0 && upper.saturating_sub(1) > lim.max_initial_window {
            // Nothing acknowledged after a whole initial window: the peer's
            // acks are presumably not seen, so delivered bytes are not held.
            self.trim = self.trim.max(next);
        }
        let above = self.waiting.iter().next_back().map_or(0, |(&s, d)| s + d.len() as u64).saturating_sub(next);
        let weird = if h.no_data_acked && lim.max_above_hole_without_any_acks > 0 && above > lim.max_above_hole_without_any_acks {
            "above_hole_data_without_any_acks"
        } else if lim.excessive_data_without_further_acks > 0
            && next.saturating_sub(self.trim) + self.bytes as u64 > lim.excessive_data_without_further_acks
        {
            "excessive_data_without_further_acks"
        } else {
            return None;
        };
        self.waiting.clear();
        self.bytes = 0;
        self.skipping = true;
        Some(weird)
    }

    /// The side's FIN at relative sequence number `at`: the stream ends
    /// once everything before it was handed on.
    fn fin(&mut self, at: u64, out: &mut Vec<Delivery>) {
        self.fin.get_or_insert(at);
        self.check_end(out);
    }

    fn check_end(&mut self, out: &mut Vec<Delivery>) {
        if !self.ended && self.fin.is_some_and(|f| self.next.is_none_or(|n| n >= f)) {
            self.ended = true;
            out.push(Delivery::End);
        }
    }

    fn add(&mut self, seq: u64, data: &[u8], out: &mut Vec<Delivery>) {
        let next = *self.next.get_or_insert(seq);
        let end = seq + data.len() as u64;
        if end <= next || data.is_empty() {
            return;
        }
        if seq > next {
            if self.bytes + data.len() <= MAX_PENDING {
                self.bytes += data.len();
                self.waiting.entry(seq).or_default().splice(.., data.iter().copied());
                return;
            }
            // Too much waits behind the hole: give it up, deliver what waited
            // from its earliest byte, and give up any hole left before `seq`.
            let first = self.waiting.keys().next().map_or(seq, |&k| k.min(seq));
            out.push(Delivery::Gap(first - next));
            self.next = Some(first);
            self.drain(out);
            if let Some(n) = self.next.filter(|&n| seq > n) {
                out.push(Delivery::Gap(seq - n));
                self.next = Some(seq);
            }
        }
        let next = self.next.unwrap_or(seq);
        if end <= next {
            return;
        }
        out.push(Delivery::Data(data[(next - seq) as usize..].to_vec()));
        self.next = Some(end);
        self.drain(out);
    }

    /// The peer acknowledged everything below `seq` while a hole is still
    /// open (Zeek's `TrimToSeq` of an ack past undelivered data): what
    /// waits below `seq` is handed on, each hole before it as a gap, then
    /// the hole left up to `seq`; delivery goes on from `seq`. Before the
    /// side's first segment nothing is skipped (delivery starts at it).
    /// The held-bytes mark moved with the ack already
    /// ([`TcpEndpoint::peer_acked`]).
    fn acked(&mut self, seq: u64, out: &mut Vec<Delivery>) {
        if self.skipping {
            return;
        }
        let Some(mut next) = self.next else { return };
        if seq <= next {
            return;
        }
        while let Some(entry) = self.waiting.first_entry() {
            let at = *entry.key();
            if at >= seq {
                break;
            }
            if at > next {
                out.push(Delivery::Gap(at - next));
                next = at;
            }
            let data = entry.remove();
            self.bytes -= data.len();
            let end = at + data.len() as u64;
            if end > next {
                out.push(Delivery::Data(data[(next - at) as usize..].to_vec()));
                next = end;
            }
        }
        if seq > next {
            out.push(Delivery::Gap(seq - next));
            next = seq;
        }
        self.next = Some(next);
        self.drain(out);
        self.check_end(out);
    }

    /// Delivers what waited and has become contiguous.
    fn drain(&mut self, out: &mut Vec<Delivery>) {
        while let Some(entry) = self.waiting.first_entry() {
            let next = self.next.unwrap_or(0);
            let seq = *entry.key();
            if seq > next {
                break;
            }
            let data = entry.remove();
            self.bytes -= data.len();
            let end = seq + data.len() as u64;
            if end > next {
                out.push(Delivery::Data(data[(next - seq) as usize..].to_vec()));
                self.next = Some(end);
            }
        }
    }
}

impl TcpEndpoint {
    /// The peer acknowledged this side's bytes below relative `seq`: they
    /// are no longer held for delivery.
    pub(super) fn peer_acked(&mut self, seq: u64) {
        if let Some(p) = self.extra.as_mut().and_then(|x| x.pending.as_mut()) {
            p.trim = p.trim.max(seq);
        }
    }

    /// The peer acknowledged this side's bytes below relative `seq` past a
    /// hole: delivery skips the hole ([`Pending`]'s `acked`), appending to `out`.
    pub(super) fn acked_past_hole(&mut self, seq: u64, out: &mut Vec<Delivery>) {
        if let Some(p) = self.extra.as_mut().and_then(|x| x.pending.as_mut()) {
            p.acked(seq, out);
        }
    }

    /// The side's FIN at relative sequence number `at`, for delivery: the
    /// stream's end is appended to `out` once everything before it was.
    pub(super) fn fin_sent(&mut self, at: u64, out: &mut Vec<Delivery>) {
        self.extra().pending.get_or_insert_with(Box::default).fin(at, out);
    }

    /// Captured payload `data` at relative `seq` enters reassembly; when
    /// `deliver` is given (the connection has analyzers), the bytes that
    /// become deliverable in order are appended to it.
    /// Returns the weird of a reassembly limit that stopped delivery.
    pub(super) fn data_sent(
        &mut self,
        seq: u64,
        data: &[u8],
        deliver: Option<(&mut Vec<Delivery>, &crate::config::TcpLimits)>,
    ) -> Option<&'static str> {
        let mut weird = None;
        if let Some((out, limits)) = deliver {
            let held = Held { limits, no_data_acked: self.no_data_acked() };
            weird = self.extra().pending.get_or_insert_with(Box::default).segment(seq, data, &held, out);
        }
        let upper = seq + data.len() as u64;
        if self.last_reassem == 0 {
            self.last_reassem = 1;
        }
        if upper <= self.last_reassem {
            return weird;
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
        weird
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
    use crate::config::TcpLimits;

    /// `len` captured bytes at `seq`, no analyzer attached.
    fn sent(e: &mut TcpEndpoint, seq: u64, len: u64) {
        e.data_sent(seq, &vec![b'.'; len as usize], None);
    }

    /// `data` at `seq` with an analyzer attached: what is delivered, as text.
    fn feed(e: &mut TcpEndpoint, seq: u64, data: &[u8]) -> Vec<String> {
        feed_with(e, seq, data, &TcpLimits::default()).0
    }

    /// [`feed`] under `limits`, with the weird of a limit hit.
    fn feed_with(e: &mut TcpEndpoint, seq: u64, data: &[u8], limits: &TcpLimits) -> (Vec<String>, Option<&'static str>) {
        let mut out = Vec::new();
        let weird = e.data_sent(seq, data, Some((&mut out, limits)));
        (show(out), weird)
    }

    fn show(out: Vec<Delivery>) -> Vec<String> {
        out.into_iter()
            .map(|d| match d {
                Delivery::Data(d) => String::from_utf8_lossy(&d).into_owned(),
                Delivery::Gap(n) => format!("<gap {n}>"),
                Delivery::End => "<end>".into(),
            })
            .collect()
    }

    /// An endpoint whose peer has acknowledged its first data byte.
    fn acked_once() -> TcpEndpoint {
        let mut e = TcpEndpoint::default();
        e.init_seqs(1000, 1000);
        e.update_ack_seq(1002);
        assert!(!e.no_data_acked());
        e
    }

    #[test]
    fn above_a_hole_without_any_acks_delivery_stops_past_the_limit() {
        let mut e = TcpEndpoint::default();
        let lim = TcpLimits::default();
        assert_eq!(feed_with(&mut e, 1, b"a", &lim), (vec!["a".to_string()], None));
        // Undelivered bytes count from the hole's start (2) to the highest byte.
        let big = vec![b'x'; 16384 - 8];
        assert_eq!(feed_with(&mut e, 10, &big, &lim), (vec![], None), "exactly the limit waits");
        assert_eq!(feed_with(&mut e, 10 + 16376, b"y", &lim), (vec![], Some("above_hole_data_without_any_acks")));
        assert_eq!(feed_with(&mut e, 2, b"bcdefgh!", &lim), (vec![], None), "nothing is delivered any more");
        // With acks the same bytes wait for the hole.
        let mut e = acked_once();
        feed_with(&mut e, 1, b"a", &lim);
        assert_eq!(feed_with(&mut e, 10, &big, &lim).1, None);
        assert_eq!(feed_with(&mut e, 10 + 16376, b"y", &lim).1, None);
    }

    #[test]
    fn too_much_held_for_the_peers_acks_stops_delivery() {
        let lim = TcpLimits { excessive_data_without_further_acks: 100, ..TcpLimits::default() };
        let mut e = acked_once();
        assert_eq!(feed_with(&mut e, 1, &[b'a'; 60], &lim).1, None);
        e.peer_acked(41);
        assert_eq!(feed_with(&mut e, 61, &[b'b'; 80], &lim).1, None, "bytes 41 to 140 are held: 100");
        let (out, weird) = feed_with(&mut e, 141, b"c", &lim);
        assert_eq!((out.concat(), weird), ("c".to_string(), Some("excessive_data_without_further_acks")));
        assert_eq!(feed_with(&mut e, 142, b"d", &lim), (vec![], None), "delivery has stopped");
        // Without any ack after a whole initial window nothing is held.
        let mut e = TcpEndpoint::default();
        let lim = TcpLimits { max_initial_window: 50, excessive_data_without_further_acks: 100, ..TcpLimits::default() };
        for i in 0..10 {
            assert_eq!(feed_with(&mut e, 1 + i * 60, &[b'z'; 60], &lim).1, None, "segment {i}");
        }
    }

    #[test]
    fn the_stream_ends_at_its_fin_once_everything_before_it_came() {
        let mut e = TcpEndpoint::default();
        assert_eq!(feed(&mut e, 1, b"ab"), ["ab"]);
        let mut out = Vec::new();
        e.fin_sent(7, &mut out);
        assert!(out.is_empty(), "bytes 3 to 6 are still to come");
        assert_eq!(feed(&mut e, 5, b"ef"), Vec::<String>::new());
        assert_eq!(feed(&mut e, 3, b"cd"), ["cd", "ef", "<end>"]);
        e.fin_sent(7, &mut out);
        assert_eq!(feed(&mut e, 3, b"cdef"), Vec::<String>::new(), "ended once");
        assert!(out.is_empty());
        let mut e = TcpEndpoint::default();
        e.fin_sent(1, &mut out);
        assert_eq!(out, [Delivery::End], "a FIN without data ends at once");
    }

    #[test]
    fn in_order_retransmitted_overlapping_and_out_of_order_delivery() {
        let mut e = TcpEndpoint::default();
        assert_eq!(feed(&mut e, 1, b"hello "), ["hello "]);
        assert_eq!(feed(&mut e, 1, b"hello "), Vec::<String>::new(), "a retransmission");
        assert_eq!(feed(&mut e, 4, b"lo wor"), ["wor"], "an overlap delivers only the new tail");
        assert_eq!(feed(&mut e, 14, b"!!"), Vec::<String>::new(), "ahead of a hole: waits");
        assert_eq!(ranges(&e), [(14, 16)], "the same bytes are accounted above the hole");
        assert_eq!(feed(&mut e, 10, b"ld, "), ["ld, ", "!!"], "the hole fills: both go");
        assert_eq!(e.last_reassem, 16);
        assert!(ranges(&e).is_empty());
        let mut gaps = Vec::new();
        e.ack_received(16, false, &mut gaps);
        assert!(gaps.is_empty(), "everything acknowledged was captured: {gaps:?}");
    }

    #[test]
    fn a_hole_is_given_up_for_delivery_when_too_much_waits() {
        let mut e = acked_once();
        feed(&mut e, 1, b"a");
        let big = vec![b'x'; MAX_PENDING];
        assert!(feed(&mut e, 100, &big).is_empty());
        let out = feed(&mut e, 100 + MAX_PENDING as u64, b"yz");
        assert_eq!(out.first().map(String::as_str), Some("<gap 98>"), "bytes 2 to 99 never came");
        assert_eq!(out.concat().len(), "<gap 98>".len() + MAX_PENDING + 2);
        assert_eq!(feed(&mut e, 50, b"late"), Vec::<String>::new(), "bytes of a given-up hole are not delivered");
        // The accounting still knows the hole: an ack across it reveals it.
        let mut gaps = Vec::new();
        e.ack_received(102 + MAX_PENDING as u64, false, &mut gaps);
        assert_eq!(gaps, [(2, 48), (54, 46)]);
    }

    #[test]
    fn an_ack_past_a_hole_gives_it_up_and_delivers_what_waited_below_the_ack() {
        let mut e = TcpEndpoint::default();
        feed(&mut e, 1, b"ab");
        assert!(feed(&mut e, 6, b"fg").is_empty(), "bytes 3 to 5 are missing");
        assert!(feed(&mut e, 12, b"lm").is_empty(), "and 8 to 11");
        let mut out = Vec::new();
        e.acked_past_hole(10, &mut out);
        assert_eq!(show(out), ["<gap 3>", "fg", "<gap 2>"], "up to the ack; bytes 12 on wait for 10 and 11");
        let mut out = Vec::new();
        e.acked_past_hole(9, &mut out);
        assert!(out.is_empty(), "an older ack skips nothing");
        assert_eq!(feed(&mut e, 10, b"jk"), ["jk", "lm"], "delivery goes on from the ack");
        let mut fresh = TcpEndpoint::default();
        let mut out = Vec::new();
        fresh.acked_past_hole(100, &mut out);
        assert!(out.is_empty(), "before the first segment nothing is skipped");
    }

    #[test]
    fn no_bytes_are_kept_without_an_analyzer() {
        let mut e = TcpEndpoint::default();
        sent(&mut e, 1, 4);
        sent(&mut e, 20, 4);
        assert!(e.extra.as_ref().is_some_and(|x| x.pending.is_none()));
    }

    fn ranges(e: &TcpEndpoint) -> Vec<(u64, u64)> {
        e.extra.as_ref().map(|x| x.blocks.iter().map(|(&s, &u)| (s, u)).collect()).unwrap_or_default()
    }

    #[test]
    fn ranges_above_a_hole_merge_in_any_order() {
        let mut e = TcpEndpoint::default();
        sent(&mut e, 1, 10); // in order: [1, 11)
        sent(&mut e, 30, 5);
        sent(&mut e, 20, 5);
        sent(&mut e, 25, 5); // touches both neighbours
        sent(&mut e, 50, 10);
        sent(&mut e, 45, 20); // covers [50, 60)
        assert_eq!(ranges(&e), [(20, 35), (45, 65)]);
        let mut gaps = Vec::new();
        e.ack_received(70, false, &mut gaps);
        assert_eq!(gaps, [(11, 9), (35, 10), (65, 5)]);
        assert!(ranges(&e).is_empty());
    }

    #[test]
    fn ranges_above_a_hole_are_capped() {
        let mut e = TcpEndpoint::default();
        sent(&mut e, 1, 1);
        // Every other byte, highest first: the worst order for a sorted list.
        for k in (0..3 * MAX_BLOCKS as u64).rev() {
            sent(&mut e, 10 + 2 * k, 1);
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
        sent(&mut e, 1, 10);
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
        sent(&mut e, 1, 10);
        sent(&mut e, 5, 3);
        sent(&mut e, 11, 4);
        assert_eq!(e.last_reassem, 15);
        assert!(ranges(&e).is_empty());
        sent(&mut e, 20, 5);
        sent(&mut e, 15, 5); // fills the hole
        assert_eq!(e.last_reassem, 25);
        assert!(ranges(&e).is_empty());
    }
}
