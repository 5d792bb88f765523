//! The concurrent-connection high-water mark of a trace: how many
//! connections are open at once at the busiest moment, where a connection
//! (both directions of an IP protocol and address/port pair, ICMP without
//! ports) is open from its first packet to its last. This is what a
//! benchmark trace must have for the connection table to be exercised.
//! A second figure counts a connection as tracked until Zeek's default
//! inactivity timeout after its last packet (`tcp_inactivity_timeout` 5 min,
//! `udp_inactivity_timeout` and `icmp_inactivity_timeout` 1 min, others
//! none), an upper bound of what a table holds, as closes come sooner.
//!
//!   conn-hwm TRACE
//!
//! Prints `packets connections high_water tracked_high_water span_seconds`
//! on one line, where span is from the earliest to the latest packet. Only Ethernet traces
//! (with 802.1Q/802.1ad tags) are read; other packets count as packets
//! but not as connections.

use std::collections::HashMap;
use std::process::ExitCode;

/// A connection's key: protocol and both (address, port) ends in canonical order.
type Key = (u8, [u8; 18], [u8; 18]);

/// The key of an Ethernet frame's IP packet, if it carries one.
fn key(frame: &[u8]) -> Option<Key> {
    let mut off = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        off += 4;
        ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    }
    let ip = frame.get(off + 2..)?;
    let (proto, src, dst, l4) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            // Non-first fragments have no ports: leave them out.
            if u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x1fff != 0 {
                return None;
            }
            (*ip.get(9)?, ip.get(12..16)?, ip.get(16..20)?, ip.get(ihl..)?)
        }
        0x86dd => (*ip.get(6)?, ip.get(8..24)?, ip.get(24..40)?, ip.get(40..)?),
        _ => return None,
    };
    let ports = match proto {
        6 | 17 | 132 => [l4.get(0..2)?, l4.get(2..4)?],
        _ => [&[0u8, 0][..], &[0, 0][..]],
    };
    let end = |addr: &[u8], port: &[u8]| {
        let mut e = [0u8; 18];
        e[..addr.len()].copy_from_slice(addr);
        e[16..].copy_from_slice(port);
        e
    };
    let (a, b) = (end(src, ports[0]), end(dst, ports[1]));
    Some(if a <= b { (proto, a, b) } else { (proto, b, a) })
}

/// Zeek's default inactivity timeout of an IP protocol, in microseconds.
fn inactivity_timeout(proto: u8) -> i64 {
    match proto {
        6 => 300_000_000,
        17 | 1 | 58 => 60_000_000,
        _ => 0,
    }
}

/// The most of the `(first, last)` spans that overlap at one moment.
fn high_water(spans: impl Iterator<Item = (i64, i64)>) -> i64 {
    // +1 at each first packet, -1 just after each last one (opens sort
    // before closes at the same time, so a connection's one packet counts).
    let mut edges: Vec<(i64, i32)> = spans.flat_map(|(a, b)| [(a, 1), (b + 1, -1)]).collect();
    edges.sort_unstable_by_key(|&(t, d)| (t, -d));
    let (mut open, mut high) = (0i64, 0i64);
    for (_, d) in edges {
        open += i64::from(d);
        high = high.max(open);
    }
    high
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: conn-hwm TRACE");
        return ExitCode::FAILURE;
    };
    let mut cap = match pcap::Capture::from_file(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("conn-hwm: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if cap.get_datalink() != pcap::Linktype::ETHERNET {
        eprintln!("conn-hwm: {path}: not an Ethernet trace");
        return ExitCode::FAILURE;
    }
    // Times in microseconds: (first, last) per connection.
    let mut spans: HashMap<Key, (i64, i64)> = HashMap::new();
    let (mut packets, mut first, mut last) = (0u64, i64::MAX, i64::MIN);
    loop {
        match cap.next_packet() {
            Ok(p) => {
                packets += 1;
                let t = p.header.ts.tv_sec as i64 * 1_000_000 + p.header.ts.tv_usec as i64;
                first = first.min(t);
                last = last.max(t);
                if let Some(k) = key(p.data) {
                    let s = spans.entry(k).or_insert((t, t));
                    s.0 = s.0.min(t);
                    s.1 = s.1.max(t);
                }
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                eprintln!("conn-hwm: {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let open = high_water(spans.iter().map(|(_, &s)| s));
    let tracked = high_water(spans.iter().map(|(k, &(a, b))| (a, b + inactivity_timeout(k.0))));
    let span = if packets == 0 { 0.0 } else { (last - first) as f64 / 1e6 };
    println!("{packets} {} {open} {tracked} {span:.0}", spans.len());
    ExitCode::SUCCESS
}
