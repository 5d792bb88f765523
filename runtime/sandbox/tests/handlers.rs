//! The standard handlers and the hostile ones, driven by synthetic engine events.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use weir_engine::events::values::conn_id;
use weir_engine::events::{Connection, EncapsulatingConn, Endpoint, Event, EventQueue, Transport, TunnelType};
use weir_sandbox::{LogFormat, Sandbox, SandboxConfig};

const LOOP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/loop_forever.wasm"));
const ALLOC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/allocate_forever.wasm"));
const TRAP_IN_REPORTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/trap_in_reporter_error.wasm"));

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("weir-sandbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn conn(uid: &str, orig: &str, op: u16, resp: &str, rp: u16, transport: Transport, proto: u8) -> Connection {
    let id = conn_id((orig.parse::<IpAddr>().unwrap(), op), (resp.parse::<IpAddr>().unwrap(), rp), proto);
    assert_eq!(id.orig_p.proto, transport);
    Connection {
        id,
        orig: Endpoint { num_pkts: Some(0), num_bytes_ip: Some(0), ..Endpoint::default() },
        resp: Endpoint { num_pkts: Some(0), num_bytes_ip: Some(0), ..Endpoint::default() },
        start_time: 1300475167.096535,
        duration: 0.0,
        service: vec![],
        history: String::new(),
        uid: uid.into(),
        tunnel: None,
        vlan: None,
        inner_vlan: None,
    }
}

fn sandbox(dir: &Path, fuel: u64) -> Sandbox {
    let cfg = SandboxConfig { fuel, log_dir: dir.to_path_buf(), log_format: LogFormat::Tsv, ..SandboxConfig::default() };
    Sandbox::new(cfg).unwrap()
}

fn rows(dir: &Path, log: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join(format!("{log}.log"))).unwrap_or_default();
    text.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').map(String::from).collect()).collect()
}

/// reporter.log rows other than the state-lost warnings, of which there must be `lost`.
fn trap_rows(dir: &Path, lost: usize) -> Vec<Vec<String>> {
    let (warnings, rest): (Vec<_>, Vec<_>) =
        rows(dir, "reporter").into_iter().partition(|r| r[2].ends_with("instance replaced after a trap; its state was lost"));
    assert_eq!(warnings.len(), lost, "{warnings:?}");
    assert!(warnings.iter().all(|r| r[1] == "Reporter::WARNING"));
    rest
}

fn header(dir: &Path, log: &str, prefix: &str) -> String {
    let text = std::fs::read_to_string(dir.join(format!("{log}.log"))).unwrap();
    text.lines().find(|l| l.starts_with(prefix)).unwrap_or("").to_string()
}

/// A finished TCP connection: SF, 2 gaps, tunnelled, with a tunnel change.
fn tcp_events(q: &mut EventQueue) {
    let mut c = conn("CtcpA", "10.0.0.1", 49152, "93.184.216.34", 80, Transport::Tcp, 6);
    let outer = conn_id(("192.0.2.1".parse().unwrap(), 0), ("198.51.100.1".parse().unwrap(), 0), 4);
    c.tunnel = Some(vec![EncapsulatingConn { cid: outer, tunnel_type: TunnelType::Ip, uid: Some("CtunOuter".into()) }]);
    q.push(Event::NewConnection { c: Box::new(c.clone()) });
    q.push(Event::ContentGap { c: Box::new(c.clone()), is_orig: true, seq: 100, length: 40 });
    q.push(Event::ContentGap { c: Box::new(c.clone()), is_orig: false, seq: 7, length: 2 });
    q.push(Event::TunnelChanged {
        c: Box::new(c.clone()),
        e: vec![EncapsulatingConn { cid: outer, tunnel_type: TunnelType::Gre, uid: Some("CtunOther".into()) }],
    });
    c.duration = 1.25;
    c.orig = Endpoint { size: 120, state: 5, num_pkts: Some(6), num_bytes_ip: Some(440), ..Endpoint::default() };
    c.resp = Endpoint { size: 3000, state: 5, num_pkts: Some(5), num_bytes_ip: Some(3280), ..Endpoint::default() };
    c.history = "ShADadFf".into();
    c.service = vec!["HTTP".into()];
    q.push(Event::ConnectionStateRemove { c: Box::new(c) });
}

#[test]
fn standard_handlers_write_conn_weird_reporter() {
    let dir = tmpdir("std");
    let mut sb = sandbox(&dir, 10_000_000);
    sb.load_standard_handlers().unwrap();
    let mut q = EventQueue::new(sb.subscriptions());
    tcp_events(&mut q);
    // One-packet UDP flow: no duration, so no duration/bytes.
    let mut u = conn("Cudp1", "fe80::1", 5353, "ff02::fb", 5353, Transport::Udp, 17);
    u.orig = Endpoint { size: 30, state: 1, num_pkts: Some(1), num_bytes_ip: Some(78), ..Endpoint::default() };
    u.history = "D".into();
    q.push(Event::ConnectionStateRemove { c: Box::new(u) });
    // TCP reset after a SYN with no answer from the responder: RSTOS0.
    let mut r = conn("Crst", "8.8.8.8", 1, "1.1.1.1", 2, Transport::Tcp, 6);
    r.orig.state = 6;
    r.history = "SR".into();
    q.push(Event::ConnectionStateRemove { c: Box::new(r) });
    q.push(Event::ConnWeird {
        name: "bad_TCP_checksum".into(),
        c: Box::new(conn("Cw", "10.1.1.1", 1, "10.1.1.2", 2, Transport::Tcp, 6)),
        addl: String::new(),
        source: "TCP".into(),
    });
    q.push(Event::NetWeird { name: "truncated_header".into(), addl: "x\ty".into(), source: String::new() });
    q.push(Event::ReporterWarning { t: 5.0, msg: "hello".into(), location: String::new() });
    sb.dispatch(&mut q, 1300475168.5);
    assert!(q.is_empty());
    sb.finish().unwrap();

    assert_eq!(
        header(&dir, "conn", "#fields"),
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto"
    );
    assert_eq!(
        header(&dir, "conn", "#types"),
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount"
    );
    assert!(header(&dir, "conn", "#close").starts_with("#close\t"));
    let conn_rows = rows(&dir, "conn");
    assert_eq!(conn_rows.len(), 3, "{conn_rows:?}");
    assert_eq!(
        conn_rows[0].join("\t"),
        "1300475167.096535\tCtcpA\t10.0.0.1\t49152\t93.184.216.34\t80\ttcp\thttp\t1.250000\t120\t3000\tSF\tT\tF\t42\tShADadFf\t6\t440\t5\t3280\tCtunOuter,CtunOther\t6"
    );
    assert_eq!(
        conn_rows[1].join("\t"),
        "1300475167.096535\tCudp1\tfe80::1\t5353\tff02::fb\t5353\tudp\t-\t-\t-\t-\tS0\tT\tF\t0\tD\t1\t78\t0\t0\t-\t17"
    );
    assert_eq!(conn_rows[2][11], "RSTOS0");

    let weird = rows(&dir, "weird");
    assert_eq!(header(&dir, "weird", "#fields"), "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tname\taddl\tnotice\tpeer\tsource");
    assert_eq!(weird.len(), 2);
    assert_eq!(weird[0][1..].join("\t"), "Cw\t10.1.1.1\t1\t10.1.1.2\t2\tbad_TCP_checksum\t-\tF\tzeek\tTCP");
    assert_eq!(weird[1][1..].join("\t"), "-\t-\t-\t-\t-\ttruncated_header\tx\\x09y\tF\tzeek\t-");
    assert_eq!(weird[0][0], "1300475168.500000");

    let rep = rows(&dir, "reporter");
    assert_eq!(rep, vec![vec!["5.000000".to_string(), "Reporter::WARNING".into(), "hello".into(), "-".into()]]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_format() {
    let dir = tmpdir("json");
    let cfg = SandboxConfig { log_dir: dir.clone(), log_format: LogFormat::Json, ..SandboxConfig::default() };
    let mut sb = Sandbox::new(cfg).unwrap();
    sb.load_standard_handlers().unwrap();
    let mut q = EventQueue::new(sb.subscriptions());
    tcp_events(&mut q);
    sb.dispatch(&mut q, 1.0);
    sb.finish().unwrap();
    let text = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("\"id.orig_h\":\"10.0.0.1\""), "{text}");
    assert!(text.contains("\"tunnel_parents\":[\"CtunOuter\",\"CtunOther\"]"), "{text}");
    assert!(text.contains("\"ts\":1300475167.096535"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn loop_handler_is_stopped_by_fuel_and_others_keep_running() {
    let dir = tmpdir("loop");
    let mut sb = sandbox(&dir, 10_000_000);
    sb.load_standard_handlers().unwrap();
    sb.load_file(&write_file(&dir, "loop.wasm", LOOP)).unwrap();
    let loaded = sb.script_loaded_events();
    let n = weir_sandbox::standard::HANDLERS.len();
    assert_eq!(loaded.len(), n + 1, "the standard handlers, then loop.wasm");
    assert_eq!(loaded[n], Event::BroScriptLoaded { path: dir.join("loop.wasm").display().to_string(), level: 0 });
    let subs = sb.subscriptions();
    let mut q = EventQueue::new(subs);
    for i in 0..3u16 {
        let c = conn(&format!("Cl{i}"), "10.0.0.1", 1000 + i, "10.0.0.2", 80, Transport::Tcp, 6);
        q.push(Event::NewConnection { c: Box::new(c.clone()) });
        q.push(Event::ConnectionStateRemove { c: Box::new(c) });
        let t0 = Instant::now();
        sb.dispatch(&mut q, 100.0 + i as f64);
        let took = t0.elapsed();
        println!("dispatch with a spinning handler: {took:?}");
        assert!(took.as_secs_f64() < 2.0, "fuel did not stop the guest quickly: {took:?}");
    }
    sb.finish().unwrap();
    // The conn handler kept receiving events.
    assert_eq!(rows(&dir, "conn").len(), 3);
    // One reporter.log line per trap, naming handler, event and trap kind.
    let rep = trap_rows(&dir, 3);
    assert_eq!(rep.len(), 3, "{rep:?}");
    for r in &rep {
        assert_eq!(r[1], "Reporter::ERROR");
        assert_eq!(r[2], "handler loop.wasm: event new_connection: out of fuel (budget 10000000)");
        assert_eq!(r[3], "loop.wasm");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn repeated_traps_disable_the_handler() {
    let dir = tmpdir("disable");
    let cfg = SandboxConfig { fuel: 1_000_000, max_traps: 2, log_dir: dir.clone(), ..SandboxConfig::default() };
    let mut sb = Sandbox::new(cfg).unwrap();
    sb.load_standard_handlers().unwrap();
    sb.load_file(&write_file(&dir, "loop.wasm", LOOP)).unwrap();
    for i in 0..4u16 {
        let mut q = EventQueue::new(sb.subscriptions());
        q.push(Event::NewConnection { c: Box::new(conn("C", "10.0.0.1", i, "10.0.0.2", 80, Transport::Tcp, 6)) });
        sb.dispatch(&mut q, 10.0);
    }
    sb.finish().unwrap();
    assert_eq!(sb.handler_status()[weir_sandbox::standard::HANDLERS.len()], ("loop.wasm".to_string(), false));
    let rep = trap_rows(&dir, 1);
    assert_eq!(rep.len(), 3, "{rep:?}");
    assert_eq!(rep[2][2], "handler loop.wasm: disabled after 2 traps within 60 s");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn memory_cap_stops_allocation() {
    let dir = tmpdir("alloc");
    let mut sb = sandbox(&dir, 0);
    sb.load_standard_handlers().unwrap();
    sb.load_file(&write_file(&dir, "alloc.wasm", ALLOC)).unwrap();
    let mut q = EventQueue::new(sb.subscriptions());
    q.push(Event::NewConnection { c: Box::new(conn("C", "10.0.0.1", 1, "10.0.0.2", 80, Transport::Tcp, 6)) });
    sb.dispatch(&mut q, 1.0);
    sb.finish().unwrap();
    let rep = trap_rows(&dir, 1);
    assert_eq!(rep.len(), 1, "{rep:?}");
    assert!(rep[0][2].starts_with("handler alloc.wasm: event new_connection: "), "{rep:?}");
    println!("allocate-forever: {}", rep[0][2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_trap_inside_reporter_error_does_not_recurse() {
    let dir = tmpdir("recurse");
    let mut sb = sandbox(&dir, 10_000_000);
    sb.load_standard_handlers().unwrap();
    sb.load_file(&write_file(&dir, "trapper.wasm", TRAP_IN_REPORTER)).unwrap();
    let mut q = EventQueue::new(sb.subscriptions());
    q.push(Event::NewConnection { c: Box::new(conn("C", "10.0.0.1", 1, "10.0.0.2", 80, Transport::Tcp, 6)) });
    sb.dispatch(&mut q, 1.0);
    // Round 2 ran the reporter_error event; nothing it caused is queued.
    assert!(q.is_empty());
    sb.dispatch(&mut q, 2.0);
    sb.finish().unwrap();
    let rep = trap_rows(&dir, 1);
    assert_eq!(rep.len(), 1, "{rep:?}");
    assert!(rep[0][2].starts_with("handler trapper.wasm: event new_connection: unreachable"), "{rep:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn core_module_and_other_version_are_rejected() {
    let dir = tmpdir("reject");
    let mut sb = sandbox(&dir, 10_000_000);
    let core = write_file(&dir, "core.wasm", &wat::parse_str("(module (func (export \"f\")))").unwrap());
    let e = sb.load_file(&core).unwrap_err().to_string();
    println!("{e}");
    assert!(e.contains("core WebAssembly module, not a component"), "{e}");
    assert_eq!(e.lines().count(), 1);

    let v2 = wat::parse_str(
        r#"(component
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func $f (canon lift (core func $i "f")))
            (instance $e (export "bro-init" (func $f)))
            (export "weir:events/bro-init@0.2.0" (instance $e)))"#,
    )
    .unwrap();
    let v2 = write_file(&dir, "v2.wasm", &v2);
    let e = sb.load_file(&v2).unwrap_err().to_string();
    println!("{e}");
    assert!(e.contains("weir:events@0.2.0") && e.contains("weir:events@0.1.0"), "{e}");
    assert_eq!(e.lines().count(), 1);
    assert!(Sandbox::check(&v2).is_err());

    let not_wasm = write_file(&dir, "x.wasm", b"hello world");
    assert!(sb.load_file(&not_wasm).unwrap_err().to_string().contains("not a WebAssembly file"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_lists_events() {
    let dir = tmpdir("check");
    let p = write_file(&dir, "trapper.wasm", TRAP_IN_REPORTER);
    let r = Sandbox::check(&p).unwrap();
    assert_eq!(r.events, vec!["new_connection".to_string(), "reporter_error".into()]);
    assert!(r.imports.iter().any(|i| i == "weir:events/reporter@0.1.0"), "{:?}", r.imports);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsubscribed_events_are_not_queued() {
    let dir = tmpdir("subs");
    let mut sb = sandbox(&dir, 10_000_000);
    sb.load_file(&write_file(&dir, "loop.wasm", LOOP)).unwrap();
    let subs = sb.subscriptions();
    assert!(subs.wants(weir_engine::events::EventKind::NewConnection));
    assert!(!subs.wants(weir_engine::events::EventKind::ConnectionStateRemove));
    assert!(!subs.wants(weir_engine::events::EventKind::EventQueueFlushPoint));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Median of `f` over `runs` runs.
fn median(runs: usize, mut f: impl FnMut() -> std::time::Duration) -> std::time::Duration {
    let mut v: Vec<_> = (0..runs).map(|_| f()).collect();
    v.sort();
    v[runs / 2]
}

/// Figures (release build: `cargo test --release -p weir-sandbox --test handlers -- --ignored --nocapture`):
/// per-call cost of a subscribed handler (the standard conn handler: new_connection +
/// connection_state_remove with a conn.log write) with fuel on and off, and the time
/// to trap and replace an instance (trap_panic.wasm, limits raised so it is never disabled).
#[test]
#[ignore]
fn measure_dispatch_cost() {
    let c = conn("Cx", "10.0.0.1", 1, "10.0.0.2", 80, Transport::Tcp, 6);
    let mut per_call = Vec::new();
    for fuel in [10_000_000u64, 0] {
        let dir = tmpdir(&format!("cost{fuel}"));
        let mut sb = sandbox(&dir, fuel);
        sb.load_standard_handlers().unwrap();
        let mut q = EventQueue::new(sb.subscriptions());
        // Warm-up instantiates the handler.
        q.push(Event::NewConnection { c: Box::new(c.clone()) });
        sb.dispatch(&mut q, 1.0);
        let n = 2000;
        let per = median(7, || {
            let t0 = Instant::now();
            for _ in 0..n {
                q.push(Event::NewConnection { c: Box::new(c.clone()) });
                q.push(Event::ConnectionStateRemove { c: Box::new(c.clone()) });
                sb.dispatch(&mut q, 1.0);
            }
            t0.elapsed() / (n * 2)
        });
        println!("fuel {}: {per:?} per event (median of 7 runs of {n} connections)", if fuel > 0 { "on" } else { "off" });
        per_call.push(per);
        sb.finish().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
    println!("fuel on / off: {:.2}", per_call[0].as_secs_f64() / per_call[1].as_secs_f64());

    let dir = tmpdir("cost-trap");
    let cfg = SandboxConfig { log_dir: dir.clone(), max_traps: usize::MAX, ..SandboxConfig::default() };
    let mut sb = Sandbox::new(cfg).unwrap();
    sb.load_file(&write_file(&dir, "trap_panic.wasm", weir_sandbox::testing::hostile("trap_panic.wasm"))).unwrap();
    let mut q = EventQueue::new(sb.subscriptions());
    let n = 200;
    let per = median(7, || {
        let t0 = Instant::now();
        for _ in 0..n {
            // connection_state_remove executes `unreachable` (no panic message to print).
            q.push(Event::ConnectionStateRemove { c: Box::new(c.clone()) });
            sb.dispatch(&mut q, 1.0);
        }
        t0.elapsed() / n
    });
    println!("trap + replacement: {per:?} per trapping call (fresh instance from InstancePre, call, trap; median of 7 runs of {n})");
    assert!(sb.handler_status()[0].1, "the handler stays enabled");
    sb.finish().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn handler_identities_are_unique() {
    let dir = tmpdir("identity");
    let mut sb = sandbox(&dir, 10_000_000);
    sb.load_standard_handlers().unwrap();
    let file = write_file(&dir, "conn.wasm", LOOP);
    sb.load_file(&file).unwrap();
    let mut names: Vec<&str> = weir_sandbox::standard::HANDLERS.iter().map(|h| h.name).collect();
    names.push("conn.wasm");
    assert_eq!(sb.handler_names(), names);
    let twice = sb.load_file(&file).unwrap_err().to_string();
    assert!(twice.ends_with("loaded twice"), "{twice}");
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let same_name = sb.load_file(&write_file(&dir.join("b"), "conn.wasm", LOOP)).unwrap_err().to_string();
    assert!(same_name.contains("another handler is named conn.wasm"), "{same_name}");
    let standard_name = sb.load_file(&write_file(&dir, "weird", LOOP)).unwrap_err().to_string();
    assert!(standard_name.contains("another handler is named weird (<standard>/weird.wasm)"), "{standard_name}");
    sb.set_handler_fuel("conn", 20_000_000).unwrap();
    assert!(sb.set_handler_fuel("nope", 1).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn standard_handlers_are_replaced_never_disabled() {
    // With too little fuel for anyone, every handler traps at every event: the
    // file handler is disabled, the standard ones keep being replaced.
    let dir = tmpdir("never-disabled");
    let cfg = SandboxConfig { fuel: 3_000, max_traps: 2, log_dir: dir.clone(), ..SandboxConfig::default() };
    let mut sb = Sandbox::new(cfg).unwrap();
    sb.load_standard_handlers().unwrap();
    sb.load_file(&write_file(&dir, "loop.wasm", LOOP)).unwrap();
    for i in 0..6u16 {
        let mut q = EventQueue::new(sb.subscriptions());
        let c = conn(&format!("C{i}"), "10.0.0.1", i, "10.0.0.2", 80, Transport::Tcp, 6);
        q.push(Event::NewConnection { c: Box::new(c.clone()) });
        q.push(Event::ConnectionStateRemove { c: Box::new(c) });
        sb.dispatch(&mut q, 10.0 + f64::from(i));
    }
    sb.finish().unwrap();
    let status = sb.handler_status();
    let n = weir_sandbox::standard::HANDLERS.len();
    assert!(status[..n].iter().all(|(_, enabled)| *enabled), "{status:?}");
    assert_eq!(status[n], ("loop.wasm".to_string(), false));
    let stats = sb.handler_stats();
    assert!(stats[0].instantiations > 2, "conn was replaced after each trap: {stats:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// analyzer.log: a failure of a confirmed analyzer that the violation
/// disabled, once per analyzer and connection; nothing for an unconfirmed
/// analyzer or a violation that left the service in place; a tunnel's
/// violation every time.
#[test]
fn analyzer_log_records_failures_of_confirmed_analyzers() {
    use weir_engine::events::AnalyzerTag;
    let dir = tmpdir("analyzer");
    let mut sb = sandbox(&dir, 10_000_000);
    sb.load_standard_handlers().unwrap();
    let mut q = EventQueue::new(sb.subscriptions());
    let tag = |n: &str| Box::new(AnalyzerTag { name: n.into() });
    let mut ftp = conn("Cftp", "127.0.0.1", 51354, "127.0.0.1", 21, Transport::Tcp, 6);
    ftp.service = vec!["FTP".into()];
    q.push(Event::ProtocolConfirmation { c: Box::new(ftp.clone()), atype: tag("FTP"), aid: 3, });
    // Not disabled (past DPD::ignore_violations_after): the service stays, no record.
    q.push(Event::ProtocolViolation { c: Box::new(ftp.clone()), atype: tag("FTP"), aid: 3, reason: "ignored".into() });
    ftp.service = vec![];
    q.push(Event::ProtocolViolation {
        c: Box::new(ftp.clone()),
        atype: tag("FTP"),
        aid: 3,
        reason: "non-numeric reply code [99 PASV invalid\\x0d\\x0a]".into(),
    });
    q.push(Event::ProtocolViolation { c: Box::new(ftp.clone()), atype: tag("FTP"), aid: 3, reason: "again".into() });
    // Never confirmed: no record.
    let smtp = conn("Csmtp", "10.0.0.1", 1025, "10.0.0.2", 25, Transport::Tcp, 6);
    q.push(Event::ProtocolViolation { c: Box::new(smtp), atype: tag("SMTP"), aid: 4, reason: "bad".into() });
    // Removed services kept: `-HTTP` says it was disabled; a long excerpt loses its `...`.
    let mut http = conn("Chttp", "10.0.0.1", 1026, "10.0.0.2", 80, Transport::Tcp, 6);
    http.service = vec!["HTTP".into()];
    q.push(Event::ProtocolConfirmation { c: Box::new(http.clone()), atype: tag("HTTP"), aid: 5 });
    http.service = vec!["HTTP".into(), "-HTTP".into()];
    let long = format!("not a request [{}...]", "x".repeat(40));
    q.push(Event::ProtocolViolation { c: Box::new(http), atype: tag("HTTP"), aid: 5, reason: long });
    let vx = conn("Cvx", "10.0.0.1", 1, "10.0.0.2", 4789, Transport::Udp, 17);
    q.push(Event::ProtocolViolation { c: Box::new(vx.clone()), atype: tag("VXLAN"), aid: 0, reason: "VXLAN 'I' flag not set".into() });
    q.push(Event::ProtocolViolation { c: Box::new(vx), atype: tag("VXLAN"), aid: 0, reason: "VXLAN 'I' flag not set".into() });
    sb.dispatch(&mut q, 1300475168.5);
    sb.finish().unwrap();
    assert_eq!(
        header(&dir, "analyzer", "#fields"),
        "#fields\tts\tanalyzer_kind\tanalyzer_name\tuid\tfuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tfailure_reason\tfailure_data"
    );
    let got: Vec<String> = rows(&dir, "analyzer").iter().map(|r| r[1..].join("\t")).collect();
    assert_eq!(
        got,
        [
            "protocol\tFTP\tCftp\t-\t127.0.0.1\t51354\t127.0.0.1\t21\ttcp\tnon-numeric reply code\t99 PASV invalid\\x0d\\x0a".to_string(),
            format!("protocol\tHTTP\tChttp\t-\t10.0.0.1\t1026\t10.0.0.2\t80\ttcp\tnot a request\t{}", "x".repeat(40)),
            "packet\tVXLAN\tCvx\t-\t10.0.0.1\t1\t10.0.0.2\t4789\tudp\tVXLAN 'I' flag not set\t-".to_string(),
            "packet\tVXLAN\tCvx\t-\t10.0.0.1\t1\t10.0.0.2\t4789\tudp\tVXLAN 'I' flag not set\t-".to_string(),
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The `analyzers` host interface: a handler's requests reach
/// `take_requests` in order, once; schedule calls with an unknown analyzer
/// or before the first packet are refused.
#[test]
fn analyzer_requests_reach_the_engine_side() {
    use weir_engine::analyzers::requests::Request;
    use weir_engine::analyzers::{Tag, Transport as T};
    use weir_engine::events::AnalyzerTag;
    let dir = tmpdir("requests");
    let mut sb = sandbox(&dir, 10_000_000);
    sb.load_standard_handlers().unwrap();
    sb.load_file(&write_file(&dir, "steer.wasm", weir_sandbox::testing::example("steer_analyzers.wasm"))).unwrap();
    let c = conn("Cctl", "10.0.0.1", 40000, "10.0.0.2", 21, Transport::Tcp, 6);
    // Before the first packet (network time 0) nothing is scheduled.
    let mut q = EventQueue::new(sb.subscriptions());
    q.push(Event::NewConnection { c: Box::new(c.clone()) });
    sb.dispatch(&mut q, 0.0);
    assert!(sb.take_requests().is_empty());
    let mut q = EventQueue::new(sb.subscriptions());
    q.push(Event::NewConnection { c: Box::new(c.clone()) });
    q.push(Event::ProtocolConfirmation { c: Box::new(c.clone()), atype: Box::new(AnalyzerTag { name: "FTP".into() }), aid: 7 });
    sb.dispatch(&mut q, 100.0);
    let reqs = sb.take_requests();
    assert_eq!(
        reqs,
        [
            Request::Schedule {
                orig: None,
                resp: "10.0.0.2".parse().unwrap(),
                resp_p: 2121,
                transport: T::Tcp,
                tag: Tag::Ftp,
                timeout: 60.0
            },
            Request::Disable { id: ("10.0.0.1".parse().unwrap(), 40000, "10.0.0.2".parse().unwrap(), 21, 6), aid: 7 },
        ]
    );
    assert!(sb.take_requests().is_empty(), "taken once");
    sb.finish().unwrap();
    let info: Vec<String> = rows(&dir, "reporter").into_iter().filter(|r| r[2].starts_with("steer: scheduled")).map(|r| r[2].clone()).collect();
    assert_eq!(info, ["steer: scheduled FTP for Cctl: false, NOPE: false", "steer: scheduled FTP for Cctl: true, NOPE: false"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
