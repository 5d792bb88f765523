//! The Site framework's options (docs/options.md) decide conn.log's
//! `local_orig` and `local_resp`, as Zeek's `base/utils/site.zeek` and
//! `base/protocols/conn/main.zeek` do: `Site::local_nets` gets
//! `Site::private_address_space` added at startup unless
//! `Site::private_address_space_is_local` is F, and both columns stay unset
//! when the result is empty. On tests/traces/demo.pcap (every address is in
//! the private space: 10/8, 198.51.100/24 and 2001:db8::/32).

mod common;

use common::*;

/// `(local_orig, local_resp)` of the demo trace's flows 1 (10.0.0.2 →
/// 198.51.100.7), 7 (2001:db8::2 → 2001:db8::7) and 9 (10.0.100.5 → 10.0.100.1).
fn locals(name: &str, set: &[&str]) -> Vec<(String, String)> {
    let dir = scratch_dir(name);
    let mut extra = Vec::new();
    for s in set {
        extra.extend(["--set", s]);
    }
    run_trace(&demo_trace(), &dir, &extra);
    let log = read_stream(&dir, "conn").expect("conn.log");
    [
        log.conn("10.0.0.2", 49152, "198.51.100.7", 80, "tcp"),
        log.conn("2001:db8::2", 50000, "2001:db8::7", 443, "tcp"),
        log.conn("10.0.100.5", 50123, "10.0.100.1", 123, "udp"),
    ]
    .iter()
    .map(|rows| {
        assert_eq!(rows.len(), 1, "one row per flow");
        (rows[0]["local_orig"].clone(), rows[0]["local_resp"].clone())
    })
    .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn private_space_is_local_by_default() {
    assert_eq!(locals("site-default", &[]), pairs(&[("T", "T"), ("T", "T"), ("T", "T")]));
}

#[test]
fn no_local_nets_leaves_the_columns_unset() {
    let got = locals("site-none", &["Site::private_address_space_is_local=F"]);
    assert_eq!(got, pairs(&[("-", "-"), ("-", "-"), ("-", "-")]));
}

#[test]
fn local_nets_alone_decide_without_the_private_space() {
    let got = locals(
        "site-local-nets",
        &["Site::private_address_space_is_local=F", "Site::local_nets={ 10.0.0.0/24, [2001:db8::7]/128 }"],
    );
    assert_eq!(got, pairs(&[("T", "F"), ("F", "T"), ("F", "F")]));
}

#[test]
fn local_nets_add_to_a_redefined_private_space() {
    let got = locals(
        "site-private",
        &["Site::private_address_space={ 10.0.0.0/24 }", "Site::local_nets+={ [2001:db8::2]/128 }"],
    );
    assert_eq!(got, pairs(&[("T", "F"), ("T", "F"), ("F", "F")]));
}

#[test]
fn a_bad_subnet_is_one_clear_line() {
    let dir = scratch_dir("site-bad");
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir, &["--set", "Site::local_nets={ 10.0.0.1 }"]);
    assert_one_clear_line(&out, "'10.0.0.1' is not a subnet");
}
