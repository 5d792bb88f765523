//! Handlers cannot starve, impersonate or forge the standard handlers: every
//! handler has its own share of the instance pool and of log streams, the
//! standard log names are reserved, every handler has a unique identity, and
//! reporter messages cannot fake weir's own stderr lines.

mod common;

use common::{assert_one_clear_line, demo_trace, finish, hostile_traces, scratch_dir, weir_command, Outcome};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Log streams one handler may open (SandboxConfig default).
const STREAMS_PER_HANDLER: usize = 16;

/// Writes handler `bytes` as `dir/handlers/<name>`.
fn handler(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir.join("handlers")).expect("handlers folder");
    let path = dir.join("handlers").join(name);
    std::fs::write(&path, bytes).expect("write handler");
    path
}

/// `weir run -r demo.pcap --logdir logs --seed 1 ARGS` inside `dir`.
fn run_demo(dir: &Path, args: &[&str]) -> Outcome {
    run_on(dir, &demo_trace(), args)
}

/// `weir run -r TRACE --logdir logs --seed 1 ARGS` inside `dir`.
fn run_on(dir: &Path, trace: &Path, args: &[&str]) -> Outcome {
    let child = weir_command()
        .args(["run", "-r", trace.to_str().unwrap(), "--logdir", "logs", "--seed", "1"])
        .args(args)
        .current_dir(dir)
        .spawn()
        .expect("start weir");
    finish(child, Duration::from_secs(120))
}

/// Like [`run_demo`], failing unless weir exits 0.
fn run_ok(dir: &Path, args: &[&str]) -> Outcome {
    run_ok_on(dir, &demo_trace(), args)
}

/// Like [`run_on`], failing unless weir exits 0.
fn run_ok_on(dir: &Path, trace: &Path, args: &[&str]) -> Outcome {
    let out = run_on(dir, trace, args);
    assert!(out.success(), "weir {args:?} failed ({:?}):\n{}", out.status, out.stderr);
    out
}

/// A log without its `#open`/`#close` lines ("" when absent).
fn body(dir: &Path, log: &str) -> String {
    let text = std::fs::read_to_string(dir.join("logs").join(format!("{log}.log"))).unwrap_or_default();
    text.lines().filter(|l| !l.starts_with("#open") && !l.starts_with("#close")).map(|l| format!("{l}\n")).collect()
}

/// reporter.log rows: (level, message, location).
fn reporter(dir: &Path) -> Vec<(String, String, String)> {
    body(dir, "reporter")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| f.get(i).unwrap_or(&"").to_string();
            (get(1), get(2), get(3))
        })
        .collect()
}

/// The standard logs of a baseline run (standard handlers only) in `dir/base`.
fn baseline(dir: &Path) -> PathBuf {
    baseline_on(dir, &demo_trace())
}

/// [`baseline`] on `trace`.
fn baseline_on(dir: &Path, trace: &Path) -> PathBuf {
    let base = dir.join("base");
    std::fs::create_dir_all(&base).unwrap();
    run_ok_on(&base, trace, &[]);
    assert!(!body(&base, "conn").is_empty(), "the baseline wrote no conn.log");
    base
}

/// Asserts that conn, weird and tunnel logs of `dir` are those of `base`.
fn same_standard_logs(dir: &Path, base: &Path) {
    for log in ["conn", "weird", "tunnel"] {
        assert_eq!(body(dir, log), body(base, log), "{log}.log differs from the run without the hostile handler");
    }
}

#[test]
fn standard_log_names_are_reserved() {
    for (i, trace) in hostile_traces("quotas").iter().enumerate() {
        reserved_names_on(&scratch_dir(&format!("quotas-reserved-names-{i}")), trace);
    }
}

fn reserved_names_on(dir: &Path, trace: &Path) {
    let dir = dir.to_path_buf();
    let base = baseline_on(&dir, trace);
    let connections = body(&base, "conn").lines().filter(|l| !l.starts_with('#')).count();
    let h = handler(&dir, "claim_standard_logs.wasm", weir_sandbox::testing::hostile("claim_standard_logs.wasm"));
    run_ok_on(&dir, trace, &["--handler", h.to_str().unwrap()]);
    same_standard_logs(&dir, &base);
    let files: Vec<String> = std::fs::read_dir(dir.join("logs")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!files.iter().any(|f| f.eq_ignore_ascii_case("conn.log") && f != "conn.log"), "CONN.log was created: {files:?}");
    for f in &files {
        let text = std::fs::read_to_string(dir.join("logs").join(f)).unwrap();
        assert!(!text.contains("CFORGED"), "forged row in {f}");
    }
    let rep = reporter(&dir);
    let me = "claim_standard_logs.wasm";
    for name in ["conn", "weird", "reporter", "tunnel", "CONN"] {
        assert!(
            rep.iter().any(|(l, m, loc)| l == "Reporter::INFO" && m.starts_with(&format!("claim-standard-logs: {name} refused: ")) && loc == me),
            "{name} was not refused: {rep:?}"
        );
        // The host reports the refusal itself, naming the handler.
        assert!(
            rep.iter().any(|(l, m, loc)| l == "Reporter::WARNING"
                && m.starts_with(&format!("handler {me}: log {name} refused: "))
                && m.contains("reserved")
                && loc == me),
            "no warning for {name}: {rep:?}"
        );
    }
    // Its traps are in reporter.log: one per connection, disabled at the fifth.
    let traps = rep.iter().filter(|(l, m, _)| l == "Reporter::ERROR" && m.starts_with(&format!("handler {me}: event new_connection: "))).count();
    assert_eq!(traps, connections.min(5), "{rep:?}");
    let disabled = rep.iter().any(|(_, m, _)| m == &format!("handler {me}: disabled after 5 traps within 60 s"));
    assert_eq!(disabled, connections >= 5);
}

#[test]
fn a_handler_grabbing_log_streams_gets_its_own_quota_only() {
    for (i, trace) in hostile_traces("quotas").iter().enumerate() {
        grab_streams_on(&scratch_dir(&format!("quotas-streams-{i}")), trace);
    }
}

fn grab_streams_on(dir: &Path, trace: &Path) {
    let dir = dir.to_path_buf();
    let base = baseline_on(&dir, trace);
    let grabbers: Vec<PathBuf> =
        (0..3).map(|i| handler(&dir, &format!("grab{i}.wasm"), weir_sandbox::testing::hostile("grab_streams.wasm"))).collect();
    let mut args = Vec::new();
    for g in &grabbers {
        args.extend(["--handler", g.to_str().unwrap()]);
    }
    run_ok_on(&dir, trace, &args);
    same_standard_logs(&dir, &base);
    let rep = reporter(&dir);
    let got: Vec<&String> =
        rep.iter().filter(|(_, m, _)| m.starts_with("grab-streams: got ") && !m.starts_with("grab-streams: got 0 ")).map(|(_, m, _)| m).collect();
    assert_eq!(got.len(), 1, "the three grabbers share stream names, so the first owns them: {rep:?}");
    assert!(got[0].starts_with(&format!("grab-streams: got {STREAMS_PER_HANDLER} streams")), "{got:?}");
    let grab_files = std::fs::read_dir(dir.join("logs")).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("grab-")).count();
    assert_eq!(grab_files, STREAMS_PER_HANDLER);
    // reporter.log is the standard handler's, with every grabber's report.
    for i in 1..3 {
        let me = format!("grab{i}.wasm");
        assert!(rep.iter().any(|(_, m, loc)| m.starts_with("grab-streams: got 0 streams") && loc == &me), "{me}: {rep:?}");
    }
}

/// A component exporting `bro-init` that instantiates `tables` core modules with one table each.
fn many_tables_component(tables: usize) -> Vec<u8> {
    let instances: String = (0..tables).map(|_| "(core instance (instantiate $t))\n").collect();
    wat::parse_str(format!(
        r#"(component
            (core module $t (table 1 funcref))
            {instances}
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func $f (canon lift (core func $i "f")))
            (instance $e (export "bro-init" (func $f)))
            (export "weir:events/bro-init@0.1.0" (instance $e)))"#
    ))
    .expect("valid component text")
}

#[test]
fn handlers_holding_many_tables_leave_the_standard_handlers_theirs() {
    // Nine handlers of 31 tables each used to take every table of the shared
    // pool at bro_init, and the standard conn handler then could not be
    // instantiated: each now has a share of its own.
    let dir = scratch_dir("quotas-tables");
    let base = baseline(&dir);
    let big = many_tables_component(31);
    let files: Vec<PathBuf> = (0..9).map(|i| handler(&dir, &format!("tables{i}.wasm"), &big)).collect();
    let mut args = Vec::new();
    for f in &files {
        args.extend(["--handler", f.to_str().unwrap()]);
    }
    run_ok(&dir, &args);
    same_standard_logs(&dir, &base);
    let rep = reporter(&dir);
    assert!(!rep.iter().any(|(l, _, _)| l == "Reporter::ERROR"), "{rep:?}");
}

#[test]
fn a_handler_bigger_than_its_share_of_the_pool_is_refused_at_load() {
    let dir = scratch_dir("quotas-too-big");
    let file = handler(&dir, "too-big.wasm", &many_tables_component(40));
    // Twice: the second run must not find a cache entry for it either.
    for _ in 0..2 {
        let out = run_demo(&dir, &["--handler", file.to_str().unwrap()]);
        assert_one_clear_line(&out, "too-big.wasm");
        assert!(out.stderr.contains("share of the instance pool"), "{}", out.stderr);
    }
}

#[test]
fn a_handler_set_that_does_not_fit_is_refused_at_load() {
    // Beside the standard handlers, one more than a run holds.
    let dir = scratch_dir("quotas-too-many");
    let small = many_tables_component(1);
    let extra = weir_sandbox::MAX_HANDLERS as usize + 1 - weir_sandbox::standard::HANDLERS.len();
    let files: Vec<PathBuf> = (0..extra).map(|i| handler(&dir, &format!("h{i:02}.wasm"), &small)).collect();
    let mut args = Vec::new();
    for f in &files {
        args.extend(["--handler", f.to_str().unwrap()]);
    }
    let out = run_demo(&dir, &args);
    assert_one_clear_line(&out, &format!("h{:02}.wasm: too many handlers: at most 64", extra - 1));
    // Without the standard handlers the same set fits.
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    args.push("--no-default-handlers");
    run_ok(&dir, &args);
}

#[test]
fn each_handler_has_a_unique_identity() {
    let dir = scratch_dir("quotas-identity");
    let base = baseline(&dir);
    let bytes = weir_sandbox::testing::hostile("trap_panic.wasm");
    let h = handler(&dir, "conn.wasm", bytes);
    let hs = h.to_str().unwrap();
    // The same file twice, or two files of the same name: refused.
    assert_one_clear_line(&run_demo(&dir, &["--handler", hs, "--handler", hs]), "conn.wasm");
    std::fs::create_dir_all(dir.join("other")).unwrap();
    std::fs::write(dir.join("other/conn.wasm"), bytes).unwrap();
    let other = dir.join("other/conn.wasm");
    assert_one_clear_line(&run_demo(&dir, &["--handler", hs, "--handler", other.to_str().unwrap()]), "conn.wasm");
    // A file named conn.wasm is not the standard conn handler: its traps carry its own name,
    // and the standard one is addressed as `conn` (here with more fuel).
    run_ok(&dir, &["--handler", hs, "--handler-fuel", "conn=20000000"]);
    same_standard_logs(&dir, &base);
    let rep = reporter(&dir);
    let traps: Vec<_> = rep.iter().filter(|(l, _, _)| l == "Reporter::ERROR").collect();
    assert!(!traps.is_empty());
    for (_, m, loc) in &traps {
        assert_eq!(loc, "conn.wasm", "{m}");
        assert!(m.starts_with("handler conn.wasm: "), "{m}");
    }
}

#[test]
fn reporter_messages_cannot_forge_stderr_lines() {
    let dir = scratch_dir("quotas-imitate");
    let h = handler(&dir, "imitate_weir.wasm", weir_sandbox::testing::hostile("imitate_weir.wasm"));
    let out = run_ok(&dir, &["--handler", h.to_str().unwrap()]);
    for c in ['\r', '\x1b', '\x07'] {
        assert!(!out.stderr.contains(c), "raw {c:?} on stderr:\n{}", out.stderr);
    }
    let forged = out.stderr.lines().filter(|l| l.starts_with("2038-01-19")).count();
    assert_eq!(forged, 0, "a forged line on stderr:\n{}", out.stderr);
    // Each message is on one line, its line breaks shown escaped (the third is
    // an info message, below stderr's default level).
    for what in ["newline", "carriage return"] {
        let line = out.stderr.lines().find(|l| l.contains(&format!("imitate-weir: {what}"))).unwrap_or_else(|| panic!("{what}: {}", out.stderr));
        assert!(line.contains("2038-01-19T03:14:07"), "{line}");
    }
}
