//! Trace files: pcap and pcapng through libpcap, gzip-compressed traces
//! decompressed to a temporary file first.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{CaptureError, Packet, PacketSource};

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
}

impl FileSource {
    /// Opens the pcap or pcapng trace at `path` (`*.gz` is decompressed
    /// first), with an optional BPF `filter`.
    pub fn open(path: impl AsRef<Path>, filter: Option<&str>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let open_err = |reason: String| CaptureError::Open { source: name.clone(), reason };

        let mut magic = [0u8; 4];
        let mut f = std::fs::File::open(path).map_err(|e| open_err(e.to_string()))?;
        let n = read_up_to(&mut f, &mut magic).map_err(|e| open_err(e.to_string()))?;
        drop(f);

        let gz = n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        let (cap, magic) = if gz {
            let tmp = decompress_to_temp(path).map_err(|e| open_err(format!("cannot decompress gzip trace: {e}")))?;
            let mut m = [0u8; 4];
            let mut t = std::fs::File::open(&tmp.0).map_err(|e| open_err(e.to_string()))?;
            let _ = read_up_to(&mut t, &mut m);
            drop(t);
            // libpcap keeps the file open; the directory entry can go now.
            let cap = pcap::Capture::from_file(&tmp.0);
            drop(tmp);
            (cap, m)
        } else {
            (pcap::Capture::from_file(path), magic)
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
        tracing::debug!(file = %name, link_type, classic, gz, "opened trace");
        Ok(FileSource { cap, name, link_type, classic, packets: 0, offset: PCAP_FILE_HEADER, done: false })
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

impl PacketSource for FileSource {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.packets += 1;
                // With a BPF filter libpcap skips records, so offsets are
                // only exact without one; they are a diagnostic aid.
                self.offset += PCAP_RECORD_HEADER + u64::from(p.header.caplen);
                let ts = p.header.ts.tv_sec as f64 + p.header.ts.tv_usec as f64 / 1e6;
                Ok(Some(Packet { ts, wire_len: p.header.len, link_type: self.link_type, data: p.data }))
            }
            Err(pcap::Error::NoMorePackets) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
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

/// A temporary file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Decompresses the gzip file at `path` into a fresh temporary file.
fn decompress_to_temp(path: &Path) -> std::io::Result<TempFile> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "weir-trace-{}-{}.pcap",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let mut out = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
    let guard = TempFile(tmp);
    let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(std::fs::File::open(path)?));
    std::io::copy(&mut dec, &mut out)?;
    Ok(guard)
}
