//! The input layout shared by the fuzz target (`fuzz/`) and the regression
//! test that replays its findings: arbitrary bytes as a short sequence of
//! captured packets through the whole engine, every event subscribed.
//!
//! Byte 0 picks the link type (and the tunnel depth limit); the rest is split
//! into packets at each `0xff 0xfe` pair; each packet's first byte advances
//! the clock.

use crate::capture::{dlt, Packet};
use crate::events::{EventKind, Subscriptions};
use crate::{Config, Engine};

const LINK_TYPES: &[i32] = &[
    dlt::EN10MB,
    dlt::RAW,
    dlt::IPV4,
    dlt::IPV6,
    dlt::NULL,
    dlt::LOOP,
    dlt::LINUX_SLL,
    dlt::LINUX_SLL2,
    dlt::PPP,
    dlt::PPP_SERIAL,
    dlt::IEEE802_11,
    dlt::IEEE802_11_RADIO,
    dlt::PRISM,
    dlt::NFLOG,
    dlt::FDDI,
];

/// A fresh engine with every event subscribed, so every path that builds one runs.
fn engine_with_every_event(cfg: Config) -> Engine {
    let mut subs = Subscriptions::default();
    for k in EventKind::ALL {
        subs.insert(*k);
    }
    Engine::new(cfg, subs)
}

/// Runs one fuzz input through a fresh engine; returns the number of events raised.
pub fn run(data: &[u8]) -> usize {
    let Some((&sel, rest)) = data.split_first() else { return 0 };
    let link_type = LINK_TYPES[sel as usize % LINK_TYPES.len()];
    let cfg = Config { tunnel_max_depth: 2 + (sel as u32 >> 6), ..Config::default() };
    let mut engine = engine_with_every_event(cfg);
    let mut events = 0;
    let mut ts = 1_000_000.0;
    for frame in split_frames(rest) {
        if let Some((&dt, bytes)) = frame.split_first() {
            ts += dt as f64 * 0.37;
            let wire_len = bytes.len() as u32 + (dt as u32 & 0x3);
            engine.process(&Packet { ts, wire_len, link_type, data: bytes });
            events += engine.queue.take().len();
        }
    }
    engine.finish();
    events + engine.queue.take().len()
}

/// Runs one fuzz input through the signature engine: the bytes up to the
/// first `0xff 0xfd` pair are a signature file; when it loads, the rest
/// goes through [`run`]'s layout with those signatures (and a small
/// `dpd_buffer_size` now and then, so both sides of the budget are reached).
/// Returns the number of events raised, or 0 when the file does not load.
pub fn run_signatures(data: &[u8]) -> usize {
    let cut = data.windows(2).position(|w| w == [0xff, 0xfd]).unwrap_or(data.len());
    let (sig, rest) = (&data[..cut], data.get(cut + 2..).unwrap_or(&[]));
    let Ok(rules) = crate::signatures::parse("fuzz.sig", sig, &crate::signatures::Idents::new()) else { return 0 };
    let Ok(set) = crate::signatures::RuleSet::compile(rules) else { return 0 };
    let Some((&sel, rest)) = rest.split_first() else { return 0 };
    let link_type = LINK_TYPES[sel as usize % LINK_TYPES.len()];
    let cfg = Config {
        signatures: Some(std::sync::Arc::new(set)),
        ..Config::default()
    };
    let mut cfg = cfg;
    cfg.dpd.buffer_size = if sel & 0x80 != 0 { 16 } else { 1024 };
    cfg.dpd.match_only_beginning = sel & 0x40 == 0;
    let mut engine = engine_with_every_event(cfg);
    let mut events = 0;
    let mut ts = 1_000_000.0;
    for frame in split_frames(rest) {
        if let Some((&dt, bytes)) = frame.split_first() {
            ts += dt as f64 * 0.37;
            engine.process(&Packet { ts, wire_len: bytes.len() as u32, link_type, data: bytes });
            events += engine.queue.take().len();
        }
    }
    engine.finish();
    events + engine.queue.take().len()
}

/// Splits at every `0xff 0xfe` pair.
fn split_frames(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] == 0xff && data[i + 1] == 0xfe {
            out.push(&data[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    out.push(&data[start..]);
    out
}

/// Runs one fuzz input as a whole trace file: written to a scratch file and
/// read back through [`crate::capture::file::FileSource`] (the direct pcap
/// reader, and libpcap where it takes over) into a fresh engine. When byte 0
/// is odd a valid classic pcap file header (raw IP or Ethernet, snapshot
/// length from byte 1) goes first, so the fuzzer reaches the records.
/// Returns the number of packets read; errors end the read, as in a run.
pub fn run_trace_file(data: &[u8]) -> u64 {
    use crate::capture::file::FileSource;
    use crate::capture::PacketSource;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);

    let Some((&sel, rest)) = data.split_first() else { return 0 };
    let mut file = Vec::with_capacity(data.len() + 24);
    if sel & 1 == 1 {
        let snaplen = u32::from(rest.first().copied().unwrap_or(0)) << (sel >> 4);
        let link = if sel & 2 == 0 { 1u32 } else { 101 };
        file.extend_from_slice(&0xa1b2_c3d4u32.to_ne_bytes());
        file.extend_from_slice(&2u16.to_ne_bytes());
        file.extend_from_slice(&4u16.to_ne_bytes());
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&snaplen.to_ne_bytes());
        file.extend_from_slice(&link.to_ne_bytes());
    }
    file.extend_from_slice(rest);
    let path = std::env::temp_dir().join(format!("weir-fuzz-{}-{}.pcap", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    if std::fs::write(&path, &file).is_err() {
        return 0;
    }
    let mut packets = 0;
    if let Ok(mut src) = FileSource::open(&path, None) {
        let mut engine = engine_with_every_event(Config::default());
        while let Ok(Some(p)) = src.next_packet() {
            packets += 1;
            engine.process(&p);
            engine.queue.take();
        }
        engine.finish();
    }
    let _ = std::fs::remove_file(&path);
    packets
}
