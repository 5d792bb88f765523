//! DNS over TCP: each message comes after a two-byte length (Zeek's
//! `Contents_DNS`). A message still being collected when a direction
//! closes is parsed as it is, with its direction unknown.

/// Where the framing of one direction is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Waiting for the length's high byte.
    #[default]
    LenHi,
    /// Waiting for its low byte.
    LenLo,
    /// Collecting the message.
    Message,
}

/// The framing state of one direction.
#[derive(Clone, Debug, Default)]
pub struct Framer {
    state: State,
    size: usize,
    buf: Vec<u8>,
}

impl Framer {
    /// Feeds stream bytes; `deliver` gets each whole message.
    pub fn feed(&mut self, mut data: &[u8], mut deliver: impl FnMut(&[u8])) {
        while !data.is_empty() {
            if self.state == State::LenHi {
                self.size = usize::from(data[0]) << 8;
                self.state = State::LenLo;
                data = &data[1..];
                if data.is_empty() {
                    return;
                }
            }
            if self.state == State::LenLo {
                self.size += usize::from(data[0]);
                self.state = State::Message;
                self.buf.clear();
                data = &data[1..];
                if data.is_empty() {
                    return;
                }
            }
            let n = self.size.saturating_sub(self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() < self.size {
                return;
            }
            deliver(&self.buf[..self.size]);
            self.buf.clear();
            self.state = State::LenHi;
        }
    }

    /// The partial message collected so far, if any (Zeek's `Flush`); the
    /// framing then expects no more bytes of it.
    pub fn flush(&mut self) -> Option<Vec<u8>> {
        if self.buf.is_empty() {
            return None;
        }
        self.size = 0;
        Some(std::mem::take(&mut self.buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: &mut Framer, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for c in chunks {
            f.feed(c, |m| out.push(m.to_vec()));
        }
        out
    }

    #[test]
    fn messages_split_and_joined_across_segments() {
        let mut f = Framer::default();
        let out = run(&mut f, &[b"\x00", b"\x03ab", b"c\x00\x02xy\x00\x01"]);
        assert_eq!(out, [b"abc".to_vec(), b"xy".to_vec()]);
        assert_eq!(f.flush(), None, "only the length of the third came");
        let out = run(&mut f, &[b"z\x00\x05ab"]);
        assert_eq!(out, [b"z".to_vec()]);
        assert_eq!(f.flush(), Some(b"ab".to_vec()));
    }

    #[test]
    fn a_zero_length_message_is_delivered_empty() {
        let mut f = Framer::default();
        assert_eq!(run(&mut f, &[b"\x00\x00\x00\x01q"]), [b"".to_vec(), b"q".to_vec()]);
    }
}
