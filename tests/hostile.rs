//! The sandbox promise, end to end: each hostile handler of `examples/hostile/`
//! runs beside the standard handlers on the demo trace and on a real oracle trace.
//! weir must exit 0, conn.log must be byte-identical (save `#open`/`#close`) to
//! the run without the hostile handler, reporter.log must carry the expected lines
//! with their counts, the reporter-recursion cases must surface on stderr only,
//! and nothing may leak out of the sandbox.

mod common;

use common::{demo_trace, finish, repo_root, scratch_dir, weir_bin, Outcome};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Traps within the window before a handler is disabled (SandboxConfig default).
const MAX_TRAPS: usize = 5;
/// Records per `new_connection` of flood_log.wasm, messages of each kind of flood_reporter.wasm.
const FLOOD_LOG_RECORDS: u64 = 2_000;
const FLOOD_REPORTER_MESSAGES: u64 = 1_000;
/// Caps passed on the command line for the flood cases.
const RATE_FLAGS: &[&str] = &["--max-log-records", "500", "--max-reporter-messages", "100"];

/// The traces: the repository's demo trace, and an oracle trace when `../shared` is there.
fn traces() -> Vec<PathBuf> {
    let mut v = vec![demo_trace()];
    let oracle = repo_root().join("../shared/oracle/dev/core.tunnels.gre-in-gre/gre-within-gre.pcap");
    if oracle.exists() {
        v.push(oracle);
    } else {
        eprintln!("hostile: oracle trace skipped: {} not found", oracle.display());
    }
    v
}

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
    let child = Command::new(weir_bin())
        .args(&args)
        .current_dir(&dir)
        .env_remove("WEIR_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start weir");
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
    for (i, trace) in traces().iter().enumerate() {
        let stem = hostile.trim_end_matches(".wasm");
        let base = run(&format!("{stem}-{i}-base"), trace, None, extra);
        let bad = run(&format!("{stem}-{i}"), trace, Some(hostile), extra);
        let conn = base.log_body("conn");
        assert!(!conn.is_empty(), "{}: baseline wrote no conn.log", trace.display());
        assert_eq!(bad.log_body("conn"), conn, "{hostile} on {}: conn.log differs", trace.display());
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
    for (i, trace) in traces().iter().enumerate() {
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
