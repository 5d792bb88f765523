//! The ZIP file analyzer (Zeek's `Files::ANALYZER_ZIP`): reads a ZIP
//! archive as it streams by and hands out each member stored plainly or
//! deflated, and not encrypted, as a file of its own (source `ZIP`, the
//! archive as its parent, the member's path as its name). Local file
//! headers (`PK\3\4`) are followed by the member's data: `compressed_size`
//! bytes, or, with the data-descriptor flag, everything up to a
//! `PK\7\10` descriptor whose CRC-32 matches the data seen (other
//! occurrences of the marker are data). The central directory and its end
//! record close the archive; ZIP64 and anything else stop the analyzer.

use flate2::{Decompress, FlushDecompress, Status};

/// What the analyzer found, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZipOut {
    /// A member begins: its path and its uncompressed size (0 when the
    /// header defers it to a data descriptor).
    Begin {
        /// The member's path in the archive.
        name: String,
        /// The uncompressed size the local header states.
        size: u64,
    },
    /// Uncompressed bytes of the member.
    Data(Vec<u8>),
    /// The member ended.
    End,
}

/// Where the parser is.
enum State {
    /// Expecting a record signature.
    Record,
    /// In a member's data (known length), `left` compressed bytes to go.
    Sized { left: u64, member: Member },
    /// In a member's data up to a matching data descriptor.
    Descriptor { member: Member },
    /// The archive's central part, or an error: nothing more is read.
    Stopped,
}

/// One member being read.
struct Member {
    /// None: stored; Some: deflated.
    inflate: Option<Decompress>,
    /// CRC-32 of the compressed bytes seen (the descriptor check).
    crc: crc32::Crc,
    /// Whether the member becomes a file (supported and not encrypted).
    analysed: bool,
}

/// A ZIP archive being read.
pub struct Zip {
    buf: Vec<u8>,
    state: State,
}

impl std::fmt::Debug for Zip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zip").field("buffered", &self.buf.len()).finish()
    }
}

impl Default for Zip {
    fn default() -> Self {
        Zip::new()
    }
}

/// The most bytes buffered while looking for a record or descriptor.
const MAX_BUFFER: usize = 1 << 16;

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

impl Zip {
    /// An analyzer at the start of an archive.
    pub fn new() -> Zip {
        Zip { buf: Vec::new(), state: State::Record }
    }

    /// Bytes the analyzer holds (its look-ahead buffer, at most 64 KiB
    /// beyond one delivery).
    pub fn buffered_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether the analyzer stopped (the archive's end, or an error).
    pub fn stopped(&self) -> bool {
        matches!(self.state, State::Stopped)
    }

    /// The archive's next bytes; what they complete goes to `out`.
    pub fn data(&mut self, data: &[u8], out: &mut Vec<ZipOut>) {
        if self.stopped() {
            return;
        }
        self.buf.extend_from_slice(data);
        loop {
            let progressed = match std::mem::replace(&mut self.state, State::Stopped) {
                State::Record => self.record(out),
                State::Sized { left, member } => self.sized(left, member, out),
                State::Descriptor { member } => self.descriptor(member, out),
                State::Stopped => false,
            };
            if !progressed || self.stopped() {
                break;
            }
        }
        if self.buf.len() > MAX_BUFFER && matches!(self.state, State::Record) {
            tracing::debug!("ZIP: no record within {MAX_BUFFER} bytes");
            self.stop(out);
        }
    }

    /// A hole in the archive: a member being read ends, nothing more is read.
    pub fn gap(&mut self, out: &mut Vec<ZipOut>) {
        self.stop(out);
    }

    /// The archive ended: a member being read ends.
    pub fn end(&mut self, out: &mut Vec<ZipOut>) {
        self.stop(out);
    }

    fn stop(&mut self, out: &mut Vec<ZipOut>) {
        if let State::Sized { member, .. } | State::Descriptor { member } = std::mem::replace(&mut self.state, State::Stopped) {
            if member.analysed {
                out.push(ZipOut::End);
            }
        }
        self.buf = Vec::new();
    }

    /// A record at the start of the buffer; false when more bytes are needed.
    fn record(&mut self, out: &mut Vec<ZipOut>) -> bool {
        if self.buf.len() < 4 {
            self.state = State::Record;
            return false;
        }
        match &self.buf[..4] {
            b"PK\x03\x04" => {}
            b"PK\x07\x08" => {
                // A data descriptor after a deflated member (whose end the deflate stream showed).
                if self.buf.len() < 16 {
                    self.state = State::Record;
                    return false;
                }
                self.buf.drain(..16);
                self.state = State::Record;
                return true;
            }
            b"PK\x01\x02" | b"PK\x05\x06" | b"PK\x06\x06" | b"PK\x06\x07" => return true, // the central part: done
            _ => {
                tracing::debug!("ZIP: unknown record");
                return true;
            }
        }
        if self.buf.len() < 30 {
            self.state = State::Record;
            return false;
        }
        let b = &self.buf;
        let flags = u16_at(b, 6);
        let method = u16_at(b, 8);
        let compressed = u32_at(b, 18);
        let size = u32_at(b, 22);
        let head = 30 + u16_at(b, 26) as usize + u16_at(b, 28) as usize;
        if b.len() < head {
            self.state = State::Record;
            return false;
        }
        if compressed == 0xffff_ffff {
            tracing::debug!("ZIP64 not supported");
            return true;
        }
        let name = String::from_utf8_lossy(&b[30..30 + u16_at(b, 26) as usize]).into_owned();
        let encrypted = flags & 1 != 0;
        let analysed = !encrypted && (method == 0 || method == 8);
        let member = Member {
            inflate: (method == 8).then(|| Decompress::new(false)),
            crc: crc32::Crc::new(),
            analysed,
        };
        if analysed {
            out.push(ZipOut::Begin { name, size });
        }
        self.buf.drain(..head);
        self.state = if flags & 8 != 0 { State::Descriptor { member } } else { State::Sized { left: compressed, member } };
        true
    }

    fn sized(&mut self, left: u64, mut member: Member, out: &mut Vec<ZipOut>) -> bool {
        let take = (self.buf.len() as u64).min(left) as usize;
        let chunk: Vec<u8> = self.buf.drain(..take).collect();
        member.feed(&chunk, out);
        if left - take as u64 == 0 {
            if member.analysed {
                out.push(ZipOut::End);
            }
            self.state = State::Record;
            return true;
        }
        self.state = State::Sized { left: left - take as u64, member };
        false
    }

    fn descriptor(&mut self, mut member: Member, out: &mut Vec<ZipOut>) -> bool {
        const MARK: &[u8] = b"PK\x07\x08";
        if member.inflate.is_some() {
            // A deflated member ends where its deflate stream does.
            let chunk = std::mem::take(&mut self.buf);
            match member.feed(&chunk, out) {
                Some(used) => {
                    self.buf = chunk[used..].to_vec();
                    if member.analysed {
                        out.push(ZipOut::End);
                    }
                    self.state = State::Record;
                    return true;
                }
                None => {
                    self.state = State::Descriptor { member };
                    return false;
                }
            }
        }
        let mut from = 0;
        loop {
            let Some(at) = self.buf[from..].windows(4).position(|w| w == MARK).map(|p| p + from) else {
                // Keep the last three bytes: a marker may straddle chunks.
                let keep = self.buf.len().saturating_sub(3);
                let chunk: Vec<u8> = self.buf.drain(..keep).collect();
                member.feed(&chunk, out);
                self.state = State::Descriptor { member };
                return false;
            };
            if self.buf.len() < at + 16 {
                let chunk: Vec<u8> = self.buf.drain(..at).collect();
                member.feed(&chunk, out);
                self.state = State::Descriptor { member };
                return false;
            }
            let mut probe = member.crc.clone();
            probe.update(&self.buf[..at]);
            if probe.finish() == u32_at(&self.buf, at + 4) as u32 {
                let chunk: Vec<u8> = self.buf.drain(..at).collect();
                member.feed(&chunk, out);
                self.buf.drain(..16);
                if member.analysed {
                    out.push(ZipOut::End);
                }
                self.state = State::Record;
                return true;
            }
            // Not the descriptor: the marker is data.
            from = at + 1;
        }
    }
}

impl Member {
    /// Compressed bytes of the member: inflated, counted for the CRC
    /// check, and handed out. Some(bytes used) when the deflate stream
    /// ended within `chunk` (or failed).
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<ZipOut>) -> Option<usize> {
        if chunk.is_empty() {
            return None;
        }
        let mut ended = None;
        if let Some(z) = self.inflate.as_mut() {
            let mut plain = Vec::new();
            let mut input = chunk;
            loop {
                plain.reserve(input.len().max(4096) * 2);
                let before = (z.total_in(), z.total_out());
                let status = z.decompress_vec(input, &mut plain, FlushDecompress::None);
                let used = (z.total_in() - before.0) as usize;
                input = &input[used..];
                let produced = z.total_out() != before.1;
                match status {
                    Ok(Status::StreamEnd) | Err(_) => {
                        ended = Some(chunk.len() - input.len());
                        break;
                    }
                    Ok(_) if input.is_empty() && plain.len() < plain.capacity() => break,
                    Ok(_) if used == 0 && !produced => break,
                    Ok(_) => {}
                }
            }
            // The CRC of a deflated member covers its plain bytes.
            self.crc.update(&plain);
            if self.analysed && !plain.is_empty() {
                out.push(ZipOut::Data(plain));
            }
        } else {
            self.crc.update(chunk);
            if self.analysed {
                out.push(ZipOut::Data(chunk.to_vec()));
            }
        }
        ended
    }
}

/// A ZIP archive of stored members (local headers, CRCs left 0, then the
/// end of the central directory): what tests feed the analyzer.
pub fn stored_archive(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = Vec::new();
    for (name, data) in members {
        z.extend_from_slice(b"PK\x03\x04");
        for v in [20u16, 0, 0, 0, 0] {
            z.extend_from_slice(&v.to_le_bytes());
        }
        for v in [0u32, data.len() as u32, data.len() as u32] {
            z.extend_from_slice(&v.to_le_bytes());
        }
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(data);
    }
    z.extend_from_slice(b"PK\x05\x06");
    z.extend_from_slice(&[0; 18]);
    z
}

/// CRC-32 (IEEE 802.3, as ZIP uses it), bit by bit from a small table.
mod crc32 {
    const fn table() -> [u32; 256] {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    }
    static TABLE: [u32; 256] = table();

    /// A running CRC-32.
    #[derive(Clone, Debug)]
    pub struct Crc(u32);

    impl Crc {
        pub fn new() -> Crc {
            Crc(0xFFFF_FFFF)
        }
        pub fn update(&mut self, data: &[u8]) {
            for &b in data {
                self.0 = TABLE[((self.0 ^ u32::from(b)) & 0xFF) as usize] ^ (self.0 >> 8);
            }
        }
        pub fn finish(&self) -> u32 {
            self.0 ^ 0xFFFF_FFFF
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn crc(data: &[u8]) -> u32 {
        let mut c = crc32::Crc::new();
        c.update(data);
        c.finish()
    }

    /// A local header for `name` (method, flags, sizes as given).
    fn local(name: &str, method: u16, flags: u16, crc: u32, compressed: u32, size: u32) -> Vec<u8> {
        let mut h = b"PK\x03\x04".to_vec();
        for v in [20u16, flags, method, 0, 0] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, compressed, size] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        h
    }

    fn run(archive: &[u8], chunk: usize) -> Vec<ZipOut> {
        let mut z = Zip::new();
        let mut out = Vec::new();
        for c in archive.chunks(chunk) {
            z.data(c, &mut out);
        }
        z.end(&mut out);
        // Join the data pieces of each member.
        let mut joined: Vec<ZipOut> = Vec::new();
        for o in out {
            match (joined.last_mut(), o) {
                (Some(ZipOut::Data(d)), ZipOut::Data(more)) => d.extend(more),
                (_, o) => joined.push(o),
            }
        }
        joined
    }

    #[test]
    fn the_crc_of_the_check_string() {
        assert_eq!(crc(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn stored_and_deflated_members_with_and_without_descriptors() {
        let text = b"hello zip, hello zip, hello zip\n".repeat(40);
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&text).unwrap();
        let deflated = enc.finish().unwrap();
        let mut a = local("a.txt", 0, 0, crc(b"plain"), 5, 5);
        a.extend_from_slice(b"plain");
        a.extend(local("dir/b.txt", 8, 0, crc(&text), deflated.len() as u32, text.len() as u32));
        a.extend_from_slice(&deflated);
        // A stored member with a descriptor, whose data holds a false marker.
        let tricky = b"xxPK\x07\x08yyyy".to_vec();
        a.extend(local("c.bin", 0, 8, 0, 0, 0));
        a.extend_from_slice(&tricky);
        a.extend_from_slice(b"PK\x07\x08");
        for v in [crc(&tricky), tricky.len() as u32, tricky.len() as u32] {
            a.extend_from_slice(&v.to_le_bytes());
        }
        // A deflated member with a descriptor ends with its deflate stream.
        a.extend(local("d.txt", 8, 8, 0, 0, 0));
        a.extend_from_slice(&deflated);
        a.extend_from_slice(b"PK\x07\x08");
        for v in [crc(&text), deflated.len() as u32, text.len() as u32] {
            a.extend_from_slice(&v.to_le_bytes());
        }
        // An encrypted member is skipped, and the central directory ends the archive.
        a.extend(local("secret", 0, 1, 0, 3, 3));
        a.extend_from_slice(b"abc");
        a.extend_from_slice(b"PK\x01\x02 the central directory");
        let want = vec![
            ZipOut::Begin { name: "a.txt".into(), size: 5 },
            ZipOut::Data(b"plain".to_vec()),
            ZipOut::End,
            ZipOut::Begin { name: "dir/b.txt".into(), size: text.len() as u64 },
            ZipOut::Data(text.clone()),
            ZipOut::End,
            ZipOut::Begin { name: "c.bin".into(), size: 0 },
            ZipOut::Data(tricky.clone()),
            ZipOut::End,
            ZipOut::Begin { name: "d.txt".into(), size: 0 },
            ZipOut::Data(text.clone()),
            ZipOut::End,
        ];
        for chunk in [1, 7, 64, 100_000] {
            assert_eq!(run(&a, chunk), want, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_cut_archive_ends_its_member_and_junk_stops() {
        let mut a = local("a.txt", 0, 0, 0, 10, 10);
        a.extend_from_slice(b"abc");
        assert_eq!(run(&a, 4), vec![ZipOut::Begin { name: "a.txt".into(), size: 10 }, ZipOut::Data(b"abc".to_vec()), ZipOut::End]);
        assert_eq!(run(b"not a zip at all", 3), vec![]);
    }
}
