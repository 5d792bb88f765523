//! Engine settings of Zeek's init-bare.zeek and base frameworks
//! (docs/options.md), each against what it changes on a generated trace
//! (tests/traces/, see its README for the flows).

mod common;

use common::*;

/// The demo trace's client and server of flow 8, whose request segment
/// first comes with a corrupt TCP checksum.
const C: &str = "10.0.0.2";
const S: &str = "198.51.100.7";

fn flow8(dir: &std::path::Path) -> (String, usize) {
    let log = read_stream(dir, "conn").expect("conn.log");
    let rows = log.conn(C, 49155, S, 80, "tcp");
    assert_eq!(rows.len(), 1, "{:?}", log.rows);
    let weird = read_stream(dir, "weird").map(|w| w.rows_with("name", "bad_TCP_checksum").len()).unwrap_or(0);
    (rows[0]["history"].clone(), weird)
}

#[test]
fn ignore_checksums_nets_exempts_packets_by_their_source() {
    // The corrupt segment comes from the client: its network exempts it, as -C would.
    let dir = scratch_dir("settings-cksum-client");
    run_trace(&demo_trace(), &dir, &["--set", "ignore_checksums_nets={ 10.0.0.0/24 }"]);
    assert_eq!(flow8(&dir), ("ShADTadFf".to_string(), 0));
    // The server's network does not.
    let dir = scratch_dir("settings-cksum-server");
    run_trace(&demo_trace(), &dir, &["--set", "ignore_checksums_nets={ 198.51.100.0/24 }"]);
    assert_eq!(flow8(&dir), ("ShACDadFf".to_string(), 1));
    // `+=` adds to the set.
    let dir = scratch_dir("settings-cksum-add");
    run_trace(
        &demo_trace(),
        &dir,
        &["--set", "ignore_checksums_nets={ 198.51.100.0/24 }", "--set", "ignore_checksums_nets+={ 10.0.0.2/32 }"],
    );
    assert_eq!(flow8(&dir), ("ShADTadFf".to_string(), 0));
}

/// The (orig port, proto) of every conn.log row.
fn flows(dir: &std::path::Path) -> Vec<(String, String)> {
    let log = read_stream(dir, "conn").expect("conn.log");
    let mut v: Vec<_> = log.rows.iter().map(|r| (r["id.orig_p"].clone(), r["proto"].clone())).collect();
    v.sort();
    v
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn packet_filter_restricted_filter_keeps_only_what_it_matches() {
    // Untagged UDP: flows 4 and 5 (flow 9's UDP is VLAN-tagged, which BPF's `udp` does not match).
    let dir = scratch_dir("settings-pf-restricted");
    run_trace(&demo_trace(), &dir, &["--set", r#"PacketFilter::restricted_filter="udp""#]);
    assert_eq!(flows(&dir), pairs(&[("40000", "udp"), ("53001", "udp")]));
}

#[test]
fn packet_filter_capture_and_unrestricted_filters_are_or_ed() {
    let dir = scratch_dir("settings-pf-capture");
    run_trace(
        &demo_trace(),
        &dir,
        &["--set", r#"capture_filters={ ["icmp"] = "icmp" }"#, "--set", "PacketFilter::unrestricted_filter=port 53"],
    );
    assert_eq!(flows(&dir), pairs(&[("53001", "udp"), ("8", "icmp")]));
}

#[test]
fn packet_filter_auto_protocol_filters_capture_the_server_ports() {
    let dir = scratch_dir("settings-pf-auto");
    run_trace(
        &demo_trace(),
        &dir,
        &["--likely-server-ports", "443/tcp,514/udp", "--set", "PacketFilter::enable_auto_protocol_capture_filters=T"],
    );
    // Flows 3 (443), 5 (514) and 7 (IPv6, 443); not the others.
    assert_eq!(flows(&dir), pairs(&[("40000", "udp"), ("49154", "tcp"), ("50000", "tcp")]));
}

#[test]
fn packet_filter_that_does_not_compile_is_one_clear_line() {
    let dir = scratch_dir("settings-pf-bad");
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir, &["--set", "PacketFilter::restricted_filter=port nonsense"]);
    assert!(!out.success(), "a bad filter must stop the run");
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
}

/// Client ports of tests/traces/states.pcap's conn.log rows, sorted.
fn state_flows(set: &[&str]) -> Vec<u16> {
    let dir = scratch_dir(&format!("settings-partial-{}", set.join("-").replace([':', '='], "_")));
    let mut extra = Vec::new();
    for s in set {
        extra.extend(["--set", s]);
    }
    run_trace(&repo_root().join("tests/traces/states.pcap"), &dir, &extra);
    let log = read_stream(&dir, "conn").expect("conn.log");
    let mut v: Vec<u16> = log.rows.iter().map(|r| r["id.orig_p"].parse().unwrap()).filter(|p| (41000..41100).contains(p)).collect();
    v.sort();
    v
}

#[test]
fn partial_connection_ok_and_tcp_syn_ack_ok() {
    // states.pcap: 41009 and 41011 start with a SYN-ACK, 41012 with a bare ACK
    // (tests/conn_states.rs); the others with a SYN.
    let all: Vec<u16> = (41000..=41012).collect();
    assert_eq!(state_flows(&[]), all);
    let with_syn: Vec<u16> = all.iter().copied().filter(|p| ![41009, 41011, 41012].contains(p)).collect();
    let got = state_flows(&["partial_connection_ok=F"]);
    assert_eq!(got, with_syn, "no connection starts without a SYN");
    let got = state_flows(&["tcp_SYN_ack_ok=F"]);
    assert!(got.contains(&41012), "a bare ACK still starts one: {got:?}");
    assert!(with_syn.iter().all(|p| got.contains(p)), "{got:?}");
}
