//! Signature `eval` conditions answered by handler components
//! (`weir:events/signature-eval`), end to end on the demo trace: the
//! example `binary_payload.wasm` decides which datagrams a signature
//! matches, an unknown function is refused at start with one clear line,
//! and a handler that spins in its answer is stopped by fuel while the run
//! and its logs go on.
mod common;
use common::{assert_one_clear_line, demo_trace, read_stream, run_trace, run_trace_unchecked, scratch_dir};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `dir/name`: a signature on every UDP datagram's first byte, with an
/// `eval` condition or without.
fn sig_file(dir: &Path, name: &str, eval: Option<&str>) -> PathBuf {
    let cond = eval.map(|f| format!("    eval {f}\n")).unwrap_or_default();
    let text = format!("signature any-datagram {{\n    ip-proto == udp\n    payload /./\n{cond}    event \"datagram\"\n}}\n");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write signature file");
    path
}

fn handler(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write handler");
    path
}

/// The (source address, source port) of each signatures.log row.
fn matched_sources(logs: &Path) -> BTreeSet<(String, String)> {
    let log = read_stream(logs, "signatures").expect("signatures.log");
    log.rows.iter().map(|r| (r["src_addr"].clone(), r["src_port"].clone())).collect()
}

#[test]
fn a_handler_function_decides_which_datagrams_match() {
    let dir = scratch_dir("sig-eval-binary");
    let h = handler(&dir, "binary_payload.wasm", weir_sandbox::testing::example("binary_payload.wasm"));
    let plain = sig_file(&dir, "plain.sig", None);
    let with_eval = sig_file(&dir, "eval.sig", Some("BinaryPayload::mostly_binary"));
    let (all, binary) = (dir.join("all"), dir.join("binary"));
    run_trace(&demo_trace(), &all, &["--signatures", plain.to_str().unwrap(), "--handler", h.to_str().unwrap()]);
    run_trace(&demo_trace(), &binary, &["--signatures", with_eval.to_str().unwrap(), "--handler", h.to_str().unwrap()]);
    let (all, binary) = (matched_sources(&all), matched_sources(&binary));
    // A signature's actions run once per connection: each UDP flow's first
    // datagram matches. The syslog datagrams (flow 5) are text; the DNS query
    // (flow 4) and the NTP request (flow 9) are mostly binary.
    let syslog = ("10.0.0.2".to_string(), "40000".to_string());
    let dns = ("10.0.0.2".to_string(), "53001".to_string());
    let ntp = ("10.0.100.5".to_string(), "50123".to_string());
    assert!(all.contains(&syslog) && all.contains(&dns) && all.contains(&ntp), "without eval: {all:?}");
    assert!(!binary.contains(&syslog), "the text datagrams must not match: {binary:?}");
    assert!(binary.contains(&dns) && binary.contains(&ntp), "the binary datagrams must match: {binary:?}");
    assert!(binary.is_subset(&all) && binary.len() < all.len(), "eval only removes matches: {binary:?} vs {all:?}");
}

#[test]
fn an_eval_function_no_handler_answers_for_is_refused_at_start() {
    let dir = scratch_dir("sig-eval-unknown");
    let sig = sig_file(&dir, "eval.sig", Some("Nobody::answers"));
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("logs"), &["--signatures", sig.to_str().unwrap()]);
    assert!(!out.success(), "weir must refuse the signature file");
    assert_one_clear_line(&out, "eval Nobody::answers: no loaded handler answers for this function");
}

#[test]
fn a_spinning_eval_function_is_stopped_by_fuel_and_never_holds() {
    let dir = scratch_dir("sig-eval-spin");
    let h = handler(&dir, "loop_in_eval.wasm", weir_sandbox::testing::hostile("loop_in_eval.wasm"));
    let sig = sig_file(&dir, "eval.sig", Some("Hostile::spin"));
    let logs = dir.join("logs");
    run_trace(&demo_trace(), &logs, &["--signatures", sig.to_str().unwrap(), "--handler", h.to_str().unwrap()]);
    assert!(!logs.join("signatures.log").exists() || matched_sources(&logs).is_empty(), "a trapping eval never holds");
    let reporter = read_stream(&logs, "reporter").expect("reporter.log");
    let spins = reporter.rows.iter().filter(|r| r["message"].starts_with("handler loop_in_eval.wasm: signature-eval Hostile::spin: out of fuel")).count();
    assert!(spins >= 1, "reporter.log must report the trap: {:?}", reporter.rows);
    let conn = read_stream(&logs, "conn").expect("conn.log");
    // tests/traces/README.md: the demo trace's nine connections.
    assert_eq!(conn.rows.len(), 9, "every demo connection is still logged");
}
