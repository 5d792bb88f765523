//! Address anonymization: the `anonymize` host call (through the example
//! handler `examples/detectors/anonymize-conns`) under each class's method,
//! the `anonymization_mapping` event it raises, and logs written with
//! anonymized addresses (`log_addr_anonymization`), on the demo trace.

mod common;

use std::collections::HashMap;
use std::net::IpAddr;

use common::*;
use weir_engine::anon::{parse_key, CryptoPan};

const KEY: &str = "15221768d33a4cf80130a5b16495c7d10d8988f83797965276257c4d2a842202";

fn handler(dir: &std::path::Path) -> String {
    let path = dir.join("anonymize_conns.wasm");
    std::fs::write(&path, weir_sandbox::testing::example("anonymize_conns.wasm")).unwrap();
    path.to_str().unwrap().to_string()
}

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("{s} is not an address"))
}

fn common_prefix(a: IpAddr, b: IpAddr) -> Option<u32> {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => Some((u32::from(x) ^ u32::from(y)).leading_zeros()),
        (IpAddr::V6(x), IpAddr::V6(y)) => Some((u128::from(x) ^ u128::from(y)).leading_zeros()),
        _ => None,
    }
}

#[test]
fn host_call_anonymizes_by_class_and_raises_the_mapping_event() {
    let dir = scratch_dir("anon-host-call");
    let h = handler(&dir);
    let run = |name: &str| {
        let logs = dir.join(name);
        run_trace(
            &demo_trace(),
            &logs,
            &[
                "--handler",
                &h,
                "--set",
                "orig_addr_anonymization=PREFIX_PRESERVING_CRYPTOPAN",
                "--set",
                "resp_addr_anonymization=SEQUENTIALLY_NUMBERED",
                "--set",
                &format!("anonymization_key={KEY}"),
            ],
        );
        (read_stream(&logs, "anon_conns").expect("anon_conns.log"), read_stream(&logs, "anon_mappings").expect("anon_mappings.log"))
    };
    let (conns, mappings) = run("one");
    assert!(conns.rows.len() > 3, "the demo trace has connections");
    let cpan = CryptoPan::new(&parse_key(KEY).unwrap());
    // Originators: Crypto-PAn under the key.
    for r in &conns.rows {
        assert_eq!(addr(&r["orig_anon"]), cpan.anonymize(addr(&r["orig_h"])), "{r:?}");
    }
    // Responders: numbered in order of first appearance, per family, from 0.0.0.2 (::2).
    let mut seen: HashMap<IpAddr, IpAddr> = HashMap::new();
    let (mut v4, mut v6) = (1u32, 1u128);
    for r in &conns.rows {
        let a = addr(&r["resp_h"]);
        let expect = *seen.entry(a).or_insert_with(|| match a {
            IpAddr::V4(_) => {
                v4 += 1;
                IpAddr::V4(v4.into())
            }
            IpAddr::V6(_) => {
                v6 += 1;
                IpAddr::V6(v6.into())
            }
        });
        assert_eq!(addr(&r["resp_anon"]), expect, "{r:?}");
    }
    // One anonymization_mapping per call, in call order.
    let calls: Vec<(String, String)> = conns
        .rows
        .iter()
        .flat_map(|r| [(r["orig_h"].clone(), r["orig_anon"].clone()), (r["resp_h"].clone(), r["resp_anon"].clone())])
        .collect();
    let events: Vec<(String, String)> = mappings.rows.iter().map(|r| (r["orig"].clone(), r["mapped"].clone())).collect();
    assert_eq!(events, calls);
    // The same key gives the same mapping in another run.
    let (again, _) = run("two");
    let pairs = |l: &ZeekLog| l.rows.iter().map(|r| (r["orig_h"].clone(), r["orig_anon"].clone(), r["resp_anon"].clone())).collect::<Vec<_>>();
    assert_eq!(pairs(&conns), pairs(&again));
}

#[test]
fn logs_can_be_written_with_anonymized_addresses() {
    let dir = scratch_dir("anon-logs");
    let plain = dir.join("plain");
    run_trace(&demo_trace(), &plain, &[]);
    let anon = dir.join("anon");
    let set_key = format!("anonymization_key={KEY}");
    run_trace(&demo_trace(), &anon, &["--set", "log_addr_anonymization=PREFIX_PRESERVING_CRYPTOPAN", "--set", &set_key]);
    let cpan = CryptoPan::new(&parse_key(KEY).unwrap());
    let (p, a) = (read_stream(&plain, "conn").unwrap(), read_stream(&anon, "conn").unwrap());
    assert_eq!(p.rows.len(), a.rows.len());
    let by_uid: HashMap<&str, &HashMap<String, String>> = a.rows.iter().map(|r| (r["uid"].as_str(), r)).collect();
    let mut addrs = Vec::new();
    for r in &p.rows {
        let other = by_uid[r["uid"].as_str()];
        for col in ["id.orig_h", "id.resp_h"] {
            let (orig, mapped) = (addr(&r[col]), addr(&other[col]));
            assert_eq!(mapped, cpan.anonymize(orig), "{col} of {}", r["uid"]);
            addrs.push((orig, mapped));
        }
        // Everything but the addresses is as it was.
        for (k, v) in r {
            if k != "id.orig_h" && k != "id.resp_h" {
                assert_eq!(&other[k], v, "{k}");
            }
        }
    }
    // Prefixes shared in the trace are shared, with the same length, in the log.
    for (x, mx) in &addrs {
        for (y, my) in &addrs {
            assert_eq!(common_prefix(*x, *y), common_prefix(*mx, *my), "{x} {y}");
        }
    }
    // Every addr field of every log: the weird and files logs too, when present.
    let mut checked = 0;
    for name in ["weird", "files", "http", "dns", "software"] {
        let (Ok(p), Ok(a)) = (read_stream(&plain, name), read_stream(&anon, name)) else { continue };
        let addr_columns = addr_columns(&plain.join(format!("{name}.log")));
        for (rp, ra) in p.rows.iter().zip(&a.rows) {
            for (k, v) in rp {
                if addr_columns.contains(k) && v != "-" {
                    assert_eq!(addr(&ra[k]), cpan.anonymize(addr(v)), "{name}.log {k}");
                    checked += 1;
                } else {
                    assert_eq!(&ra[k], v, "{name}.log {k} is not an address");
                }
            }
        }
    }
    assert!(checked > 0, "the demo trace's other logs have addresses");
}

/// The columns of type `addr` of a TSV log.
fn addr_columns(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let line = |tag: &str| text.lines().find(|l| l.starts_with(tag)).unwrap().split('\t').skip(1).map(str::to_string).collect::<Vec<_>>();
    let (fields, types) = (line("#fields"), line("#types"));
    fields.into_iter().zip(types).filter(|(_, t)| t == "addr").map(|(f, _)| f).collect()
}

#[test]
fn a_bad_method_or_key_is_one_clear_line() {
    let dir = scratch_dir("anon-bad");
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("a"), &["--set", "orig_addr_anonymization=PREFIX_PRESERVING_A50"]);
    assert_one_clear_line(&out, "PREFIX_PRESERVING_A50");
    let (_, out) = run_trace_unchecked(&demo_trace(), &dir.join("b"), &["--set", "anonymization_key=abc"]);
    assert_one_clear_line(&out, "anonymization_key");
}
