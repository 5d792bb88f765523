//! Loading handlers and writing logs under attack: forged log names, columns
//! and values; a compile cache whose folder, entries or key were tampered
//! with; components with wrongly typed exports, too large or too slow to
//! compile; symbolic links in and as granted folders.

mod common;

use common::{assert_one_clear_line, demo_trace, finish, read_zeek_tsv, run_trace, run_trace_unchecked, run_weir, scratch_dir, weir_command, Outcome};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

include!("../examples/hostile/forge-logs/src/forged.rs");

/// Writes hostile handler `name` into `dir`; returns its path.
fn handler(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, weir_sandbox::testing::hostile(name)).unwrap();
    path
}

/// The lines of a log without `#open`/`#close` (which carry the wall clock).
fn body(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
        .map(String::from)
        .collect()
}

/// The file names in a folder, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Zeek's ASCII reader's unescaping: `\\` and `\xNN`.
fn zeek_unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\\' {
            out.push(b'\\');
            i += 2;
        } else if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).expect("hex escape"));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 after unescaping")
}

/// A TSV field as Zeek reads it back: `(empty)` is the empty string.
fn zeek_field(s: &str) -> String {
    if s == "(empty)" {
        String::new()
    } else {
        zeek_unescape(s)
    }
}

/// The reporter.log messages of a run.
fn reporter_messages(logs: &Path) -> Vec<String> {
    let log = read_zeek_tsv(&logs.join("reporter.log")).expect("reporter.log");
    log.rows.iter().map(|r| zeek_unescape(&r["message"])).collect()
}

#[test]
fn forged_log_names_columns_and_values_are_refused_or_escaped() {
    let dir = scratch_dir("loading-forge");
    let plain = dir.join("plain");
    run_trace(&demo_trace(), &plain, &[]);
    let forge = handler(&dir, "forge_logs.wasm");
    let logs = dir.join("logs");
    run_trace(&demo_trace(), &logs, &["--handler", forge.to_str().unwrap()]);

    // The standard logs are untouched.
    for name in ["conn.log", "weird.log", "tunnel.log"] {
        assert_eq!(body(&plain.join(name)), body(&logs.join(name)), "{name}");
    }
    // Every forged stream or column was refused, and no file was made for it.
    let msgs = reporter_messages(&logs);
    let creates: Vec<&String> = msgs.iter().filter(|m| m.starts_with("forge-logs: create")).collect();
    assert_eq!(creates.len(), 13, "{msgs:#?}");
    for m in &creates {
        assert!(m.ends_with(": refused"), "{m}");
    }
    // Only forge.log is added (and reporter.log, which carries the refusals).
    let mut expected: std::collections::BTreeSet<String> = files(&plain).into_iter().collect();
    expected.extend(["forge.log".to_string(), "reporter.log".to_string()]);
    assert_eq!(files(&logs), expected.into_iter().collect::<Vec<_>>());
    assert!(!dir.join("escape.log").exists());

    // forge.log is one Zeek TSV log: one header, one row per forged value,
    // each reading back as exactly what was written.
    let text = std::fs::read_to_string(logs.join("forge.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let headers: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with('#')).collect();
    assert_eq!(headers.len(), 9, "{headers:#?}");
    assert_eq!(headers.iter().filter(|l| l.starts_with("#fields")).count(), 1);
    assert!(lines.last().unwrap().starts_with("#close\t"));
    assert_eq!(lines.iter().position(|l| !l.starts_with('#')), Some(8), "rows follow the 8 header lines");
    let rows: Vec<&str> = lines.iter().copied().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), FORGED.len(), "{rows:#?}");
    for (row, want) in rows.iter().zip(FORGED) {
        assert!(!row.chars().any(|c| c.is_control() && c != '\t'), "{row:?}");
        let cols: Vec<&str> = row.split('\t').collect();
        assert_eq!(cols.len(), 2, "{row:?}");
        assert_eq!(zeek_field(cols[0]), *want, "{row:?}");
        let tags: Vec<String> = cols[1].split(',').map(zeek_field).collect();
        assert_eq!(tags, [want.to_string(), "x,y".into(), String::new()], "{row:?}");
        if !want.is_empty() && (*want == "-" || *want == "(empty)") {
            assert_ne!(cols[0], *want, "a marker value is escaped");
        }
    }
    let log = read_zeek_tsv(&logs.join("forge.log")).unwrap();
    assert_eq!(log.fields, ["msg", "tags"]);
}

#[test]
fn forged_values_stay_inside_their_json_strings() {
    let dir = scratch_dir("loading-forge-json");
    let plain = dir.join("plain");
    run_trace(&demo_trace(), &plain, &["--log-format", "json"]);
    let forge = handler(&dir, "forge_logs.wasm");
    let logs = dir.join("logs");
    run_trace(&demo_trace(), &logs, &["--log-format", "json", "--handler", forge.to_str().unwrap()]);
    for name in ["conn.log", "weird.log", "tunnel.log"] {
        assert_eq!(body(&plain.join(name)), body(&logs.join(name)), "{name}");
    }
    let text = std::fs::read_to_string(logs.join("forge.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), FORGED.len());
    for (line, want) in lines.iter().zip(FORGED) {
        assert!(line.starts_with("{\"msg\":"), "{line}");
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 2, "{line}");
        let msg = obj["msg"].as_str().unwrap();
        // Zeek's JSON keeps \b \f \n \r \t and valid UTF-8, and writes other
        // controls as \xNN text (once one is there, every non-ASCII byte too).
        if want.chars().all(|c| !c.is_control() || "\n\r\t".contains(c)) && !want.contains('\u{85}') {
            assert_eq!(msg, *want, "{line}");
        } else {
            assert!(!msg.chars().any(|c| c.is_control() && !"\n\r\t".contains(c)), "{line}");
        }
        assert_eq!(obj["tags"].as_array().unwrap().len(), 3);
    }
    assert!(lines[5].contains("\\\\x1b[31mred"), "{}", lines[5]);
}

/// A component exporting one `weir:events` interface whose one function has
/// the type `func` (component-model text), lifted from an empty core function.
fn component_exporting(iface: &str, function: &str, func: &str, core_params: &str, core_results: &str) -> Vec<u8> {
    let wat = format!(
        r#"(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
    (func (export "f") {core_params} {core_results} unreachable))
  (core instance $i (instantiate $m))
  (func $f {func} (canon lift (core func $i "f") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (instance $inst (export "{function}" (func $f)))
  (export "weir:events/{iface}@0.1.0" (instance $inst)))"#
    );
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}

#[test]
fn exports_of_the_wrong_type_are_refused_at_load() {
    let dir = scratch_dir("loading-types");
    let cases = [
        ("string_conn.wasm", component_exporting("new-connection", "new-connection", r#"(param "c" string)"#, "(param i32 i32)", ""), "new-connection"),
        ("result_init.wasm", component_exporting("bro-init", "bro-init", "(result u32)", "", "(result i32)"), "bro-init"),
        ("few_params.wasm", component_exporting("net-weird", "net-weird", r#"(param "name" string)"#, "(param i32 i32)", ""), "net-weird"),
        ("string_level.wasm", component_exporting("bro-script-loaded", "bro-script-loaded", r#"(param "path" string) (param "level" string)"#, "(param i32 i32 i32 i32)", ""), "bro-script-loaded"),
    ];
    for (file, bytes, function) in cases {
        let path = dir.join(file);
        std::fs::write(&path, bytes).unwrap();
        let iface = format!("weir:events/{function}@0.1.0");
        let out = run_weir(["check", path.to_str().unwrap()]);
        assert_one_clear_line(&out, &iface);
        assert!(out.stderr.contains(&format!("function {function} does not match the WIT")), "{}", out.stderr);
        let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("logs"), &["--handler", path.to_str().unwrap()]);
        assert_one_clear_line(&out, &iface);
    }
    // The same shape with the WIT's types passes.
    let path = dir.join("good_init.wasm");
    std::fs::write(&path, component_exporting("bro-init", "bro-init", "", "", "")).unwrap();
    let out = run_weir(["check", path.to_str().unwrap()]);
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stdout.contains("events: bro_init"), "{}", out.stdout);
    let path = dir.join("good_weird.wasm");
    let func = r#"(param "name" string) (param "addl" string) (param "source" string)"#;
    std::fs::write(&path, component_exporting("net-weird", "net-weird", func, "(param i32 i32 i32 i32 i32 i32)", "")).unwrap();
    let out = run_weir(["check", path.to_str().unwrap()]);
    assert!(out.success(), "{}", out.stderr);
    // Every real handler passes the check.
    for name in ["forge_logs.wasm", "symlink_escape.wasm", "flood_log.wasm", "huge_strings.wasm"] {
        let out = run_weir(["check", handler(&dir, name).to_str().unwrap()]);
        assert!(out.success(), "{name}: {}", out.stderr);
    }
}

#[test]
fn oversized_and_endless_handler_files_are_refused() {
    let dir = scratch_dir("loading-size");
    let big = dir.join("big.wasm");
    let mut bytes = weir_sandbox::testing::hostile("flood_log.wasm").to_vec();
    bytes.resize(3 << 20, 0);
    std::fs::write(&big, &bytes).unwrap();
    let out = run_weir(["check", "--max-handler-mb", "2", big.to_str().unwrap()]);
    assert_one_clear_line(&out, "larger than the handler size limit of 2 MiB");
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("logs"), &["--max-handler-mb", "2", "--handler", big.to_str().unwrap()]);
    assert_one_clear_line(&out, "--max-handler-mb");
    // A device that never ends is not read.
    let out = run_weir(["check", "/dev/zero"]);
    assert_one_clear_line(&out, "not a regular file");
    // Raising the limit lets the real handler through to the next check.
    let ok = handler(&dir, "flood_log.wasm");
    let out = run_weir(["check", "--max-handler-mb", "1", ok.to_str().unwrap()]);
    assert!(out.success(), "{}", out.stderr);
}

#[test]
fn a_handler_slower_to_compile_than_the_limit_is_refused() {
    let dir = scratch_dir("loading-compile-time");
    let path = handler(&dir, "flood_log.wasm");
    let out = run_weir(["check", "--max-compile-secs", "0", path.to_str().unwrap()]);
    assert_one_clear_line(&out, "compiling it takes longer than the limit of 0 s");
    let (_, out) = run_trace_unchecked(
        &demo_trace(),
        &dir.join("logs"),
        &["--no-compile-cache", "--max-compile-secs", "0", "--handler", path.to_str().unwrap()],
    );
    assert_one_clear_line(&out, "--max-compile-secs");
    let out = run_weir(["check", path.to_str().unwrap()]);
    assert!(out.success(), "{}", out.stderr);
}

/// Runs the demo trace with the standard handlers (and `extra`), the compile
/// cache in `cache` and its key in `key`.
fn run_cached(cache: &Path, key: &Path, logs: &Path, extra: &[&str]) -> Outcome {
    let child = weir_command()
        .args(["run", "--seed", "1", "--logdir"])
        .arg(logs)
        .arg("-r")
        .arg(demo_trace())
        .args(extra)
        .env("WEIR_CACHE_DIR", cache)
        .env("WEIR_CACHE_KEY", key)
        .spawn()
        .expect("start weir");
    finish(child, Duration::from_secs(120))
}

/// The cache's entries, sorted.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[test]
fn a_compiled_entry_swapped_in_under_another_name_is_compiled_again() {
    let dir = scratch_dir("loading-cache-swap");
    let (cache, key) = (dir.join("cache"), dir.join("key"));
    let plain = dir.join("plain");
    run_trace(&demo_trace(), &plain, &["--no-compile-cache"]);
    // The hostile handler's entry alone, then the standard ones.
    let hostile = handler(&dir, "flood_reporter.wasm");
    let out = run_cached(&cache, &key, &dir.join("h"), &["--no-default-handlers", "--handler", hostile.to_str().unwrap()]);
    assert!(out.success(), "{}", out.stderr);
    let hostile_entry = entries(&cache);
    assert_eq!(hostile_entry.len(), 1);
    let out = run_cached(&cache, &key, &dir.join("a"), &[]);
    assert!(out.success(), "{}", out.stderr);
    let standard: Vec<PathBuf> = entries(&cache).into_iter().filter(|e| *e != hostile_entry[0]).collect();
    assert_eq!(standard.len(), weir_sandbox::standard::HANDLERS.len(), "one entry per standard handler");
    assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    // The hostile handler's valid entry copied over each standard one.
    let hostile_code = std::fs::read(&hostile_entry[0]).unwrap();
    for e in &standard {
        std::fs::write(e, &hostile_code).unwrap();
    }
    let out = run_cached(&cache, &key, &dir.join("b"), &[]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stderr.matches("compile cache entry refused").count(), weir_sandbox::standard::HANDLERS.len(), "{}", out.stderr);
    for name in ["conn.log", "weird.log", "reporter.log"] {
        assert_eq!(body(&plain.join(name)), body(&dir.join("b").join(name)), "{name}");
    }
    assert!(!body(&dir.join("b/conn.log")).is_empty());
    for e in &standard {
        assert_ne!(std::fs::read(e).unwrap(), hostile_code, "{} was compiled again", e.display());
    }
    // Now the entries are good again: a third run uses them silently.
    let out = run_cached(&cache, &key, &dir.join("c"), &[]);
    assert!(out.success() && out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn a_cache_folder_others_can_write_is_not_used() {
    let dir = scratch_dir("loading-cache-perm");
    let (cache, key) = (dir.join("cache"), dir.join("key"));
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let plain = dir.join("plain");
    run_trace(&demo_trace(), &plain, &["--no-compile-cache"]);
    let out = run_cached(&cache, &key, &dir.join("a"), &[]);
    assert!(out.success(), "{}", out.stderr);
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].contains("compile cache") && lines[0].contains("can be written by other users"), "{}", lines[0]);
    assert!(entries(&cache).is_empty(), "nothing is written into it");
    assert!(!key.exists(), "no key is made for a refused folder");
    assert_eq!(body(&plain.join("conn.log")), body(&dir.join("a/conn.log")));
}

#[test]
fn entries_signed_with_another_key_are_compiled_again() {
    let dir = scratch_dir("loading-cache-key");
    let (cache, key) = (dir.join("cache"), dir.join("key"));
    let out = run_cached(&cache, &key, &dir.join("a"), &[]);
    assert!(out.success(), "{}", out.stderr);
    let before: Vec<Vec<u8>> = entries(&cache).iter().map(|e| std::fs::read(e).unwrap()).collect();
    assert_eq!(before.len(), weir_sandbox::standard::HANDLERS.len());
    // Another key (as if the entries had been made by someone without ours).
    let mut k = std::fs::read(&key).unwrap();
    assert_eq!(k.len(), 32);
    k[0] ^= 0xff;
    std::fs::write(&key, &k).unwrap();
    let out = run_cached(&cache, &key, &dir.join("b"), &[]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stderr.matches("compile cache entry refused").count(), weir_sandbox::standard::HANDLERS.len(), "{}", out.stderr);
    let after: Vec<Vec<u8>> = entries(&cache).iter().map(|e| std::fs::read(e).unwrap()).collect();
    assert_eq!(after.len(), weir_sandbox::standard::HANDLERS.len());
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(b[..32], a[..32], "a new tag");
        assert_eq!(b[32..], a[32..], "the same code");
    }
    assert_eq!(body(&dir.join("a/conn.log")), body(&dir.join("b/conn.log")));
    // A key others can read is refused, with one line, and the run goes on.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_cached(&cache, &key, &dir.join("c"), &[]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("mode 0600"), "{}", out.stderr);
}

#[test]
fn symbolic_links_do_not_lead_out_of_a_granted_folder() {
    let dir = scratch_dir("loading-symlinks");
    std::fs::write(dir.join("secret.txt"), "TOPSECRET-outside\n").unwrap();
    let granted = dir.join("granted");
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(granted.join("ok.txt"), "inside-ok\n").unwrap();
    std::os::unix::fs::symlink(dir.join("secret.txt"), granted.join("abs")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", granted.join("rel")).unwrap();
    std::os::unix::fs::symlink("ok.txt", granted.join("inside")).unwrap();
    std::os::unix::fs::symlink("..", granted.join("updir")).unwrap();
    let h = handler(&dir, "symlink_escape.wasm");
    let grant = format!("symlink_escape.wasm={}", granted.display());
    let args = ["--handler", h.to_str().unwrap(), "--grant-dir", grant.as_str()];
    // Two runs: links the first one planted are there for the second.
    for run in ["a", "b"] {
        let logs = dir.join(run);
        let out = run_trace(&demo_trace(), &logs, &args);
        let msgs = reporter_messages(&logs);
        let said = |what: &str| msgs.iter().find(|m| m.starts_with(&format!("symlink-escape: {what}: "))).cloned().unwrap_or_default();
        assert_eq!(said("abs"), "symlink-escape: abs: denied");
        assert_eq!(said("rel"), "symlink-escape: rel: denied");
        assert_eq!(said("dir-rel"), "symlink-escape: dir-rel: denied");
        assert_eq!(said("planted-up"), "symlink-escape: planted-up: denied");
        assert_eq!(said("inside"), "symlink-escape: inside: read inside-ok");
        for f in files(&logs) {
            assert!(!std::fs::read_to_string(logs.join(&f)).unwrap().contains("TOPSECRET"), "{f} leaked the secret");
        }
        assert!(!out.stderr.contains("TOPSECRET"));
    }
    // A granted folder that is itself a link is refused.
    let link = dir.join("link-to-granted");
    std::os::unix::fs::symlink(&granted, &link).unwrap();
    let grant = format!("symlink_escape.wasm={}", link.display());
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("c"), &["--handler", h.to_str().unwrap(), "--grant-dir", grant.as_str()]);
    assert_one_clear_line(&out, "is a symbolic link");
}
