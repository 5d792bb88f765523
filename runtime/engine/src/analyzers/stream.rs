//! In-order delivery of one direction of a TCP connection's payload to an
//! application analyzer: retransmitted bytes are dropped, out-of-order
//! segments wait (up to [`MAX_PENDING`] bytes) until the hole before them
//! fills; past that the hole is given up and delivery resumes after it.

use std::collections::BTreeMap;

/// Most out-of-order bytes kept per direction.
pub const MAX_PENDING: usize = 64 * 1024;

/// What a [`Stream`] hands its analyzer.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// Bytes that never came (a hole given up): the analyzer's partial state is stale.
    Gap,
}

/// One direction's reassembly state, numbered in relative sequence numbers.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Relative sequence number of the next byte to deliver (`None` before the first segment).
    next: Option<u64>,
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
}

impl Stream {
    /// A segment's payload `data` at relative sequence number `seq`; every
    /// newly contiguous run (and every given-up hole) goes to `deliver`.
    pub fn segment(&mut self, seq: u64, data: &[u8], mut deliver: impl FnMut(Chunk<'_>)) {
        let next = *self.next.get_or_insert(seq);
        let end = seq + data.len() as u64;
        if end <= next || data.is_empty() {
            return;
        }
        if seq > next {
            if self.pending_bytes + data.len() <= MAX_PENDING {
                self.pending_bytes += data.len();
                self.pending.entry(seq).or_default().splice(.., data.iter().copied());
                return;
            }
            // Too much waits behind the hole: give it up, deliver what waited
            // from its earliest byte, and give up any hole left before `seq`.
            deliver(Chunk::Gap);
            let first = self.pending.keys().next().map_or(seq, |&k| k.min(seq));
            self.next = Some(first);
            self.drain(&mut deliver);
            if self.next.is_some_and(|n| seq > n) {
                deliver(Chunk::Gap);
                self.next = Some(seq);
            }
        }
        let next = self.next.unwrap_or(seq);
        if end <= next {
            return;
        }
        deliver(Chunk::Data(&data[(next - seq) as usize..]));
        self.next = Some(end);
        self.drain(&mut deliver);
    }

    /// Delivers what waited and has become contiguous.
    fn drain(&mut self, deliver: &mut impl FnMut(Chunk<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let next = self.next.unwrap_or(0);
            let seq = *entry.key();
            if seq > next {
                break;
            }
            let data = entry.remove();
            self.pending_bytes -= data.len();
            let end = seq + data.len() as u64;
            if end > next {
                deliver(Chunk::Data(&data[(next - seq) as usize..]));
                self.next = Some(end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(s: &mut Stream, seq: u64, data: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        s.segment(seq, data, |c| {
            out.push(match c {
                Chunk::Data(d) => String::from_utf8_lossy(d).into_owned(),
                Chunk::Gap => "<gap>".into(),
            })
        });
        out
    }

    #[test]
    fn in_order_retransmitted_and_out_of_order() {
        let mut s = Stream::default();
        assert_eq!(feed(&mut s, 1, b"hello "), ["hello "]);
        assert_eq!(feed(&mut s, 1, b"hello "), Vec::<String>::new(), "a retransmission");
        assert_eq!(feed(&mut s, 4, b"lo wor"), ["wor"], "an overlap delivers only the new tail");
        assert_eq!(feed(&mut s, 14, b"!!"), Vec::<String>::new(), "ahead of a hole: waits");
        assert_eq!(feed(&mut s, 10, b"ld, "), ["ld, ", "!!"], "the hole fills: both go");
    }

    #[test]
    fn a_hole_is_given_up_when_too_much_waits() {
        let mut s = Stream::default();
        feed(&mut s, 1, b"a");
        let big = vec![b'x'; MAX_PENDING];
        assert!(feed(&mut s, 100, &big).is_empty());
        let out = feed(&mut s, 100 + MAX_PENDING as u64, b"yz");
        assert_eq!(out.first().map(String::as_str), Some("<gap>"));
        assert_eq!(out.concat().len(), "<gap>".len() + MAX_PENDING + 2);
    }
}
