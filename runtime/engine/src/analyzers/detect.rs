//! Dynamic protocol detection's buffer (Zeek's PIA): the first bytes of a
//! connection, both directions together in arrival order, kept so that an
//! analyzer enabled later by a signature sees the connection from its
//! start. Buffering ends once more than `dpd_buffer_size` bytes or
//! `dpd_max_packets` chunks were seen; from then on the detector either
//! skips everything (`dpd_match_only_beginning`, the default) or only
//! matches, and an analyzer enabled then is refused (a late match).

/// Where the detector stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum State {
    /// Buffering and matching.
    #[default]
    Buffering,
    /// The buffer is full: matching goes on, nothing is attached any more.
    MatchingOnly,
    /// Done: nothing is buffered or matched.
    Skipping,
}

/// One buffered piece: data, or a gap of that many bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes of one direction.
    Data(Vec<u8>),
    /// Bytes of one direction that never came.
    Gap(u64),
}

/// The detector of one connection.
#[derive(Clone, Debug, Default)]
pub struct Detector {
    state: State,
    /// What came so far, with its direction (`true`: from the originator).
    buffer: Vec<(bool, Chunk)>,
    /// Data bytes in `buffer`.
    size: usize,
    /// Chunks seen while buffering.
    chunks: u64,
}

/// The settings the detector follows, under their Zeek names.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `dpd_buffer_size`.
    pub buffer_size: usize,
    /// `dpd_max_packets`.
    pub max_packets: u64,
    /// `dpd_match_only_beginning`.
    pub match_only_beginning: bool,
    /// `dpd_late_match_stop`.
    pub late_match_stop: bool,
}

impl Detector {
    /// Where the detector stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether signatures should still see the data.
    pub fn matching(&self) -> bool {
        self.state != State::Skipping
    }

    /// Data from one direction; it is buffered while the detector buffers.
    pub fn data(&mut self, is_orig: bool, data: &[u8], lim: &Limits) {
        if self.state != State::Buffering || data.is_empty() {
            return;
        }
        self.buffer.push((is_orig, Chunk::Data(data.to_vec())));
        self.size += data.len();
        self.chunks += 1;
        if self.size > lim.buffer_size || self.chunks > lim.max_packets {
            self.full(lim);
        }
    }

    /// `len` bytes of one direction that never came.
    pub fn gap(&mut self, is_orig: bool, len: u64, lim: &Limits) {
        if self.state != State::Buffering {
            return;
        }
        self.buffer.push((is_orig, Chunk::Gap(len)));
        self.chunks += 1;
        if self.chunks > lim.max_packets {
            self.full(lim);
        }
    }

    fn full(&mut self, lim: &Limits) {
        self.state = if lim.match_only_beginning { State::Skipping } else { State::MatchingOnly };
        self.buffer = Vec::new();
    }

    /// An analyzer is to be enabled: the buffered chunks to replay to it,
    /// in arrival order, or `None` when the buffer is gone (a late match;
    /// with `dpd_late_match_stop` the detector stops altogether).
    pub fn replay(&mut self, lim: &Limits) -> Option<&[(bool, Chunk)]> {
        match self.state {
            State::Buffering => Some(&self.buffer),
            State::MatchingOnly => {
                if lim.late_match_stop {
                    self.state = State::Skipping;
                }
                None
            }
            State::Skipping => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits { buffer_size: 10, max_packets: 3, match_only_beginning: true, late_match_stop: false };

    #[test]
    fn buffers_both_directions_in_order_until_the_size_is_exceeded() {
        let mut d = Detector::default();
        d.data(true, b"GET ", &LIM);
        d.data(false, b"", &LIM);
        d.gap(false, 5, &LIM);
        d.data(true, b"/ HTTP", &LIM);
        assert_eq!(
            d.replay(&LIM).unwrap(),
            [(true, Chunk::Data(b"GET ".to_vec())), (false, Chunk::Gap(5)), (true, Chunk::Data(b"/ HTTP".to_vec()))],
            "10 bytes are not more than 10; empty data is no chunk"
        );
        d.data(true, b"x", &LIM);
        assert_eq!(d.state(), State::Skipping, "11 bytes, and match only the beginning");
        assert!(!d.matching());
        assert!(d.replay(&LIM).is_none());
    }

    #[test]
    fn chunks_count_and_late_matches_are_refused() {
        let lim = Limits { match_only_beginning: false, ..LIM };
        let mut d = Detector::default();
        for _ in 0..4 {
            d.data(true, b"a", &lim);
        }
        assert_eq!(d.state(), State::MatchingOnly, "a fourth chunk is over three");
        assert!(d.matching());
        assert!(d.replay(&lim).is_none(), "a late match attaches nothing");
        assert_eq!(d.state(), State::MatchingOnly);
        let stop = Limits { late_match_stop: true, ..lim };
        assert!(d.replay(&stop).is_none());
        assert_eq!(d.state(), State::Skipping, "dpd_late_match_stop ends matching");
    }
}
