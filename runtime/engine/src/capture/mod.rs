//! Packet sources: pcap/pcapng trace files and live interfaces (libpcap
//! through the `pcap` crate), with an optional BPF capture filter.
//!
//! A [`Packet`] borrows the source's buffer: nothing is copied per packet.

/// Link-layer header types (`DLT_*` / `LINKTYPE_*` numbers as libpcap reports them).
pub mod dlt {
    /// BSD loopback: 4-byte host-order address family.
    pub const NULL: i32 = 0;
    /// Ethernet.
    pub const EN10MB: i32 = 1;
    /// PPP.
    pub const PPP: i32 = 9;
    /// FDDI.
    pub const FDDI: i32 = 10;
    /// Raw IP (libpcap's DLT_RAW on most systems).
    pub const RAW: i32 = 12;
    /// Raw IP (OpenBSD numbering).
    pub const RAW_14: i32 = 14;
    /// PPP in HDLC-like framing.
    pub const PPP_SERIAL: i32 = 50;
    /// 802.11 without radio header.
    pub const IEEE802_11: i32 = 105;
    /// OpenBSD loopback: 4-byte network-order address family.
    pub const LOOP: i32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: i32 = 113;
    /// 802.11 with Prism header.
    pub const PRISM: i32 = 119;
    /// 802.11 with radiotap header.
    pub const IEEE802_11_RADIO: i32 = 127;
    /// Raw IPv4 (LINKTYPE_IPV4).
    pub const IPV4: i32 = 228;
    /// Raw IPv6 (LINKTYPE_IPV6).
    pub const IPV6: i32 = 229;
    /// Linux netfilter NFLOG.
    pub const NFLOG: i32 = 239;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: i32 = 276;
    /// LINKTYPE_RAW as written into pcap files.
    pub const LINKTYPE_RAW: i32 = 101;
}

/// One captured packet, borrowed from the source.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Capture time in seconds since the epoch.
    pub ts: f64,
    /// Length on the wire.
    pub wire_len: u32,
    /// Link-layer type of `data` (a [`dlt`] value).
    pub link_type: i32,
    /// The captured bytes (possibly shorter than `wire_len`).
    pub data: &'a [u8],
}

/// Why a source stopped or could not start. Each renders as one line.
#[derive(Debug)]
pub enum CaptureError {
    /// The file could not be opened or is not a pcap/pcapng trace.
    Open {
        /// The path or interface.
        source: String,
        /// What libpcap said.
        reason: String,
    },
    /// The trace ends inside a record.
    Truncated {
        /// The path.
        source: String,
        /// Packets read before the damage.
        packets: u64,
        /// Byte offset of the damaged record, when known.
        offset: Option<u64>,
        /// What libpcap said.
        reason: String,
    },
    /// The BPF filter does not compile.
    Filter {
        /// The filter text.
        filter: String,
        /// What libpcap said.
        reason: String,
    },
    /// Any other read error.
    Read {
        /// The path or interface.
        source: String,
        /// What libpcap said.
        reason: String,
    },
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureError::Open { source, reason } => write!(f, "cannot read {source}: {reason}"),
            CaptureError::Truncated { source, packets, offset, reason } => {
                write!(f, "{source}: trace truncated after {packets} packets")?;
                if let Some(o) = offset {
                    write!(f, " (record at byte offset {o})")?;
                }
                write!(f, ": {reason}")
            }
            CaptureError::Filter { filter, reason } => write!(f, "bad capture filter '{filter}': {reason}"),
            CaptureError::Read { source, reason } => write!(f, "{source}: {reason}"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// What [`PacketSource::poll`] found.
#[derive(Debug)]
pub enum Poll<'a> {
    /// A packet.
    Packet(Packet<'a>),
    /// No packet within the read timeout (live sources only).
    Idle,
    /// The end of the input (or a stop).
    End,
}

/// How far a trace has been read: the bytes of the file behind the packets
/// returned so far, out of `total`. The source moves it; a progress display
/// reads it from another place, so it is shared.
#[derive(Clone, Debug, Default)]
pub struct ReadProgress {
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The file's size in bytes.
    pub total: u64,
}

impl ReadProgress {
    /// Nothing read yet of a file of `total` bytes.
    pub fn new(total: u64) -> ReadProgress {
        ReadProgress { read: Default::default(), total }
    }

    /// The bytes read so far (at most `total`).
    pub fn read(&self) -> u64 {
        self.read.load(std::sync::atomic::Ordering::Relaxed).min(self.total)
    }

    /// Sets the bytes read.
    pub(crate) fn set(&self, n: u64) {
        self.read.store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Counts `n` more bytes read.
    pub(crate) fn add(&self, n: u64) {
        self.read.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A source of packets: a trace file or a live interface.
pub trait PacketSource {
    /// The next packet, `Ok(None)` at the end of a trace, or an error.
    /// Live sources return `Ok(None)` after a stop too.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError>;
    /// Like [`PacketSource::next_packet`], but a live source also returns
    /// [`Poll::Idle`] each time its read timeout passes without a packet,
    /// so the caller can hand over what it holds.
    fn poll(&mut self) -> Result<Poll<'_>, CaptureError> {
        Ok(match self.next_packet()? {
            Some(p) => Poll::Packet(p),
            None => Poll::End,
        })
    }
    /// A name for messages (path or interface).
    fn name(&self) -> &str;
    /// Whether this source is live (network time may follow the wall clock).
    fn is_live(&self) -> bool;
    /// How far a trace file has been read (none for a live source).
    fn read_progress(&self) -> Option<ReadProgress> {
        None
    }
}

pub mod fanout;
pub mod file;
pub mod live;
