//! Content-Encoding gzip / x-gzip / deflate bodies, decoded as Zeek's ZIP
//! support analyzer does: the gzip or zlib header is detected, a deflate
//! body without a zlib header is retried as raw deflate, the end of the
//! stream ignores what follows, and an error stops decoding with
//! `inflate_failed`.

use flate2::{Decompress, FlushDecompress, Status};

/// Which header the stream is expected to have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// Not known yet: the first bytes decide (gzip or zlib).
    Detect,
    /// Inside a gzip header, this many bytes of it buffered.
    GzipHeader,
    /// Deflate data (after a gzip header, with or without zlib framing).
    Body,
    /// Done (end of stream) or failed: everything else is ignored.
    Stopped,
}

/// A streaming decoder of one body.
pub struct Zip {
    framing: Framing,
    head: Vec<u8>,
    z: Decompress,
    zlib: bool,
    fresh: bool,
}

impl std::fmt::Debug for Zip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zip").field("framing", &self.framing).finish()
    }
}

impl Clone for Zip {
    /// A copy starts over (decoder state cannot be copied); only
    /// connection-table snapshots clone analyzers.
    fn clone(&self) -> Self {
        Zip::new()
    }
}

impl Default for Zip {
    fn default() -> Self {
        Zip::new()
    }
}

/// Length of a complete gzip header at the start of `h`, if it is there.
fn gzip_header_len(h: &[u8]) -> Option<usize> {
    if h.len() < 10 {
        return None;
    }
    let flg = h[3];
    let mut i = 10;
    if flg & 4 != 0 {
        if h.len() < i + 2 {
            return None;
        }
        i += 2 + u16::from_le_bytes([h[i], h[i + 1]]) as usize;
    }
    for bit in [8u8, 16] {
        if flg & bit != 0 {
            i += h.get(i..)?.iter().position(|&c| c == 0)? + 1;
        }
    }
    if flg & 2 != 0 {
        i += 2;
    }
    (h.len() >= i).then_some(i)
}

impl Zip {
    /// A decoder waiting for the first bytes.
    pub fn new() -> Zip {
        Zip { framing: Framing::Detect, head: Vec::new(), z: Decompress::new(true), zlib: true, fresh: true }
    }

    /// Decodes `data`; decoded bytes go to `out`, a weird name to `weird`.
    pub fn feed(&mut self, data: &[u8], out: &mut dyn FnMut(&[u8]), weird: &mut dyn FnMut(&'static str)) {
        if data.is_empty() || self.framing == Framing::Stopped {
            return;
        }
        let mut data = data;
        let owned;
        if self.framing == Framing::Detect {
            if data[0] == 0x1f {
                self.framing = Framing::GzipHeader;
            } else {
                self.framing = Framing::Body;
            }
        }
        if self.framing == Framing::GzipHeader {
            self.head.extend_from_slice(data);
            if self.head.len() >= 2 && self.head[1] != 0x8b {
                self.framing = Framing::Stopped;
                weird("inflate_failed");
                return;
            }
            let Some(n) = gzip_header_len(&self.head) else {
                if self.head.len() > 64 * 1024 {
                    self.framing = Framing::Stopped;
                    weird("inflate_failed");
                }
                return;
            };
            owned = self.head.split_off(n);
            self.head.clear();
            self.framing = Framing::Body;
            self.z = Decompress::new(false);
            self.zlib = false;
            data = &owned;
        }
        self.inflate(data, out, weird);
    }

    fn inflate(&mut self, data: &[u8], out: &mut dyn FnMut(&[u8]), weird: &mut dyn FnMut(&'static str)) {
        let mut allow_restart = true;
        let mut input = data;
        let mut buf = vec![0u8; 4096];
        loop {
            let before_in = self.z.total_in();
            let before_out = self.z.total_out();
            let r = self.z.decompress(input, &mut buf, FlushDecompress::Sync);
            let used = (self.z.total_in() - before_in) as usize;
            let have = (self.z.total_out() - before_out) as usize;
            match r {
                Ok(st) => {
                    allow_restart = false;
                    self.fresh = false;
                    if have > 0 {
                        out(&buf[..have]);
                    }
                    input = &input[used..];
                    if st == Status::StreamEnd {
                        self.framing = Framing::Stopped;
                        return;
                    }
                    if input.is_empty() || (used == 0 && have == 0) {
                        return;
                    }
                }
                Err(_) if allow_restart && self.zlib => {
                    // No zlib header: take it as raw deflate.
                    self.z = Decompress::new(false);
                    self.zlib = false;
                    input = data;
                    allow_restart = false;
                }
                Err(_) => {
                    self.framing = Framing::Stopped;
                    weird("inflate_failed");
                    return;
                }
            }
        }
    }
}
