//! A file's reassembler (Zeek's `FileReassembler`): blocks at offsets past
//! the stream's end wait until the bytes before them come; overlapping
//! bytes keep what came first. Flushing hands everything on in order, with
//! a gap for every hole.

use std::collections::BTreeMap;

/// What the reassembler hands on, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// In-order bytes.
    Data(Vec<u8>),
    /// A hole: (offset, length).
    Gap(u64, u64),
    /// The buffer overflowed at stream offset `.0`, `.1` bytes skipped.
    Overflow(u64, u64),
}

/// The blocks of one file waiting for the bytes before them.
#[derive(Clone, Debug, Default)]
pub struct Reassembler {
    /// The next stream offset.
    next: u64,
    /// Blocks by offset, none overlapping.
    blocks: BTreeMap<u64, Vec<u8>>,
    /// Bytes held.
    size: u64,
}

impl Reassembler {
    /// A reassembler whose stream has reached `next`.
    pub fn new(next: u64) -> Reassembler {
        Reassembler { next, ..Reassembler::default() }
    }

    /// Bytes held.
    pub fn total_size(&self) -> u64 {
        self.size
    }

    /// Adds `data` at `offset`; returns the bytes that are now in order.
    pub fn insert(&mut self, offset: u64, data: &[u8]) -> Vec<Piece> {
        let mut start = offset;
        let mut d = data;
        if start < self.next {
            let skip = (self.next - start).min(d.len() as u64) as usize;
            d = &d[skip..];
            start = self.next;
        }
        // Insert the parts no held block covers.
        while !d.is_empty() {
            let end = start + d.len() as u64;
            // A held block starting at or before `start` that covers it.
            if let Some((&bs, b)) = self.blocks.range(..=start).next_back() {
                let be = bs + b.len() as u64;
                if be > start {
                    let skip = (be - start).min(d.len() as u64) as usize;
                    d = &d[skip..];
                    start += skip as u64;
                    continue;
                }
            }
            // The next held block after `start` bounds this part.
            let upto = self.blocks.range(start + 1..).next().map_or(end, |(&bs, _)| bs.min(end));
            let n = (upto - start) as usize;
            self.blocks.insert(start, d[..n].to_vec());
            self.size += n as u64;
            d = &d[n..];
            start = upto;
        }
        self.take_in_order()
    }

    fn take_in_order(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        while let Some(b) = self.blocks.remove(&self.next) {
            self.size -= b.len() as u64;
            self.next += b.len() as u64;
            out.push(Piece::Data(b));
        }
        out
    }

    /// Hands on everything below `upto`, gaps included; the stream then
    /// stands at `upto` (or past it, at the end of a block that began below).
    pub fn flush_to(&mut self, upto: u64) -> Vec<Piece> {
        let mut out = Vec::new();
        while let Some((&bs, _)) = self.blocks.iter().next() {
            if bs >= upto {
                break;
            }
            let b = self.blocks.remove(&bs).unwrap_or_default();
            self.size -= b.len() as u64;
            if bs > self.next {
                out.push(Piece::Gap(self.next, bs - self.next));
            }
            self.next = bs + b.len() as u64;
            out.push(Piece::Data(b));
            out.extend(self.take_in_order());
        }
        if upto > self.next {
            out.push(Piece::Gap(self.next, upto - self.next));
            self.next = upto;
        }
        out
    }

    /// Hands on everything held, gaps included.
    pub fn flush(&mut self) -> Vec<Piece> {
        match self.blocks.iter().next_back() {
            Some((&bs, b)) => {
                let end = bs + b.len() as u64;
                self.flush_to(end)
            }
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_blocks_wait_and_overlaps_keep_the_first() {
        let mut r = Reassembler::new(0);
        assert!(r.insert(4, b"efgh").is_empty());
        assert_eq!(r.total_size(), 4);
        assert!(r.insert(2, b"CDEF").is_empty(), "only cd is new");
        assert_eq!(r.total_size(), 6);
        assert_eq!(r.insert(0, b"ab"), [Piece::Data(b"ab".to_vec()), Piece::Data(b"CD".to_vec()), Piece::Data(b"efgh".to_vec())]);
        assert_eq!(r.total_size(), 0);
        assert!(r.insert(0, b"old").is_empty(), "bytes already delivered are dropped");
    }

    #[test]
    fn flushing_reports_the_holes() {
        let mut r = Reassembler::new(10);
        r.insert(15, b"xx");
        r.insert(20, b"yy");
        assert_eq!(
            r.flush(),
            [Piece::Gap(10, 5), Piece::Data(b"xx".to_vec()), Piece::Gap(17, 3), Piece::Data(b"yy".to_vec())]
        );
        assert_eq!(r.flush_to(30), [Piece::Gap(22, 8)]);
        assert_eq!(r.total_size(), 0);
    }
}
