//! The signature engine inside the packet path: header conditions on a
//! side's first packet, payload per datagram and on the reassembled TCP
//! stream, the `dpd_buffer_size` budget, custom events, and the end of a
//! connection deciding negated dependencies.

use etherparse::PacketBuilder;
use std::sync::Arc;
use weir_engine::capture::{dlt, Packet};
use weir_engine::config::Config;
use weir_engine::events::{Event, EventKind, Subscriptions};
use weir_engine::signatures::{parse, Idents, RuleSet};
use weir_engine::Engine;

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

fn tcp(a_to_b: bool, seq: u32, ack: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    let (sa, da, sp, dp) = if a_to_b { (A, B, 40000, 8000) } else { (B, A, 8000, 40000) };
    let mut b = PacketBuilder::ethernet2(MAC, MAC).ipv4(sa, da, 64).tcp(sp, dp, seq, 65535);
    if syn {
        b = b.syn();
    }
    if ack != 0 {
        b = b.ack(ack);
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn udp(a_to_b: bool, payload: &[u8]) -> Vec<u8> {
    let (sa, da, sp, dp) = if a_to_b { (A, B, 5000, 6000) } else { (B, A, 6000, 5000) };
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC, MAC).ipv4(sa, da, 64).udp(sp, dp).write(&mut out, payload).unwrap();
    out
}

/// (event name, sig id, is_orig, msg, data) of every signature event of a run.
fn run(sigs: &str, sets: &[&str], frames: &[Vec<u8>]) -> Vec<(String, String, bool, String, Vec<u8>)> {
    let mut cfg = Config::default();
    for s in sets {
        cfg.set_assignment(s).unwrap();
    }
    cfg.signatures = Some(Arc::new(RuleSet::compile(parse("t.sig", sigs.as_bytes(), &Idents::new()).unwrap()).unwrap()));
    let mut subs = Subscriptions::default();
    subs.insert(EventKind::SignatureMatch);
    subs.insert(EventKind::SignatureEvent);
    let mut e = Engine::new(cfg, subs);
    let mut out = Vec::new();
    let mut grab = |e: &mut Engine| {
        for ev in e.queue.take() {
            match ev {
                Event::SignatureMatch { state, msg, data } => {
                    out.push(("signature_match".into(), state.sig_id, state.is_orig, msg, data))
                }
                Event::SignatureEvent { name, state, msg, data, .. } => {
                    out.push((name, state.sig_id, state.is_orig, msg.unwrap_or_default(), data))
                }
                _ => {}
            }
        }
    };
    for (i, f) in frames.iter().enumerate() {
        e.process(&Packet { ts: 1.0 + i as f64 * 0.01, wire_len: f.len() as u32, link_type: dlt::EN10MB, data: f });
        grab(&mut e);
    }
    e.finish();
    grab(&mut e);
    out
}

fn handshake() -> Vec<Vec<u8>> {
    vec![tcp(true, 100, 0, true, b""), tcp(false, 500, 101, true, b""), tcp(true, 101, 501, false, b"")]
}

#[test]
fn tcp_payload_is_matched_on_the_reassembled_stream() {
    let sigs = "signature get { ip-proto == tcp payload /GET \\/index/ tcp-state originator event \"get\" }\n\
                signature ok { payload /HTTP\\/1\\.. 200/ requires-reverse-signature get event \"ok\" }\n\
                signature port { dst-port == 8000 event \"port\" }";
    let mut frames = handshake();
    // The request comes in two segments, the second one sent twice.
    frames.push(tcp(true, 101, 501, false, b"GET "));
    frames.push(tcp(true, 105, 501, false, b"/index.html"));
    frames.push(tcp(true, 105, 501, false, b"/index.html"));
    frames.push(tcp(false, 501, 116, false, b"HTTP/1.1 200 OK"));
    let got = run(sigs, &[], &frames);
    let ids: Vec<(&str, bool)> = got.iter().map(|g| (g.1.as_str(), g.2)).collect();
    assert_eq!(ids, [("port", true), ("get", true), ("ok", false)]);
    assert_eq!(got[1].4, b"/index.html", "data is the chunk that completed the match");
    assert_eq!(got[0].4, b"", "a header-only signature has no data");
}

#[test]
fn matching_stops_after_the_buffer_while_only_the_beginning_counts() {
    let sigs = "signature late { payload /.*LATE/ event \"late\" }";
    let mut frames = handshake();
    frames.push(tcp(true, 101, 501, false, &[b'x'; 1100]));
    frames.push(tcp(true, 1201, 501, false, b"LATE"));
    assert!(run(sigs, &[], &frames).is_empty(), "past dpd_buffer_size");
    assert_eq!(run(sigs, &["dpd_match_only_beginning=F"], &frames).len(), 1);
    assert_eq!(run(sigs, &["dpd_buffer_size=4096"], &frames).len(), 1);
}

#[test]
fn datagrams_custom_events_and_negated_dependencies() {
    let sigs = "signature ping { payload /ping/ udp-state originator event my_event \"m\" }\n\
                signature pong { payload /pong/ udp-state responder }\n\
                signature unanswered { payload /ping/ requires-reverse-signature ! pong event \"lonely\" }";
    // The other side must have been seen for a reverse dependency to be decided.
    assert_eq!(run(sigs, &[], &[udp(true, b"ping")]).len(), 1);
    let got = run(sigs, &[], &[udp(true, b"ping"), udp(true, b"xping"), udp(false, b"nope")]);
    let names: Vec<(&str, &str, &str)> = got.iter().map(|g| (g.0.as_str(), g.1.as_str(), g.3.as_str())).collect();
    assert_eq!(names, [("my_event", "ping", "m"), ("signature_match", "unanswered", "lonely")]);
    let got = run(sigs, &[], &[udp(true, b"ping"), udp(false, b"pong")]);
    assert_eq!(got.len(), 1, "pong answered: {got:?}");
}

#[test]
fn the_fuzz_layout_loads_the_file_then_runs_the_packets() {
    use weir_engine::fuzzing::run_signatures;
    let mut ip = Vec::new();
    PacketBuilder::ipv4(A, B, 64).udp(5000, 6000).write(&mut ip, b"ping").unwrap();
    let input = |sig: &[u8]| [sig, &[0xff, 0xfd, 1, 0], &ip[..]].concat();
    let with = run_signatures(&input(b"signature s { payload /ping/ event \"m\" }"));
    let without = run_signatures(&input(b"signature s { payload /pong/ event \"m\" }"));
    assert_eq!(with, without + 1, "one signature_match more");
    assert_eq!(run_signatures(&input(b"signature { nonsense")), 0, "a file that does not load runs nothing");
    assert_eq!(run_signatures(b"\xff\xfd"), 0);
    // Found by fuzzing (a character class `[:` closed at once): a load error, not a panic.
    assert_eq!(run_signatures(&input(b"signature s { file-magic /[[:] ank:]]*)/ }")), 0);
}
