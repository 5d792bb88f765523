//! Engine state keyed by what packets say (addresses, IP ids, tunnel
//! endpoints) stays bounded under spoofed floods: the flow weird table, the
//! fragment table and the IP tunnel table each have a cap and an expiry,
//! and their sizes are visible in `Engine::table_stats`. Also Zeek's weird
//! sampling (`Weird::sampling_*`) and its network-time rule.

use std::net::Ipv4Addr;
use weir_engine::capture::{dlt, Packet};
use weir_engine::events::{Event, EventKind, Subscriptions};
use weir_engine::{Config, Engine};

/// An IPv4 header for `payload_len` bytes of payload, with a right checksum
/// unless `bad_sum`.
fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, frag: u16, payload: &[u8], bad_sum: bool) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let mut sum = 0u32;
    for w in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut cks = !(sum as u16);
    if bad_sum {
        cks ^= 0x5a5a;
    }
    h[10..12].copy_from_slice(&cks.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// A UDP datagram (checksum 0: none) inside IPv4.
fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    ipv4(src, dst, 17, 1, 0, &u, false)
}

/// A spoofed source address: the `i`-th of 10.0.0.0/8 and beyond.
fn spoofed(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + i)
}

fn engine(cfg: Config, kinds: &[EventKind]) -> Engine {
    let mut subs = Subscriptions::default();
    for &k in kinds {
        subs.insert(k);
    }
    Engine::new(cfg, subs)
}

fn feed(e: &mut Engine, ts: f64, data: &[u8]) -> Vec<Event> {
    e.process(&Packet { ts, wire_len: data.len() as u32, link_type: dlt::RAW, data });
    e.queue.take().into()
}

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

#[test]
fn spoofed_sources_keep_the_flow_weird_table_bounded() {
    let cfg = Config { max_flow_weird_pairs: 5_000, ..Config::default() };
    let mut e = engine(cfg, &[EventKind::FlowWeird]);
    let mut weirds = 0;
    let mut peak = 0;
    for i in 0..50_000u32 {
        let pkt = ipv4(spoofed(i), SERVER, 17, i as u16, 0, &[0; 8], true);
        weirds += feed(&mut e, 1000.0 + f64::from(i) * 1e-3, &pkt).len();
        peak = peak.max(e.table_stats().flow_weird_pairs);
    }
    let t = e.table_stats();
    assert_eq!(peak, 5_000, "the flow weird table grew past its cap");
    assert_eq!(t.flow_weird_pairs_evicted, 45_000);
    assert_eq!(weirds, 50_000, "every new pair's first bad_IP_checksum is still raised");
    // Ten minutes of network time later (Weird::sampling_duration) every pair is gone.
    e.advance_to(1000.0 + 50.0 + 600.0);
    assert_eq!(e.table_stats().flow_weird_pairs, 0);
}

#[test]
fn flow_weirds_are_sampled_as_zeek_samples_them() {
    let mut e = engine(Config::default(), &[EventKind::FlowWeird]);
    let pkt = ipv4(spoofed(1), SERVER, 17, 7, 0, &[0; 8], true);
    let mut raised = Vec::new();
    for n in 1..=3000u32 {
        if !feed(&mut e, 100.0 + f64::from(n) * 0.1, &pkt).is_empty() {
            raised.push(n);
        }
    }
    // Weird::sampling_threshold = 25, then one in Weird::sampling_rate = 1000 past it.
    assert_eq!(raised.len(), 27, "{raised:?}");
    assert_eq!(&raised[24..], &[25, 1025, 2025]);
    // The pair's state was made at 100.1 and goes at 700.1: counting starts over.
    let again: usize = (0..30).map(|k| feed(&mut e, 700.2 + f64::from(k), &pkt).len()).sum();
    assert_eq!(again, 25);
}

#[test]
fn spoofed_fragments_keep_the_fragment_table_bounded() {
    let cfg = Config { max_frag_datagrams: 2_000, max_frag_bytes: 1 << 20, frag_timeout: 30.0, ..Config::default() };
    let mut e = engine(cfg, &[]);
    let mut peak = (0, 0);
    for i in 0..20_000u32 {
        // A first fragment (MF set) of a datagram that never completes.
        let pkt = ipv4(spoofed(i), SERVER, 17, i as u16, 0x2000, &[0xab; 512], false);
        feed(&mut e, 10.0 + f64::from(i) * 1e-4, &pkt);
        let t = e.table_stats();
        peak = (peak.0.max(t.frag_datagrams), peak.1.max(t.frag_bytes));
    }
    assert!(peak.0 <= 2_000, "fragment table grew to {} datagrams", peak.0);
    assert!(peak.1 <= 1 << 20, "fragment table grew to {} bytes", peak.1);
    let t = e.table_stats();
    assert!(t.frags.evicted >= 18_000, "{t:?}");
    e.advance_to(10.0 + 2.0 + 30.0);
    let t = e.table_stats();
    assert_eq!((t.frag_datagrams, t.frag_bytes), (0, 0), "{t:?}");
    assert!(t.frags.expired > 0);
}

#[test]
fn fragments_still_reassemble_under_the_caps() {
    let cfg = Config { max_frag_datagrams: 4, ..Config::default() };
    let mut e = engine(cfg, &[EventKind::NewConnection]);
    let whole = udp(spoofed(9), 5000, SERVER, 53, &[0x11; 64]);
    let l4 = &whole[20..];
    let first = ipv4(spoofed(9), SERVER, 17, 77, 0x2000, &l4[..40], false);
    let second = ipv4(spoofed(9), SERVER, 17, 77, 5, &l4[40..], false);
    assert!(feed(&mut e, 1.0, &first).is_empty());
    let ev = feed(&mut e, 1.1, &second);
    assert!(matches!(ev.as_slice(), [Event::NewConnection { .. }]), "{ev:?}");
    let t = e.table_stats();
    assert_eq!((t.frag_datagrams, t.frag_bytes, t.frags.reassembled), (0, 0, 1), "{t:?}");
}

#[test]
fn spoofed_tunnels_keep_the_tunnel_table_bounded() {
    let cfg = Config { max_ip_tunnels: 1_000, ..Config::default() };
    let mut e = engine(cfg, &[]);
    let inner = udp(Ipv4Addr::new(172, 16, 0, 1), 4000, Ipv4Addr::new(172, 16, 0, 2), 53, &[0; 16]);
    for i in 0..10_000u32 {
        let outer = ipv4(spoofed(i), SERVER, 4, i as u16, 0, &inner, false);
        feed(&mut e, 50.0 + f64::from(i) * 1e-3, &outer);
        assert!(e.table_stats().ip_tunnels <= 1_000);
    }
    let t = e.table_stats();
    assert_eq!((t.ip_tunnels, t.ip_tunnels_evicted), (1_000, 9_000), "{t:?}");
    // Tunnel::ip_tunnel_timeout (24 hours) of inactivity forgets them.
    e.advance_to(50.0 + 10.0 + 86_400.0);
    assert_eq!(e.table_stats().ip_tunnels, 0);
}

/// Connections removed over a run of `packets`, as (orig port, packets).
fn removals(packets: &[(f64, Vec<u8>)]) -> (Vec<(u16, u64)>, Vec<String>) {
    let mut e = engine(Config { uid_seed: Some(1), ..Config::default() }, &[EventKind::ConnectionStateRemove, EventKind::NetWeird]);
    let (mut rem, mut weirds) = (Vec::new(), Vec::new());
    let mut take = |ev: Vec<Event>| {
        for x in ev {
            match x {
                Event::ConnectionStateRemove { c } => {
                    rem.push((c.id.orig_p.number, c.orig.num_pkts.unwrap_or(0) + c.resp.num_pkts.unwrap_or(0)))
                }
                Event::NetWeird { name, .. } => weirds.push(name),
                _ => {}
            }
        }
    };
    for (ts, p) in packets {
        take(feed(&mut e, *ts, p));
    }
    e.finish();
    take(e.queue.take().into());
    rem.sort();
    (rem, weirds)
}

/// Ten UDP conversations, one packet a second each way for 100 s.
fn conversations() -> Vec<(f64, Vec<u8>)> {
    let client = Ipv4Addr::new(10, 1, 1, 1);
    let mut v = Vec::new();
    for s in 0..100 {
        for c in 0..10u16 {
            let t = 1_700_000_000.0 + f64::from(s) + f64::from(c) * 0.01;
            v.push((t, udp(client, 20_000 + c, SERVER, 53, &[1; 20])));
            v.push((t + 0.001, udp(SERVER, 53, client, 20_000 + c, &[2; 20])));
        }
    }
    v
}

#[test]
fn one_packet_from_the_future_does_not_move_network_time() {
    let normal = conversations();
    let (want, weirds) = removals(&normal);
    assert_eq!(want.len(), 10);
    assert!(weirds.is_empty(), "{weirds:?}");
    let mut hostile = normal.clone();
    // One packet dated 2038 in the middle, of an eleventh conversation.
    let future = udp(Ipv4Addr::new(10, 9, 9, 9), 31_000, SERVER, 53, &[3; 20]);
    hostile.insert(hostile.len() / 2, (2_147_000_000.0, future));
    let (got, weirds) = removals(&hostile);
    let mut expected = want.clone();
    expected.push((31_000, 1));
    expected.sort();
    assert_eq!(got, expected, "the ten conversations stay whole, the future packet is its own connection");
    assert_eq!(weirds, ["network_time_jump_ignored"]);
}

#[test]
fn a_first_packet_from_the_future_does_not_freeze_time() {
    let normal = conversations();
    let (want, _) = removals(&normal);
    let mut hostile = normal.clone();
    let future = udp(Ipv4Addr::new(10, 9, 9, 9), 31_000, SERVER, 53, &[3; 20]);
    hostile.insert(0, (2_147_000_000.0, future));
    let (got, weirds) = removals(&hostile);
    let mut expected = want.clone();
    expected.push((31_000, 1));
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(weirds, ["network_time_jump_ignored"]);
}

#[test]
fn a_resumed_trace_moves_network_time_after_confirmation() {
    // The same conversations, then again a year later: network time follows
    // the second half once eight packets confirm it, so the first half's
    // connections time out and the second half makes new ones.
    let first = conversations();
    let mut trace = first.clone();
    trace.extend(first.iter().map(|(t, p)| (t + 365.0 * 86_400.0, p.clone())));
    let (got, weirds) = removals(&trace);
    assert_eq!(got.len(), 20, "{got:?}");
    assert!(got.iter().all(|&(_, n)| n == 200), "{got:?}");
    assert!(weirds.is_empty(), "a confirmed jump raises nothing, as in Zeek: {weirds:?}");
}

#[test]
fn a_packet_from_the_past_keeps_network_time() {
    // Zeek: network time never goes back, and no weird is raised. A late
    // packet of a tracked conversation is counted in it.
    let mut trace = conversations();
    let at = trace.len() / 2;
    let late = (trace[at].0 - 30.0, udp(Ipv4Addr::new(10, 1, 1, 1), 20_003, SERVER, 53, &[4; 20]));
    trace.insert(at, late);
    let (got, weirds) = removals(&trace);
    assert_eq!(got.len(), 10, "{got:?}");
    assert_eq!(got.iter().map(|r| r.1).sum::<u64>(), 2001);
    assert!(weirds.is_empty(), "{weirds:?}");
}
