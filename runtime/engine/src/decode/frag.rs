//! IPv4 and IPv6 fragment reassembly (Zeek's `src/Frag.cc` rules and weirds).
//!
//! Datagrams are keyed by (source, destination, identification), as in
//! Zeek: the protocol is not part of the key, which is what makes
//! `fragment_protocol_inconsistency` possible. All weirds raised here are
//! flow weirds on the fragment's addresses.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::checksum;
use super::ip::IpWeird;
use super::IpHdr;

/// Default lifetime of an incomplete datagram, in seconds of network time.
pub const DEFAULT_FRAG_TIMEOUT: f64 = 300.0;
/// Non-final fragments smaller than this are suspicious.
const MIN_ACCEPTABLE_FRAG_SIZE: usize = 64;
/// Datagrams larger than this are suspicious.
const MAX_ACCEPTABLE_FRAG_SIZE: u64 = 64000;

type Key = (IpAddr, IpAddr, u32);

/// One received piece of a datagram: bytes `[seq, seq + data.len())`.
struct Block {
    seq: u64,
    data: Vec<u8>,
}

impl Block {
    fn upper(&self) -> u64 {
        self.seq + self.data.len() as u64
    }
}

/// One datagram being reassembled.
struct Datagram {
    /// Header of the first fragment seen (IPv6: without the fragment header).
    proto_hdr: Vec<u8>,
    /// IPv4 protocol / IPv6 next header of the fragmentable part.
    next_proto: u8,
    /// IPv4 header length of the first fragment seen (IPv6: unfragmentable part).
    first_hdr_len: usize,
    /// Datagram payload size once known from a final fragment (0 = unknown).
    frag_size: u64,
    /// Blocks sorted by `seq`, never overlapping.
    blocks: Vec<Block>,
    /// Network time after which the datagram is dropped.
    expires: f64,
    /// Which datagram of the run this is (tells a reused key from the first use).
    serial: u64,
    /// Bytes held: headers, blocks and their bookkeeping.
    bytes: usize,
}

/// Bookkeeping bytes counted per block besides its data.
const BLOCK_OVERHEAD: usize = std::mem::size_of::<Block>() + 16;

/// Reassembly state for all datagrams in flight. Keys are chosen by
/// whoever sends the fragments, so the table is bounded three ways: by
/// `frag_timeout`, by a number of datagrams and by the bytes they hold;
/// past a cap the oldest datagram is dropped (counted in
/// [`FragStats::evicted`]).
pub struct FragReassembler {
    table: HashMap<Key, Datagram>,
    timeout: f64,
    /// Datagrams in the order they were made (so of expiry), with their serial.
    order: VecDeque<(f64, Key, u64)>,
    next_serial: u64,
    max_datagrams: usize,
    max_bytes: usize,
    bytes: usize,
    stats: FragStats,
}

/// Counters of the fragment table, for the operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragStats {
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// Incomplete datagrams dropped when their `frag_timeout` ran out.
    pub expired: u64,
    /// Incomplete datagrams dropped early to stay under the caps.
    pub evicted: u64,
}

impl Default for FragReassembler {
    fn default() -> Self {
        FragReassembler::new(DEFAULT_FRAG_TIMEOUT)
    }
}

/// Whether the IP packet behind `ip` was not captured completely (a fragment
/// like that is not reassembled: Zeek raises `incompletely_captured_fragment`
/// and keeps only a fragment at offset 0, analysed as it is).
pub fn incompletely_captured(ip: &IpHdr<'_>) -> bool {
    ip.payload.len() < ip.payload_len
}

impl FragReassembler {
    /// A reassembler dropping incomplete datagrams `timeout` seconds after
    /// their first fragment (0 = never).
    pub fn new(timeout: f64) -> Self {
        FragReassembler::with_caps(timeout, 0, 0)
    }

    /// Like [`FragReassembler::new`], holding at most `max_datagrams`
    /// incomplete datagrams and `max_bytes` bytes of them (0 = no cap).
    pub fn with_caps(timeout: f64, max_datagrams: usize, max_bytes: usize) -> Self {
        FragReassembler {
            table: HashMap::new(),
            timeout,
            order: VecDeque::new(),
            next_serial: 0,
            max_datagrams,
            max_bytes,
            bytes: 0,
            stats: FragStats::default(),
        }
    }

    /// Datagrams currently incomplete.
    pub fn pending(&self) -> usize {
        self.table.len()
    }

    /// Bytes the incomplete datagrams hold.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Counters since the start.
    pub fn stats(&self) -> FragStats {
        self.stats
    }

    /// Removes the datagram under `key`, keeping the byte count right.
    fn drop_datagram(&mut self, key: &Key) -> Option<Datagram> {
        let dg = self.table.remove(key)?;
        self.bytes -= dg.bytes;
        Some(dg)
    }

    /// Drops the oldest datagrams while a cap is exceeded.
    fn enforce_caps(&mut self) {
        let over = |r: &Self| {
            (r.max_datagrams > 0 && r.table.len() > r.max_datagrams) || (r.max_bytes > 0 && r.bytes > r.max_bytes)
        };
        while over(self) {
            let Some((_, key, serial)) = self.order.pop_front() else { break };
            if self.table.get(&key).is_some_and(|d| d.serial == serial) {
                self.drop_datagram(&key);
                self.stats.evicted += 1;
            }
        }
    }

    /// Drops queue entries of datagrams already gone once they are most of it.
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.table.len() + 1024 {
            let table = &self.table;
            self.order.retain(|(_, k, serial)| table.get(k).is_some_and(|d| d.serial == *serial));
        }
    }

    /// Adds a fragment (`ip.is_fragment`) seen at network time `now`. Returns
    /// the reassembled datagram (header rewritten as an unfragmented packet)
    /// once complete; the caller parses it again with `parse_ip`. Weirds go
    /// to `weirds`. Fragments that were not captured completely are not
    /// reassembled: `incompletely_captured_fragment` is pushed and `None`
    /// returned (see [`incompletely_captured`]).
    pub fn add(&mut self, now: f64, ip: &IpHdr<'_>, weirds: &mut Vec<IpWeird>) -> Option<Vec<u8>> {
        if incompletely_captured(ip) {
            weirds.push(IpWeird::flow("incompletely_captured_fragment"));
            return None;
        }
        let key = (ip.src, ip.dst, ip.id);
        if !self.table.contains_key(&key) {
            let proto_hdr = if ip.version == 4 {
                ip.header.to_vec()
            } else {
                ip.header[..ip.hdr_len - 8].to_vec()
            };
            let expires = if self.timeout > 0.0 { now + self.timeout } else { f64::INFINITY };
            let serial = self.next_serial;
            self.next_serial += 1;
            let bytes = std::mem::size_of::<Datagram>() + proto_hdr.len() + 64;
            self.bytes += bytes;
            let dg = Datagram {
                proto_hdr,
                next_proto: ip.proto,
                first_hdr_len: ip.hdr_len,
                frag_size: 0,
                blocks: Vec::new(),
                expires,
                serial,
                bytes,
            };
            self.table.insert(key, dg);
            self.order.push_back((expires, key, serial));
            self.compact_order();
        }
        let dg = self.table.get_mut(&key).expect("datagram just made");
        let before = dg.bytes;
        let added = dg.add_fragment(ip, weirds);
        let done = if added { dg.try_complete(weirds) } else { None };
        self.bytes = self.bytes + dg.bytes - before;
        match done {
            Some(pkt) => {
                self.drop_datagram(&key);
                if pkt.is_some() {
                    self.stats.reassembled += 1;
                }
                pkt
            }
            None => {
                self.enforce_caps();
                None
            }
        }
    }

    /// Drops incomplete datagrams whose time ran out at network time `now`.
    pub fn expire(&mut self, now: f64) {
        let mut dropped = 0u64;
        while let Some(&(expires, key, serial)) = self.order.front() {
            if expires > now {
                break;
            }
            self.order.pop_front();
            if self.table.get(&key).is_some_and(|d| d.serial == serial && d.expires <= now) {
                self.drop_datagram(&key);
                dropped += 1;
            }
        }
        if dropped > 0 {
            self.stats.expired += dropped;
            tracing::debug!(dropped, "expired incomplete fragmented datagrams");
        }
    }
}

impl Datagram {
    /// Zeek's `FragReassembler::AddFragment`; false when the fragment was discarded.
    fn add_fragment(&mut self, ip: &IpHdr<'_>, weirds: &mut Vec<IpWeird>) -> bool {
        if ip.version == 4 {
            if ip.proto != self.proto_hdr[9] || ip.hdr_len != self.first_hdr_len {
                weirds.push(IpWeird::flow("fragment_protocol_inconsistency"));
            }
        } else if ip.proto != self.next_proto || ip.hdr_len - 8 != self.proto_hdr.len() {
            weirds.push(IpWeird::flow("fragment_protocol_inconsistency"));
        }
        if ip.df {
            weirds.push(IpWeird::flow("fragment_with_DF"));
        }
        let offset = u64::from(ip.frag_offset);
        let len = ip.total_len;
        let hdr_len = ip.hdr_len;
        if len < hdr_len {
            weirds.push(IpWeird::flow("fragment_protocol_inconsistency"));
            return false;
        }
        let upper = offset + (len - hdr_len) as u64;
        if offset == 0 {
            self.next_proto = ip.proto;
        }
        if !ip.mf {
            if self.frag_size == 0 {
                self.frag_size = upper;
            } else if upper != self.frag_size {
                weirds.push(IpWeird::flow("fragment_size_inconsistency"));
                if upper > self.frag_size {
                    self.frag_size = upper;
                }
            }
        } else if len < MIN_ACCEPTABLE_FRAG_SIZE {
            weirds.push(IpWeird::flow("excessively_small_fragment"));
        }
        if upper > MAX_ACCEPTABLE_FRAG_SIZE {
            weirds.push(IpWeird::flow("excessively_large_fragment"));
        }
        if self.frag_size != 0 && upper > self.frag_size {
            weirds.push(IpWeird::flow("fragment_size_inconsistency"));
            self.frag_size = upper;
        }
        let data = &ip.payload[..ip.payload_len];
        self.insert(offset, data, weirds);
        true
    }

    /// Inserts `data` at `seq`; bytes already present win, overlaps are reported.
    fn insert(&mut self, seq: u64, data: &[u8], weirds: &mut Vec<IpWeird>) {
        if data.is_empty() {
            return;
        }
        let upper = seq + data.len() as u64;
        // Blocks are sorted and disjoint, so their upper ends are sorted too:
        // the first block that can overlap is found by bisection.
        let first = self.blocks.partition_point(|b| b.upper() <= seq);
        // Report each overlapping existing block.
        for b in self.blocks[first..].iter().take_while(|b| b.seq < upper) {
            let lo = seq.max(b.seq);
            let hi = upper.min(b.upper());
            if lo < hi {
                let new = &data[(lo - seq) as usize..(hi - seq) as usize];
                let old = &b.data[(lo - b.seq) as usize..(hi - b.seq) as usize];
                weirds.push(IpWeird::flow(if new == old { "fragment_overlap" } else { "fragment_inconsistency" }));
            }
        }
        // Insert the gaps between existing blocks.
        let mut cur = seq;
        let mut pieces = Vec::new();
        for b in &self.blocks[first..] {
            if b.upper() <= cur {
                continue;
            }
            if b.seq >= upper {
                break;
            }
            if b.seq > cur {
                pieces.push((cur, b.seq));
            }
            cur = cur.max(b.upper());
        }
        if cur < upper {
            pieces.push((cur, upper));
        }
        for (lo, hi) in pieces {
            let block = Block { seq: lo, data: data[(lo - seq) as usize..(hi - seq) as usize].to_vec() };
            self.bytes += block.data.len() + BLOCK_OVERHEAD;
            let at = self.blocks.partition_point(|b| b.seq < lo);
            self.blocks.insert(at, block);
        }
    }

    /// Zeek's `FragReassembler::BlockInserted`: the reassembled packet when
    /// complete (`Some(None)` = give up on this datagram), else `None`.
    fn try_complete(&mut self, weirds: &mut Vec<IpWeird>) -> Option<Option<Vec<u8>>> {
        let first = self.blocks.first()?;
        if first.seq > 0 || self.frag_size == 0 {
            return None;
        }
        let mut i = 0;
        while i + 1 < self.blocks.len() && self.blocks[i].upper() == self.blocks[i + 1].seq {
            i += 1;
        }
        let contiguous_upper = self.blocks[i].upper();
        let last_upper = self.blocks.last().map(Block::upper).unwrap_or(0);
        if i + 1 < self.blocks.len() {
            // A hole.
            if contiguous_upper >= self.frag_size {
                weirds.push(IpWeird::flow("fragment_size_inconsistency"));
                self.frag_size = contiguous_upper;
            } else {
                return None;
            }
        } else if last_upper > self.frag_size {
            weirds.push(IpWeird::flow("fragment_size_inconsistency"));
            self.frag_size = last_upper;
        } else if last_upper < self.frag_size {
            return None;
        }
        let n = self.proto_hdr.len() + self.frag_size as usize;
        let mut pkt = Vec::with_capacity(n);
        pkt.extend_from_slice(&self.proto_hdr);
        for b in &self.blocks {
            if b.seq >= self.frag_size {
                break;
            }
            let take = (self.frag_size.min(b.upper()) - b.seq) as usize;
            pkt.extend_from_slice(&b.data[..take]);
        }
        if pkt.len() != n {
            tracing::warn!("bad fragment reassembly");
            return Some(None);
        }
        if n > 0xffff + 40 {
            return Some(None);
        }
        match pkt[0] >> 4 {
            4 => {
                let tl = n as u16;
                pkt[2..4].copy_from_slice(&tl.to_be_bytes());
                // Clear MF and the offset; keep DF.
                pkt[6] &= 0x40;
                pkt[7] = 0;
                pkt[10] = 0;
                pkt[11] = 0;
                let hl = usize::from(pkt[0] & 0x0f) * 4;
                let sum = checksum::ipv4_header_checksum(&pkt[..hl.min(pkt.len())]);
                pkt[10..12].copy_from_slice(&sum.to_be_bytes());
            }
            6 => {
                let plen = (n - 40) as u16;
                pkt[4..6].copy_from_slice(&plen.to_be_bytes());
                set_last_next_header(&mut pkt, self.proto_hdr.len(), self.next_proto);
            }
            _ => return Some(None),
        }
        Some(Some(pkt))
    }
}

/// Sets the next-header field of the last header of the unfragmentable part
/// (length `unfrag_len`) of an IPv6 packet to `next`.
fn set_last_next_header(pkt: &mut [u8], unfrag_len: usize, next: u8) {
    let mut field = 6usize;
    let mut off = 40usize;
    while off < unfrag_len && off + 2 <= pkt.len() {
        let t = pkt[field];
        let len = match t {
            51 => 8 + 4 * usize::from(pkt[off + 1]),
            44 | 50 => 8,
            _ => 8 + 8 * usize::from(pkt[off + 1]),
        };
        field = off;
        off += len;
    }
    pkt[field] = next;
}

