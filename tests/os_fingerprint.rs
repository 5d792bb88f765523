//! `OS_version_found` on the demo trace (its SYNs are those of a Linux
//! stack without timestamps: `4:64:0:1460:mss*44,0:mss:df,id+:0`), with a
//! p0f database the test writes (`passive_fingerprint_file`) and, when the
//! p0f package is installed, with its own; through the example handler
//! `examples/detectors/os-versions`.

mod common;

use common::*;

const DB: &str = "\
[tcp:request]
label = s:unix:TestOS:1.0
sig   = *:64:0:1460:mss*44,0:mss:df,id+:0
label = g:unix:TestOS:generic
sig   = *:64:0:*:*,*:mss::0
[tcp:response]
label = s:unix:TestServer:2
sig   = 4:64:0:1460:mss*44,0:mss:df,id+:0
";

fn run(dir: &std::path::Path, name: &str, extra: &[&str]) -> Vec<(String, String, String, String, String)> {
    let handler = dir.join("os_versions.wasm");
    std::fs::write(&handler, weir_sandbox::testing::example("os_versions.wasm")).unwrap();
    let logs = dir.join(name);
    let mut args = vec!["--handler", handler.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_trace(&demo_trace(), &logs, &args);
    let log = read_stream(&logs, "os_versions").expect("os_versions.log");
    log.rows
        .iter()
        .map(|r| (r["host"].clone(), r["genre"].clone(), r["detail"].clone(), r["dist"].clone(), r["match_type"].clone()))
        .collect()
}

fn row(host: &str, genre: &str, detail: &str, kind: &str) -> (String, String, String, String, String) {
    (host.into(), genre.into(), detail.into(), "0".into(), kind.into())
}

#[test]
fn once_per_host_and_match_with_the_given_database() {
    let dir = scratch_dir("os-fingerprint");
    let db = dir.join("test.fp");
    std::fs::write(&db, DB).unwrap();
    let set_db = format!("passive_fingerprint_file={}", db.display());
    let rows = run(&dir, "all", &["--set", &set_db]);
    // Four SYNs from 10.0.0.2 raise it once; the IPv6 client matches the
    // version-less signature without its IPv4 quirks; the server's SYN+ACK
    // matches the response section; the IPv6 server's matches the IPv4
    // signature only fuzzily (p0f compares no IP version: the signature's
    // `df,id+` missing from an IPv6 packet is a fuzzy difference).
    assert_eq!(
        rows,
        [
            row("10.0.0.2", "TestOS", "1.0", "direct_inference"),
            row("198.51.100.7", "TestServer", "2", "direct_inference"),
            row("2001:db8::2", "TestOS", "1.0", "direct_inference"),
            row("2001:db8::7", "TestServer", "2", "fuzzy_inference"),
        ]
    );
    // generate_OS_version_event limits it to the hosts named.
    let only = run(&dir, "only", &["--set", &set_db, "--set", "generate_OS_version_event=198.51.100.7"]);
    assert_eq!(only, [row("198.51.100.7", "TestServer", "2", "direct_inference")]);
    // A file that does not parse is one clear line.
    std::fs::write(&db, "[tcp:request]\nlabel = s:unix:X:1\nsig = *:64:0:*:*,*:mss:nonsense:0\n").unwrap();
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("bad"), &["--set", &set_db]);
    assert_one_clear_line(&out, "nonsense");
}

#[test]
fn p0f_database_names_the_demo_client_as_p0f_does() {
    if !std::path::Path::new("/etc/p0f/p0f.fp").is_file() {
        eprintln!("skipped: /etc/p0f/p0f.fp absent (scripts/setup installs the p0f package)");
        return;
    }
    let dir = scratch_dir("os-fingerprint-p0f");
    let rows = run(&dir, "p0f", &[]);
    // p0f -r tests/traces/demo.pcap: "os=Linux 2.2.x-3.x (barebone)" for both clients.
    for host in ["10.0.0.2", "2001:db8::2"] {
        let r: Vec<_> = rows.iter().filter(|r| r.0 == host).collect();
        assert_eq!(r.len(), 1, "{host}: {rows:?}");
        assert_eq!((r[0].1.as_str(), r[0].2.as_str()), ("Linux", "2.2.x-3.x (barebone)"), "{host}");
    }
}
