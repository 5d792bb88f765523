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
const ORACLE_FLOOR: u64 = 100;

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

    let run = Command::new(repo_root().join("tests/oracle/run"))
        .arg(&manifest)
        .arg(&outdir)
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
