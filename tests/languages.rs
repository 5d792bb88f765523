//! Handlers in four languages: the port-scan example in Rust, Python,
//! JavaScript and C writes the same scan.log on a real trace; `weir new`
//! projects in each language build and run; Python and JavaScript handlers that
//! spin or allocate forever are stopped while conn.log stays complete; and an
//! ignored benchmark prints what each language costs.
//!
//! The builds need the toolchains of `scripts/setup-guests`. When one is
//! missing these tests fail, unless WEIR_SKIP_MISSING_GUEST_TOOLS=1 is set,
//! in which case they print why and skip.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The four languages, as `weir new --lang` and examples/scan/ name them.
const LANGS: [&str; 4] = ["rust", "python", "js", "c"];

/// Where scripts/setup-guests put the toolchains.
fn tools_dir() -> PathBuf {
    match std::env::var_os("WEIR_GUEST_TOOLS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share/weir/guest-tools"),
    }
}

/// The toolchain files a language's build needs that are absent.
fn missing_tools(lang: &str) -> Vec<String> {
    let tools = tools_dir();
    let files: &[&str] = match lang {
        "python" => &["venv/bin/componentize-py"],
        "js" => &["js/node_modules/.bin/jco"],
        "c" => &["bin/wit-bindgen", "bin/wasm-tools", "wasi_snapshot_preview1.reactor.wasm"],
        _ => &[],
    };
    let mut missing: Vec<String> =
        files.iter().map(|f| tools.join(f)).filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    if lang == "c" && Command::new("clang").arg("--version").output().is_err() {
        missing.push("clang".into());
    }
    missing
}

/// True when every toolchain `langs` need is installed. Otherwise fails the
/// test, or (with WEIR_SKIP_MISSING_GUEST_TOOLS=1) prints why and returns false.
fn toolchains_ready(test: &str, langs: &[&str]) -> bool {
    let missing: Vec<String> = langs.iter().flat_map(|l| missing_tools(l)).collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!("guest toolchains missing (run scripts/setup-guests): {}", missing.join(", "));
    if std::env::var_os("WEIR_SKIP_MISSING_GUEST_TOOLS").is_some_and(|v| v == "1") {
        eprintln!("skipping {test}: {reason}");
        return false;
    }
    panic!("{reason} (set WEIR_SKIP_MISSING_GUEST_TOOLS=1 to skip)");
}

/// Runs `PROJECT/build.sh OUT` and fails the test with its output when it fails.
/// Rust builds go to their own target folder under cargo's temp folder.
fn build(project: &Path, out: &Path) {
    let t0 = Instant::now();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-builds");
    let res = Command::new(project.join("build.sh"))
        .arg(out)
        .env("CARGO_TARGET_DIR", &target)
        .env("WEIR_GUEST_TOOLS", tools_dir())
        .output()
        .expect("run build.sh");
    assert!(
        res.status.success() && out.is_file(),
        "{}/build.sh failed ({}):\n{}\n{}",
        project.display(),
        res.status,
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    println!("built {} in {:.1} s", out.display(), t0.elapsed().as_secs_f64());
}

/// A TSV log without its `#open`/`#close` lines (which carry the wall-clock time).
fn log_body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.starts_with("#open") && !l.starts_with("#close")).map(|l| format!("{l}\n")).collect()
}

/// The data rows of a TSV log.
fn log_rows(path: &Path) -> Vec<String> {
    log_body(path).lines().filter(|l| !l.starts_with('#')).map(String::from).collect()
}

#[test]
fn scan_detector_writes_the_same_scan_log_in_four_languages() {
    if !toolchains_ready("scan_detector_writes_the_same_scan_log_in_four_languages", &LANGS) {
        return;
    }
    let trace = repo_root().join("tests/traces/scan.pcap");
    let dir = scratch_dir("languages-scan");
    let mut logs = Vec::new();
    // One build at a time: the Python and JavaScript ones are heavy.
    for lang in LANGS {
        let wasm = dir.join(format!("scan-{lang}.wasm"));
        build(&repo_root().join("examples/scan").join(lang), &wasm);
        let out = dir.join(lang);
        run_trace(&trace, &out, &["--handler", wasm.to_str().unwrap()]);
        assert!(!out.join("reporter.log").exists(), "{lang}: reporter.log:\n{}", log_body(&out.join("reporter.log")));
        logs.push((lang, log_body(&out.join("scan.log"))));
    }
    // The Rust one finds the three scanners of the trace (gen-demo-trace.py --scan),
    // not the host that reached 19 ports.
    let rust = read_zeek_tsv(&dir.join("rust/scan.log")).unwrap();
    let mut scanners: Vec<&str> = rust.rows.iter().map(|r| r["scanner"].as_str()).collect();
    scanners.sort();
    assert_eq!(scanners, ["198.51.100.99", "2001:db8::66", "203.0.113.66"], "{}", logs[0].1);
    assert!(rust.rows.iter().all(|r| r["ports"] == "20" && r["note"] == "Scan::Port_Scan"), "{}", logs[0].1);
    for (lang, body) in &logs[1..] {
        assert_eq!(body, &logs[0].1, "scan.log of the {lang} handler differs from the Rust one");
    }
}

#[test]
fn weir_new_projects_build_and_run_in_every_language() {
    if !toolchains_ready("weir_new_projects_build_and_run_in_every_language", &LANGS) {
        return;
    }
    let dir = scratch_dir("languages-new");
    let expected = log_rows_of_conn(&dir);
    for lang in LANGS {
        let name = format!("hello-{lang}");
        let project = dir.join(&name);
        let out = run_weir(["new", "--lang", lang, &name, "--dir", project.to_str().unwrap()]);
        assert!(out.success(), "weir new --lang {lang}: {}", out.stderr);
        assert!(out.stdout.contains("build.sh"), "{}", out.stdout);
        let wasm = project.join(format!("{name}.wasm"));
        build(&project, &wasm);
        let logs = dir.join(format!("out-{lang}"));
        run_trace(&demo_trace(), &logs, &["--handler", wasm.to_str().unwrap()]);
        // One row per connection: ts, uid, orig_h, resp_p, history as conn.log has them.
        let rows = log_rows(&logs.join(format!("{name}.log")));
        assert_eq!(rows, expected, "{lang}: {name}.log");
    }
    // A second `weir new` into an existing folder is refused in one line.
    let again = run_weir(["new", "--lang", "c", "hello-c", "--dir", dir.join("hello-c").to_str().unwrap()]);
    assert_one_clear_line(&again, "already exists");
    let bad = run_weir(["new", "--lang", "c", "Hello_C"]);
    assert_one_clear_line(&bad, "invalid handler name");
}

/// conn.log of the demo trace reduced to what the `weir new` templates log:
/// ts, uid, id.orig_h, id.resp_p, history.
fn log_rows_of_conn(dir: &Path) -> Vec<String> {
    let out = dir.join("conn");
    run_trace(&demo_trace(), &out, &[]);
    let conn = read_zeek_tsv(&out.join("conn.log")).unwrap();
    assert_eq!(conn.rows.len(), 9);
    conn.rows
        .iter()
        .map(|r| {
            // conn.log leaves an empty history unset; the templates write the empty string.
            let history = if r["history"] == "-" { "(empty)" } else { r["history"].as_str() };
            [r["ts"].as_str(), &r["uid"], &r["id.orig_h"], &r["id.resp_p"], history].join("\t")
        })
        .collect()
}

#[test]
fn hostile_python_and_javascript_handlers_are_stopped() {
    if !toolchains_ready("hostile_python_and_javascript_handlers_are_stopped", &["python", "js"]) {
        return;
    }
    let dir = scratch_dir("languages-hostile");
    let base = dir.join("base");
    run_trace(&demo_trace(), &base, &[]);
    let conn = log_body(&base.join("conn.log"));
    for name in ["python-loop-forever", "python-allocate-forever", "js-loop-forever", "js-allocate-forever"] {
        let wasm = dir.join(format!("{name}.wasm"));
        build(&repo_root().join("examples/hostile").join(name), &wasm);
        let out = dir.join(name);
        // Fuel stops the spinning ones; fuel metering is off for the allocating ones so
        // that the memory cap (64 MiB) is what stops them (zero-filling costs fuel too).
        let fuel: &[&str] = if name.contains("allocate") { &["--fuel", "0"] } else { &[] };
        let t0 = Instant::now();
        run_trace(&demo_trace(), &out, &[&["--handler", wasm.to_str().unwrap()], fuel].concat());
        println!("{name}: run took {:.1} s", t0.elapsed().as_secs_f64());
        assert_eq!(log_body(&out.join("conn.log")), conn, "{name}: conn.log differs from the run without it");
        let rep = read_zeek_tsv(&out.join("reporter.log")).unwrap();
        let msgs: Vec<&str> = rep.rows.iter().map(|r| r["message"].as_str()).collect();
        println!("{name}: {msgs:#?}");
        let prefix = format!("handler {name}.wasm: event new_connection: ");
        let traps: Vec<&&str> = msgs.iter().filter(|m| m.starts_with(&prefix)).collect();
        // The demo trace has 9 connections: 5 traps, then the handler is disabled.
        assert_eq!(traps.len(), 5, "{msgs:#?}");
        let expected = if name.contains("loop") { "out of fuel (budget 10000000)" } else { "memory limit reached" };
        assert!(traps.iter().all(|m| m.ends_with(expected)), "{name}: expected {expected:?}: {msgs:#?}");
        assert!(msgs.contains(&format!("handler {name}.wasm: disabled after 5 traps within 60 s").as_str()), "{msgs:#?}");
        // Nothing else: every reporter line is about this handler.
        assert!(msgs.iter().all(|m| m.starts_with(&format!("handler {name}.wasm: "))), "{msgs:#?}");
    }
}

/// Median of a few durations.
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Prints, for the scan detector in each language: component size, compile and
/// instantiation time, cost per connection_state_remove relative to Rust, and
/// fuel per event. `cargo test --release -p weir --test languages -- --ignored --nocapture`
#[test]
#[ignore = "benchmark: prints the language cost table of guest-sdk/README.md"]
fn language_costs() {
    use weir_engine::events::values::conn_id;
    use weir_engine::events::{Connection, Endpoint, Event, EventQueue};
    use weir_sandbox::{Sandbox, SandboxConfig};
    if !toolchains_ready("language_costs", &LANGS) {
        return;
    }
    let dir = scratch_dir("languages-costs");
    // 2000 connections from 100 originators to 40 ports each (some cross the threshold).
    let events: Vec<Event> = (0..2000u32)
        .map(|i| {
            let c = Connection {
                id: conn_id(
                    (format!("10.0.{}.{}", i % 100 / 10, i % 10 + 1).parse().unwrap(), 40000 + (i % 1000) as u16),
                    ("10.1.0.1".parse().unwrap(), 1000 + (i / 100 * 3 % 40) as u16),
                    6,
                ),
                orig: Endpoint { num_pkts: Some(1), num_bytes_ip: Some(44), ..Endpoint::default() },
                resp: Endpoint { num_pkts: Some(1), num_bytes_ip: Some(40), ..Endpoint::default() },
                start_time: 1700000000.0 + i as f64 * 0.001,
                duration: 0.0005,
                service: vec![],
                history: "Sr".into(),
                uid: format!("Cbench{i}"),
                tunnel: None,
                vlan: None,
                inner_vlan: None,
            };
            Event::ConnectionStateRemove { c: Box::new(c) }
        })
        .collect();
    let rounds = 5;
    let mut table = Vec::new();
    for lang in LANGS {
        let wasm = dir.join(format!("scan-{lang}.wasm"));
        build(&repo_root().join("examples/scan").join(lang), &wasm);
        let size = std::fs::metadata(&wasm).unwrap().len();
        let (mut compile, mut inst, mut per_event) = (Vec::new(), Vec::new(), Vec::new());
        let mut fuel = (0, 0);
        for round in 0..rounds {
            let logs = dir.join(format!("{lang}-{round}"));
            let cfg = SandboxConfig { log_dir: logs, ..SandboxConfig::default() };
            let mut sb = Sandbox::new(cfg).unwrap();
            let t0 = Instant::now();
            sb.load_file(&wasm).unwrap();
            compile.push(t0.elapsed());
            // The first event instantiates; time the rest.
            let mut q = EventQueue::new(sb.subscriptions());
            q.push(events[0].clone());
            sb.dispatch(&mut q, 1.0);
            let t0 = Instant::now();
            for ev in &events[1..] {
                q.push(ev.clone());
                sb.dispatch(&mut q, 1.0);
            }
            per_event.push(t0.elapsed() / (events.len() as u32 - 1));
            let st = &sb.handler_stats()[0];
            assert_eq!(st.instantiations, 1, "{lang}: the handler trapped");
            inst.push(st.instantiate_time);
            fuel = (st.fuel / st.calls, st.max_fuel);
            sb.finish().unwrap();
        }
        table.push((lang, size, median(compile), median(inst), median(per_event), fuel));
    }
    let rust = table[0].4.as_secs_f64();
    println!("\n| language | component | compile | instantiate | per event | vs Rust | fuel per event (mean / max) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (lang, size, compile, inst, per, (mean, max)) in &table {
        println!(
            "| {lang} | {:.1} KB | {:.0} ms | {:.0} µs | {:.2} µs | {:.1}× | {mean} / {max} |",
            *size as f64 / 1000.0,
            compile.as_secs_f64() * 1e3,
            inst.as_secs_f64() * 1e6,
            per.as_secs_f64() * 1e6,
            per.as_secs_f64() / rust,
        );
    }
    println!("(median of {rounds} runs; 2000 connection_state_remove events, 100 originators × 40 ports; default fuel budget)");
}
