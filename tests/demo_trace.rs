//! weir on `tests/traces/demo.pcap`: every flow's conn.log row must be the
//! one derived by hand in `tests/traces/README.md`.

mod common;

use common::*;
use std::path::Path;

/// One expected conn.log row (see tests/traces/README.md).
struct Expect {
    flow: &'static str,
    tuple: (&'static str, u16, &'static str, u16, &'static str),
    conn_state: &'static str,
    history: &'static str,
    duration: f64,
    orig_bytes: u64,
    resp_bytes: u64,
    orig_pkts: u64,
    orig_ip_bytes: u64,
    resp_pkts: u64,
    resp_ip_bytes: u64,
    ip_proto: u8,
}

const C: &str = "10.0.0.2";
const S: &str = "198.51.100.7";

#[rustfmt::skip]
const FLOWS: &[Expect] = &[
    Expect { flow: "1 TCP SF", tuple: (C, 49152, S, 80, "tcp"), conn_state: "SF", history: "ShADadfF",
        duration: 0.22, orig_bytes: 120, resp_bytes: 100_000, orig_pkts: 54, orig_ip_bytes: 2284,
        resp_pkts: 104, resp_ip_bytes: 104_164, ip_proto: 6 },
    Expect { flow: "2 TCP REJ", tuple: (C, 49153, S, 8080, "tcp"), conn_state: "REJ", history: "Sr",
        duration: 0.0005, orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, orig_ip_bytes: 44,
        resp_pkts: 1, resp_ip_bytes: 40, ip_proto: 6 },
    Expect { flow: "3 TCP S0", tuple: (C, 49154, "198.51.100.9", 443, "tcp"), conn_state: "S0", history: "S",
        duration: 1.0, orig_bytes: 0, resp_bytes: 0, orig_pkts: 2, orig_ip_bytes: 88,
        resp_pkts: 0, resp_ip_bytes: 0, ip_proto: 6 },
    Expect { flow: "4 UDP SF", tuple: (C, 53001, "198.51.100.53", 53, "udp"), conn_state: "SF", history: "Dd",
        duration: 0.012, orig_bytes: 29, resp_bytes: 45, orig_pkts: 1, orig_ip_bytes: 57,
        resp_pkts: 1, resp_ip_bytes: 73, ip_proto: 17 },
    Expect { flow: "5 UDP S0", tuple: (C, 40000, "198.51.100.20", 514, "udp"), conn_state: "S0", history: "D",
        duration: 0.2, orig_bytes: 225, resp_bytes: 0, orig_pkts: 3, orig_ip_bytes: 309,
        resp_pkts: 0, resp_ip_bytes: 0, ip_proto: 17 },
    Expect { flow: "6 ICMP echo", tuple: (C, 8, S, 0, "icmp"), conn_state: "OTH", history: "-",
        duration: 1.015, orig_bytes: 112, resp_bytes: 112, orig_pkts: 2, orig_ip_bytes: 168,
        resp_pkts: 2, resp_ip_bytes: 168, ip_proto: 1 },
    Expect { flow: "7 IPv6 TCP SF", tuple: ("2001:db8::2", 50000, "2001:db8::7", 443, "tcp"), conn_state: "SF",
        history: "ShADdFf", duration: 0.23, orig_bytes: 200, resp_bytes: 1000, orig_pkts: 6,
        orig_ip_bytes: 564, resp_pkts: 3, resp_ip_bytes: 1184, ip_proto: 6 },
    Expect { flow: "8 TCP bad checksum", tuple: (C, 49155, S, 80, "tcp"), conn_state: "SF", history: "ShACDadFf",
        duration: 0.31, orig_bytes: 80, resp_bytes: 300, orig_pkts: 6, orig_ip_bytes: 324,
        resp_pkts: 4, resp_ip_bytes: 464, ip_proto: 6 },
    Expect { flow: "9 VLAN UDP SF", tuple: ("10.0.100.5", 50123, "10.0.100.1", 123, "udp"), conn_state: "SF",
        history: "Dd", duration: 0.003, orig_bytes: 48, resp_bytes: 48, orig_pkts: 1, orig_ip_bytes: 76,
        resp_pkts: 1, resp_ip_bytes: 76, ip_proto: 17 },
];

/// Compares every expected flow with `log`; returns one message per difference.
fn check_flows(log: &ZeekLog, flows: &[&Expect]) -> Vec<String> {
    let mut errs = Vec::new();
    for e in flows {
        let (oh, op, rh, rp, proto) = e.tuple;
        let rows = log.conn(oh, op, rh, rp, proto);
        if rows.len() != 1 {
            errs.push(format!(
                "flow {}: {} rows for {oh}:{op} -> {rh}:{rp} {proto}",
                e.flow,
                rows.len()
            ));
            continue;
        }
        let row = rows[0];
        let mut want: Vec<(&str, String)> = vec![
            ("conn_state", e.conn_state.into()),
            ("history", e.history.into()),
            ("orig_bytes", e.orig_bytes.to_string()),
            ("resp_bytes", e.resp_bytes.to_string()),
            ("orig_pkts", e.orig_pkts.to_string()),
            ("orig_ip_bytes", e.orig_ip_bytes.to_string()),
            ("resp_pkts", e.resp_pkts.to_string()),
            ("resp_ip_bytes", e.resp_ip_bytes.to_string()),
            ("missed_bytes", "0".into()),
        ];
        if log.fields.iter().any(|f| f == "ip_proto") {
            want.push(("ip_proto", e.ip_proto.to_string()));
        }
        for (col, val) in want {
            let got = row.get(col).map(String::as_str).unwrap_or("<no column>");
            if got != val {
                errs.push(format!("flow {}: {col} = {got:?}, want {val:?}", e.flow));
            }
        }
        match row.get("duration").and_then(|d| d.parse::<f64>().ok()) {
            Some(d) if (d - e.duration).abs() <= 1e-6 => {}
            _ => errs.push(format!(
                "flow {}: duration = {:?}, want {:.6}",
                e.flow,
                row.get("duration"),
                e.duration
            )),
        }
    }
    errs
}

fn assert_all_flows(log: &ZeekLog, what: &str) {
    let mut errs = check_flows(log, &FLOWS.iter().collect::<Vec<_>>());
    if log.rows.len() != FLOWS.len() {
        errs.push(format!(
            "{} conn records, want {}",
            log.rows.len(),
            FLOWS.len()
        ));
    }
    assert!(errs.is_empty(), "{what}:\n  {}", errs.join("\n  "));
}

#[test]
fn demo_conn_log_matches_hand_analysis() {
    let dir = scratch_dir("demo-tsv");
    run_trace(&demo_trace(), &dir, &[]);
    let log = read_zeek_tsv(&dir.join("conn.log")).expect("conn.log");
    assert_all_flows(&log, "conn.log of demo.pcap");

    let uids: std::collections::HashSet<_> = log.rows.iter().map(|r| r["uid"].clone()).collect();
    assert_eq!(uids.len(), log.rows.len(), "uids must be unique");
}

#[test]
fn demo_weird_log_has_the_bad_checksum() {
    let dir = scratch_dir("demo-weird");
    run_trace(&demo_trace(), &dir, &[]);
    let weird = read_zeek_tsv(&dir.join("weird.log")).expect("weird.log");
    let bad = weird.rows_with("name", "bad_TCP_checksum");
    assert_eq!(
        bad.len(),
        1,
        "one bad_TCP_checksum weird expected: {:?}",
        weird.rows
    );
    let row = bad[0];
    assert_eq!(
        row.get("id.orig_p").map(String::as_str),
        Some("49155"),
        "{row:?}"
    );
    assert_eq!(
        row.get("id.resp_p").map(String::as_str),
        Some("80"),
        "{row:?}"
    );
}

#[test]
fn demo_ignore_checksums_keeps_the_corrupt_segment() {
    // With -C the corrupt segment counts like any other: no `C`, and the intact
    // copy that follows is a retransmission of the same 80 bytes (`T`).
    let dir = scratch_dir("demo-C");
    run_trace(&demo_trace(), &dir, &["-C"]);
    let log = read_zeek_tsv(&dir.join("conn.log")).expect("conn.log");
    let rows = log.conn(C, 49155, S, 80, "tcp");
    assert_eq!(rows.len(), 1, "{:?}", log.rows);
    let row = rows[0];
    assert_eq!(row["history"], "ShADTadFf", "{row:?}");
    assert_eq!(row["orig_pkts"], "7", "{row:?}");
    assert_eq!(row["orig_ip_bytes"], "444", "{row:?}");
    assert_eq!(row["orig_bytes"], "80", "{row:?}");
    let others: Vec<&Expect> = FLOWS.iter().filter(|e| e.tuple.1 != 49155).collect();
    let errs = check_flows(&log, &others);
    assert!(
        errs.is_empty(),
        "conn.log with -C:\n  {}",
        errs.join("\n  ")
    );
}

#[test]
fn demo_json_logs_hold_the_same_rows() {
    let dir = scratch_dir("demo-json");
    run_trace(&demo_trace(), &dir, &["--log-format", "json"]);
    let log = read_stream(&dir, "conn").expect("JSON conn log");
    assert!(!log.rows.is_empty(), "no JSON records");
    // JSON leaves unset fields out; ICMP's history is unset, shown as "-" by read_zeek_json.
    assert_all_flows(&log, "JSON conn log of demo.pcap");
}

#[test]
fn demo_runs_are_deterministic_with_a_seed() {
    let a = scratch_dir("demo-seed-a");
    let b = scratch_dir("demo-seed-b");
    run_trace(&demo_trace(), &a, &[]);
    run_trace(&demo_trace(), &b, &[]);
    let body = |d: &Path| -> Vec<String> {
        std::fs::read_to_string(d.join("conn.log"))
            .expect("conn.log")
            .lines()
            .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
            .map(String::from)
            .collect()
    };
    assert_eq!(body(&a), body(&b), "two runs with --seed 1 differ");
}


#[test]
fn handler_options_change_the_http_log_as_zeek_scripts_do() {
    let plain = scratch_dir("demo-http-plain");
    run_trace(&demo_trace(), &plain, &[]);
    let http = read_zeek_tsv(&plain.join("http.log")).expect("http.log");
    assert!(!http.fields.iter().any(|f| f.ends_with("_header_names")), "{:?}", http.fields);
    assert!(!http.rows.is_empty());

    let names = scratch_dir("demo-http-header-names");
    run_trace(&demo_trace(), &names, &["--set", "HTTP::log_client_header_names=T"]);
    let http = read_zeek_tsv(&names.join("http.log")).expect("http.log");
    assert_eq!(http.fields[http.fields.len() - 2..], ["client_header_names", "server_header_names"]);
    for row in &http.rows {
        let client = &row["client_header_names"];
        assert!(client.split(',').any(|n| n == "HOST"), "{row:?}");
        assert!(client.split(',').all(|n| n == n.to_ascii_uppercase()), "{row:?}");
        assert_eq!(row["server_header_names"], "-", "only the client's names were asked for");
    }
}

#[test]
fn a_progress_bar_on_a_terminal_and_nothing_elsewhere() {
    let dir = scratch_dir("demo-progress");
    let out = run_trace(&demo_trace(), &dir.join("plain"), &[]);
    assert!(out.stderr_lines().is_empty(), "no terminal, no progress: {:?}", out.stderr_lines());
    // util-linux's script(1) gives the run a terminal.
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script(1) is not installed, so no terminal can be given to weir");
        return;
    }
    let cmd = format!("{} run -r {} --logdir {}", weir_bin().display(), demo_trace().display(), dir.join("tty").display());
    let tty = std::process::Command::new("script").args(["-qec", &cmd, "/dev/null"]).output().expect("script");
    assert!(tty.status.success(), "{tty:?}");
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(shown.contains("0% starting"), "the bar with the share of the trace read: {shown:?}");
    assert!(dir.join("tty/conn.log").exists(), "the run under a terminal still writes its logs");
}
