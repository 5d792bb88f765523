//! Bad input on the command line: weir must say what is wrong in one line,
//! naming the file, and never panic.

mod common;

use common::*;
use std::path::Path;

/// Timestamp of the record starting at `off`, in microseconds since the epoch.
fn record_time(data: &[u8], off: usize) -> u64 {
    let sec = u32::from_le_bytes(data[off..off + 4].try_into().unwrap()) as u64;
    let usec = u32::from_le_bytes(data[off + 4..off + 8].try_into().unwrap()) as u64;
    sec * 1_000_000 + usec
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn a_file_that_is_not_a_trace() {
    let dir = scratch_dir("err-not-a-trace");
    let file = dir.join("notes-not-a-trace.txt");
    std::fs::write(&file, "these are notes, not packets\n".repeat(20)).unwrap();
    let (_, out) = run_trace_unchecked(&file, &dir.join("logs"), &[]);
    assert_one_clear_line(&out, &name_of(&file));
}

#[test]
fn a_trace_that_does_not_exist() {
    let dir = scratch_dir("err-missing-trace");
    let file = dir.join("no-such-trace.pcap");
    let (_, out) = run_trace_unchecked(&file, &dir.join("logs"), &[]);
    assert_one_clear_line(&out, &name_of(&file));
}

#[test]
fn a_trace_cut_in_the_middle_of_a_record() {
    let dir = scratch_dir("err-truncated");
    let data = std::fs::read(demo_trace()).expect("demo.pcap");
    let records = pcap_records(&data);
    // Cut inside the first packet 0.45 s or more after the first one (the
    // first syslog datagram, flow 5): flows 1 (TCP SF), 2 (REJ) and 4 (DNS)
    // are complete before it; no other flow has started.
    let t0 = record_time(&data, records[0].0);
    let (start, end) = *records
        .iter()
        .find(|(s, _)| record_time(&data, *s) >= t0 + 450_000)
        .expect("a record 0.45 s in");
    let cut = start + (end - start) / 2;
    let file = dir.join("demo-truncated.pcap");
    std::fs::write(&file, &data[..cut]).unwrap();
    let logdir = dir.join("logs");

    let out = run_weir([
        "run".as_ref(),
        "-r".as_ref(),
        file.as_os_str(),
        "--logdir".as_ref(),
        logdir.as_os_str(),
        "--seed".as_ref(),
        "1".as_ref(),
    ]);
    // One line naming the file, and the run fails (the logs are still written).
    assert_one_clear_line(&out, &name_of(&file));
    let line = out.stderr_lines()[0];
    let offsets = [start.to_string(), cut.to_string()];
    assert!(
        offsets.iter().any(|o| line.contains(o.as_str())),
        "the line should give the offset of the truncated record ({start}) or where the file ends ({cut}): {line}"
    );

    let log =
        read_zeek_tsv(&logdir.join("conn.log")).expect("conn.log for the packets before the cut");
    let mut tuples: Vec<String> = log
        .rows
        .iter()
        .map(|r| format!("{} {} {}", r["id.orig_p"], r["id.resp_p"], r["proto"]))
        .collect();
    tuples.sort();
    assert_eq!(
        tuples,
        ["49152 80 tcp", "49153 8080 tcp", "53001 53 udp"],
        "rows: {:?}",
        log.rows
    );
    let sf = &log.conn("10.0.0.2", 49152, "198.51.100.7", 80, "tcp")[0];
    assert_eq!(sf["conn_state"], "SF", "{sf:?}");
    assert_eq!(sf["resp_bytes"], "100000", "{sf:?}");
}

/// A handler argument that is not a component: `weir run --handler` and
/// `weir check` both refuse it in one line naming the file.
fn refuses_handler(file: &Path) {
    let dir = file.parent().unwrap();
    let name = name_of(file);
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("logs"), &["--handler", file.to_str().unwrap()]);
    assert_one_clear_line(&out, &name);
    let out = run_weir(["check".as_ref(), file.as_os_str()]);
    assert_one_clear_line(&out, &name);
}

#[test]
fn a_handler_that_is_a_text_file() {
    let dir = scratch_dir("err-handler-text");
    let file = dir.join("handler-notes.txt");
    std::fs::write(&file, "fn main() {}\n").unwrap();
    refuses_handler(&file);
}

#[test]
fn a_handler_that_is_a_core_module() {
    let dir = scratch_dir("err-handler-core");
    let file = dir.join("empty-core-module.wasm");
    // `(module)`: a valid core WebAssembly module, not a component.
    std::fs::write(&file, b"\0asm\x01\0\0\0").unwrap();
    refuses_handler(&file);
}

/// Writes a component given in the WebAssembly text format.
fn component_file(dir: &Path, name: &str, wat_text: &str) -> std::path::PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, wat::parse_str(wat_text).expect("valid component text")).unwrap();
    file
}

#[test]
fn a_handler_for_another_wit_version() {
    let dir = scratch_dir("err-handler-v2");
    let file = component_file(
        &dir,
        "bro-init-v2.wasm",
        r#"(component
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func $f (canon lift (core func $i "f")))
            (instance $e (export "bro-init" (func $f)))
            (export "weir:events/bro-init@0.2.0" (instance $e)))"#,
    );
    refuses_handler(&file);
    let out = run_weir(["check".as_ref(), file.as_os_str()]);
    assert!(out.stderr.contains("weir:events@0.2.0") && out.stderr.contains("weir:events@0.1.0"), "{}", out.stderr);
}

#[test]
fn a_handler_with_an_unknown_import() {
    let dir = scratch_dir("err-handler-import");
    let file = component_file(
        &dir,
        "wants-acme.wasm",
        r#"(component
            (import "acme:evil/thing@1.0.0" (instance (export "f" (func))))
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func $f (canon lift (core func $i "f")))
            (instance $e (export "bro-init" (func $f)))
            (export "weir:events/bro-init@0.1.0" (instance $e)))"#,
    );
    refuses_handler(&file);
    let out = run_weir(["check".as_ref(), file.as_os_str()]);
    assert!(out.stderr.contains("does not provide"), "{}", out.stderr);
}

#[test]
fn check_lists_events_and_imports() {
    let dir = scratch_dir("check-ok");
    let file = dir.join("reporter_in_reporter.wasm");
    std::fs::write(&file, weir_sandbox::testing::hostile("reporter_in_reporter.wasm")).unwrap();
    let out = run_weir(["check".as_ref(), file.as_os_str()]);
    assert!(out.success(), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "events: bro_init, reporter_info, reporter_warning, reporter_error", "{}", out.stdout);
    assert!(lines[1].starts_with("imports: ") && lines[1].contains("weir:events/reporter@0.1.0"), "{}", out.stdout);
}

#[test]
fn a_handler_for_an_event_weir_never_raises_loads() {
    // remote_log belongs to the seed's removed communication framework: declared in
    // the WIT, accepted, never called.
    let dir = scratch_dir("never-raised");
    let file = component_file(
        &dir,
        "remote-log.wasm",
        r#"(component
            (core module $m
                (memory (export "mem") 1)
                (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
                (func (export "f") (param i64 i64 i32 i32)))
            (core instance $i (instantiate $m))
            (func $f (param "level" u64) (param "src" u64) (param "msg" string)
                (canon lift (core func $i "f") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
            (instance $e (export "remote-log" (func $f)))
            (export "weir:events/remote-log@0.1.0" (instance $e)))"#,
    );
    let out = run_weir(["check".as_ref(), file.as_os_str()]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stdout.lines().next(), Some("events: remote_log"), "{}", out.stdout);
    run_trace(&demo_trace(), &dir.join("logs"), &["--handler", file.to_str().unwrap()]);
}

#[test]
fn wit_prints_the_package() {
    let out = run_weir(["wit"]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stdout, weir_sandbox::WIT_TEXT);
    assert!(out.stdout.contains("package weir:events@0.1.0;"));
    // One interface per event (the seed's 73 and the protocol analyzers'),
    // plus types, the host's log, reporter, runtime, analyzers, files and
    // anonymize, and the handlers' signature-eval.
    let interfaces = out.stdout.lines().filter(|l| l.starts_with("interface ")).count();
    let events = out.stdout.lines().filter(|l| l.starts_with("/// Event `")).count();
    assert!(events >= 73, "{events} events");
    assert_eq!(interfaces, events + 8, "every event has its interface");
}

#[test]
fn per_handler_options_name_a_loaded_handler() {
    let dir = scratch_dir("err-handler-options");
    let file = dir.join("loop_forever.wasm");
    std::fs::write(&file, weir_sandbox::testing::hostile("loop_forever.wasm")).unwrap();
    for (flag, value) in [("--handler-fuel", "other.wasm=5"), ("--grant-dir", "other.wasm=/tmp"), ("--handler-fuel", "loop_forever.wasm=lots")] {
        let handler = file.to_str().unwrap();
        let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("logs"), &["--handler", handler, flag, value]);
        assert_one_clear_line(&out, flag);
    }
}

/// Runs the demo trace with the standard handlers and the compile cache in `cache`.
fn run_with_cache(cache: &Path, logs: &Path) -> std::process::Output {
    std::process::Command::new(weir_bin())
        .args(["run", "--seed", "1", "--logdir"])
        .arg(logs)
        .arg("-r")
        .arg(demo_trace())
        .env("WEIR_CACHE_DIR", cache)
        .env("WEIR_CACHE_KEY", cache.with_extension("key"))
        .output()
        .expect("run weir")
}

#[test]
fn a_damaged_compile_cache_entry_is_compiled_again() {
    let dir = scratch_dir("compile-cache");
    let cache = dir.join("cache");
    let first = run_with_cache(&cache, &dir.join("a"));
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let mut entries: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    assert_eq!(entries.len(), weir_sandbox::standard::HANDLERS.len(), "one compiled entry per standard handler: {entries:?}");
    // Cut one entry short and fill another with junk: both are compiled again.
    let whole = std::fs::read(&entries[0]).unwrap();
    std::fs::write(&entries[0], &whole[..whole.len() / 3]).unwrap();
    std::fs::write(&entries[1], b"not compiled code").unwrap();
    let second = run_with_cache(&cache, &dir.join("b"));
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert_eq!(std::fs::read(&entries[0]).unwrap(), whole, "the damaged entry was written again");
    let conn = |d: &str| std::fs::read_to_string(dir.join(d).join("conn.log")).unwrap();
    let rows = |t: String| t.lines().filter(|l| !l.starts_with('#')).map(String::from).collect::<Vec<_>>();
    assert_eq!(rows(conn("a")), rows(conn("b")));
    assert!(!rows(conn("a")).is_empty());
}

#[test]
fn a_handler_option_with_a_value_of_the_wrong_type() {
    let dir = scratch_dir("err-handler-option-value");
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("logs"), &["--set", "HTTP::default_capture_password=maybe"]);
    assert_one_clear_line(&out, "HTTP::default_capture_password");
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("logs"), &["--set", "HTTP::no_such_option=T"]);
    assert_one_clear_line(&out, "HTTP::no_such_option");
}

#[test]
fn new_takes_a_path_as_cargo_new_does() {
    let dir = scratch_dir("new-path");
    let _ = std::fs::remove_dir_all(&dir);
    let project = dir.join("handlers/port-scan");
    let out = run_weir(["new".as_ref(), "--lang".as_ref(), "rust".as_ref(), project.as_os_str()]);
    assert!(out.success(), "{}", out.stderr);
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("Cargo.toml in the project folder");
    assert!(manifest.contains("name = \"port-scan\""), "the folder's name is the handler's:\n{manifest}");
    assert!(project.join("build.sh").is_file());

    // A folder whose name is no handler name: one line, pointing at --name.
    let bad = dir.join("My_Scan");
    let out = run_weir(["new".as_ref(), "--lang".as_ref(), "rust".as_ref(), bad.as_os_str()]);
    assert_one_clear_line(&out, "--name");
    assert!(!bad.exists());
    let out = run_weir(["new".as_ref(), "--lang".as_ref(), "rust".as_ref(), bad.as_os_str(), "--name".as_ref(), "scan".as_ref()]);
    assert!(out.success(), "{}", out.stderr);
    assert!(std::fs::read_to_string(bad.join("Cargo.toml")).unwrap().contains("name = \"scan\""));
}

#[test]
fn a_handler_gets_its_own_memory_cap() {
    let dir = scratch_dir("handler-memory");
    let census = dir.join("packet_census.wasm");
    std::fs::write(&census, weir_sandbox::testing::example("packet_census.wasm")).unwrap();
    let c = census.to_str().unwrap();
    // Over the pool's slot (--memory-mb, 64 by default): one line.
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("over"), &["--handler", c, "--handler-memory", "packet_census.wasm=128"]);
    assert_one_clear_line(&out, "--memory-mb");
    // 1 MiB is less than the component's own initial memory: every call traps
    // and packets.log is never written; the other handlers do not notice.
    let small = run_trace(&demo_trace(), &dir.join("small"), &["--handler", c, "--handler-memory", "packet_census.wasm=1"]);
    assert!(small.stderr.contains("packet_census.wasm: event new_packet: memory limit reached"), "{}", small.stderr);
    assert!(!dir.join("small/packets.log").exists());
    assert!(dir.join("small/conn.log").is_file());
    let enough = run_trace(&demo_trace(), &dir.join("enough"), &["--handler", c, "--handler-memory", "packet_census.wasm=2"]);
    assert!(!enough.stderr.contains("memory limit"), "{}", enough.stderr);
    assert!(dir.join("enough/packets.log").is_file());
}
