//! The packets of one datagram and the frames of decrypted Initial
//! packets, with the connection's QUIC state (Zeek's QUIC analyzer): a
//! datagram holds long-header packets (Initial, 0-RTT, Handshake, Retry)
//! one after the other, possibly ending in a short-header packet. The
//! Initial packets of each side are decrypted with the keys of the client's
//! first Destination Connection ID until that side's first TLS handshake
//! message is complete; their CRYPTO frames are put back together by
//! offset and that message goes to the SSL analyzer as one TLS record.
//! A datagram that breaks the format stops there with a violation.

use super::crypto::{self, DecryptError};
use std::collections::BTreeMap;

/// What the parser finds, reported to the analyzer.
pub trait Out {
    /// An event-worthy packet or frame.
    fn event(&mut self, ev: Found);
    /// An Initial packet was decrypted: the traffic is QUIC.
    fn confirm(&mut self);
    /// The datagram breaks QUIC (the rest of it is not parsed).
    fn violate(&mut self, reason: String);
    /// TLS bytes for the SSL analyzer, from the originator if `is_orig`.
    fn ssl(&mut self, is_orig: bool, data: &[u8]);
    /// A Retry came: the SSL analyzer is closed (a new one takes the
    /// handshake that starts again).
    fn ssl_close(&mut self);
}

/// The fields every long header has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongHeader {
    /// The packet came from the originator.
    pub is_orig: bool,
    /// Version.
    pub version: u32,
    /// Destination Connection ID.
    pub dcid: Vec<u8>,
    /// Source Connection ID.
    pub scid: Vec<u8>,
}

/// A finding of the parser, after Zeek's QUIC events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// An Initial packet (`QUIC::initial_packet`).
    Initial(LongHeader),
    /// A Handshake packet (`QUIC::handshake_packet`).
    Handshake(LongHeader),
    /// A 0-RTT packet (`QUIC::zero_rtt_packet`).
    ZeroRtt(LongHeader),
    /// A Retry packet with its token and integrity tag (`QUIC::retry_packet`).
    Retry(LongHeader, Vec<u8>, Vec<u8>),
    /// A CONNECTION_CLOSE frame in a decrypted Initial packet, with its
    /// error code and reason phrase (`QUIC::connection_close_frame`).
    ConnectionClose(LongHeader, u64, Vec<u8>),
    /// A long header of a version weir cannot read (`QUIC::unhandled_version`).
    UnhandledVersion(LongHeader),
    /// A packet without QUIC's fixed bit, after the connection's first
    /// decrypted Initial, with the count of decrypted packets
    /// (`QUIC::discarded_packet`).
    Discarded(bool, u64),
    /// The side's count of short-header packets reached a power of two
    /// (`QUIC::short_header_packet_threshold_crossed`).
    ShortThreshold(bool, u64),
}

/// Largest first handshake message forwarded (RFC 8446's limit on a
/// record's plaintext plus 256).
const MAX_MESSAGE: u32 = (1 << 14) + 256;
/// Most CRYPTO bytes taken before the message's length is known.
const MAX_WITHOUT_LENGTH: u64 = 2000;

/// One side's CRYPTO stream, reassembled by offset, up to the end of its
/// first handshake message.
#[derive(Clone, Debug, Default)]
pub struct CryptoStream {
    /// Out-of-order pieces by offset.
    pending: BTreeMap<u64, Vec<u8>>,
    /// Bytes delivered in order so far (the next offset expected).
    delivered: u64,
    /// The message's first bytes (type and 24-bit length) until all four came.
    head: Vec<u8>,
    /// The message's length with its 4-byte header, 0 until known.
    length: u32,
    /// The whole message went to SSL.
    pub finished: bool,
}

impl CryptoStream {
    /// Writes CRYPTO data at `offset`; in-order bytes go to SSL. An error
    /// when the side sent more than its first message (or 2000 bytes
    /// without a length) or a message too long for TLS.
    fn write<O: Out>(&mut self, out: &mut O, is_orig: bool, offset: u64, data: &[u8]) -> Result<(), String> {
        let end = offset.saturating_add(data.len() as u64);
        if end > self.delivered && !data.is_empty() {
            let skip = self.delivered.saturating_sub(offset) as usize;
            let (at, piece) = (offset.max(self.delivered), &data[skip..]);
            let slot = self.pending.entry(at).or_default();
            if piece.len() > slot.len() {
                *slot = piece.to_vec();
            }
        }
        while let Some(mut e) = self.pending.first_entry() {
            if *e.key() > self.delivered {
                break;
            }
            let skip = (self.delivered - *e.key()) as usize;
            let piece = std::mem::take(e.get_mut());
            e.remove();
            if skip < piece.len() {
                self.delivered += (piece.len() - skip) as u64;
                self.deliver(out, is_orig, &piece[skip..])?;
            }
        }
        if self.length > 0 {
            if self.delivered > u64::from(self.length) {
                return Err(format!("too much crypto data received {} > {}", self.delivered, self.length));
            }
        } else if self.delivered > MAX_WITHOUT_LENGTH {
            return Err(format!("too much crypto data without length received {}", self.delivered));
        }
        Ok(())
    }

    /// In-order bytes of the stream.
    fn deliver<O: Out>(&mut self, out: &mut O, is_orig: bool, mut data: &[u8]) -> Result<(), String> {
        if self.finished {
            return Ok(());
        }
        if self.length == 0 {
            let n = (4 - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.head.len() < 4 {
                return Ok(());
            }
            let h = &self.head;
            self.length = ((u32::from(h[1]) << 16) | (u32::from(h[2]) << 8) | u32::from(h[3])) + 4;
            if self.length > MAX_MESSAGE {
                self.finished = true;
                return Err(format!("handshake message too long: {}", self.length));
            }
            let mut rec = vec![22, 3, 3];
            rec.extend_from_slice(&(self.length as u16).to_be_bytes());
            rec.extend_from_slice(&self.head);
            out.ssl(is_orig, &rec);
        }
        let forwarded = self.delivered - data.len() as u64;
        let left = u64::from(self.length).saturating_sub(forwarded) as usize;
        let take = left.min(data.len());
        if take > 0 {
            out.ssl(is_orig, &data[..take]);
        }
        if take == left {
            self.finished = true;
        }
        Ok(())
    }
}

/// The connection's QUIC state (Zeek's analyzer context).
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Connection ID lengths seen in Initial packets: the client's, the server's.
    cid_len: [u8; 2],
    /// The Destination Connection ID of the client's first Initial (the
    /// Initial keys of both sides come from it).
    pub initial_dcid: Option<Vec<u8>>,
    /// The CRYPTO streams: originator, responder.
    pub crypto: [CryptoStream; 2],
    /// Initial packets decrypted.
    pub total_decrypted: u64,
    /// Packets without the fixed bit.
    pub total_discarded: u64,
    /// `QUIC::max_discarded_packet_events` (0: unlimited, negative: none).
    pub max_discarded_events: i64,
    /// Short-header packets per side and the next count reported.
    short: [(u64, u64); 2],
}

/// A cursor over a packet; reading past its end is an error.
struct Rd<'a> {
    b: &'a [u8],
    pos: usize,
}

const SHORT: &str = "insufficient data";

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self.b.get(self.pos..self.pos.checked_add(n).ok_or(SHORT)?).ok_or(SHORT)?;
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    /// A variable-length integer (RFC 9000 §16).
    fn varint(&mut self) -> Result<u64, String> {
        let first = self.u8()?;
        let n = 1usize << (first >> 6);
        let mut v = u64::from(first & 0x3f);
        for &b in self.take(n - 1)? {
            v = (v << 8) | u64::from(b);
        }
        Ok(v)
    }
    fn len_bytes(&mut self, n: u64) -> Result<&'a [u8], String> {
        self.take(usize::try_from(n).map_err(|_| SHORT.to_string())?)
    }
}

/// Whether weir knows the version's long header packet types (v1 and its
/// drafts, mvfst's versions, v2).
fn known_version(v: u32) -> bool {
    crypto::supported(v)
}

/// Long header packet types, as v1 numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

fn kind(version: u32, bits: u8) -> Kind {
    let v1 = [Kind::Initial, Kind::ZeroRtt, Kind::Handshake, Kind::Retry];
    let v2 = [Kind::Retry, Kind::Initial, Kind::ZeroRtt, Kind::Handshake];
    if version == crypto::VERSION_2 {
        v2[usize::from(bits & 3)]
    } else {
        v1[usize::from(bits & 3)]
    }
}

impl State {
    /// Fresh state with `QUIC::max_discarded_packet_events` set to `max_discarded_events`.
    pub fn new(max_discarded_events: i64) -> State {
        State { max_discarded_events, ..State::default() }
    }

    /// Parses one datagram from the originator (`is_orig`) or responder.
    pub fn datagram<O: Out>(&mut self, out: &mut O, is_orig: bool, data: &[u8]) {
        let mut rest = data;
        while !rest.is_empty() {
            match self.packet(out, is_orig, rest) {
                Ok(used) => rest = &rest[used.min(rest.len())..],
                Err(reason) => {
                    out.violate(reason);
                    return;
                }
            }
        }
    }

    /// One packet at the start of `data`; how many bytes it took.
    fn packet<O: Out>(&mut self, out: &mut O, is_orig: bool, data: &[u8]) -> Result<usize, String> {
        let first = data[0];
        let side = usize::from(!is_orig);
        if first & 0x40 == 0 {
            self.total_discarded += 1;
            let max = self.max_discarded_events;
            if self.total_decrypted > 0 && max >= 0 && (max == 0 || self.total_discarded <= max as u64) {
                out.event(Found::Discarded(is_orig, self.total_decrypted));
            }
            return Ok(data.len());
        }
        if first & 0x80 == 0 {
            let mut r = Rd { b: data, pos: 1 };
            r.take(usize::from(self.cid_len[0]))?;
            let (total, next) = &mut self.short[side];
            *total += 1;
            if *next == 0 {
                *next = 1;
            }
            if *total == *next {
                *next = next.saturating_mul(2);
                out.event(Found::ShortThreshold(is_orig, *total));
            }
            return Ok(data.len());
        }
        let mut r = Rd { b: data, pos: 1 };
        let version = u32::from_be_bytes(r.take(4)?.try_into().unwrap_or_default());
        let n = r.u8()?;
        let dcid = r.take(usize::from(n))?.to_vec();
        let n = r.u8()?;
        let scid = r.take(usize::from(n))?.to_vec();
        let hdr = LongHeader { is_orig, version, dcid, scid };
        if !known_version(version) {
            out.event(Found::UnhandledVersion(hdr));
            return Err(format!("unhandled QUIC version 0x{version:x}"));
        }
        match kind(version, first >> 4) {
            Kind::Initial => {
                let token_len = r.varint()?;
                r.len_bytes(token_len)?;
                let length = r.varint()?;
                if length < 20 {
                    return Err(format!("length {length} below 20"));
                }
                let pn_offset = r.pos;
                r.len_bytes(length)?;
                let end = r.pos;
                out.event(Found::Initial(hdr.clone()));
                self.initial(out, &hdr, &data[..end], pn_offset, length)?;
                Ok(end)
            }
            k @ (Kind::ZeroRtt | Kind::Handshake) => {
                let length = r.varint()?;
                r.len_bytes(length)?;
                out.event(if k == Kind::ZeroRtt { Found::ZeroRtt(hdr) } else { Found::Handshake(hdr) });
                Ok(r.pos)
            }
            Kind::Retry => {
                let rest = &data[r.pos..];
                let split = rest.len().saturating_sub(16);
                out.event(Found::Retry(hdr, rest[..split].to_vec(), rest[split..].to_vec()));
                out.ssl_close();
                self.crypto = Default::default();
                self.initial_dcid = None;
                Ok(data.len())
            }
        }
    }

    /// An Initial packet (`packet` up to its end): decrypted and its frames
    /// read while its side's first handshake message is not complete.
    fn initial<O: Out>(&mut self, out: &mut O, hdr: &LongHeader, packet: &[u8], pn_offset: usize, length: u64) -> Result<(), String> {
        let side = usize::from(!hdr.is_orig);
        if self.crypto[side].finished || (!hdr.is_orig && self.initial_dcid.is_none()) {
            return Ok(());
        }
        if hdr.is_orig {
            self.cid_len = [hdr.scid.len() as u8, hdr.dcid.len() as u8];
            if self.initial_dcid.is_none() {
                self.initial_dcid = Some(hdr.dcid.clone());
            }
        } else {
            self.cid_len = [hdr.dcid.len() as u8, hdr.scid.len() as u8];
        }
        let dcid = self.initial_dcid.clone().unwrap_or_default();
        let plain = crypto::decrypt_initial(hdr.version, &dcid, hdr.is_orig, packet, pn_offset, length).map_err(|e: DecryptError| e.to_string())?;
        out.confirm();
        self.total_decrypted += 1;
        self.frames(out, hdr, &plain)
    }

    /// The frames of a decrypted Initial packet of version 1 from the
    /// originator (`is_orig`) or responder, for the fuzzer.
    #[doc(hidden)]
    pub fn fuzz_frames<O: Out>(&mut self, out: &mut O, is_orig: bool, plain: &[u8]) -> Result<(), String> {
        let hdr = LongHeader { is_orig, version: crypto::VERSION_1, dcid: Vec::new(), scid: Vec::new() };
        self.frames(out, &hdr, plain)
    }

    /// The frames of a decrypted Initial packet.
    fn frames<O: Out>(&mut self, out: &mut O, hdr: &LongHeader, plain: &[u8]) -> Result<(), String> {
        let mut r = Rd { b: plain, pos: 0 };
        while r.pos < plain.len() {
            let t = r.u8()?;
            match t {
                0x00 => {
                    while plain.get(r.pos) == Some(&0) {
                        r.pos += 1;
                    }
                }
                0x01 => {}
                0x02 | 0x03 => {
                    r.varint()?;
                    r.varint()?;
                    let ranges = r.varint()?;
                    r.varint()?;
                    for _ in 0..ranges {
                        r.varint()?;
                        r.varint()?;
                    }
                    if t == 0x03 {
                        for _ in 0..3 {
                            r.varint()?;
                        }
                    }
                }
                0x06 => {
                    let offset = r.varint()?;
                    let len = r.varint()?;
                    let data = r.len_bytes(len)?;
                    let side = usize::from(!hdr.is_orig);
                    self.crypto[side].write(out, hdr.is_orig, offset, data)?;
                }
                0x1c => {
                    let code = r.varint()?;
                    if plain.get(r.pos) == Some(&0) {
                        r.pos += 1;
                    } else {
                        r.varint()?;
                    }
                    let n = r.varint()?;
                    let reason = r.len_bytes(n)?.to_vec();
                    out.event(Found::ConnectionClose(hdr.clone(), code, reason));
                }
                _ => return Err(format!("unhandled frame type {t}")),
            }
        }
        Ok(())
    }
}
