//! The sandbox promise, end to end: each hostile handler of `examples/hostile/`
//! runs beside the standard handlers on the demo trace and on a real oracle trace.
//! weir must exit 0, conn.log, weird.log and tunnel.log must be byte-identical (save `#open`/`#close`) to
//! the run without the hostile handler, reporter.log must carry the expected lines
//! with their counts, the reporter-recursion cases must surface on stderr only,
//! and nothing may leak out of the sandbox.

mod common;

use common::{demo_trace, finish, hostile_traces, scratch_dir, weir_command, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Traps within the window before a handler is disabled (SandboxConfig default).
const MAX_TRAPS: usize = 5;
/// Records per `new_connection` of flood_log.wasm, messages of each kind of flood_reporter.wasm.
const FLOOD_LOG_RECORDS: u64 = 2_000;
const FLOOD_REPORTER_MESSAGES: u64 = 1_000;
/// Caps passed on the command line for the flood cases.
const RATE_FLAGS: &[&str] = &["--max-log-records", "500", "--max-reporter-messages", "100"];

/// One run of weir inside its own folder `dir` (the working directory), logs in `dir/logs`.
struct Run {
    dir: PathBuf,
    out: Outcome,
}

impl Run {
    fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
    /// A log's lines without `#open`/`#close` (the only lines that carry wall time).
    fn log_body(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.logs().join(format!("{name}.log"))).unwrap_or_default();
        text.lines().filter(|l| !l.starts_with("#open") && !l.starts_with("#close")).map(|l| format!("{l}\n")).collect()
    }
    /// reporter.log rows as (level, message).
    fn reporter(&self) -> Vec<(String, String)> {
        self.log_body("reporter")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.get(1).unwrap_or(&"").to_string(), f.get(2).unwrap_or(&"").to_string())
            })
            .collect()
    }
    /// How many times `level` messages starting with `prefix` were reported, counting
    /// collapsed repeats (`... (N times)`).
    fn count(&self, level: &str, prefix: &str) -> u64 {
        self.reporter().iter().filter(|(l, m)| l == level && m.starts_with(prefix)).map(|(_, m)| repeats(m)).sum()
    }
    /// Sum of N over `handler H: N <what> dropped` warnings.
    fn dropped(&self, what: &str) -> u64 {
        self.reporter()
            .iter()
            .filter(|(_, m)| m.contains(&format!(" {what} dropped")))
            .filter_map(|(_, m)| m.split(": ").nth(1)?.split(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

/// N of a collapsed message `text (N times)`, else 1.
fn repeats(msg: &str) -> u64 {
    msg.strip_suffix(" times)").and_then(|m| m.rsplit_once(" (")).and_then(|(_, n)| n.parse().ok()).unwrap_or(1)
}

/// Runs weir on `trace` with the standard handlers plus `hostile` (if any) and `extra` flags.
fn run(case: &str, trace: &Path, hostile: Option<&str>, extra: &[&str]) -> Run {
    let dir = scratch_dir(&format!("hostile-{case}"));
    let mut args: Vec<String> = ["run", "-r", &trace.display().to_string(), "--logdir", "logs", "--seed", "1"].map(String::from).to_vec();
    if let Some(name) = hostile {
        std::fs::create_dir_all(dir.join("handlers")).expect("handlers folder");
        let path = dir.join("handlers").join(name);
        std::fs::write(&path, weir_sandbox::testing::hostile(name)).expect("write handler");
        args.extend(["--handler".to_string(), path.display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let child = weir_command().args(&args).current_dir(&dir).spawn().expect("start weir");
    let out = finish(child, Duration::from_secs(120));
    assert!(out.success(), "weir {args:?} failed ({:?}); stderr:\n{}", out.status, out.stderr);
    Run { dir, out }
}

/// Files of `dir` (names), sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `hostile` on every trace and checks the common promises, then `check(run, base, connections)`.
fn each_trace(hostile: &str, extra: &[&str], extra_logs: &[&str], check: impl Fn(&Run, &Run, u64)) {
    let escape = Path::new("/tmp/weir-escape.txt");
    let escape_before = escape.exists();
    for (i, trace) in hostile_traces("hostile").iter().enumerate() {
        let stem = hostile.trim_end_matches(".wasm");
        let base = run(&format!("{stem}-{i}-base"), trace, None, extra);
        let bad = run(&format!("{stem}-{i}"), trace, Some(hostile), extra);
        let conn = base.log_body("conn");
        assert!(!conn.is_empty(), "{}: baseline wrote no conn.log", trace.display());
        // Every standard log is the same with and without the hostile handler.
        for log in ["conn", "weird", "tunnel"] {
            assert_eq!(bad.log_body(log), base.log_body(log), "{hostile} on {}: {log}.log differs", trace.display());
        }
        // Nothing but the logs and the handler in the working folder; no log beyond
        // the baseline's, reporter.log and the hostile handler's own.
        assert_eq!(files(&bad.dir), ["handlers", "logs"], "{hostile}: stray files in the working folder");
        let mut allowed = files(&base.logs());
        allowed.push("reporter.log".into());
        allowed.extend(extra_logs.iter().map(|s| s.to_string()));
        for f in files(&bad.logs()) {
            assert!(allowed.contains(&f), "{hostile} on {}: unexpected file logs/{f}", trace.display());
        }
        let connections = conn.lines().filter(|l| !l.starts_with('#')).count() as u64;
        check(&bad, &base, connections);
    }
    assert!(escape_before || !escape.exists(), "{hostile}: /tmp/weir-escape.txt was created");
}

/// Reporter lines of a handler that traps on `calls` of its events: one error per
/// trap, a state-lost warning per replacement, disabled at the fifth.
fn assert_traps(run: &Run, name: &str, event_msg: &str, calls: u64) {
    let traps = calls.min(MAX_TRAPS as u64);
    let disabled = u64::from(calls >= MAX_TRAPS as u64);
    let errors = run.count("Reporter::ERROR", &format!("handler {name}: event "));
    assert_eq!(errors, traps, "{name}: trap errors in reporter.log:\n{:?}", run.reporter());
    if !event_msg.is_empty() {
        assert_eq!(run.count("Reporter::ERROR", &format!("handler {name}: {event_msg}")), traps, "{name}: {event_msg}");
    }
    assert_eq!(run.count("Reporter::WARNING", &format!("handler {name}: instance replaced after a trap; its state was lost")), traps - disabled);
    assert_eq!(run.count("Reporter::ERROR", &format!("handler {name}: disabled after {MAX_TRAPS} traps")), disabled);
}

#[test]
fn loop_forever_is_stopped_by_fuel() {
    each_trace("loop_forever.wasm", &[], &[], |r, _, n| {
        assert_traps(r, "loop_forever.wasm", "event new_connection: out of fuel", n)
    });
}

#[test]
fn loop_forever_with_two_workers_is_stopped_in_each() {
    // Each worker has its own instance, trapped and then disabled on its own.
    let flags = ["--workers", "2"];
    for (i, trace) in hostile_traces("hostile").iter().enumerate() {
        let base = run(&format!("w2-{i}-base"), trace, None, &flags);
        let bad = run(&format!("w2-{i}"), trace, Some("loop_forever.wasm"), &flags);
        let rows = |r: &Run| {
            let mut v: Vec<String> = r.log_body("conn").lines().filter(|l| !l.starts_with('#')).map(String::from).collect();
            v.sort();
            v
        };
        let conns = rows(&base).len() as u64;
        assert!(conns > 0);
        assert_eq!(rows(&bad), rows(&base), "{}: conn.log rows differ", trace.display());
        let traps = bad.count("Reporter::ERROR", "handler loop_forever.wasm: event new_connection: out of fuel");
        let (least, most) = (conns.min(MAX_TRAPS as u64), conns.min(2 * MAX_TRAPS as u64));
        assert!((least..=most).contains(&traps), "{traps} traps for {conns} connections on two workers");
    }
}

#[test]
fn allocate_forever_is_stopped() {
    // Stopped by fuel or by the memory cap, whichever comes first.
    each_trace("allocate_forever.wasm", &[], &[], |r, _, n| assert_traps(r, "allocate_forever.wasm", "event new_connection: ", n));
}

#[test]
fn recurse_forever_overflows_the_stack() {
    each_trace("recurse_forever.wasm", &[], &[], |r, _, n| {
        assert_traps(r, "recurse_forever.wasm", "event new_connection: stack overflow", n)
    });
}

#[test]
fn panic_and_unreachable_trap() {
    each_trace("trap_panic.wasm", &[], &[], |r, _, n| {
        // new_connection and connection_state_remove both trap.
        assert_traps(r, "trap_panic.wasm", "", 2 * n);
        assert!(r.count("Reporter::ERROR", "handler trap_panic.wasm: event new_connection: unreachable executed") >= 1);
        assert!(r.out.stderr.contains("trap-panic: refusing connection"), "guest panic message not on stderr");
    });
}

#[test]
fn trap_every_third_call_loses_state() {
    // The call counter lives in the instance: each replacement starts it again,
    // so every third new_connection traps.
    each_trace("trap_every_nth.wasm", &[], &[], |r, _, n| assert_traps(r, "trap_every_nth.wasm", "event new_connection: unreachable", n / 3));
}

#[test]
fn log_flood_is_rate_limited() {
    each_trace("flood_log.wasm", RATE_FLAGS, &["flood.log"], |r, _, n| {
        let written = r.log_body("flood").lines().filter(|l| !l.starts_with('#')).count() as u64;
        let dropped = r.dropped("log records");
        assert_eq!(written + dropped, FLOOD_LOG_RECORDS * n, "every record is written or counted as dropped");
        assert!(written > 0 && dropped > 0, "written {written}, dropped {dropped}");
        assert_eq!(r.count("Reporter::ERROR", "handler flood_log.wasm"), 0, "the flood fits in the fuel budget");
    });
}

#[test]
fn reporter_flood_is_collapsed_and_rate_limited() {
    each_trace("flood_reporter.wasm", RATE_FLAGS, &[], |r, _, n| {
        let same = r.count("Reporter::WARNING", "flood-reporter: same warning");
        let distinct = r.count("Reporter::INFO", "flood-reporter: C");
        let dropped = r.dropped("reporter messages");
        assert_eq!(same + distinct + dropped, 2 * FLOOD_REPORTER_MESSAGES * n, "every message is logged, collapsed or counted");
        assert!(r.reporter().iter().any(|(_, m)| m == &format!("flood-reporter: same warning ({FLOOD_REPORTER_MESSAGES} times)")));
        assert!(dropped > 0, "the rate cap never applied");
        let lines = r.reporter().len() as u64;
        assert!(lines < 2 * FLOOD_REPORTER_MESSAGES, "reporter.log has {lines} lines");
    });
}

#[test]
fn huge_strings_are_cut_refused_and_charged() {
    each_trace("huge_strings.wasm", &[], &[], |r, _, n| {
        let calls = n.min(MAX_TRAPS as u64);
        // The 16 MiB message costs more fuel than the budget holds.
        assert_traps(r, "huge_strings.wasm", "event new_connection: out of fuel", n);
        let cut: Vec<_> = r.reporter().into_iter().filter(|(_, m)| m.starts_with("xxxx")).collect();
        assert_eq!(cut.len() as u64, calls);
        for (_, m) in &cut {
            assert!(m.ends_with("... (cut, 65536 bytes)") && m.len() < 4200, "message not cut: {} bytes", m.len());
        }
        assert_eq!(r.count("Reporter::WARNING", "huge-strings: create-stream refused"), calls);
        assert!(!r.reporter().iter().any(|(_, m)| m.starts_with("yyyy")), "the 16 MiB message went through");
    });
}

#[test]
fn trap_inside_reporter_error_goes_to_stderr_only() {
    each_trace("trap_in_reporter_error.wasm", &[], &[], |r, _, n| {
        let log = r.reporter();
        assert!(!log.iter().any(|(_, m)| m.contains("event reporter_error") || m.contains("handler saw")), "recursion in reporter.log: {log:?}");
        assert!(r.out.stderr.contains("reporter_error handler saw: handler trap_in_reporter_error.wasm: event new_connection"));
        assert!(r.out.stderr.contains("handler trap_in_reporter_error.wasm: event reporter_error: unreachable executed"));
        // Each connection costs two traps (new_connection, then reporter_error on its report).
        let errors = r.count("Reporter::ERROR", "handler trap_in_reporter_error.wasm: event new_connection");
        assert_eq!(errors, n.min((MAX_TRAPS as u64).div_ceil(2)));
    });
}

#[test]
fn reporter_calls_inside_reporter_handlers_go_to_stderr_only() {
    each_trace("reporter_in_reporter.wasm", &[], &[], |r, _, _| {
        assert_eq!(r.count("Reporter::INFO", "reporter-in-reporter: hello"), 1);
        assert!(!r.reporter().iter().any(|(_, m)| m.contains("echo of")), "echo reached reporter.log");
        assert!(r.out.stderr.contains("reporter-in-reporter: echo of info: reporter-in-reporter: hello"));
    });
}

#[test]
fn no_ambient_authority() {
    each_trace("ambient_authority.wasm", &[], &[], |r, _, _| {
        for line in [
            "read /etc/passwd: denied",
            "create escape.txt: denied",
            "create /tmp/weir-escape.txt: denied",
            "list .: denied",
            "tcp connect: denied",
            "udp bind: denied",
            "env vars: 0",
            "args: 0",
            "wall clock: 0",
            "write /granted/probe.txt: denied",
        ] {
            assert_eq!(r.count("Reporter::INFO", &format!("ambient-authority: {line}")), 1, "{line}: {:?}", r.reporter());
        }
    });
}

#[test]
fn granted_folder_is_the_only_one_writable() {
    let grant = scratch_dir("hostile-grant-dir");
    let flag = format!("ambient_authority.wasm={}", grant.display());
    let r = run("grant", &demo_trace(), Some("ambient_authority.wasm"), &["--grant-dir", &flag]);
    assert_eq!(r.count("Reporter::INFO", "ambient-authority: write /granted/probe.txt: allowed"), 1, "{:?}", r.reporter());
    assert_eq!(r.count("Reporter::INFO", "ambient-authority: read /etc/passwd: denied"), 1);
    assert_eq!(std::fs::read_to_string(grant.join("probe.txt")).ok().as_deref(), Some("written through a grant\n"));
}

/// Writes a classic pcap of `n` TCP SYNs from distinct clients to 192.0.2.1:80,
/// `spacing` seconds apart from network time 1e9 (checksums valid).
fn syn_trace(path: &Path, n: u32, spacing: f64) {
    fn sum(data: &[u8], mut s: u32) -> u16 {
        for c in data.chunks(2) {
            s += u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
        }
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32.to_le_bytes(), [2, 0, 4, 0], [0; 4], [0; 4], 65535u32.to_le_bytes(), 1u32.to_le_bytes()] {
        out.extend_from_slice(&v);
    }
    for i in 0..n {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let dst = [192, 0, 2, 1];
        let mut tcp = Vec::new();
        tcp.extend_from_slice(&(1024 + (i % 60000) as u16).to_be_bytes());
        tcp.extend_from_slice(&80u16.to_be_bytes());
        tcp.extend_from_slice(&i.to_be_bytes());
        tcp.extend_from_slice(&[0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 6, 0, 20]);
        pseudo.extend_from_slice(&tcp);
        let c = sum(&pseudo, 0);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        let c = sum(&ip, 0);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let frame: Vec<u8> = [&[0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 8, 0][..], &ip, &tcp].concat();
        let t = 1e9 + f64::from(i) * spacing;
        for v in [(t as u32), ((t.fract() * 1e6).round() as u32).min(999_999), frame.len() as u32, frame.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).expect("write trace");
}

#[test]
fn sleeping_is_answered_from_network_time() {
    // The hour-long sleep ends at once: network time does not move during a call.
    each_trace("sleep_forever.wasm", &[], &[], |r, _, n| {
        assert_eq!(r.count("Reporter::INFO", "sleep-forever: woke after 0 s of network time"), n, "{:?}", r.reporter());
        assert_eq!(r.count("Reporter::INFO", "sleep-forever: stdin read: 0 bytes"), 1);
        assert_eq!(r.count("Reporter::INFO", "sleep-forever: open fifo: absent"), 1);
        assert_eq!(r.count("Reporter::ERROR", "handler sleep_forever.wasm"), 0, "{:?}", r.reporter());
    });
}

#[test]
fn a_fifo_in_a_granted_folder_is_not_opened() {
    let grant = scratch_dir("hostile-fifo-grant");
    let fifo = grant.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        println!("skipped: mkfifo not available");
        return;
    }
    let flag = format!("sleep_forever.wasm={}", grant.display());
    let r = run("grant-fifo", &demo_trace(), Some("sleep_forever.wasm"), &["--grant-dir", &flag]);
    assert_eq!(r.count("Reporter::INFO", "sleep-forever: open fifo: denied"), 1, "{:?}", r.reporter());
    assert!(r.count("Reporter::INFO", "sleep-forever: woke after") > 0);
}

#[test]
fn polling_forever_is_stopped_by_fuel() {
    // Every wait is answered at once, so the loop spins on host calls, each costing fuel.
    each_trace("poll_forever.wasm", &[], &[], |r, _, n| {
        assert_traps(r, "poll_forever.wasm", "event new_connection: out of fuel", n)
    });
}

#[test]
fn random_bytes_are_charged_before_they_are_made() {
    each_trace("random_flood.wasm", &[], &[], |r, _, n| {
        assert_traps(r, "random_flood.wasm", "event new_connection: out of fuel", n);
        assert_eq!(r.count("Reporter::INFO", "random-flood: got"), 0, "32 MiB of random bytes were handed out");
    });
}

#[test]
fn a_log_record_is_charged_per_element() {
    each_trace("huge_set.wasm", &[], &["huge.log"], |r, _, n| {
        // Cheap for the guest, 80 000 elements cost more than the call has left.
        assert_traps(r, "huge_set.wasm", "event new_connection: out of fuel", n);
        assert_eq!(r.log_body("huge").lines().filter(|l| !l.starts_with('#')).count(), 0, "an unpaid record was written");
        assert_eq!(r.count("Reporter::INFO", "huge-set: record written"), 0);
    });
}

#[test]
fn stderr_is_escaped_prefixed_and_rate_limited() {
    each_trace("stderr_flood.wasm", &["--max-reporter-messages", "100"], &[], |r, _, n| {
        let err = &r.out.stderr;
        assert!(!err.contains('\x1b') && !err.contains('\r'), "raw control bytes reached weir's stderr");
        let theirs: Vec<&str> = err.lines().filter(|l| l.contains("stderr-flood") || l.contains("not a valid component") || l.contains("zzzz")).collect();
        assert!(!theirs.is_empty(), "the handler's stderr is not shown at all");
        for l in &theirs {
            assert!(l.contains(" WARN ") && l.contains("handler stderr_flood.wasm stderr: "), "line without the handler's prefix: {l}");
        }
        assert!(!err.lines().any(|l| l.starts_with("weir:") || l.starts_with("2026-01-01")), "a handler line imitates weir's");
        assert!(theirs.iter().any(|l| l.contains("\\x1b[2J\\x1b[H")), "escape codes are not shown escaped");
        assert!(theirs.iter().any(|l| l.ends_with("... (cut, 1048576 bytes)")), "the 1 MiB line is not cut");
        // At most `cap` lines a second of network time; the rest are counted.
        let dropped = r.dropped("stderr lines");
        assert!(dropped > 0, "the cap never applied");
        assert_eq!(theirs.len() as u64 + dropped, 501 * n, "every line is shown or counted");
        assert!(err.len() < 1 << 20, "weir's stderr holds {} bytes", err.len());
    });
}

#[test]
fn the_cpu_budget_skips_then_disables_a_handler_that_burns_just_under_its_fuel() {
    // 40 connections a second for 8 seconds; the burner spends about 6 M fuel on
    // each event, the budget allows 30 M a second.
    let dir = scratch_dir("hostile-cpu-budget-trace");
    let trace = dir.join("syns.pcap");
    syn_trace(&trace, 320, 0.025);
    let flags = ["--cpu-budget", "30000000"];
    let base = run("cpu-budget-base", &trace, None, &flags);
    let bad = run("cpu-budget", &trace, Some("burn_fuel.wasm"), &flags);
    assert_eq!(bad.log_body("conn"), base.log_body("conn"), "conn.log differs");
    assert_eq!(bad.count("Reporter::ERROR", "handler burn_fuel.wasm: event"), 0, "the burner trapped: {:?}", bad.reporter());
    let over = bad.count("Reporter::WARNING", "handler burn_fuel.wasm: CPU budget exceeded: ");
    assert_eq!(over, MAX_TRAPS as u64, "{:?}", bad.reporter());
    assert_eq!(bad.count("Reporter::ERROR", &format!("handler burn_fuel.wasm: disabled after {MAX_TRAPS} CPU budget overruns")), 1);
    // Within a second the burner runs until the budget is spent, then is skipped.
    let skipped: Vec<u64> = bad
        .reporter()
        .iter()
        .filter(|(_, m)| m.contains("CPU budget exceeded"))
        .filter_map(|(_, m)| m.rsplit_once(", ")?.1.split(' ').next()?.parse().ok())
        .collect();
    assert!(skipped.iter().all(|s| *s > 0), "no events skipped: {skipped:?}");
    // Without the budget nothing is reported.
    let free = run("cpu-budget-off", &trace, Some("burn_fuel.wasm"), &["--cpu-budget", "0"]);
    assert_eq!(free.count("Reporter::WARNING", "handler burn_fuel.wasm: CPU budget"), 0);
    assert_eq!(free.log_body("conn"), base.log_body("conn"));
}

/// Starts weir on `trace` with the standard handlers and `hostile` handlers (from
/// `dir/handlers`) and `extra` flags, its working folder `dir`, logs in `dir/logs`.
fn spawn_with(dir: &Path, trace: &Path, hostile: &[&str], extra: &[&str]) -> std::process::Child {
    std::fs::create_dir_all(dir.join("handlers")).expect("handlers folder");
    let mut args: Vec<String> = ["run", "-r", &trace.display().to_string(), "--logdir", "logs", "--seed", "1"].map(String::from).to_vec();
    for name in hostile {
        let path = dir.join("handlers").join(name);
        std::fs::write(&path, weir_sandbox::testing::hostile(name)).expect("write handler");
        args.extend(["--handler".to_string(), path.display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    weir_command().args(&args).current_dir(dir).spawn().expect("start weir")
}

/// Sends `signals` (the first after 2 s, the next 0.3 s apart) to a run that would
/// take about 20 s: 20 000 connections, a handler that sleeps an hour in each and one
/// that burns most of its fuel on each event (no CPU budget). weir must exit 0 with
/// complete, closed logs; after a second signal the other handlers are skipped.
fn stopped_by(case: &str, signals: &[&str]) {
    let dir = scratch_dir(&format!("hostile-signal-{case}"));
    let trace = dir.join("syns.pcap");
    syn_trace(&trace, 20_000, 0.001);
    let child = spawn_with(&dir, &trace, &["sleep_forever.wasm", "burn_fuel.wasm"], &["--cpu-budget", "0"]);
    let pid = child.id().to_string();
    let sender = {
        let signals: Vec<String> = signals.iter().map(|s| s.to_string()).collect();
        let (pid, trace) = (pid.clone(), std::fs::canonicalize(&trace).unwrap_or_else(|_| trace.clone()));
        std::thread::spawn(move || {
            // Loading the handlers may take a while on a busy machine: the
            // 2 s count from the moment weir opens the trace (it does once
            // every handler is loaded), so the first signal comes while
            // packets are read.
            let opened = || {
                std::fs::read_dir(format!("/proc/{pid}/fd"))
                    .map(|fds| fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == trace)))
                    .unwrap_or(false)
            };
            let start = std::time::Instant::now();
            while !opened() && start.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(20));
            }
            for (i, s) in signals.into_iter().enumerate() {
                // The first while packets are read, the next while the end is written out.
                std::thread::sleep(if i == 0 { Duration::from_secs(2) } else { Duration::from_millis(300) });
                let _ = Command::new("kill").args([format!("-{s}"), pid.clone()]).status();
            }
        })
    };
    let out = finish(child, Duration::from_secs(100));
    sender.join().expect("signal sender");
    assert!(out.status.is_some(), "weir did not stop after {signals:?}; stderr:\n{}", out.stderr);
    assert!(out.success(), "weir failed after {signals:?} ({:?}); stderr:\n{}", out.status, out.stderr);
    assert!(out.stderr.contains("stopping on a signal"), "{}", out.stderr);
    let conn = std::fs::read_to_string(dir.join("logs/conn.log")).expect("conn.log");
    assert!(conn.lines().last().is_some_and(|l| l.starts_with("#close")), "conn.log is not closed");
    let rows: Vec<&str> = conn.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(!rows.is_empty() && rows.len() < 20_000, "{} conn.log rows: the run was not stopped early", rows.len());
    // Every connection seen was written: the originator ports of the rows are the
    // first ones of the trace, without a gap.
    let mut ports: Vec<u32> = rows.iter().filter_map(|r| r.split('\t').nth(3)?.parse().ok()).collect();
    ports.sort_unstable();
    assert_eq!(ports, (1024..1024 + rows.len() as u32).collect::<Vec<_>>(), "conn.log misses connections");
    let reporter = std::fs::read_to_string(dir.join("logs/reporter.log")).unwrap_or_default();
    assert!(reporter.contains("sleep-forever: woke after 0 s"), "{reporter}");
    assert_eq!(out.stderr.contains("skipped after a second stop signal"), signals.len() > 1, "{}", out.stderr);
}

#[test]
fn sigint_ends_a_run_with_a_sleeping_handler() {
    stopped_by("int", &["INT"]);
}

#[test]
fn sigterm_ends_a_run_with_a_sleeping_handler() {
    stopped_by("term", &["TERM"]);
}

#[test]
fn a_second_signal_skips_the_other_handlers_at_the_end() {
    stopped_by("twice", &["INT", "INT"]);
}

#[test]
fn log_output_is_capped_in_bytes() {
    // flood.log rows are about 30 bytes: 3 000 bytes a second is about 100 rows.
    each_trace("flood_log.wasm", &["--max-log-bytes", "3000"], &["flood.log"], |r, _, n| {
        let body = r.log_body("flood");
        let rows: Vec<&str> = body.lines().filter(|l| !l.starts_with('#')).collect();
        let by_bytes = r
            .reporter()
            .iter()
            .filter(|(_, m)| m.contains(" log records dropped (byte limit 3000 bytes/s)"))
            .filter_map(|(_, m)| m.split(": ").nth(1)?.split(' ').next()?.parse::<u64>().ok())
            .sum::<u64>();
        assert!(by_bytes > 0, "the byte cap never applied: {:?}", r.reporter());
        assert_eq!(rows.len() as u64 + r.dropped("log records"), FLOOD_LOG_RECORDS * n, "every record is written or counted");
        let bytes: usize = rows.iter().map(|l| l.len() + 1).sum();
        let seconds = r.count("Reporter::WARNING", "handler flood_log.wasm: ") as usize;
        assert!(bytes <= seconds.max(1) * (3000 + 100), "{bytes} bytes of flood.log in {seconds} capped seconds");
    });
}
