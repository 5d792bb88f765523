//! Trace files: pcap and pcapng through libpcap, gzip-compressed traces
//! decompressed on the fly into a pipe libpcap reads ([`Gunzip`]). Plain classic pcap records are
//! read directly in large blocks ([`Direct`]), the rest by libpcap.

use std::ffi::{c_int, c_void};
use std::io::Read;
use std::path::Path;

use super::{CaptureError, Packet, PacketSource, ReadProgress};

/// Classic pcap file header size in bytes.
const PCAP_FILE_HEADER: u64 = 24;
/// Classic pcap record header size in bytes.
const PCAP_RECORD_HEADER: u64 = 16;

/// A trace file read with libpcap.
pub struct FileSource {
    cap: pcap::Capture<pcap::Offline>,
    name: String,
    link_type: i32,
    /// Classic pcap (record offsets are computable) rather than pcapng.
    classic: bool,
    /// Packets returned so far.
    packets: u64,
    /// Byte offset of the next record (classic pcap only).
    offset: u64,
    /// Set once the end or an error was reported.
    done: bool,
    /// The direct reader, while records are plain.
    direct: Option<Direct>,
    /// The decompressing thread of a gzip trace. Dropped, it is left to end
    /// by itself: once `cap` has closed the pipe's read end, its next write fails.
    gunzip: Option<Gunzip>,
    /// How far the file was read: the record offset of a classic trace, an
    /// estimate for pcapng (each record's data and its 32 bytes of block
    /// framing), the compressed bytes taken by the thread of a gzip trace.
    progress: ReadProgress,
}

/// The framing of a pcapng Enhanced Packet Block around its data.
const PCAPNG_RECORD_FRAMING: u64 = 32;

impl FileSource {
    /// Opens the pcap or pcapng trace at `path` (a gzip-compressed one is
    /// decompressed as it is read, and refused at once when what it holds
    /// does not start like a trace), with an optional BPF `filter`.
    pub fn open(path: impl AsRef<Path>, filter: Option<&str>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let open_err = |reason: String| CaptureError::Open { source: name.clone(), reason };

        let mut magic = [0u8; 4];
        let mut f = std::fs::File::open(path).map_err(|e| open_err(e.to_string()))?;
        let n = read_up_to(&mut f, &mut magic).map_err(|e| open_err(e.to_string()))?;
        drop(f);

        let gz = n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        let progress = ReadProgress::new(std::fs::metadata(path).map_or(0, |m| m.len()));
        let (cap, magic, file, gunzip) = if gz {
            let (gunzip, fd, m) = Gunzip::start(path, progress.clone()).map_err(open_err)?;
            // SAFETY: `fd` is the read end of a fresh pipe that nothing else owns.
            let cap = unsafe { pcap::Capture::from_raw_fd(fd) };
            if cap.is_err() {
                // libpcap leaves the stream open when it refuses it; closing
                // the descriptor ends the thread's writes (the stream is never
                // used again).
                // SAFETY: the descriptor is still open and nothing reads it any more.
                unsafe { libc::close(fd) };
            }
            (cap, m, None, Some(gunzip))
        } else {
            (pcap::Capture::from_file(path), magic, std::fs::File::open(path).ok(), None)
        };
        let mut cap = cap.map_err(|e| open_err(not_a_trace_reason(e)))?;
        if let Some(expr) = filter {
            cap.filter(expr, true)
                .map_err(|e| CaptureError::Filter { filter: expr.to_string(), reason: e.to_string() })?;
        }
        let classic = matches!(
            magic,
            [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0xc3, 0xd4] | [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d]
        );
        let link_type = cap.get_datalink().0;
        let direct = if filter.is_none() { file.and_then(|f| Direct::new(f, link_type)) } else { None };
        tracing::debug!(file = %name, link_type, classic, gz, direct = direct.is_some(), "opened trace");
        Ok(FileSource {
            cap,
            name,
            link_type,
            classic,
            packets: 0,
            offset: PCAP_FILE_HEADER,
            done: false,
            direct,
            gunzip,
            progress,
        })
    }

    /// The link-layer type of the trace (a [`super::dlt`] value).
    pub fn link_type(&self) -> i32 {
        self.link_type
    }

    /// Packets read so far (after the capture filter).
    pub fn packets_read(&self) -> u64 {
        self.packets
    }
}

/// The error for a trace whose bytes ended early, after `packets` packets.
fn truncated(name: &str, packets: u64, offset: Option<u64>, reason: String) -> CaptureError {
    CaptureError::Truncated { source: name.to_string(), packets, offset, reason }
}

impl PacketSource for FileSource {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        if let Some(d) = self.direct.as_mut() {
            match d.next_record() {
                Some(r) => {
                    self.packets += 1;
                    self.offset += PCAP_RECORD_HEADER + r.data.len() as u64;
                    self.progress.set(self.offset);
                    let ts = r.sec as f64 + r.usec as f64 / 1e6;
                    let data = &self.direct.as_ref().expect("direct reader").buf[r.data];
                    return Ok(Some(Packet { ts, wire_len: r.wire_len, link_type: self.link_type, data }));
                }
                None => {
                    // Not plain (or the end): libpcap goes on from this record.
                    self.direct = None;
                    if !seek_libpcap(&self.cap, self.offset) {
                        self.done = true;
                        let reason = format!("cannot seek to byte offset {}", self.offset);
                        return Err(CaptureError::Read { source: self.name.clone(), reason });
                    }
                }
            }
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.packets += 1;
                // With a BPF filter libpcap skips records, so offsets are
                // only exact without one; they are a diagnostic aid.
                self.offset += PCAP_RECORD_HEADER + u64::from(p.header.caplen);
                if self.gunzip.is_none() {
                    match self.classic {
                        true => self.progress.set(self.offset),
                        false => self.progress.add(PCAPNG_RECORD_FRAMING + u64::from(p.header.caplen).next_multiple_of(4)),
                    }
                }
                let ts = p.header.ts.tv_sec as f64 + p.header.ts.tv_usec as f64 / 1e6;
                Ok(Some(Packet { ts, wire_len: p.header.len, link_type: self.link_type, data: p.data }))
            }
            Err(pcap::Error::NoMorePackets) => {
                self.done = true;
                match self.gunzip.as_mut().and_then(Gunzip::failure) {
                    Some(reason) => Err(truncated(&self.name, self.packets, self.classic.then_some(self.offset), reason)),
                    None => Ok(None),
                }
            }
            Err(e) => {
                self.done = true;
                if let Some(reason) = self.gunzip.as_mut().and_then(Gunzip::failure) {
                    return Err(truncated(&self.name, self.packets, self.classic.then_some(self.offset), reason));
                }
                let reason = e.to_string();
                if reason.contains("truncated") {
                    let offset = self.classic.then_some(self.offset);
                    let reason = if self.classic {
                        reason
                    } else {
                        format!("packet {} is damaged: {reason}", self.packets + 1)
                    };
                    Err(CaptureError::Truncated { source: self.name.clone(), packets: self.packets, offset, reason })
                } else {
                    Err(CaptureError::Read { source: self.name.clone(), reason })
                }
            }
        }
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn is_live(&self) -> bool {
        false
    }

    fn read_progress(&self) -> Option<ReadProgress> {
        Some(self.progress.clone())
    }
}

/// Reads classic pcap records straight from the file in 1 MiB blocks:
/// libpcap reads through stdio 4 KiB a system call and copies every packet
/// once more, which cost more than all of weir's own packet work. Only
/// plain records are read here, ones libpcap returns exactly as stored:
/// a native-order microsecond file of version 2.4 or later, a link type
/// libpcap does not fix up, and a record complete in the file with a
/// captured length within the file's snapshot length, 256 KiB and the
/// wire length. At the first other record (or the end) the caller hands
/// over to libpcap at that record's offset, so the end, truncation, errors
/// and odd records are libpcap's as before.
struct Direct {
    file: std::fs::File,
    buf: Vec<u8>,
    /// Unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Largest captured length read here.
    max_caplen: u32,
    /// The file gave no more bytes.
    eof: bool,
}

/// A record the direct reader returned: its header fields and where its bytes are.
struct Record {
    sec: i32,
    usec: i32,
    wire_len: u32,
    data: std::ops::Range<usize>,
}

impl Direct {
    const BLOCK: usize = 1 << 20;
    /// libpcap's usual maximum snapshot length (`MAXIMUM_SNAPLEN`).
    const MAX_SNAPLEN: u32 = 262_144;
    /// `DLT_USB_LINUX_MMAPPED`: libpcap rewrites its headers on reading.
    const USB_LINUX_MMAPPED: i32 = 220;

    /// A reader past the file header of `file`, if the file is one it reads
    /// (a regular file: libpcap must be able to seek to where it takes over).
    fn new(mut file: std::fs::File, link_type: i32) -> Option<Direct> {
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        let mut h = [0u8; PCAP_FILE_HEADER as usize];
        if read_up_to(&mut file, &mut h).ok()? != h.len() || link_type == Self::USB_LINUX_MMAPPED {
            return None;
        }
        let word = |i: usize| u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let (major, minor) = (u16::from_ne_bytes([h[4], h[5]]), u16::from_ne_bytes([h[6], h[7]]));
        if word(0) != 0xa1b2_c3d4 || major != 2 || minor < 4 {
            return None;
        }
        // libpcap takes a snapshot length of 0, negative or above the maximum as the maximum.
        let snaplen = word(16) as i32;
        let max_caplen = if snaplen <= 0 { Self::MAX_SNAPLEN } else { (snaplen as u32).min(Self::MAX_SNAPLEN) };
        Some(Direct { file, buf: vec![0; Self::BLOCK], start: 0, end: 0, max_caplen, eof: false })
    }

    /// The next record, or `None` at one that is not plain, at the end, or on a read error.
    fn next_record(&mut self) -> Option<Record> {
        let hdr = PCAP_RECORD_HEADER as usize;
        if !self.fill(hdr) {
            return None;
        }
        let h = &self.buf[self.start..self.start + hdr];
        let word = |i: usize| u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let (sec, usec, caplen, wire_len) = (word(0) as i32, word(4) as i32, word(8), word(12));
        if caplen > self.max_caplen || caplen > wire_len || !self.fill(hdr + caplen as usize) {
            return None;
        }
        let data = self.start + hdr..self.start + hdr + caplen as usize;
        self.start = data.end;
        Some(Record { sec, usec, wire_len, data })
    }

    /// Whether `n` unparsed bytes are buffered, reading more if needed.
    fn fill(&mut self, n: usize) -> bool {
        while self.end - self.start < n {
            if self.eof {
                return false;
            }
            // Move the partial record to the front, then read as much as fits.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            match self.file.read(&mut self.buf[self.end..]) {
                Ok(0) | Err(_) => self.eof = true,
                Ok(k) => self.end += k,
            }
        }
        true
    }
}

/// Moves libpcap's read position to byte `offset` of its file (a record
/// boundary), for it to take over from the direct reader.
fn seek_libpcap(cap: &pcap::Capture<pcap::Offline>, offset: u64) -> bool {
    extern "C" {
        fn pcap_file(p: *mut c_void) -> *mut c_void;
        fn fseeko(stream: *mut c_void, offset: i64, whence: c_int) -> c_int;
    }
    const SEEK_SET: c_int = 0;
    let Ok(offset) = i64::try_from(offset) else { return false };
    // SAFETY: the handle is a live offline capture, whose FILE libpcap only
    // uses from this thread; it reads on from wherever the stream stands.
    unsafe {
        let f = pcap_file(cap.as_ptr().cast());
        !f.is_null() && fseeko(f, offset, SEEK_SET) == 0
    }
}

/// libpcap's message for a file it cannot read, as one line.
fn not_a_trace_reason(e: pcap::Error) -> String {
    let s = e.to_string();
    let s = s.lines().next().unwrap_or("").trim().to_string();
    if s.contains("unknown file format") || s.contains("bad dump file format") {
        format!("not a pcap or pcapng trace ({s})")
    } else {
        s
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The magic numbers a pcap or pcapng trace starts with.
fn trace_magic(m: &[u8; 4]) -> bool {
    matches!(
        m,
        [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x0a, 0x0d, 0x0d, 0x0a]
    )
}

/// A reader that counts what it reads into a [`ReadProgress`].
struct Counted<R> {
    inner: R,
    progress: ReadProgress,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

/// A gzip-compressed trace decompressed on the fly: a thread writes the
/// decompressed bytes into a pipe that libpcap reads, so nothing is written
/// to disk and memory stays at the pipe's and the decoder's buffers
/// whatever the file expands to.
struct Gunzip {
    thread: Option<std::thread::JoinHandle<()>>,
    /// Set by the thread when the stream ends in an error.
    error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Gunzip {
    /// Checks that the gzip file at `path` holds a pcap or pcapng trace (by
    /// decompressing its first four bytes), then starts the thread. Returns
    /// it, the pipe's read end for libpcap and the trace's magic.
    fn start(path: &Path, progress: ReadProgress) -> Result<(Gunzip, std::os::fd::RawFd, [u8; 4]), String> {
        use std::io::Write;
        use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
        let f = Counted { inner: std::fs::File::open(path).map_err(|e| e.to_string())?, progress };
        let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, f));
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut dec, &mut magic).map_err(|e| format!("cannot decompress gzip trace: {e}"))?;
        if n < magic.len() || !trace_magic(&magic) {
            let head: Vec<String> = magic[..n].iter().map(|b| format!("{b:02x}")).collect();
            return Err(format!(
                "not a pcap or pcapng trace (gzip-compressed; it starts with bytes [{}])",
                head.join(" ")
            ));
        }
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(format!("cannot decompress gzip trace: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: both descriptors are fresh and owned here only.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let error = std::sync::Arc::new(std::sync::Mutex::new(None));
        let slot = std::sync::Arc::clone(&error);
        let thread = std::thread::Builder::new()
            .name("weir-gunzip".into())
            .spawn(move || {
                let mut out = std::fs::File::from(wr);
                let res = out.write_all(&magic).and_then(|()| std::io::copy(&mut dec, &mut out).map(drop));
                match res {
                    // The reader stopped early (a stop, a filter error): nothing to report.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "gzip stream ended in an error");
                        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("gzip stream damaged: {e}"));
                    }
                    Ok(()) => {}
                }
            })
            .map_err(|e| format!("cannot decompress gzip trace: {e}"))?;
        Ok((Gunzip { thread: Some(thread), error }, rd.into_raw_fd(), magic))
    }

    /// Waits for the thread (the pipe gave its end, so it is done or about
    /// to be) and returns what went wrong in the stream, if anything.
    fn failure(&mut self) -> Option<String> {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

