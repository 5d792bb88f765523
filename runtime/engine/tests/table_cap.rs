//! The connection-table cap (`Config::max_connections`) on the repository's
//! demo trace: the table never grows past the cap, evicted connections are
//! removed with their events before the new one starts, and no packet is
//! lost from the per-connection counts.

use std::path::{Path, PathBuf};
use weir_engine::capture::{file::FileSource, PacketSource};
use weir_engine::events::{Event, EventKind, Subscriptions};
use weir_engine::{Config, Engine};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/traces/demo.pcap")
}

/// Events of the demo trace with a cap of `cap` (0 = none), the most
/// connections tracked after any packet, and the evictions.
fn run(cap: usize) -> (Vec<Event>, usize, u64) {
    let mut subs = Subscriptions::default();
    for k in [EventKind::NewConnection, EventKind::ConnectionStateRemove, EventKind::NetWeird] {
        subs.insert(k);
    }
    let cfg = Config { max_connections: cap, uid_seed: Some(7), ..Config::default() };
    let mut e = Engine::new(cfg, subs);
    let mut src = FileSource::open(demo(), None).expect("demo trace");
    let (mut out, mut peak) = (Vec::new(), 0);
    while let Some(p) = src.next_packet().expect("read") {
        e.process(&p);
        peak = peak.max(e.connections());
        out.extend(e.queue.take());
    }
    e.finish();
    out.extend(e.queue.take());
    (out, peak, e.evictions())
}

fn removed_packets(events: &[Event]) -> u64 {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConnectionStateRemove { c } => Some(c.orig.num_pkts.unwrap_or(0) + c.resp.num_pkts.unwrap_or(0)),
            _ => None,
        })
        .sum()
}

#[test]
fn cap_bounds_the_table_and_keeps_every_packet() {
    let (free, free_peak, none) = run(0);
    assert_eq!(none, 0);
    assert!(free_peak > 4, "the demo trace should hold more than 4 concurrent connections, has {free_peak}");
    let (capped, peak, evicted) = run(4);
    assert!(peak <= 4, "table grew to {peak} past a cap of 4");
    assert!(evicted > 0);
    // Evicted connections end early: as many removals or more (more when an
    // evicted connection sees packets again), and every packet still counted.
    let removals = |ev: &[Event]| ev.iter().filter(|e| matches!(e, Event::ConnectionStateRemove { .. })).count();
    assert!(removals(&capped) >= removals(&free));
    assert_eq!(removed_packets(&capped), removed_packets(&free));
    // Each eviction: the sampled weird, the evicted connection's removal, then
    // the new connection it made room for.
    let evictions = capped
        .windows(3)
        .filter(|w| {
            matches!(&w[0], Event::NetWeird { name, .. } if name == "connection_table_full")
                && matches!(w[1], Event::ConnectionStateRemove { .. })
                && matches!(w[2], Event::NewConnection { .. })
        })
        .count() as u64;
    assert_eq!(evictions, evicted, "weird, removal, new connection for each of the first 25 evictions");
    assert!(evicted <= 25, "the demo trace is small");
}

#[test]
fn a_cap_above_the_peak_changes_nothing() {
    let (free, peak, _) = run(0);
    let (capped, _, evicted) = run(peak);
    assert_eq!(evicted, 0);
    assert_eq!(format!("{free:?}"), format!("{capped:?}"));
}

/// A raw IPv4 TCP SYN from 10.1.x.y:sport to 192.0.2.1:80.
fn syn(i: u32) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 1, (i >> 8) as u8, i as u8, 192, 0, 2, 1];
    let sport = 1024 + (i >> 16) as u16;
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&80u16.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    p
}

#[test]
fn a_syn_flood_under_the_cap_keeps_the_timer_queue_bounded() {
    // 300,000 one-packet connections in 30 s of network time, cap 1,000:
    // without compaction every evicted connection's timers would wait for
    // their timeouts (minutes), several hundred thousand of them.
    let cfg = Config { max_connections: 1_000, ignore_checksums: true, ..Config::default() };
    let mut subs = Subscriptions::default();
    subs.insert(EventKind::ConnectionStateRemove);
    let mut e = Engine::new(cfg, subs);
    let (mut removed, mut most_timers) = (0, 0);
    for i in 0..300_000u32 {
        let data = syn(i);
        e.process(&weir_engine::capture::Packet {
            ts: 1_000.0 + f64::from(i) * 1e-4,
            wire_len: data.len() as u32,
            link_type: weir_engine::capture::dlt::RAW,
            data: &data,
        });
        removed += e.queue.take().len();
        most_timers = most_timers.max(e.pending_timers());
        assert!(e.connections() <= 1_000);
    }
    assert!(most_timers <= 2 * (4 * 1_000 + 65_536), "timer queue grew to {most_timers}");
    assert!(e.evictions() > 290_000, "{} evictions", e.evictions());
    assert!(removed as u64 >= e.evictions());
}
