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

/// Runs one fuzz input through a fresh engine; returns the number of events raised.
pub fn run(data: &[u8]) -> usize {
    let Some((&sel, rest)) = data.split_first() else { return 0 };
    let link_type = LINK_TYPES[sel as usize % LINK_TYPES.len()];
    let mut subs = Subscriptions::default();
    for k in EventKind::ALL {
        subs.insert(*k);
    }
    let cfg = Config { tunnel_max_depth: 2 + (sel as u32 >> 6), ..Config::default() };
    let mut engine = Engine::new(cfg, subs);
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
