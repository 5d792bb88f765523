//! Reading a DNS message the way Zeek's interpreter does: a position and the
//! number of bytes left. A short read yields 0 and consumes nothing (Zeek's
//! `ExtractShort`/`ExtractLong`), so a record that lies about its length
//! leaves the position where Zeek's would be.

/// A window `[pos, end)` of a message.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    /// The whole message (compression offsets count from its start).
    pub msg: &'a [u8],
    /// Next byte to read.
    pub pos: usize,
    /// End of the readable window.
    pub end: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor over all of `msg`.
    pub fn new(msg: &'a [u8]) -> Cursor<'a> {
        Cursor { msg, pos: 0, end: msg.len() }
    }

    /// Bytes left in the window.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next byte, or 0 (nothing consumed) when none is left.
    pub fn u8(&mut self) -> u8 {
        if self.is_empty() {
            return 0;
        }
        let v = self.msg[self.pos];
        self.pos += 1;
        v
    }

    /// The next big-endian 16-bit value, or 0 (nothing consumed) when fewer than 2 bytes are left.
    pub fn u16(&mut self) -> u16 {
        if self.len() < 2 {
            return 0;
        }
        let v = u16::from_be_bytes([self.msg[self.pos], self.msg[self.pos + 1]]);
        self.pos += 2;
        v
    }

    /// The next big-endian 32-bit value, or 0 (nothing consumed) when fewer than 4 bytes are left.
    pub fn u32(&mut self) -> u32 {
        if self.len() < 4 {
            return 0;
        }
        let b = &self.msg[self.pos..self.pos + 4];
        self.pos += 4;
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Up to `n` bytes (fewer when the window ends first; none for a negative `n`).
    pub fn bytes(&mut self, n: i64) -> Vec<u8> {
        let n = (n.max(0) as usize).min(self.len());
        let v = self.msg[self.pos..self.pos + n].to_vec();
        self.pos += n;
        v
    }

    /// Skips up to `n` bytes.
    pub fn skip(&mut self, n: usize) {
        self.pos += n.min(self.len());
    }

    /// A 16-bit length, then that many bytes, cut at the window's end (Zeek's `ExtractOctets`).
    pub fn octets(&mut self) -> Vec<u8> {
        let n = self.u16();
        self.bytes(n.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_give_zero_and_consume_nothing() {
        let mut c = Cursor::new(&[1, 2, 3]);
        assert_eq!(c.u32(), 0);
        assert_eq!(c.len(), 3);
        assert_eq!(c.u16(), 0x0102);
        assert_eq!(c.u16(), 0);
        assert_eq!(c.u8(), 3);
        assert_eq!(c.u8(), 0);
        assert!(c.is_empty());
        let mut c = Cursor::new(&[0, 5, 9, 9]);
        assert_eq!(c.octets(), [9, 9], "cut at the end");
        assert_eq!(c.bytes(-3), Vec::<u8>::new());
    }
}
