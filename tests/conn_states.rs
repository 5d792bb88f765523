//! Every `conn_state` value of conn.log, one generated TCP flow each
//! (`scripts/gen-states-trace.py` writes `tests/traces/states.pcap`). The
//! expected state and history of each flow follow from Zeek's conn_state and
//! history rules (its conn/main.zeek and TCP analyzer), worked out by hand.

mod common;

use common::*;

/// (client port, conn_state, history)
const EXPECT: &[(u16, &str, &str)] = &[
    (41000, "S0", "S"),
    (41001, "S1", "ShA"),
    (41002, "SF", "ShAFf"),
    (41003, "REJ", "Sr"),
    (41004, "S2", "ShAF"),
    (41005, "S3", "ShAf"),
    (41006, "RSTO", "ShAR"),
    (41007, "RSTR", "ShAr"),
    (41008, "RSTOS0", "SR"),
    (41009, "RSTRH", "^hr"),
    (41010, "SH", "SF"),
    (41011, "SHR", "^hf"),
    (41012, "OTH", "A"),
];

#[test]
fn every_conn_state_value() {
    let dir = scratch_dir("conn-states");
    let trace = repo_root().join("tests/traces/states.pcap");
    let out = run_trace(&trace, &dir, &[]);
    assert!(out.success(), "weir failed: {:?}", out.stderr_lines());
    let log = read_stream(&dir, "conn").expect("conn.log");
    assert_eq!(log.rows.len(), EXPECT.len(), "one row per flow");
    for &(port, state, history) in EXPECT {
        let rows = log.rows_with("id.orig_p", &port.to_string());
        assert_eq!(rows.len(), 1, "flow from port {port}");
        assert_eq!(rows[0]["conn_state"], state, "conn_state of the flow from port {port}");
        assert_eq!(rows[0]["history"], history, "history of the flow from port {port}");
    }
    // Every value of the table appears exactly once.
    let mut states: Vec<&str> = EXPECT.iter().map(|e| e.1).collect();
    states.sort_unstable();
    states.dedup();
    assert_eq!(states.len(), 13);
}
