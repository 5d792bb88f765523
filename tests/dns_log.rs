//! dns.log from the DNS analyzer and the standard dns handler: the demo
//! trace's lookups, and generated traces for what Zeek's dns.log rules
//! decide (a query without reply written at the end, a reply matched to
//! its query by transaction id, DNS over TCP with messages split across
//! segments, mDNS to a multicast group logged per message, a reply seen
//! first flipping the roles).

mod common;

use common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A little-endian pcap of raw IPv4 packets (LINKTYPE_RAW).
fn write_pcap(path: &Path, packets: &[(f64, Vec<u8>)]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (ts, p) in packets {
        out.extend_from_slice(&(ts.trunc() as u32).to_le_bytes());
        out.extend_from_slice(&((ts.fract() * 1e6).round() as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    std::fs::write(path, out).expect("write trace");
}

/// An IPv4 packet (checksums left at 0: the runs ignore them).
fn ip4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0];
    p.extend(((20 + payload.len()) as u16).to_be_bytes());
    p.extend([0, 1, 0, 0, 64, proto, 0, 0]);
    p.extend(src);
    p.extend(dst);
    p.extend(payload);
    p
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend(sport.to_be_bytes());
    u.extend(dport.to_be_bytes());
    u.extend(((8 + payload.len()) as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend(payload);
    ip4(src, dst, 17, &u)
}

fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(ack.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend(payload);
    ip4(src, dst, 6, &t)
}

fn name(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in n.split('.') {
        v.push(l.len() as u8);
        v.extend(l.as_bytes());
    }
    v.push(0);
    v
}

fn query(id: u16, n: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::new();
    for w in [id, 0x0100, 1, 0, 0, 0] {
        m.extend(w.to_be_bytes());
    }
    m.extend(name(n));
    m.extend(qtype.to_be_bytes());
    m.extend(1u16.to_be_bytes());
    m
}

/// A reply to `query(id, n, 1)` with one A record of TTL 300.
fn reply(id: u16, n: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut m = Vec::new();
    for w in [id, 0x8180, 1, 1, 0, 0] {
        m.extend(w.to_be_bytes());
    }
    m.extend(name(n));
    m.extend([0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1]);
    m.extend(300u32.to_be_bytes());
    m.extend(4u16.to_be_bytes());
    m.extend(addr);
    m
}

fn framed(m: &[u8]) -> Vec<u8> {
    let mut v = (m.len() as u16).to_be_bytes().to_vec();
    v.extend(m);
    v
}

fn run(trace: &Path, dir: &str) -> ZeekLog {
    let logdir = scratch_dir(dir);
    run_trace(trace, &logdir, &["-C"]);
    read_stream(&logdir, "dns").expect("dns.log")
}

fn one<'a>(log: &'a ZeekLog, col: &str, val: &str) -> &'a HashMap<String, String> {
    let rows = log.rows_with(col, val);
    assert_eq!(rows.len(), 1, "{col}={val} in {:#?}", log.rows);
    rows[0]
}

fn field<'a>(r: &'a HashMap<String, String>, k: &str) -> &'a str {
    r.get(k).map(String::as_str).unwrap_or("<absent>")
}

const C: [u8; 4] = [10, 0, 0, 2];
const S: [u8; 4] = [198, 51, 100, 53];

#[test]
fn the_demo_trace_lookup() {
    let log = run(&demo_trace(), "dns-demo");
    assert_eq!(log.rows.len(), 1, "{:#?}", log.rows);
    let r = &log.rows[0];
    for (k, v) in [
        ("id.orig_h", "10.0.0.2"),
        ("id.resp_p", "53"),
        ("proto", "udp"),
        ("trans_id", "4660"),
        ("query", "example.com"),
        ("qclass_name", "C_INTERNET"),
        ("qtype_name", "A"),
        ("rcode_name", "NOERROR"),
        ("answers", "192.0.2.80"),
        ("rejected", "F"),
        ("opcode_name", "query"),
    ] {
        assert_eq!(field(r, k), v, "{k} in {r:#?}");
    }
    assert!(field(r, "rtt").parse::<f64>().is_ok_and(|x| x > 0.0), "{r:#?}");
}

fn generated() -> PathBuf {
    let dir = scratch_dir("dns-generated-trace");
    let mdns = [224, 0, 0, 251];
    let t0 = 1_700_000_000.0;
    let mut p = vec![
        // Two queries with one id; the replies answer them in order.
        (t0, udp(C, 40000, S, 53, &query(7, "one.example", 1))),
        (t0 + 0.1, udp(C, 40000, S, 53, &query(7, "two.example", 1))),
        (t0 + 0.2, udp(S, 53, C, 40000, &reply(7, "one.example", [192, 0, 2, 1]))),
        (t0 + 0.3, udp(S, 53, C, 40000, &reply(7, "two.example", [192, 0, 2, 2]))),
        // A query nobody answers.
        (t0 + 1.0, udp(C, 40001, S, 53, &query(9, "lost.example", 28))),
        // A reply seen without its query, from the originator's side: the roles flip.
        (t0 + 2.0, udp(S, 53, C, 40002, &reply(11, "late.example", [192, 0, 2, 3]))),
        // mDNS: a query to the group, logged by itself.
        (t0 + 3.0, udp(C, 5353, mdns, 5353, &query(0, "printer.local", 12))),
    ];
    // DNS over TCP: the query split across two segments, the reply in one.
    let (q, r) = (framed(&query(21, "tcp.example", 1)), framed(&reply(21, "tcp.example", [192, 0, 2, 4])));
    let (cs, ss) = (1000u32, 5000u32);
    let t = t0 + 4.0;
    p.push((t, tcp(C, 40003, S, 53, cs, 0, 0x02, &[])));
    p.push((t + 0.01, tcp(S, 53, C, 40003, ss, cs + 1, 0x12, &[])));
    p.push((t + 0.02, tcp(C, 40003, S, 53, cs + 1, ss + 1, 0x10, &[])));
    p.push((t + 0.03, tcp(C, 40003, S, 53, cs + 1, ss + 1, 0x18, &q[..5])));
    p.push((t + 0.04, tcp(C, 40003, S, 53, cs + 6, ss + 1, 0x18, &q[5..])));
    let cend = cs + 1 + q.len() as u32;
    p.push((t + 0.05, tcp(S, 53, C, 40003, ss + 1, cend, 0x18, &r)));
    let send = ss + 1 + r.len() as u32;
    p.push((t + 0.06, tcp(C, 40003, S, 53, cend, send, 0x11, &[])));
    p.push((t + 0.07, tcp(S, 53, C, 40003, send, cend + 1, 0x11, &[])));
    p.push((t + 0.08, tcp(C, 40003, S, 53, cend + 1, send + 1, 0x10, &[])));
    let path = dir.join("dns.pcap");
    write_pcap(&path, &p);
    path
}

#[test]
fn pairing_unanswered_queries_tcp_flips_and_multicast() {
    let log = run(&generated(), "dns-generated");
    assert_eq!(log.rows.len(), 6, "{:#?}", log.rows);
    let one_ = one(&log, "query", "one.example");
    assert_eq!((field(one_, "answers"), field(one_, "TTLs")), ("192.0.2.1", "300.000000"));
    assert!((field(one_, "rtt").parse::<f64>().unwrap() - 0.2).abs() < 1e-6, "{one_:#?}");
    let two = one(&log, "query", "two.example");
    assert_eq!(field(two, "answers"), "192.0.2.2");
    assert!((field(two, "rtt").parse::<f64>().unwrap() - 0.2).abs() < 1e-6, "{two:#?}");

    let lost = one(&log, "query", "lost.example");
    for (k, v) in [("qtype_name", "AAAA"), ("rcode", "-"), ("answers", "-"), ("rtt", "-"), ("trans_id", "9")] {
        assert_eq!(field(lost, k), v, "{k} in {lost:#?}");
    }

    let late = one(&log, "query", "late.example");
    assert_eq!((field(late, "id.orig_h"), field(late, "id.orig_p")), ("10.0.0.2", "40002"), "roles flipped: {late:#?}");
    assert_eq!((field(late, "qtype"), field(late, "rcode_name"), field(late, "rtt")), ("-", "NOERROR", "-"));

    let m = one(&log, "query", "printer.local");
    assert_eq!((field(m, "id.resp_h"), field(m, "qtype_name"), field(m, "rcode")), ("224.0.0.251", "PTR", "-"));

    let t = one(&log, "query", "tcp.example");
    assert_eq!((field(t, "proto"), field(t, "answers"), field(t, "trans_id")), ("tcp", "192.0.2.4", "21"));
}
