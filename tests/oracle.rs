//! conn.log fidelity against Zeek's own baselines: runs `tests/oracle/run`
//! over `../shared/oracle/dev/MANIFEST.tsv` (beside the repository; set
//! `WEIR_ORACLE_MANIFEST` to use another) and compares with `conncmp.py`.
//! Skips with a printed reason when the manifest or python3 is absent.

mod common;

use common::*;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// Cases that must pass. Raised as fidelity lands; it only goes up.
/// 0 while the engine is being written.
const ORACLE_FLOOR: u64 = 103;

fn manifest() -> PathBuf {
    let path = match std::env::var_os("WEIR_ORACLE_MANIFEST") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("../shared/oracle/dev/MANIFEST.tsv"),
    };
    path.canonicalize().unwrap_or(path)
}

/// Prints to the real stderr, past the test harness's capture, so the
/// figure shows in every `cargo test` run.
fn announce(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

#[test]
fn oracle_dev_cases() {
    let manifest = manifest();
    if !manifest.is_file() {
        announce(&format!(
            "oracle: skipped: {} not found",
            manifest.display()
        ));
        return;
    }
    if !have_python3() {
        announce("oracle: skipped: python3 not found");
        return;
    }
    let conncmp = manifest
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("conncmp.py");
    let outdir = scratch_dir("oracle");

    run_oracle(&manifest, &outdir, &[]);

    let cmp = Command::new("python3")
        .arg(&conncmp)
        .arg("--manifest")
        .arg(&manifest)
        .arg("--outdir")
        .arg(&outdir)
        .args(["--quiet", "--json", "-"])
        .output()
        .expect("start conncmp.py");
    // Exit status 1 only means some case failed; the JSON summary tells which.
    assert!(
        matches!(cmp.status.code(), Some(0 | 1)),
        "conncmp.py failed ({}):\n{}",
        cmp.status,
        String::from_utf8_lossy(&cmp.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&cmp.stdout).expect("conncmp.py JSON summary");
    let passed = summary["passed"].as_u64().expect("passed count");
    let failed = summary["failed"].as_u64().expect("failed count");
    let failing: Vec<String> = summary["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["pass"] != serde_json::Value::Bool(true))
        .map(|c| {
            let why = c["errors"]
                .as_array()
                .and_then(|e| e.first())
                .and_then(|e| e.as_str())
                .map_or_else(
                    || {
                        format!(
                            "missing {}, mismatched {}",
                            c["missing"], c["mismatched_records"]
                        )
                    },
                    String::from,
                );
            format!("{}: {}", c["case"].as_str().unwrap_or("?"), why)
        })
        .collect();
    println!("failing cases:\n  {}", failing.join("\n  "));
    announce(&format!(
        "oracle: {passed} of {} dev cases pass (floor {ORACLE_FLOOR}); details: \
         python3 {} --manifest {} --outdir {}",
        passed + failed,
        conncmp.display(),
        manifest.display(),
        outdir.display()
    ));
    assert!(
        passed >= ORACLE_FLOOR,
        "{passed} oracle cases pass, below the floor of {ORACLE_FLOOR}"
    );

    let (compared, skipped) = compare_side_logs(&manifest, &outdir);
    announce(&format!(
        "oracle: weird.log and tunnel.log match Zeek's in all {compared} dev baselines the core \
         can produce ({skipped} need protocol analyzers)"
    ));

    // The same cases with two workers: the same rows, in another order.
    let sharded = scratch_dir("oracle-workers2");
    run_oracle(&manifest, &sharded, &["--weir-arg=--workers", "--weir-arg=2"]);
    let (same, split) = compare_worker_logs(&outdir, &sharded);
    announce(&format!(
        "oracle: with --workers 2, conn/weird/tunnel.log equal the one-thread run's in {same} dev cases \
         (modulo order and UIDs); differing as expected: {split:?}"
    ));
}

/// Runs `tests/oracle/run` over `manifest` into `outdir`, passing `more` to it.
fn run_oracle(manifest: &std::path::Path, outdir: &std::path::Path, more: &[&str]) {
    let run = Command::new(repo_root().join("tests/oracle/run"))
        .arg(manifest)
        .arg(outdir)
        .args(more)
        .env("WEIR", weir_bin())
        .output()
        .expect("start tests/oracle/run");
    println!("{}", String::from_utf8_lossy(&run.stdout));
    assert!(
        run.status.success(),
        "tests/oracle/run failed ({}):\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Cases whose logs legitimately differ between one and several workers:
/// Teredo through a relay carries the two directions of one inner
/// connection between different outer address pairs, so flow-hashing on the
/// outer pair splits it (as AF_PACKET fanout splits it for a Zeek cluster).
const SPLIT_BY_WORKERS: &[&str] = &["core.tunnels.teredo_bubble_with_payload"];

/// Compares every case's conn, weird and tunnel logs of a one-thread run
/// (`one`) and a sharded run (`many`), ignoring row order and the UID
/// columns (`uid`, `tunnel_parents`), which name different random
/// connections in each run. Returns how many cases match, and the known
/// split cases that differ; panics on any other difference.
fn compare_worker_logs(one: &std::path::Path, many: &std::path::Path) -> (usize, Vec<String>) {
    let rows = rows_without_uids;
    let (mut same, mut split, mut wrong) = (0, Vec::new(), Vec::new());
    for entry in std::fs::read_dir(one).unwrap() {
        let case_dir = entry.unwrap().path();
        let case = case_dir.file_name().unwrap().to_string_lossy().to_string();
        if case.starts_with('.') || !case_dir.is_dir() {
            continue;
        }
        let differs: Vec<&str> =
            ["conn", "weird", "tunnel"].into_iter().filter(|log| rows(&case_dir, log) != rows(&many.join(&case), log)).collect();
        if differs.is_empty() {
            same += 1;
        } else if SPLIT_BY_WORKERS.contains(&case.as_str()) {
            split.push(case);
        } else {
            wrong.push(format!("{case}: {differs:?}"));
        }
    }
    assert!(wrong.is_empty(), "--workers 2 changed the logs of:\n{}", wrong.join("\n"));
    assert!(same > 90, "only {same} cases compared");
    (same, split)
}

/// Components whose weirds weir raises (the core, and the FTP analyzer's
/// command checks); weird.log baselines naming any other source come from
/// protocol analyzers weir does not have.
const CORE_SOURCES: &[&str] = &["", "-", "TCP", "UDP", "ICMP", "IP", "GRE", "VXLAN", "GENEVE", "TEREDO", "AYIYA", "GTPV1", "IPTunnel", "FTP"];

/// A baseline log: its columns (`#fields`, or the header line of a
/// `zeek-cut` subset) and rows.
fn read_baseline(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut fields: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = Some(f.split('\t').map(String::from).collect());
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else if fields.is_none() {
            fields = Some(line.split('\t').map(String::from).collect());
        } else {
            rows.push(line.split('\t').map(String::from).collect());
        }
    }
    (fields.unwrap_or_default(), rows)
}

/// Compares weird.log and tunnel.log with every dev baseline of them, on all
/// columns but the run-specific ones (ts, uid). Returns (compared, skipped).
fn compare_side_logs(manifest: &std::path::Path, outdir: &std::path::Path) -> (usize, usize) {
    let cases = manifest.parent().unwrap();
    let (mut compared, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(cases).unwrap() {
        let case_dir = entry.unwrap().path();
        let case = case_dir.file_name().unwrap().to_string_lossy().to_string();
        for log in ["weird", "tunnel"] {
            let base = case_dir.join(format!("{log}.log"));
            if !base.is_file() {
                continue;
            }
            let (fields, rows) = read_baseline(&base);
            let col = |n: &str| fields.iter().position(|f| f == n);
            // Weirds of protocol analyzers, and tunnels only analyzers register
            // (HTTP CONNECT, SOCKS), are out of the core's reach.
            let analyzer_only = match log {
                "weird" => col("source").is_some_and(|i| rows.iter().any(|r| !CORE_SOURCES.contains(&r[i].as_str()))),
                _ => col("tunnel_type")
                    .is_some_and(|i| rows.iter().any(|r| matches!(r[i].as_str(), "Tunnel::HTTP" | "Tunnel::SOCKS"))),
            };
            if analyzer_only {
                skipped += 1;
                continue;
            }
            let keep: Vec<usize> = (0..fields.len()).filter(|&i| !matches!(fields[i].as_str(), "ts" | "uid" | "")).collect();
            let mut want: Vec<Vec<String>> = rows.iter().map(|r| keep.iter().map(|&i| r[i].clone()).collect()).collect();
            let ours = read_stream(&outdir.join(&case), log).map(|l| l.rows).unwrap_or_default();
            let mut got: Vec<Vec<String>> = ours
                .iter()
                .map(|r| keep.iter().map(|&i| r.get(&fields[i]).cloned().unwrap_or_else(|| "-".into())).collect())
                .collect();
            want.sort();
            got.sort();
            compared += 1;
            if want != got {
                failures.push(format!("{case} {log}.log: want {want:?}, got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "side logs differ from Zeek's:\n{}", failures.join("\n"));
    (compared, skipped)
}

#[test]
fn oracle_runner_translates_manifest_rows() {
    let manifest = manifest();
    if !manifest.is_file() {
        println!("skipped: {} not found", manifest.display());
        return;
    }
    if !have_python3() {
        println!("skipped: python3 not found");
        return;
    }
    let out = Command::new(repo_root().join("tests/oracle/run"))
        .arg(&manifest)
        .arg(scratch_dir("oracle-dry"))
        .arg("--dry-run")
        .env("WEIR", weir_bin())
        .output()
        .expect("start tests/oracle/run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |case: &str| -> String {
        let needle = format!("/{case}/");
        text.lines()
            .find(|l| l.contains(&needle) && l.contains(" run -r "))
            .unwrap_or("")
            .to_string()
    };
    let expect = [
        (
            "core.tunnels.max-depth-exceeded",
            "--set Tunnel::max_depth=2",
        ),
        ("core.tcp.miss-end-data", "--set report_gaps_for_partial=T"),
        (
            "core.expire-all-timers--conn-all",
            "--set max_timer_expires=0",
        ),
        ("core.expire-all-timers--conn-all", " -C"),
        ("core.udp-broadcast-no-flip", ",40190/udp"),
        ("core.pcap.read-trace-with-filter", "-f 'port 50000'"),
        (
            "scripts.policy.frameworks.conn_key.vlan_fivetuple-2",
            "--set ConnKey::factory=ConnKey::CONNKEY_VLAN_FIVETUPLE",
        ),
        (
            "scripts.policy.frameworks.conn_key.vlan_fivetuple-3",
            "--set ConnKey::factory=ConnKey::CONNKEY_VLAN_FIVETUPLE",
        ),
    ];
    let mut missing = Vec::new();
    for (case, opt) in expect {
        let l = line(case);
        if l.is_empty() {
            println!("case {case} not in this manifest; not checked");
        } else if !l.contains(opt) {
            missing.push(format!("{case}: no `{opt}` in: {l}"));
        }
    }
    for l in text.lines().filter(|l| l.contains(" run -r ")) {
        if !l.contains("--seed 1") || !l.contains("--likely-server-ports ") {
            missing.push(format!("no --seed 1 or --likely-server-ports in: {l}"));
        }
        if l.contains("DPD::") || l.contains("Analyzer::") || l.contains("conn_id_ctx") {
            missing.push(format!("analyzer or log-record redef passed to weir: {l}"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// App-log cases that must pass (`logcmp.py` over
/// `../shared/oracle/app/dev/MANIFEST.tsv`). It only goes up.
const APP_ORACLE_FLOOR: u64 = 179;

/// The app-log oracle manifest (`WEIR_APP_ORACLE_MANIFEST` overrides).
fn app_manifest() -> PathBuf {
    let path = match std::env::var_os("WEIR_APP_ORACLE_MANIFEST") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("../shared/oracle/app/dev/MANIFEST.tsv"),
    };
    path.canonicalize().unwrap_or(path)
}

/// Passed and failed case counts of `logcmp.py` over `outdir`, for the log
/// kinds `kinds` (comma-separated) or all.
fn logcmp(manifest: &std::path::Path, outdir: &std::path::Path, kinds: Option<&str>) -> (u64, u64) {
    let script = manifest.parent().unwrap().parent().unwrap().parent().unwrap().join("logcmp.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg("--manifest").arg(manifest).arg("--outdir").arg(outdir);
    cmd.args(["--quiet", "--json", "-"]);
    if let Some(k) = kinds {
        cmd.args(["--log", k]);
    }
    let out = cmd.output().expect("start logcmp.py");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "logcmp.py failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("logcmp.py JSON summary");
    (summary["passed"].as_u64().expect("passed"), summary["failed"].as_u64().expect("failed"))
}

#[test]
fn app_oracle_dev_cases() {
    let manifest = app_manifest();
    if !manifest.is_file() {
        announce(&format!("app oracle: skipped: {} not found", manifest.display()));
        return;
    }
    if !have_python3() {
        announce("app oracle: skipped: python3 not found");
        return;
    }
    let outdir = scratch_dir("app-oracle");
    run_oracle(&manifest, &outdir, &[]);
    // Every case's run writes its logs into its own folder.
    let rows = std::fs::read_to_string(&manifest).expect("read manifest");
    let cases: Vec<&str> = rows.lines().skip(1).filter_map(|l| l.split('\t').next()).filter(|c| !c.is_empty()).collect();
    for case in &cases {
        assert!(outdir.join(case).join("weir.cmd").is_file(), "no weir.cmd for {case}");
    }
    let (passed, failed) = logcmp(&manifest, &outdir, None);
    let kinds: Vec<String> = ["conn", "analyzer", "http", "dns", "ssl", "x509"]
        .iter()
        .map(|k| {
            let (p, f) = logcmp(&manifest, &outdir, Some(k));
            format!("{k} {p}/{}", p + f)
        })
        .collect();
    announce(&format!(
        "app oracle: {passed} of {} dev cases pass (floor {APP_ORACLE_FLOOR}; {})",
        passed + failed,
        kinds.join(", ")
    ));
    assert_eq!(passed + failed, cases.len() as u64, "logcmp.py judged every case");
    assert!(passed >= APP_ORACLE_FLOOR, "{passed} app oracle cases pass, below the floor of {APP_ORACLE_FLOOR}");
}

#[test]
fn oracle_runner_translates_app_manifest_rows() {
    let manifest = app_manifest();
    if !manifest.is_file() {
        println!("skipped: {} not found", manifest.display());
        return;
    }
    if !have_python3() {
        println!("skipped: python3 not found");
        return;
    }
    let out = Command::new(repo_root().join("tests/oracle/run"))
        .arg(&manifest)
        .arg(scratch_dir("app-oracle-dry"))
        .arg("--dry-run")
        .env("WEIR", weir_bin())
        .output()
        .expect("start tests/oracle/run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let block = |case: &str| -> String {
        let needle = format!("/{case}/");
        let mut lines = text.lines().skip_while(|l| !(l.contains(&needle) && l.contains(" run -r ")));
        let first = lines.next().unwrap_or("").to_string();
        lines.take_while(|l| l.starts_with("    #")).fold(first, |acc, l| acc + "\n" + l)
    };
    let expect = [
        ("core.tunnels.max-depth-exceeded--conn.log.cut", "--set Tunnel::max_depth=2"),
        ("core.tcp.miss-end-data--conn", "--set report_gaps_for_partial=T"),
        ("core.pcap.read-trace-with-filter--conn", "-f 'port 50000'"),
        ("core.nflog--http", " -C"),
        ("scripts.base.frameworks.analyzer.request-analyzer--conn", "--set use_conn_size_analyzer=F"),
        ("scripts.base.files.x509.event-caching--x509", "# skipped (no weir setting): redef X509::caching_required_encounters = 1"),
        ("scripts.base.files.x509.event-caching--x509", "--set X509::relog_known_certificates_after=0secs"),
        ("scripts.base.protocols.ssl.max-history-length--ssl-max-history-length-3", "--set SSL::max_ssl_history_length=3"),
        ("scripts.policy.protocols.ssl.log-hostcerts-only--x509", "--set X509::log_host_certificates_only=T"),
        ("scripts.policy.protocols.ssl.decryption--http", "--set SSL::secrets=b40a244b48e42eac287144b1b7393057caa131f961a78e38b0e77c1e:bd01e589"),
        ("scripts.policy.frameworks.conn_key.vlan_fivetuple-2--conn.log.cut", "--set ConnKey::factory=ConnKey::CONNKEY_VLAN_FIVETUPLE"),
    ];
    let mut missing = Vec::new();
    for (case, opt) in expect {
        let b = block(case);
        if b.is_empty() {
            println!("case {case} not in this manifest; not checked");
        } else if !b.contains(opt) {
            missing.push(format!("{case}: no `{opt}` in: {b}"));
        }
    }
    for l in text.lines().filter(|l| l.contains(" run -r ")) {
        if !l.contains("--seed 1") || l.contains("--likely-server-ports") {
            missing.push(format!("no --seed 1, or server ports the app manifest has none of, in: {l}"));
        }
        if l.contains("X509::caching_required_encounters") || l.contains("LogAscii::") {
            missing.push(format!("a setting weir lacks passed to weir: {l}"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Signature cases that must pass (of 117). It only goes up.
const SIGNATURE_FLOOR: u64 = 117;

/// Signature fidelity: `tests/oracle/run` over the signature manifest
/// (`../shared/oracle/sigs/dev/MANIFEST.tsv`, or `WEIR_SIG_ORACLE_MANIFEST`),
/// compared by `sigcmp.py` in Zeek's event order.
#[test]
fn signature_oracle_dev_cases() {
    let manifest = match std::env::var_os("WEIR_SIG_ORACLE_MANIFEST") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("../shared/oracle/sigs/dev/MANIFEST.tsv"),
    };
    let manifest = manifest.canonicalize().unwrap_or(manifest);
    if !manifest.is_file() {
        announce(&format!("signature oracle: skipped: {} not found", manifest.display()));
        return;
    }
    if !have_python3() {
        announce("signature oracle: skipped: python3 not found");
        return;
    }
    let sigcmp = manifest.parent().unwrap().parent().unwrap().parent().unwrap().join("sigcmp.py");
    let outdir = scratch_dir("sig-oracle");
    run_oracle(&manifest, &outdir, &[]);
    let json = outdir.join("sigcmp.json");
    let cmp = Command::new("python3")
        .arg(&sigcmp)
        .arg("--manifest")
        .arg(&manifest)
        .arg("--outdir")
        .arg(&outdir)
        .args(["--quiet", "--ordered", "--json"])
        .arg(&json)
        .output()
        .expect("start sigcmp.py");
    assert!(matches!(cmp.status.code(), Some(0 | 1)), "sigcmp.py failed ({}):\n{}", cmp.status, String::from_utf8_lossy(&cmp.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("sigcmp.py JSON")).expect("sigcmp.py JSON summary");
    let passed = summary["passed"].as_u64().expect("passed count");
    let failed = summary["failed"].as_u64().expect("failed count");
    println!("{}", String::from_utf8_lossy(&cmp.stdout));
    announce(&format!(
        "signature oracle: {passed} of {} dev cases pass in Zeek's event order (floor {SIGNATURE_FLOOR}); details: \
         python3 {} --manifest {} --outdir {}",
        passed + failed,
        sigcmp.display(),
        manifest.display(),
        outdir.display()
    ));
    assert!(passed >= SIGNATURE_FLOOR, "{passed} signature cases pass, below the floor of {SIGNATURE_FLOOR}");
}

/// Signatures on HTTP and FTP content (`http-request`, `http-reply-header`,
/// `http-reply-body`, `ftp`) fire on the oracle's HTTP and FTP traces with
/// the piece they completed on (a header's value, not its name), and
/// signatures.log keeps the matched body's bytes as `\xNN`.
#[test]
fn content_pattern_types_match_on_real_traces() {
    let dev = app_manifest().parent().unwrap().to_path_buf();
    let http = dev.join("scripts.base.protocols.http.http-pipelining--http/pipelined-requests.pcap");
    let ftp = dev.join("scripts.base.protocols.ftp.ftp-ipv4--ftp/ipv4.pcap");
    if !http.exists() || !ftp.exists() {
        announce(&format!("content patterns: skipped: {} or {} not found", http.display(), ftp.display()));
        return;
    }
    let dir = scratch_dir("content-patterns");
    let sig = dir.join("content.sig");
    std::fs::write(
        &sig,
        r#"signature uri { http-request /.*key-point-top\.png$/ event "uri" }
signature server { http-reply-header /^server: apa/i event "server" }
signature png { http-reply-body /^\x89PNG/ event "png" }
signature retr { ftp /^RETR / event "retr" }
signature not-payload { http-request /^GET/ event "the URI does not hold the method" }
"#,
    )
    .unwrap();
    let msgs = |trace: &PathBuf, name: &str| -> Vec<(String, String)> {
        let logdir = dir.join(name);
        run_trace(trace, &logdir, &["--signatures", sig.to_str().unwrap()]);
        let log = read_zeek_tsv(&logdir.join("signatures.log")).expect("signatures.log");
        log.rows.iter().map(|r| (r["sig_id"].clone(), r["sub_msg"].chars().take(12).collect())).collect()
    };
    let mut got = msgs(&http, "http");
    got.sort();
    assert_eq!(
        got,
        [
            ("png".to_string(), "\\x89PNG\\x0d\\".to_string()),
            ("server".to_string(), "Apache".to_string()),
            ("uri".to_string(), "/images/temp".to_string()),
        ]
    );
    assert_eq!(msgs(&ftp, "ftp"), [("retr".to_string(), "RETR robots.".to_string())]);
}
