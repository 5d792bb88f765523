//! Flow-hash fan-out of captured packets to worker threads (`--workers N`).
//!
//! The reader thread hashes each packet on its outermost IP address pair,
//! in either direction, so both directions of a connection, every fragment
//! of a datagram and everything inside one tunnel reach the same worker, and
//! copies it into that worker's [`Batch`]. Packets that carry no IP header
//! (ARP, unknown link types, damaged frames) go to worker 0, which raises
//! their weirds. Every [`FLUSH_EVERY`] packets read, every worker gets its
//! batch, empty or not, stamped with the latest packet time read: workers
//! run their timers to it, so a connection times out at the same point of
//! its own packets as in a single-threaded run.

use super::Packet;
use crate::bytes::be16;
use crate::decode::ip::ip_addresses;
use crate::decode::link::decode_link;
use crate::decode::LinkOutcome;
use std::net::IpAddr;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::{Duration, Instant};

/// Packets read between two hand-overs to the workers.
pub const FLUSH_EVERY: usize = 512;

/// Batches in flight per worker before the reader waits for it.
const QUEUE_DEPTH: usize = 8;

/// Where one packet sits in a batch's buffer.
#[derive(Clone, Copy, Debug)]
struct Slot {
    ts: f64,
    wire_len: u32,
    link_type: i32,
    start: u32,
    len: u32,
}

/// Packets copied out of the capture buffer for one worker, and the
/// network time the reader had reached when it handed them over.
#[derive(Debug, Default)]
pub struct Batch {
    /// Timestamp of the latest packet the reader had read (any worker's).
    pub now: f64,
    slots: Vec<Slot>,
    bytes: Vec<u8>,
}

impl Batch {
    /// Copies `p` in.
    pub fn push(&mut self, p: &Packet<'_>) {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(p.data);
        self.slots.push(Slot { ts: p.ts, wire_len: p.wire_len, link_type: p.link_type, start, len: p.data.len() as u32 });
    }

    /// The packets, in capture order.
    pub fn packets(&self) -> impl Iterator<Item = Packet<'_>> {
        self.slots.iter().map(|s| Packet {
            ts: s.ts,
            wire_len: s.wire_len,
            link_type: s.link_type,
            data: &self.bytes[s.start as usize..(s.start + s.len) as usize],
        })
    }

    /// Number of packets.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the batch holds no packet.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.bytes.clear();
    }
}

/// A symmetric hash of the outermost IP addresses of a frame; 0 (worker 0)
/// when it has none, or when its IP header is damaged: such packets raise
/// net weirds, which weird.log suppresses per worker, so they all go to one.
pub fn flow_hash(link_type: i32, frame: &[u8]) -> u64 {
    let LinkOutcome::Ip { ip, .. } = decode_link(link_type, frame) else { return 0 };
    if !plausible_ip_header(ip) {
        return 0;
    }
    let Some((a, b)) = ip_addresses(ip) else { return 0 };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    mix(word(lo) ^ mix(word(hi)))
}

/// Whether the IP header at the start of `ip` has a sane length (IPv4: at
/// least 20 bytes, within the datagram and the capture; IPv6: 40 bytes).
fn plausible_ip_header(ip: &[u8]) -> bool {
    match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(be16(ip, 2));
            ihl >= 20 && ihl <= ip.len() && total >= ihl
        }
        Some(6) => ip.len() >= 40,
        _ => false,
    }
}

/// An address folded into one word.
fn word(a: IpAddr) -> u64 {
    match a {
        IpAddr::V4(v4) => mix(u64::from(u32::from(v4))),
        IpAddr::V6(v6) => {
            let x = u128::from(v6);
            mix(mix(x as u64) ^ (x >> 64) as u64)
        }
    }
}

/// splitmix64's finaliser: every input bit reaches every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What a worker receives: its batches, and the way back for emptied ones.
pub struct Inbox {
    batches: Receiver<Batch>,
    spent: SyncSender<Batch>,
}

impl Inbox {
    /// The next batch; `None` once the reader is done.
    pub fn next(&self) -> Option<Batch> {
        self.batches.recv().ok()
    }

    /// Hands an emptied batch back to the reader for reuse.
    pub fn recycle(&self, mut b: Batch) {
        b.clear();
        let _ = self.spent.try_send(b);
    }
}

/// The reader's side: one batch being filled per worker.
pub struct Fanout {
    outs: Vec<SyncSender<Batch>>,
    spent: Vec<Receiver<Batch>>,
    filling: Vec<Batch>,
    since_flush: usize,
    /// Network time as the packets read so far move it (the workers' engines
    /// follow the same rule, so a far-future packet does not move it either).
    clock: crate::clock::NetworkClock,
    /// Longest a packet may wait in a batch (live sources), with the time of the last hand-over.
    max_delay: Option<(Duration, Instant)>,
}

impl Fanout {
    /// A fan-out to `workers` workers (at least 1) and their inboxes.
    pub fn new(workers: usize) -> (Fanout, Vec<Inbox>) {
        let n = workers.max(1);
        let (mut outs, mut spent, mut inboxes) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let (tx, rx) = sync_channel(QUEUE_DEPTH);
            let (spent_tx, spent_rx) = sync_channel(QUEUE_DEPTH + 2);
            outs.push(tx);
            spent.push(spent_rx);
            inboxes.push(Inbox { batches: rx, spent: spent_tx });
        }
        let filling = (0..n).map(|_| Batch::default()).collect();
        let clock = crate::clock::NetworkClock::for_config(&crate::Config::default());
        (Fanout { outs, spent, filling, since_flush: 0, clock, max_delay: None }, inboxes)
    }

    /// Moves network time by the jump rule of `cfg` (the workers' settings).
    pub fn with_clock_of(mut self, cfg: &crate::Config) -> Fanout {
        self.clock = crate::clock::NetworkClock::for_config(cfg);
        self
    }

    /// Hands batches over at least every `delay` of wall-clock time too (for
    /// live sources, where 512 packets may take long to come).
    pub fn with_max_delay(mut self, delay: Duration) -> Fanout {
        self.max_delay = Some((delay, Instant::now()));
        self
    }

    /// Routes one packet to its worker's batch; hands every batch over each
    /// [`FLUSH_EVERY`] packets. False once a worker has gone away.
    pub fn push(&mut self, p: &Packet<'_>) -> bool {
        let w = (flow_hash(p.link_type, p.data) % self.outs.len() as u64) as usize;
        self.filling[w].push(p);
        if p.ts >= 0.0 {
            self.clock.packet(p.ts);
        }
        self.since_flush += 1;
        let late = self.max_delay.is_some_and(|(d, last)| last.elapsed() >= d);
        if self.since_flush >= FLUSH_EVERY || late {
            return self.flush();
        }
        true
    }

    /// Hands every worker its batch now, with network time moved on to `now`
    /// if that is later (a live source idle while the clock runs). False
    /// once a worker has gone away.
    pub fn flush_at(&mut self, now: f64) -> bool {
        self.clock.advance_to(now);
        self.flush()
    }

    /// Hands every worker its batch now. False once a worker has gone away.
    pub fn flush(&mut self) -> bool {
        self.since_flush = 0;
        if let Some((_, last)) = &mut self.max_delay {
            *last = Instant::now();
        }
        let mut ok = true;
        for (i, out) in self.outs.iter().enumerate() {
            let fresh = self.spent[i].try_recv().unwrap_or_default();
            let mut batch = std::mem::replace(&mut self.filling[i], fresh);
            batch.now = self.clock.now();
            ok &= out.send(batch).is_ok();
        }
        ok
    }

    /// Hands over what is left and closes the inboxes: each worker's
    /// [`Inbox::next`] then returns `None`.
    pub fn finish(mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::dlt;

    fn ipv4(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p
    }

    #[test]
    fn both_directions_hash_alike_and_pairs_spread() {
        let ab = flow_hash(dlt::RAW, &ipv4([10, 0, 0, 1], [10, 0, 0, 2]));
        let ba = flow_hash(dlt::RAW, &ipv4([10, 0, 0, 2], [10, 0, 0, 1]));
        assert_eq!(ab, ba);
        assert_ne!(ab, 0);
        let mut per_worker = [0; 2];
        for i in 0..200u8 {
            per_worker[(flow_hash(dlt::RAW, &ipv4([10, 0, 1, i], [10, 0, 0, 2])) % 2) as usize] += 1;
        }
        assert!(per_worker.iter().all(|&n| n > 60), "uneven spread {per_worker:?}");
        assert_eq!(flow_hash(dlt::RAW, &[0x45, 0, 0]), 0, "no IP header: worker 0");
        let mut zero_ihl = ipv4([10, 0, 0, 1], [10, 0, 0, 2]);
        zero_ihl[0] = 0x40;
        assert_eq!(flow_hash(dlt::RAW, &zero_ihl), 0, "a damaged header: worker 0");
    }

    #[test]
    fn batches_keep_order_and_carry_the_reader_time() {
        let (mut fan, inboxes) = Fanout::new(2);
        let pkts: Vec<Vec<u8>> = (0..10u8).map(|i| ipv4([10, 0, 0, i], [10, 0, 0, 100])).collect();
        for (i, d) in pkts.iter().enumerate() {
            assert!(fan.push(&Packet { ts: i as f64, wire_len: 20, link_type: dlt::RAW, data: d }));
        }
        fan.finish();
        let mut seen = Vec::new();
        for inbox in &inboxes {
            while let Some(b) = inbox.next() {
                assert_eq!(b.now, 9.0);
                let ts: Vec<f64> = b.packets().map(|p| p.ts).collect();
                assert!(ts.windows(2).all(|w| w[0] < w[1]));
                seen.extend(b.packets().map(|p| p.data.to_vec()));
                inbox.recycle(b);
            }
        }
        seen.sort();
        let mut want = pkts.clone();
        want.sort();
        assert_eq!(seen, want);
    }
}
