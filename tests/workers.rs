//! `--workers N` on the repository's own traces: the logs hold the same rows
//! as the one-thread run (in another order, with other UIDs), the UIDs do
//! not collide across workers, and the cross-log references still resolve.
//! The same comparison over Zeek's dev traces is part of tests/oracle.rs.

mod common;

use common::{repo_root, rows_without_uids, run_trace, scratch_dir, read_stream};
use std::collections::HashSet;

fn run(trace: &str, workers: &str) -> std::path::PathBuf {
    let dir = scratch_dir(&format!("workers-{trace}-{workers}"));
    let out = run_trace(&repo_root().join("tests/traces").join(trace), &dir, &["--workers", workers]);
    assert!(out.success(), "{trace} with --workers {workers}: {}", out.stderr);
    dir
}

#[test]
fn several_workers_log_what_one_thread_logs() {
    for trace in ["demo.pcap", "states.pcap", "ipv6.pcap", "tcp-events.pcap", "scan.pcap"] {
        let one = run(trace, "1");
        for n in ["2", "3"] {
            let many = run(trace, n);
            for log in ["conn", "weird", "tunnel"] {
                assert_eq!(rows_without_uids(&one, log), rows_without_uids(&many, log), "{trace}: {log}.log with --workers {n}");
            }
            let conns = read_stream(&many, "conn").expect("conn.log");
            let uids: Vec<&String> = conns.rows.iter().map(|r| &r["uid"]).collect();
            let distinct: HashSet<&String> = uids.iter().copied().collect();
            assert_eq!(distinct.len(), uids.len(), "{trace}: a UID repeats across workers");
            if let Ok(weird) = read_stream(&many, "weird") {
                for r in &weird.rows {
                    let uid = &r["uid"];
                    assert!(uid == "-" || distinct.contains(uid), "{trace}: weird.log names unknown uid {uid}");
                }
            }
        }
    }
}

/// Packets each worker processed, from their `worker done` lines at `WEIR_LOG=info`.
fn packets_per_worker(trace: &str, workers: &str) -> Vec<u64> {
    let dir = scratch_dir(&format!("workers-count-{workers}"));
    let out = std::process::Command::new(common::weir_bin())
        .args(["run", "--no-default-handlers", "--workers", workers, "--logdir"])
        .arg(&dir)
        .arg("-r")
        .arg(repo_root().join("tests/traces").join(trace))
        .env("WEIR_LOG", "info")
        .output()
        .expect("run weir");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .filter(|l| l.contains("worker done"))
        .map(|l| {
            let n = l.split("packets=").nth(1).expect("packets field");
            n.split_whitespace().next().unwrap().parse().expect("packet count")
        })
        .collect()
}

#[test]
fn scan_trace_spreads_over_both_workers() {
    // scan.pcap comes from many sources: each of two workers gets a share,
    // and together they see every packet exactly once.
    let one = packets_per_worker("scan.pcap", "1");
    let two = packets_per_worker("scan.pcap", "2");
    assert_eq!(one.len(), 1);
    assert_eq!(two.len(), 2);
    assert!(two.iter().all(|&n| n > 0), "one worker got nothing: {two:?}");
    assert_eq!(two.iter().sum::<u64>(), one[0]);
}
