//! The pipeline without the command line: a small generated trace (one TCP
//! connection opened and closed, one UDP exchange) through decode, sessions,
//! the event queue and the standard handlers, on one thread and on two
//! workers; the summary counts every packet and conn.log has both rows.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use weir_engine::capture::file::FileSource;
use weir_engine::Config;
use weir_pipeline::{run, Observer, RunOptions};
use weir_sandbox::{Sandbox, SandboxConfig};

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [192, 0, 2, 1];
const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;

/// An empty folder for one test under cargo's per-target temp folder.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("weir-pipeline-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An Ethernet + IPv4 frame (header checksum 0: the runs ignore checksums).
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 8, 0, 0x45, 0];
    f.extend(((20 + payload.len()) as u16).to_be_bytes());
    f.extend([0, 1, 0x40, 0, 64, proto, 0, 0]);
    f.extend(src);
    f.extend(dst);
    f.extend(payload);
    f
}

fn tcp(from_client: bool, seq: u32, ack: u32, flags: u8) -> Vec<u8> {
    let (sp, dp, src, dst) = if from_client { (40000u16, 80u16, CLIENT, SERVER) } else { (80, 40000, SERVER, CLIENT) };
    let mut t = Vec::new();
    t.extend(sp.to_be_bytes());
    t.extend(dp.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(ack.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    ipv4(src, dst, 6, &t)
}

fn udp(from_client: bool) -> Vec<u8> {
    let (sp, dp, src, dst) = if from_client { (5353u16, 53u16, CLIENT, SERVER) } else { (53, 5353, SERVER, CLIENT) };
    let mut u = Vec::new();
    u.extend(sp.to_be_bytes());
    u.extend(dp.to_be_bytes());
    u.extend(12u16.to_be_bytes());
    u.extend([0, 0, 1, 2, 3, 4]);
    ipv4(src, dst, 17, &u)
}

/// The trace: a TCP handshake and close, then a UDP request and answer,
/// 0.1 s apart, as a little-endian microsecond pcap. Returns it and its packet count.
fn write_trace(dir: &Path) -> (PathBuf, u64) {
    let frames = [
        tcp(true, 100, 0, SYN),
        tcp(false, 500, 101, SYN | ACK),
        tcp(true, 101, 501, ACK),
        tcp(true, 101, 501, FIN | ACK),
        tcp(false, 501, 102, FIN | ACK),
        tcp(true, 102, 502, ACK),
        udp(true),
        udp(false),
    ];
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 1] {
        out.extend(v.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        for v in [1_700_000_000u32, i as u32 * 100_000, f.len() as u32, f.len() as u32] {
            out.extend(v.to_le_bytes());
        }
        out.extend(f);
    }
    let path = dir.join("small.pcap");
    std::fs::write(&path, out).unwrap();
    (path, frames.len() as u64)
}

/// conn.log's rows as (proto, conn_state, orig_pkts, resp_pkts).
fn conn_rows(logs: &Path) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(logs.join("conn.log")).expect("conn.log");
    let fields: Vec<&str> = text.lines().find_map(|l| l.strip_prefix("#fields\t")).expect("#fields").split('\t').collect();
    let col = |name: &str| fields.iter().position(|f| *f == name).unwrap_or_else(|| panic!("no column {name}"));
    let (proto, state, op, rp) = (col("proto"), col("conn_state"), col("orig_pkts"), col("resp_pkts"));
    let mut rows: Vec<_> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            (v[proto].to_string(), v[state].to_string(), v[op].to_string(), v[rp].to_string())
        })
        .collect();
    rows.sort();
    rows
}

/// Counts what the pipeline reports while it runs.
#[derive(Default)]
struct Count {
    packets: u64,
    done: bool,
}

impl Observer for Count {
    fn packet(&mut self, packets: u64, _open: &dyn Fn() -> usize) {
        assert!(!self.done, "a packet after the end of reading");
        self.packets = packets;
    }

    fn reading_done(&mut self) {
        self.done = true;
    }
}

fn run_with(workers: usize) {
    let dir = scratch(&format!("workers-{workers}"));
    let (trace, n) = write_trace(&dir);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut sandbox = Sandbox::new(SandboxConfig { log_dir: logs.clone(), workers: workers as u32, ..SandboxConfig::default() }).unwrap();
    sandbox.load_standard_handlers().unwrap();
    let cfg = Config { ignore_checksums: true, uid_seed: Some(1), ..Config::default() };
    let mut source = FileSource::open(&trace, None).unwrap();
    let mut seen = Count::default();
    let summary = run(cfg, sandbox, &mut source, RunOptions { workers, share: None }, &AtomicBool::new(false), &mut seen).unwrap();
    assert!(summary.failure.is_none());
    assert_eq!(summary.workers.len(), workers);
    assert_eq!(summary.workers.iter().map(|w| w.packets).sum::<u64>(), n);
    assert!(summary.workers.iter().all(|w| w.tables.connections == 0 && !w.dropped_state()));
    assert_eq!((seen.packets, seen.done), (n, true));
    summary.sandbox.close_logs().unwrap();
    let row = |p: &str, s: &str, o: &str, r: &str| (p.to_string(), s.to_string(), o.to_string(), r.to_string());
    assert_eq!(conn_rows(&logs), vec![row("tcp", "SF", "4", "2"), row("udp", "SF", "1", "1")]);
}

#[test]
fn a_trace_runs_through_the_pipeline_on_one_thread() {
    run_with(1);
}

#[test]
fn a_trace_runs_through_the_pipeline_on_two_workers() {
    run_with(2);
}

#[test]
fn a_raised_stop_flag_reads_nothing_but_still_finishes() {
    let dir = scratch("stopped");
    let (trace, _) = write_trace(&dir);
    let sandbox = Sandbox::new(SandboxConfig { log_dir: dir.clone(), ..SandboxConfig::default() }).unwrap();
    let mut source = FileSource::open(&trace, None).unwrap();
    let summary = run(Config::default(), sandbox, &mut source, RunOptions::default(), &AtomicBool::new(true), &mut ()).unwrap();
    assert_eq!(summary.workers.iter().map(|w| w.packets).sum::<u64>(), 0);
    assert!(summary.failure.is_none());
}
