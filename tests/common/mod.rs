//! Helpers shared by the integration tests: running the `weir` binary,
//! scratch folders, and reading Zeek logs into rows of name → value.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The `weir` binary cargo built for these tests.
pub fn weir_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_weir"))
}

/// The repository root (this crate lives in `runtime/cli`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// `tests/traces/demo.pcap`.
pub fn demo_trace() -> PathBuf {
    repo_root().join("tests/traces/demo.pcap")
}

/// An empty scratch folder for one test, under cargo's per-target temp folder.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("weir-tests")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clear scratch folder");
    }
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status; `None` when it was killed after the timeout.
    pub status: Option<ExitStatus>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Outcome {
    /// True when the process exited by itself with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The exit code, if the process exited normally.
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// The non-blank lines of stderr.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

/// `weir` with stdin closed, stdout/stderr piped, no log-level variables
/// (`RUST_LOG`, `WEIR_LOG`) from the test's environment and no colours.
pub fn weir_command() -> Command {
    let mut cmd = Command::new(weir_bin());
    cmd.env_remove("RUST_LOG")
        .env_remove("WEIR_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts `weir ARGS` (see [`weir_command`]).
pub fn spawn_weir<I, S>(args: I) -> Child
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    weir_command().args(args).spawn().expect("start weir")
}

/// Waits for a spawned child (killing it after `timeout`) and collects its output.
pub fn finish(mut child: Child, timeout: Duration) -> Outcome {
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for weir") {
            Some(st) => break Some(st),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    Outcome {
        status,
        stdout,
        stderr,
    }
}

/// Runs `weir ARGS` to completion (at most two minutes).
pub fn run_weir<I, S>(args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    finish(spawn_weir(args), Duration::from_secs(120))
}

/// Runs `weir run -r TRACE --logdir LOGDIR --seed 1 EXTRA...`; returns the
/// arguments used and the outcome, whatever it was.
pub fn run_trace_unchecked(trace: &Path, logdir: &Path, extra: &[&str]) -> (Vec<String>, Outcome) {
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("run"),
        OsStr::new("-r"),
        trace.as_os_str(),
        OsStr::new("--logdir"),
        logdir.as_os_str(),
        OsStr::new("--seed"),
        OsStr::new("1"),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let out = run_weir(&args);
    (args.iter().map(|a| a.to_string_lossy().into_owned()).collect(), out)
}

/// Like [`run_trace_unchecked`], failing the test with weir's stderr when it
/// does not exit with status 0.
pub fn run_trace(trace: &Path, logdir: &Path, extra: &[&str]) -> Outcome {
    let (args, out) = run_trace_unchecked(trace, logdir, extra);
    assert!(out.success(), "weir {:?} failed ({:?}); stderr:\n{}", args, out.status, out.stderr);
    out
}

/// One Zeek log: its columns and its records as name → value.
#[derive(Debug, Default)]
pub struct ZeekLog {
    /// Column names, in order (from `#fields`, or from the JSON keys seen).
    pub fields: Vec<String>,
    /// Records; every TSV column is present (`-` = unset, `(empty)` = empty).
    pub rows: Vec<HashMap<String, String>>,
}

impl ZeekLog {
    /// Records whose `column` equals `value`.
    pub fn rows_with<'a>(&'a self, column: &str, value: &str) -> Vec<&'a HashMap<String, String>> {
        self.rows
            .iter()
            .filter(|r| r.get(column).map(String::as_str) == Some(value))
            .collect()
    }

    /// The record of a connection found by its 5-tuple (`proto` is `tcp`, `udp`, `icmp`).
    pub fn conn(
        &self,
        orig_h: &str,
        orig_p: u16,
        resp_h: &str,
        resp_p: u16,
        proto: &str,
    ) -> Vec<&HashMap<String, String>> {
        let (op, rp) = (orig_p.to_string(), resp_p.to_string());
        self.rows
            .iter()
            .filter(|r| {
                r.get("id.orig_h").map(String::as_str) == Some(orig_h)
                    && r.get("id.orig_p") == Some(&op)
                    && r.get("id.resp_h").map(String::as_str) == Some(resp_h)
                    && r.get("id.resp_p") == Some(&rp)
                    && r.get("proto").map(String::as_str) == Some(proto)
            })
            .collect()
    }
}

/// Reads a Zeek TSV log (`#fields` header; `#separator \x09`).
pub fn read_zeek_tsv(path: &Path) -> Result<ZeekLog, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut log = ZeekLog::default();
    let mut sep = "\t".to_string();
    for (n, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("#separator ") {
            sep = unescape(rest.trim());
        } else if let Some(rest) = line.strip_prefix("#fields") {
            log.fields = rest
                .split(sep.as_str())
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else {
            if log.fields.is_empty() {
                return Err(format!(
                    "{}:{}: record before the #fields line",
                    path.display(),
                    n + 1
                ));
            }
            let vals: Vec<&str> = line.split(sep.as_str()).collect();
            if vals.len() != log.fields.len() {
                return Err(format!(
                    "{}:{}: {} values for {} fields",
                    path.display(),
                    n + 1,
                    vals.len(),
                    log.fields.len()
                ));
            }
            log.rows.push(
                log.fields
                    .iter()
                    .cloned()
                    .zip(vals.into_iter().map(String::from))
                    .collect(),
            );
        }
    }
    if log.fields.is_empty() {
        return Err(format!("{}: no #fields line", path.display()));
    }
    Ok(log)
}

/// Reads a JSON-lines log; values are rendered as a TSV log would show them
/// (numbers and strings as text, `T`/`F` for booleans, sets joined by `,`).
/// Fields absent from a record are `-` (unset).
pub fn read_zeek_json(path: &Path) -> Result<ZeekLog, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut log = ZeekLog::default();
    let mut objs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        let serde_json::Value::Object(map) = v else {
            return Err(format!("{}:{}: not a JSON object", path.display(), n + 1));
        };
        for k in map.keys() {
            if !log.fields.contains(k) {
                log.fields.push(k.clone());
            }
        }
        objs.push(map);
    }
    for map in objs {
        let mut row: HashMap<String, String> =
            log.fields.iter().map(|f| (f.clone(), "-".into())).collect();
        for (k, v) in map {
            row.insert(k, json_text(&v));
        }
        log.rows.push(row);
    }
    Ok(log)
}

/// Reads `DIR/<name>.log` as TSV, or a JSON-lines file of that stream.
pub fn read_stream(dir: &Path, name: &str) -> Result<ZeekLog, String> {
    let tsv = dir.join(format!("{name}.log"));
    if let Ok(head) = std::fs::read_to_string(&tsv) {
        if head.starts_with('#') {
            return read_zeek_tsv(&tsv);
        }
        return read_zeek_json(&tsv);
    }
    for ext in ["json", "log.json", "jsonl"] {
        let p = dir.join(format!("{name}.{ext}"));
        if p.exists() {
            return read_zeek_json(&p);
        }
    }
    Err(format!("no {name} log in {}", dir.display()))
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::Bool(b) => if *b { "T" } else { "F" }.into(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) if a.is_empty() => "(empty)".into(),
        serde_json::Value::Array(a) => a.iter().map(json_text).collect::<Vec<_>>().join(","),
        serde_json::Value::Object(_) => v.to_string(),
    }
}

fn unescape(s: &str) -> String {
    if let Some(hex) = s.strip_prefix("\\x") {
        if let Ok(b) = u8::from_str_radix(hex, 16) {
            return (b as char).to_string();
        }
    }
    s.to_string()
}

/// Asserts that a failed run explained itself in exactly one stderr line
/// that contains `needle`, without a panic or a backtrace.
pub fn assert_one_clear_line(out: &Outcome, needle: &str) {
    assert!(out.status.is_some(), "weir did not exit within the timeout");
    assert!(
        !out.success(),
        "weir exited with status 0; stderr:\n{}",
        out.stderr
    );
    assert_ne!(out.code(), Some(101), "weir panicked:\n{}", out.stderr);
    assert!(
        out.code().is_some(),
        "weir was killed by a signal:\n{}",
        out.stderr
    );
    let lines = out.stderr_lines();
    assert_eq!(
        lines.len(),
        1,
        "expected one stderr line, got:\n{}",
        out.stderr
    );
    assert!(
        lines[0].contains(needle),
        "stderr line {:?} does not name {needle:?}",
        lines[0]
    );
    assert!(
        !lines[0].contains("panicked"),
        "panic message: {}",
        lines[0]
    );
}

/// True when this process runs as root (uid 0).
pub fn is_root() -> bool {
    proc_status_field("Uid:")
        .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap_or(false)
}

/// True when this process holds CAP_NET_RAW (needed for live capture).
pub fn has_cap_net_raw() -> bool {
    proc_status_field("CapEff:")
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 13) != 0)
}

fn proc_status_field(name: &str) -> Option<String> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
}

/// True when `python3` runs.
pub fn have_python3() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Asserts that `tests/traces/<trace>` is exactly what `scripts/<script>`
/// writes (skips with a printed reason without python3).
pub fn assert_trace_is_generated(script: &str, trace: &str) {
    if !have_python3() {
        println!("skipped: python3 not found");
        return;
    }
    let dir = scratch_dir(&format!("gen-{trace}"));
    let out = dir.join(trace);
    let st = std::process::Command::new("python3")
        .arg(repo_root().join("scripts").join(script))
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("run {script}: {e}"));
    assert!(st.success(), "{script} failed");
    let want = std::fs::read(repo_root().join("tests/traces").join(trace)).expect("committed trace");
    let got = std::fs::read(&out).expect("generated trace");
    assert!(got == want, "tests/traces/{trace} differs from scripts/{script} output: regenerate it");
}

/// Offsets of the records of a little-endian microsecond pcap file:
/// (record start, record end) for each packet.
pub fn pcap_records(data: &[u8]) -> Vec<(usize, usize)> {
    assert_eq!(
        &data[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "demo.pcap is a little-endian pcap"
    );
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let caplen = u32::from_le_bytes(data[off + 8..off + 12].try_into().unwrap()) as usize;
        out.push((off, off + 16 + caplen));
        off += 16 + caplen;
    }
    assert_eq!(off, data.len(), "demo.pcap ends on a record boundary");
    out
}

/// The rows of log `name` in `dir` as sorted text, without the columns that
/// hold UIDs (`uid`, `tunnel_parents`): runs that name connections
/// differently (other seeds, other worker counts) compare equal when they
/// logged the same things. A missing log has no rows.
pub fn rows_without_uids(dir: &Path, name: &str) -> Vec<String> {
    let mut v: Vec<String> = read_stream(dir, name)
        .map(|l| {
            l.rows
                .iter()
                .map(|r| {
                    let mut cols: Vec<_> = r.iter().filter(|(k, _)| !matches!(k.as_str(), "uid" | "tunnel_parents")).collect();
                    cols.sort();
                    format!("{cols:?}")
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The traces the hostile-handler tests run on: the repository's demo trace,
/// and a tunnelled oracle trace when `../shared` is there (`who` names the
/// test in the line saying it was skipped).
pub fn hostile_traces(who: &str) -> Vec<PathBuf> {
    let mut v = vec![demo_trace()];
    let oracle = repo_root().join("../shared/oracle/dev/core.tunnels.gre-in-gre/gre-within-gre.pcap");
    if oracle.exists() {
        v.push(oracle);
    } else {
        eprintln!("{who}: oracle trace skipped: {} not found", oracle.display());
    }
    v
}
