//! Signature matching speed: bytes per second through the signature engine
//! with 10, 100 and 1,000 signatures, half floating (`/.*word[0-9]+/`),
//! half anchored (`/(GET|POST) \/pathN/`), all under the same header
//! conditions so they share one lazy DFA. The payload is 1,460-byte chunks
//! of pseudo-random words, 64 KiB per stream, so that floating patterns
//! never let the DFA die; no signature matches it.
//!
//! `cargo run --release -p weir-bench --bin sig-bench [MiB per run]`

use std::sync::Arc;
use std::time::Instant;
use weir_engine::signatures::{parse, ConnFacts, ConnMatch, Idents, Matcher, PacketView, PatternType, RuleSet};

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const WORDS: [&str; 12] = ["alpha", "beta", "gamma", "delta", "user", "host", "GET", "Accept", "\r\n", " ", "=", "/"];
    let payload: Vec<u8> = (0..1 << 20).flat_map(|_| WORDS[(rnd() % WORDS.len() as u64) as usize].bytes()).take(1 << 20).collect();
    for n in [10, 100, 1000] {
        let mut src = String::new();
        for i in 0..n {
            if i % 2 == 0 {
                src.push_str(&format!("signature f{i} {{ ip-proto == tcp payload /.*zq{i}x[0-9]+/ event \"f\" }}\n"));
            } else {
                src.push_str(&format!("signature a{i} {{ ip-proto == tcp payload /(GET|POST) \\/path{i}\\// event \"a\" }}\n"));
            }
        }
        let t = Instant::now();
        let set = Arc::new(RuleSet::compile(parse("bench.sig", src.as_bytes(), &Idents::new()).unwrap()).unwrap());
        let compile = t.elapsed();
        let mut m = Matcher::new(set);
        let facts = ConnFacts { tcp: true, ..ConnFacts::default() };
        let view = PacketView {
            version: 4,
            ip: &[0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6],
            next_proto: 6,
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            transport: &[0; 20],
        };
        let total = mib << 20;
        let stream = 64 << 10;
        let mut out = Vec::new();
        let t = Instant::now();
        let mut done = 0;
        let mut off = 0;
        while done < total {
            let mut cs = ConnMatch::default();
            m.init_endpoint(&mut cs, true, &view, facts, &mut out);
            let mut fed = 0;
            while fed < stream {
                if off + 1460 > payload.len() {
                    off = (rnd() % 1000) as usize;
                }
                m.data(&mut cs, true, PatternType::Payload, &payload[off..off + 1460], facts, &mut out);
                off += 1460;
                fed += 1460;
            }
            done += fed;
        }
        let secs = t.elapsed().as_secs_f64();
        assert!(out.is_empty(), "nothing matches the bench payload");
        println!(
            "{n:>5} signatures: {:>8.1} MB/s ({} MiB in {secs:.2} s; compiled in {:.1} ms)",
            done as f64 / secs / 1e6,
            done >> 20,
            compile.as_secs_f64() * 1e3
        );
    }
}
