//! Matching as Zeek does it, on hand-made packets.

use super::*;
use std::sync::Arc;

fn set(src: &str) -> Arc<RuleSet> {
    Arc::new(RuleSet::compile(parse("t.sig", src.as_bytes(), &Idents::new()).unwrap()).unwrap())
}

const UDP: [u8; 8] = [0x75, 0x30, 0x32, 0xc8, 0, 12, 0, 0];

fn pkt(transport: &[u8], is_orig: bool) -> PacketView<'_> {
    let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let (src, dst) = if is_orig { (a, b) } else { (b, a) };
    PacketView { version: 4, ip: &[0x45], next_proto: 17, src, dst, transport }
}

const UDP_FACTS: ConnFacts = ConnFacts { tcp: false, udp: true, established: false, same_ip: false };
const TCP_FACTS: ConnFacts = ConnFacts { tcp: true, udp: false, established: true, same_ip: false };

/// One datagram per (side, payload), as the session layer feeds them.
fn datagrams(s: &Arc<RuleSet>, dgrams: &[(bool, &[u8])]) -> Vec<(String, bool, Vec<u8>)> {
    let mut m = Matcher::new(s.clone());
    let mut cs = ConnMatch::default();
    let mut out = Vec::new();
    for &(is_orig, d) in dgrams {
        m.init_endpoint(&mut cs, is_orig, &pkt(&UDP, is_orig), UDP_FACTS, &mut out);
        m.data(&mut cs, is_orig, PatternType::Payload, d, UDP_FACTS, &mut out);
        m.clear_endpoint(&mut cs, is_orig, UDP_FACTS, &mut out);
    }
    m.finish(&mut cs, UDP_FACTS, &mut out);
    out.into_iter().map(|f| (s.rule(f.rule).id.clone(), f.is_orig, f.data)).collect()
}

#[test]
fn header_only_rules_fire_on_the_first_packet_once_per_connection() {
    let s = set("signature a { src-port == 30000 event \"m\" } signature b { dst-port == 1 event \"n\" }");
    let got = datagrams(&s, &[(true, b"x"), (true, b"y"), (false, b"z")]);
    assert_eq!(got, [("a".into(), true, vec![])], "b never holds; a fires once, not again for the other side");
}

#[test]
fn pattern_less_rules_fire_in_zeek_tree_order() {
    let s = set("signature p1 { ip-proto == 17 event \"a\" } signature p2 { ip-proto == 17 event \"b\" }\n\
         signature d { dst-ip == 10.0.0.0/8 event \"c\" } signature dp { dst-ip == 10.0.0.0/8 ip-proto == 17 event \"d\" }\n\
         signature any { event \"e\" }");
    let got: Vec<String> = datagrams(&s, &[(true, b"x")]).into_iter().map(|g| g.0).collect();
    // The root first, then its children latest first, each node's rules latest first.
    assert_eq!(got, ["any", "d", "p2", "p1", "dp"]);
}

#[test]
fn datagrams_are_matched_one_by_one_from_their_start() {
    let s = set("signature p { payload /ABC/ event \"m\" } signature f { payload /.*xyz/i event \"f\" }");
    let got = datagrams(&s, &[(true, b"xABC"), (true, b"AB"), (true, b"C"), (true, b"-XYZ")]);
    assert_eq!(got, [("f".into(), true, b"-XYZ".to_vec())], "anchored at each datagram's start; no state across datagrams");
    let got = datagrams(&s, &[(false, b"ABCD"), (false, b"ABC")]);
    assert_eq!(got, [("p".into(), false, b"ABCD".to_vec())], "once per endpoint");
}

#[test]
fn a_tcp_stream_matches_across_chunks_and_both_patterns_must_match() {
    let s = set("signature two { payload /GET/ http-request /.*\\.exe/ event \"m\" } signature one { payload /GE.*X/ tcp-state originator event \"o\" }");
    let mut m = Matcher::new(s.clone());
    let mut cs = ConnMatch::default();
    let mut out = Vec::new();
    m.init_endpoint(&mut cs, true, &pkt(&UDP, true), TCP_FACTS, &mut out);
    for chunk in [&b"G"[..], b"ET /a", b"X"] {
        m.data(&mut cs, true, PatternType::Payload, chunk, TCP_FACTS, &mut out);
    }
    assert_eq!(out.len(), 1);
    assert_eq!((s.rule(out[0].rule).id.as_str(), out[0].data.as_slice(), out[0].end_of_match), ("one", &b"X"[..], 1));
    m.data(&mut cs, true, PatternType::HttpUri, b"/x.exe", TCP_FACTS, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(s.rule(out[1].rule).id, "two");
    assert_eq!(out[1].end_of_match, 6);
}

#[test]
fn requires_reverse_and_negated_requires_at_the_end() {
    let s = set("signature req { payload /GET/ tcp-state originator }\n\
         signature rep { payload /HTTP/ tcp-state responder requires-reverse-signature req enable \"http\" }\n\
         signature lone { payload /GET/ requires-reverse-signature ! rep event \"lonely\" }");
    let run = |reply: &[u8]| {
        let mut m = Matcher::new(s.clone());
        let mut cs = ConnMatch::default();
        let mut out = Vec::new();
        m.init_endpoint(&mut cs, true, &pkt(&UDP, true), TCP_FACTS, &mut out);
        m.init_endpoint(&mut cs, false, &pkt(&UDP, false), TCP_FACTS, &mut out);
        m.data(&mut cs, false, PatternType::Payload, reply, TCP_FACTS, &mut out);
        m.data(&mut cs, true, PatternType::Payload, b"GET /", TCP_FACTS, &mut out);
        let before_end: Vec<String> = out.iter().map(|f| s.rule(f.rule).id.clone()).collect();
        m.finish(&mut cs, TCP_FACTS, &mut out);
        let all: Vec<String> = out.iter().map(|f| s.rule(f.rule).id.clone()).collect();
        (before_end, all)
    };
    let (before, all) = run(b"HTTP/1.1 200");
    assert_eq!(before, ["req", "rep"], "the reply's match waits for the request's, then fires as its dependent");
    assert_eq!(all, ["req", "rep"], "lone is not decided before the end, and rep did match");
    let (before, all) = run(b"SSH-2.0");
    assert_eq!(before, ["req"]);
    assert_eq!(all, ["req", "lone"], "at the end, rep never matched on the other side");
    let (_, enable, _) =
        actions::sort_out(&s, &Fired { rule: 1, is_orig: false, data: vec![], end_of_match: 0, payload_size: 0 });
    assert_eq!(enable, [("http".to_string(), false)]);
}

#[test]
fn payload_size_udp_state_and_depth() {
    let s = set("signature big { payload /.*/ payload-size > 3 event \"b\" }\n\
         signature resp { udp-state responder event \"r\" }\n\
         signature shallow { payload [:2] /.*c/ event \"s\" }");
    let got = datagrams(&s, &[(true, b"ab"), (true, b"abcd"), (false, b"")]);
    assert_eq!(
        got.iter().map(|g| (g.0.as_str(), g.1)).collect::<Vec<_>>(),
        [("big", true), ("resp", false)],
        "big on the second datagram; shallow's c ends past 2"
    );
}

#[test]
fn the_budget_stops_matching_after_the_buffer() {
    let b = Budget { buffer_size: 10, max_packets: 3, only_beginning: true };
    let mut cs = ConnMatch::default();
    assert!(cs.admit(6, &b).now);
    assert!(cs.admit(6, &b).now, "the chunk that fills the buffer is still matched");
    assert!(!cs.admit(1, &b).now);
    let mut cs = ConnMatch::default();
    for _ in 0..4 {
        assert!(cs.admit(1, &b).now);
    }
    assert!(!cs.admit(1, &b).now, "past dpd_max_packets");
    let mut cs = ConnMatch::default();
    let all = Budget { only_beginning: false, ..b };
    for _ in 0..10 {
        assert!(cs.admit(100, &all).now);
    }
}

#[test]
fn load_errors_are_clear() {
    let e = RuleSet::compile(parse("t.sig", b"signature a { requires-signature nope }", &Idents::new()).unwrap()).unwrap_err();
    assert_eq!(e.to_string(), "error in signature (t.sig:1): unknown signature nope in requires-signature");
    let e = RuleSet::compile(parse("t.sig", b"signature a { payload /(/ }", &Idents::new()).unwrap()).unwrap_err();
    assert!(e.to_string().starts_with("error in signature (t.sig:1): bad pattern"), "{e}");
}

#[test]
fn weirs_own_detection_and_magic_rules_load() {
    let dpd = RuleSet::load(true, &[], &Idents::new()).expect("weir's dpd.sig loads");
    assert!(dpd.detects(), "its rules enable analyzers");
    let magic = crate::files::magic::MAGIC_SIGNATURES;
    let rules = parse(magic.0, magic.1.as_bytes(), &Idents::new()).expect("weir's magic.sig parses");
    assert!(rules.len() >= 20, "{} MIME rules", rules.len());
}
