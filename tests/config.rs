//! `weir run --config FILE` and `weir config check FILE`: the checked-in
//! example loads, every error of a file is reported with its line, and a
//! flag wins over the file.

mod common;

use common::*;
use std::path::Path;

/// A signature file using the example's identifier.
const SITE_SIG: &str = "signature site-web {\n  ip-proto == tcp\n  dst-port == site_web_ports\n  payload /GET/\n  event \"web on a site port\"\n}\n";

/// `docs/weir.toml` in `dir`, with the files it names.
fn example_in(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("weir.toml");
    std::fs::copy(repo_root().join("docs/weir.toml"), &file).expect("docs/weir.toml");
    std::fs::create_dir_all(dir.join("handlers")).unwrap();
    std::fs::write(dir.join("handlers/packet_census.wasm"), weir_sandbox::testing::example("packet_census.wasm")).unwrap();
    std::fs::create_dir_all(dir.join("census")).unwrap();
    std::fs::write(dir.join("site.sig"), SITE_SIG).unwrap();
    file
}

#[test]
fn the_example_file_checks_and_the_readme_shows_it() {
    let dir = scratch_dir("config-example");
    let file = example_in(&dir);
    let out = run_weir(["config".as_ref(), "check".as_ref(), file.as_os_str()]);
    assert!(out.success(), "weir config check {} failed:\n{}", file.display(), out.stderr);
    assert!(out.stdout.contains(": ok"), "stdout: {}", out.stdout);

    // The README's example is the file itself.
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let example = std::fs::read_to_string(repo_root().join("docs/weir.toml")).unwrap();
    let block = readme.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block in README.md");
    assert_eq!(block, example, "README.md's configuration example differs from docs/weir.toml");
}

#[test]
fn the_example_file_misses_its_handler() {
    // Without the files it names, the check names each with its line.
    let dir = scratch_dir("config-example-bare");
    let file = dir.join("weir.toml");
    std::fs::copy(repo_root().join("docs/weir.toml"), &file).unwrap();
    let out = run_weir(["config".as_ref(), "check".as_ref(), file.as_os_str()]);
    assert!(!out.success());
    let text = std::fs::read_to_string(&file).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    for (needle, what) in [("path = ", "packet_census.wasm"), ("grant_dir = ", "census"), ("files = ", "site.sig")] {
        let want = format!("{}:{}: ", file.display(), line_of(needle));
        assert!(
            out.stderr.lines().any(|l| l.starts_with(&want) && l.contains(what)),
            "no error {want}... naming {what}:\n{}",
            out.stderr
        );
    }
    assert_eq!(out.stderr_lines().len(), 3, "{}", out.stderr);
}

#[test]
fn every_error_is_reported_with_its_line() {
    let dir = scratch_dir("config-errors");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        [
            "[capture]",                              // 1
            "workers = \"two\"",                      // 2: not a number
            "seeed = 1",                              // 3: unknown key
            "[logs]",                                 // 4
            "format = \"xml\"",                       // 5: not tsv or json
            "[settings]",                             // 6
            "no_such_setting = 3",                    // 7: unknown setting
            "\"Tunnel::max_depth\" = \"deep\"",       // 8: bad value
            "\"FTP::guest_ids\" = [\"anonymous\"]",   // 9: fine
            "[[handler]]",                            // 10
            "path = \"missing.wasm\"",                // 11: no such file
            "[[handler]]",                            // 12: no path
            "fuel = 5",                               // 13
        ]
        .join("\n"),
    )
    .unwrap();
    let out = run_weir(["config".as_ref(), "check".as_ref(), file.as_os_str()]);
    assert!(!out.success());
    assert_ne!(out.code(), Some(101), "panicked:\n{}", out.stderr);
    let lines: Vec<usize> = out
        .stderr_lines()
        .iter()
        .map(|l| {
            let rest = l.strip_prefix(&format!("{}:", file.display())).unwrap_or_else(|| panic!("not FILE:LINE: {l}"));
            rest.split(':').next().unwrap().parse().unwrap_or_else(|_| panic!("no line number: {l}"))
        })
        .collect();
    assert_eq!(lines, [2, 3, 5, 7, 8, 11, 12], "stderr:\n{}", out.stderr);
    assert!(out.stderr.contains("unknown key capture.seeed"), "{}", out.stderr);
    assert!(out.stderr.contains("no_such_setting"), "{}", out.stderr);

    // `weir run --config` refuses the same file before reading anything.
    let run = run_weir(["run".as_ref(), "--config".as_ref(), file.as_os_str(), "-r".as_ref(), demo_trace().as_os_str()]);
    assert!(!run.success());
    assert!(run.stderr.contains(&format!("{}:7:", file.display())), "{}", run.stderr);
}

#[test]
fn a_syntax_error_has_its_line() {
    let dir = scratch_dir("config-syntax");
    let file = dir.join("broken.toml");
    std::fs::write(&file, "[capture]\nworkers = 2\n\n[logs\ndir = \"x\"\n").unwrap();
    let out = run_weir(["config".as_ref(), "check".as_ref(), file.as_os_str()]);
    assert!(!out.success());
    let first = out.stderr_lines()[0].to_string();
    assert!(first.starts_with(&format!("{}:4:", file.display())), "{}", out.stderr);
}

#[test]
fn flags_win_over_the_file() {
    let dir = scratch_dir("config-override");
    let file = dir.join("weir.toml");
    // Relative to the file's folder: the trace and the log folder.
    std::fs::copy(demo_trace(), dir.join("demo.pcap")).unwrap();
    std::fs::write(
        &file,
        "[capture]\nread = \"demo.pcap\"\nseed = 1\n[logs]\ndir = \"from-file\"\nformat = \"json\"\n[settings]\n\"Tunnel::max_depth\" = 1\n",
    )
    .unwrap();

    // The file alone: JSON logs in its folder's from-file/.
    let _ = std::fs::remove_dir_all(dir.join("from-file"));
    let out = run_weir(["run".as_ref(), "--config".as_ref(), file.as_os_str()]);
    assert!(out.success(), "{}", out.stderr);
    let conn = std::fs::read_to_string(dir.join("from-file/conn.log")).expect("conn.log in the file's log folder");
    assert!(conn.starts_with('{'), "not JSON: {}", &conn[..conn.len().min(200)]);
    let rows = conn.lines().count();

    // Flags for the folder and format: TSV in the flag's folder, the same rows.
    let flagged = dir.join("from-flag");
    let _ = std::fs::remove_dir_all(&flagged);
    let out = run_weir([
        "run".as_ref(),
        "--config".as_ref(),
        file.as_os_str(),
        "--logdir".as_ref(),
        flagged.as_os_str(),
        "--log-format".as_ref(),
        "tsv".as_ref(),
        "--set".as_ref(),
        "Tunnel::max_depth=2".as_ref(),
    ]);
    assert!(out.success(), "{}", out.stderr);
    let log = read_zeek_tsv(&flagged.join("conn.log")).expect("a TSV conn.log in the flag's folder");
    assert_eq!(log.rows.len(), rows, "the same connections either way");
}

#[test]
fn zeek_writer_settings_gzip_and_iso_timestamps() {
    use std::io::Read;
    let dir = scratch_dir("config-writer");
    let file = dir.join("weir.toml");
    std::fs::write(
        &file,
        "[logs]\nformat = \"json\"\n[settings]\n\"LogAscii::json_timestamps\" = \"JSON::TS_ISO8601\"\n\"LogAscii::gzip_level\" = 6\n\"LogAscii::json_include_unset_fields\" = true\n",
    )
    .unwrap();
    let (plain, gz) = (dir.join("plain"), dir.join("gz"));
    for d in [&plain, &gz] {
        let _ = std::fs::remove_dir_all(d);
    }
    run_trace(&demo_trace(), &plain, &["--log-format", "json"]);
    run_trace(&demo_trace(), &gz, &["--config", file.to_str().unwrap()]);
    assert!(!gz.join("conn.log").exists(), "a gzip run writes conn.log.gz only");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(gz.join("conn.log.gz")).expect("conn.log.gz")).read_to_string(&mut text).unwrap();
    let plain_text = std::fs::read_to_string(plain.join("conn.log")).unwrap();
    assert_eq!(text.lines().count(), plain_text.lines().count(), "the same rows");
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let ts = row["ts"].as_str().unwrap_or_else(|| panic!("ts is no ISO 8601 string: {line}"));
        assert!(ts.len() == 27 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
        // Every column is there, unset ones as null.
        assert!(row.as_object().unwrap().contains_key("tunnel_parents"), "{line}");
    }

    // A bad value is refused with its line.
    std::fs::write(&file, "[settings]\n\"LogAscii::gzip_level\" = 12\n").unwrap();
    let out = run_weir(["config".as_ref(), "check".as_ref(), file.as_os_str()]);
    assert!(!out.success());
    assert!(out.stderr.starts_with(&format!("{}:2: ", file.display())), "{}", out.stderr);
}

#[test]
fn site_networks_decide_local_orig_and_local_resp() {
    let dir = scratch_dir("config-site");
    let file = dir.join("weir.toml");
    std::fs::write(
        &file,
        "[settings]\n\"Site::local_nets\" = [\"10.0.0.0/24\", \"2001:db8::7/128\"]\n\"Site::private_address_space_is_local\" = false\n",
    )
    .unwrap();
    run_trace(&demo_trace(), &dir.join("site"), &["--config", file.to_str().unwrap()]);
    let log = read_zeek_tsv(&dir.join("site/conn.log")).unwrap();
    assert!(!log.rows.is_empty());
    for r in &log.rows {
        let local = |h: &str| if h.starts_with("10.0.0.") || h == "2001:db8::7" { "T" } else { "F" };
        assert_eq!(r["local_orig"], local(&r["id.orig_h"]), "{r:?}");
        assert_eq!(r["local_resp"], local(&r["id.resp_h"]), "{r:?}");
    }
    assert!(log.rows.iter().any(|r| r["local_orig"] == "T") && log.rows.iter().any(|r| r["local_orig"] == "F"));

    // No local networks at all: Zeek leaves both unset.
    run_trace(&demo_trace(), &dir.join("none"), &["--set", "Site::private_address_space_is_local=F"]);
    let log = read_zeek_tsv(&dir.join("none/conn.log")).unwrap();
    assert!(log.rows.iter().all(|r| r["local_orig"] == "-" && r["local_resp"] == "-"), "{:?}", log.rows[0]);

    // A subnet that is none: refused with its line.
    std::fs::write(&file, "[settings]\n\n\"Site::local_nets\" = [\"10.0.0.0/33\"]\n").unwrap();
    let out = run_weir(["config".as_ref(), "check".as_ref(), file.as_os_str()]);
    assert!(out.stderr.starts_with(&format!("{}:3: ", file.display())) && out.stderr.contains("not a subnet"), "{}", out.stderr);
}
