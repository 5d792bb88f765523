//! Traffic alone must never cost the standard handlers a row: a SYN scan of
//! more than 150,000 new connections and a burst of as many malformed packets
//! from spoofed sources, generated here, must give every connection its
//! conn.log row and every weird its weird.log row, with no trap of a standard
//! handler and no dropped record; the weird handler's memory of weirds is
//! bounded.

mod common;

use common::{read_stream, run_trace, scratch_dir};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Connections of the scan and packets of the burst: above the point where the
/// standard handlers' state used to outgrow one call's fuel.
const N: u32 = 160_000;

fn csum(data: &[u8]) -> u16 {
    let mut s: u32 = data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// A little-endian microsecond pcap of Ethernet frames, one per item of
/// `frames`, 1 µs apart from 1,700,000,000 s.
fn write_pcap(path: &Path, frames: impl Iterator<Item = Vec<u8>>) {
    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32.to_le_bytes().to_vec(), 2u16.to_le_bytes().to_vec(), 4u16.to_le_bytes().to_vec()] {
        out.extend(v);
    }
    for v in [0u32, 0, 65535, 1] {
        out.extend(v.to_le_bytes());
    }
    for (i, frame) in frames.enumerate() {
        let us = i as u32;
        for v in [1_700_000_000 + us / 1_000_000, us % 1_000_000, frame.len() as u32, frame.len() as u32] {
            out.extend(v.to_le_bytes());
        }
        out.extend(frame);
    }
    std::fs::write(path, out).expect("write trace");
}

/// Source address number `i`: 10.x.y.z, distinct for every `i` below 2^24.
fn source(i: u32) -> [u8; 4] {
    [10, (i >> 16) as u8, (i >> 8) as u8, i as u8]
}

/// An Ethernet + IPv4 frame around `payload` (protocol `proto`), with a correct
/// header checksum unless `bad_checksum`.
fn ipv4_frame(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8], bad_checksum: bool) -> Vec<u8> {
    let mut ip = vec![0x45, 0];
    ip.extend(((20 + payload.len()) as u16).to_be_bytes());
    ip.extend([0, 1, 0, 0, 64, proto, 0, 0]);
    ip.extend(src);
    ip.extend(dst);
    let mut sum = csum(&ip);
    if bad_checksum {
        sum ^= 0x0101;
    }
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut frame = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 8, 0];
    frame.extend(ip);
    frame.extend(payload);
    frame
}

/// One SYN from 10.x.y.z:1024 to 192.0.2.1:80 for each of `n` connections
/// (TCP checksum left at 0: the runs ignore checksums).
fn syn_scan(dir: &Path, n: u32) -> PathBuf {
    let path = dir.join(format!("syn-scan-{n}.pcap"));
    write_pcap(
        &path,
        (0..n).map(|i| {
            let mut tcp = vec![4, 0, 0, 80];
            tcp.extend(i.to_be_bytes());
            tcp.extend([0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
            ipv4_frame(source(i), [192, 0, 2, 1], 6, &tcp, false)
        }),
    );
    path
}

/// One IPv4 packet with a bad header checksum per spoofed source.
fn malformed_burst(dir: &Path) -> PathBuf {
    let path = dir.join("bad-ip-checksums.pcap");
    write_pcap(&path, (0..N).map(|i| ipv4_frame(source(i), [192, 0, 2, 1], 17, &[0; 8], true)));
    path
}

/// reporter.log rows as (level, message, location); none when there is no reporter.log.
fn reporter(logs: &Path) -> Vec<(String, String, String)> {
    let Ok(log) = read_stream(logs, "reporter") else { return Vec::new() };
    log.rows.iter().map(|r| (r["level"].clone(), r["message"].clone(), r["location"].clone())).collect()
}

/// The standard handlers trapped, were disabled or had records dropped.
fn standard_trouble(logs: &Path) -> Vec<String> {
    reporter(logs)
        .into_iter()
        .filter(|(level, msg, _)| level == "Reporter::ERROR" || msg.contains("dropped") || msg.contains("disabled"))
        .map(|(l, m, loc)| format!("{l} {m} ({loc})"))
        .collect()
}

#[test]
fn a_syn_scan_keeps_every_conn_row() {
    let dir = scratch_dir("traffic-syn-scan");
    let trace = syn_scan(&dir, N);
    let logs = dir.join("logs");
    run_trace(&trace, &logs, &["-C"]);
    let conn = read_stream(&logs, "conn").expect("conn.log");
    assert_eq!(conn.rows.len(), N as usize, "one conn.log row per connection; reporter: {:?}", standard_trouble(&logs));
    let origs: HashSet<&str> = conn.rows.iter().map(|r| r["id.orig_h"].as_str()).collect();
    assert_eq!(origs.len(), N as usize, "every scanned source has its row");
    assert!(conn.rows.iter().all(|r| r["conn_state"] == "S0" && r["history"] == "S"), "every row is a lone SYN");
    assert_eq!(standard_trouble(&logs), Vec::<String>::new());
}

#[test]
fn a_burst_of_malformed_packets_keeps_every_weird_row() {
    let dir = scratch_dir("traffic-malformed");
    let trace = malformed_burst(&dir);
    let logs = dir.join("logs");
    run_trace(&trace, &logs, &[]);
    let weird = read_stream(&logs, "weird").expect("weird.log");
    // bad_IP_checksum is logged once per originator (Weird::actions), so once per spoofed source.
    assert_eq!(weird.rows.len(), N as usize, "one weird.log row per source; reporter: {:?}", standard_trouble(&logs));
    assert!(weird.rows.iter().all(|r| r["name"] == "bad_IP_checksum"));
    let origs: HashSet<&str> = weird.rows.iter().map(|r| r["id.orig_h"].as_str()).collect();
    assert_eq!(origs.len(), N as usize, "every spoofed source has its row");
    assert_eq!(standard_trouble(&logs), Vec::<String>::new());
}

/// Weirds the standard weird handler remembers for suppression at most (per set).
const WEIRD_MEMORY: u32 = 500_000;

#[test]
fn the_weird_handlers_memory_is_bounded() {
    // More distinct weirds than it remembers, under half the default memory
    // cap: no trap, every row, one warning that older ones are forgotten.
    let dir = scratch_dir("traffic-weird-bound");
    let n = WEIRD_MEMORY + 20_000;
    let trace = dir.join("bad-ip-checksums.pcap");
    write_pcap(&trace, (0..n).map(|i| ipv4_frame(source(i), [192, 0, 2, 1], 17, &[0; 8], true)));
    let logs = dir.join("logs");
    run_trace(&trace, &logs, &["--memory-mb", "32"]);
    let weird = read_stream(&logs, "weird").expect("weird.log");
    assert_eq!(weird.rows.len(), n as usize, "reporter: {:?}", standard_trouble(&logs));
    assert_eq!(standard_trouble(&logs), Vec::<String>::new());
    let forgotten = reporter(&logs).into_iter().filter(|(l, m, loc)| l == "Reporter::WARNING" && m.contains("older ones are forgotten") && loc == "weird").count();
    assert_eq!(forgotten, 1);
}

#[test]
fn the_record_rate_cap_never_drops_standard_rows() {
    // 5,000 rows within one second of network time, under a cap of 100 records
    // per second: the cap is for the other handlers.
    let dir = scratch_dir("traffic-rate-cap");
    let trace = syn_scan(&dir, 5_000);
    let logs = dir.join("logs");
    run_trace(&trace, &logs, &["-C", "--max-log-records", "100"]);
    let conn = read_stream(&logs, "conn").expect("conn.log");
    assert_eq!(conn.rows.len(), 5_000, "reporter: {:?}", standard_trouble(&logs));
    assert_eq!(standard_trouble(&logs), Vec::<String>::new());
}
