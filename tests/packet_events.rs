//! The packet-level events reach a wasm handler: an example census handler
//! (`examples/detectors/packet-census`) counts what `raw_packet`,
//! `new_packet`, `packet_contents` and `conn_stats` deliver on the demo
//! trace, and the counts must agree with the trace itself and with conn.log.

mod common;

use common::*;

#[test]
fn packet_events_reach_a_handler() {
    let dir = scratch_dir("packet-census");
    let handler = dir.join("packet_census.wasm");
    std::fs::write(&handler, weir_sandbox::testing::example("packet_census.wasm")).unwrap();
    let logs = dir.join("logs");
    run_trace(&demo_trace(), &logs, &["--handler", handler.to_str().unwrap()]);
    let census = read_stream(&logs, "packets").expect("packets.log");
    assert_eq!(census.rows.len(), 1);
    let row = &census.rows[0];
    let n = |col: &str| row[col].parse::<u64>().unwrap_or_else(|_| panic!("{col}: {}", row[col]));

    // One raw_packet per captured packet, all Ethernet, all IP in this trace.
    let packets = pcap_records(&std::fs::read(demo_trace()).unwrap()).len() as u64;
    assert_eq!(n("raw_packets"), packets);
    assert_eq!(n("ethernet"), packets);
    assert_eq!(n("ipv4") + n("ipv6"), packets);
    assert!(n("ipv6") > 0 && n("arp") == 0 && n("other") == 0);
    // Every packet belongs to a connection, the one with a bad checksum included.
    assert_eq!(n("new_packets"), packets);

    // conn.log: SYNs are the TCP rows whose history has S or H per attempt;
    // TCPStats counts the same valid packets as conn.log's packet columns.
    let conn = read_stream(&logs, "conn").expect("conn.log");
    let tcp: Vec<_> = conn.rows.iter().filter(|r| r["proto"] == "tcp").collect();
    let valid: u64 = tcp.iter().map(|r| r["orig_pkts"].parse::<u64>().unwrap() + r["resp_pkts"].parse::<u64>().unwrap()).sum();
    assert_eq!(n("tcp_stats_pkts"), valid);
    let syn_rows = tcp.iter().filter(|r| r["history"].contains('S')).count() as u64;
    assert!(n("syns") >= syn_rows, "at least one bare SYN per connection that began with one");
    assert!(n("payload_bytes") > 0);
}

#[test]
fn new_event_traces_every_dispatched_event() {
    let dir = scratch_dir("event-trace");
    let handler = dir.join("event_trace.wasm");
    std::fs::write(&handler, weir_sandbox::testing::example("event_trace.wasm")).unwrap();
    let logs = dir.join("logs");
    run_trace(&demo_trace(), &logs, &["--handler", handler.to_str().unwrap()]);
    let events = read_stream(&logs, "events").expect("events.log");
    let conn = read_stream(&logs, "conn").expect("conn.log");
    let named = |n: &str| events.rows.iter().filter(|r| r["name"] == n).collect::<Vec<_>>();
    // The standard handlers take new_connection, connection_state_remove and the
    // weirds: each dispatched one is traced, with the connection's uid in its arguments.
    assert_eq!(named("new_connection").len(), conn.rows.len());
    let removed = named("connection_state_remove");
    assert_eq!(removed.len(), conn.rows.len());
    for row in &conn.rows {
        assert!(removed.iter().any(|r| r["args"].contains(&format!("uid={}", row["uid"]))), "{}", row["uid"]);
    }
    // Of the weirds, one is the bad checksum (the others are HTTP's, on the binary replies).
    let checksum: Vec<_> =
        named("conn_weird").into_iter().filter(|r| r["args"].contains("name: string = bad_TCP_checksum")).collect();
    assert_eq!(checksum.len(), 1, "the bad checksum");
    // Events no handler takes are not dispatched, so not traced either.
    assert!(named("new_packet").is_empty() && named("new_event").is_empty());
}

#[test]
fn opening_a_file_in_a_granted_folder_raises_file_opened() {
    let dir = scratch_dir("file-opened");
    let tracer = dir.join("event_trace.wasm");
    std::fs::write(&tracer, weir_sandbox::testing::example("event_trace.wasm")).unwrap();
    // The ambient-authority handler tries files inside and outside /granted.
    let prober = dir.join("ambient_authority.wasm");
    std::fs::write(&prober, weir_sandbox::testing::hostile("ambient_authority.wasm")).unwrap();
    let opened = |grant: bool| {
        let logs = dir.join(if grant { "granted" } else { "denied" });
        let folder = dir.join("folder");
        std::fs::create_dir_all(&folder).unwrap();
        let flag = format!("ambient_authority.wasm={}", folder.display());
        let mut args = vec!["--handler", tracer.to_str().unwrap(), "--handler", prober.to_str().unwrap()];
        if grant {
            args.extend(["--grant-dir", flag.as_str()]);
        }
        run_trace(&demo_trace(), &logs, &args);
        let events = read_stream(&logs, "events").expect("events.log");
        events.rows.iter().filter(|r| r["name"] == "file_opened").map(|r| r["args"].clone()).collect::<Vec<_>>()
    };
    // One row from the tracer's own file_opened, one from new_event tracing it.
    let granted = opened(true);
    assert_eq!(granted, vec!["f: file = [path=probe.txt]".to_string(), "probe.txt".to_string()]);
    assert!(opened(false).is_empty(), "nothing opens without a grant");
}
