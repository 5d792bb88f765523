//! The session layer on hand-built packets: roles, states, timers, reuse,
//! ICMP pairing and fragments, each checked against Zeek's rules.

use etherparse::PacketBuilder;
use weir_engine::capture::{dlt, Packet};
use weir_engine::config::{parse_port_list, Config, DEFAULT_LIKELY_SERVER_PORTS};
use std::net::IpAddr;
use weir_engine::decode::ip::parse_ip;
use weir_engine::decode::transport::parse_l4;
use weir_engine::decode::L2Info;
use weir_engine::events::values::conn_id;
use weir_engine::events::{Connection, EncapsulatingConn, Event, EventKind, EventQueue, Subscriptions, TunnelType};
use weir_engine::sessions::{PacketInfo, Sessions};
use weir_engine::Engine;

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];
const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;

/// Which way a packet goes.
#[derive(Clone, Copy)]
enum Dir {
    AtoB,
    BtoA,
}

fn tcp(dir: Dir, sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (sm, dm, sa, da) = match dir {
        Dir::AtoB => (MAC_A, MAC_B, A, B),
        Dir::BtoA => (MAC_B, MAC_A, B, A),
    };
    let mut b = PacketBuilder::ethernet2(sm, dm).ipv4(sa, da, 64).tcp(sport, dport, seq, 65535);
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if flags & RST != 0 {
        b = b.rst();
    }
    if flags & ACK != 0 {
        b = b.ack(ack);
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn udp(dir: Dir, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let (sm, dm, sa, da) = match dir {
        Dir::AtoB => (MAC_A, MAC_B, A, B),
        Dir::BtoA => (MAC_B, MAC_A, B, A),
    };
    let mut out = Vec::new();
    PacketBuilder::ethernet2(sm, dm).ipv4(sa, da, 64).udp(sport, dport).write(&mut out, payload).unwrap();
    out
}

/// Runs frames (timestamp, bytes) through an engine with every event subscribed.
fn run(cfg: Config, frames: &[(f64, Vec<u8>)]) -> Vec<Event> {
    let mut subs = Subscriptions::default();
    for k in EventKind::ALL {
        subs.insert(*k);
    }
    let mut e = Engine::new(cfg, subs);
    let mut out = Vec::new();
    for (ts, f) in frames {
        e.process(&Packet { ts: *ts, wire_len: f.len() as u32, link_type: dlt::EN10MB, data: f });
        out.extend(e.queue.take());
    }
    e.finish();
    out.extend(e.queue.take());
    out
}

fn zeek_cfg() -> Config {
    Config { likely_server_ports: parse_port_list(DEFAULT_LIKELY_SERVER_PORTS).unwrap(), ..Config::default() }
}

fn removed(events: &[Event]) -> Vec<&Connection> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConnectionStateRemove { c } => Some(&**c),
            _ => None,
        })
        .collect()
}

#[test]
fn full_handshake_and_close_counts_bytes_from_sequence_numbers() {
    let f = vec![
        (1.0, tcp(Dir::AtoB, 40000, 80, 100, 0, SYN, b"")),
        (1.1, tcp(Dir::BtoA, 80, 40000, 500, 101, SYN | ACK, b"")),
        (1.2, tcp(Dir::AtoB, 40000, 80, 101, 501, ACK, b"")),
        (1.3, tcp(Dir::AtoB, 40000, 80, 101, 501, ACK, b"hello")),
        (1.4, tcp(Dir::BtoA, 80, 40000, 501, 106, ACK, b"world!!")),
        (1.5, tcp(Dir::AtoB, 40000, 80, 106, 508, FIN | ACK, b"")),
        (1.6, tcp(Dir::BtoA, 80, 40000, 508, 107, FIN | ACK, b"")),
        (1.7, tcp(Dir::AtoB, 40000, 80, 107, 509, ACK, b"")),
    ];
    let ev = run(zeek_cfg(), &f);
    let r = removed(&ev);
    assert_eq!(r.len(), 1);
    let c = r[0];
    assert_eq!(c.history, "ShADdFf", "the responder never sends a pure ACK");
    assert_eq!((c.orig.size, c.resp.size), (5, 7));
    assert_eq!((c.orig.state, c.resp.state), (5, 5), "both CLOSED");
    assert_eq!((c.orig.num_pkts, c.resp.num_pkts), (Some(5), Some(3)));
    // Duration stops at the second FIN: trailing ACKs after both closed do not count.
    assert!((c.duration - 0.6).abs() < 1e-9, "duration {}", c.duration);
    assert!(matches!(ev.first(), Some(Event::NewConnection { .. })));
}

#[test]
fn syn_ack_from_a_server_port_flips_roles_at_creation() {
    let f = vec![
        (1.0, tcp(Dir::BtoA, 80, 40000, 500, 101, SYN | ACK, b"")),
        (1.1, tcp(Dir::AtoB, 40000, 80, 101, 501, ACK, b"")),
    ];
    let ev = run(zeek_cfg(), &f);
    let c = removed(&ev)[0];
    assert_eq!(c.id.orig_h.to_string(), "10.0.0.1");
    assert_eq!(c.id.resp_p.number, 80);
    assert_eq!(c.history, "^hA");
}

#[test]
fn rejected_syn_and_unanswered_syn() {
    let f = vec![
        (1.0, tcp(Dir::AtoB, 40001, 81, 100, 0, SYN, b"")),
        (1.1, tcp(Dir::BtoA, 81, 40001, 0, 101, RST | ACK, b"")),
        (2.0, tcp(Dir::AtoB, 40002, 82, 900, 0, SYN, b"")),
    ];
    let ev = run(Config::default(), &f);
    let r = removed(&ev);
    let rej = r.iter().find(|c| c.id.resp_p.number == 81).unwrap();
    assert_eq!((rej.orig.state, rej.resp.state), (1, 6), "SYN_SENT / RESET: REJ");
    assert_eq!(rej.history, "Sr");
    let s0 = r.iter().find(|c| c.id.resp_p.number == 82).unwrap();
    assert_eq!((s0.orig.state, s0.resp.state), (1, 0), "SYN_SENT / INACTIVE: S0");
}

#[test]
fn a_new_syn_after_a_close_reuses_the_tuple() {
    // Port 5000: no analyzer, so the old connection's removal is only the core's events.
    let mut f = vec![
        (1.0, tcp(Dir::AtoB, 40000, 5000, 100, 0, SYN, b"")),
        (1.1, tcp(Dir::BtoA, 5000, 40000, 500, 101, SYN | ACK, b"")),
        (1.2, tcp(Dir::AtoB, 40000, 5000, 101, 501, FIN | ACK, b"")),
        (1.3, tcp(Dir::BtoA, 5000, 40000, 501, 102, FIN | ACK, b"")),
    ];
    f.push((1.4, tcp(Dir::AtoB, 40000, 5000, 7000, 0, SYN, b"")));
    let ev = run(zeek_cfg(), &f);
    let reused = ev.iter().position(|e| matches!(e, Event::ConnectionReused { .. })).expect("connection_reused");
    // Then the old connection's removal: analyzer end events (conn_stats), connection_state_remove.
    assert!(matches!(ev[reused + 1], Event::ConnStats { .. }));
    assert!(matches!(ev[reused + 2], Event::ConnectionStateRemove { .. }), "old connection removed right after");
    let r = removed(&ev);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].history, "ShFf");
    assert_eq!(r[1].history, "S");
    assert_ne!(r[0].uid, r[1].uid);
    assert!(ev.iter().any(|e| matches!(e, Event::ConnWeird { name, .. } if name == "premature_connection_reuse")));
}

#[test]
fn udp_inactivity_timeout_splits_a_flow() {
    let f = vec![
        (0.0, udp(Dir::AtoB, 5000, 53, b"query")),
        (0.5, udp(Dir::BtoA, 53, 5000, b"answer!")),
        (100.0, udp(Dir::AtoB, 5000, 53, b"again")),
    ];
    let ev = run(zeek_cfg(), &f);
    let timeouts = ev.iter().filter(|e| matches!(e, Event::ConnectionTimeout { .. })).count();
    assert_eq!(timeouts, 1, "the first flow times out after 60 s of network time");
    let r = removed(&ev);
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].orig.size, r[0].resp.size), (5, 7), "UDP sizes are payload bytes");
    assert_eq!(r[0].history, "Dd");
    assert_eq!((r[0].orig.state, r[0].resp.state), (1, 1));
}

/// A DNS query for `a.example` (type A).
fn dns_query(id: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    q.extend_from_slice(b"\x01a\x07example\x00\x00\x01\x00\x01");
    q
}

#[test]
fn dns_session_timeout_ends_an_idle_dns_flow_before_udp_inactivity() {
    let f = vec![
        (0.0, udp(Dir::AtoB, 5000, 53, &dns_query(1))),
        // Not DNS's port: only the 60 s inactivity timeout applies.
        (0.0, udp(Dir::AtoB, 5001, 5300, &dns_query(4))),
        (8.0, udp(Dir::AtoB, 5000, 53, &dns_query(2))),
        (30.0, udp(Dir::AtoB, 5000, 53, &dns_query(3))),
        (30.0, udp(Dir::AtoB, 5001, 5300, &dns_query(5))),
    ];
    let ev = run(zeek_cfg(), &f);
    let ends: Vec<(u16, f64)> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ConnectionTimeout { c } => Some((c.id.orig_p.number, c.start_time)),
            _ => None,
        })
        .collect();
    // The check at 10 finds 2 s of quiet and waits; the one at 20 finds 12.
    assert_eq!(ends, [(5000, 0.0)], "the DNS flow times out once, the other never before the end");
    let r = removed(&ev);
    assert_eq!(r.iter().filter(|c| c.id.orig_p.number == 5000).count(), 2, "the query at 30 s starts a new connection");
    assert_eq!(r.iter().filter(|c| c.id.orig_p.number == 5001).count(), 1);
    let mut cfg = zeek_cfg();
    cfg.set("dns_session_timeout", "1 min").unwrap();
    let r2 = removed(&run(cfg, &f)).iter().filter(|c| c.id.orig_p.number == 5000).count();
    assert_eq!(r2, 1, "dns_session_timeout is a setting");
}

#[test]
fn udp_reply_from_a_server_port_flips_but_not_to_broadcast() {
    let f = vec![(1.0, udp(Dir::BtoA, 53, 5000, b"answer"))];
    let c = removed(&run(zeek_cfg(), &f))[0].clone();
    assert_eq!(c.id.resp_p.number, 53);
    assert_eq!(c.history, "^d");

    let mut bcast = Vec::new();
    PacketBuilder::ethernet2(MAC_B, [0xff; 6])
        .ipv4(B, [255, 255, 255, 255], 64)
        .udp(67, 68)
        .write(&mut bcast, b"offer")
        .unwrap();
    let c = removed(&run(zeek_cfg(), &[(1.0, bcast)]))[0].clone();
    assert_eq!(c.id.orig_p.number, 67, "no flip towards 255.255.255.255");
}

#[test]
fn icmp_echo_pairs_and_errors_stand_alone() {
    let mut req = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(A, B, 64).icmpv4_echo_request(1, 1).write(&mut req, b"ping").unwrap();
    let mut rep = Vec::new();
    PacketBuilder::ethernet2(MAC_B, MAC_A).ipv4(B, A, 64).icmpv4_echo_reply(1, 1).write(&mut rep, b"ping").unwrap();
    let ev = run(zeek_cfg(), &[(1.0, req), (1.1, rep)]);
    let r = removed(&ev);
    assert_eq!(r.len(), 1, "request and reply share a connection");
    assert_eq!((r[0].id.orig_p.number, r[0].id.resp_p.number), (8, 0));
    assert_eq!((r[0].orig.size, r[0].resp.size), (4, 4));
    assert_eq!(r[0].history, "");
}

#[test]
fn ipv4_fragments_are_reassembled_before_sessions() {
    // One UDP datagram (8 + 1472 bytes) split into two fragments by hand.
    let payload: Vec<u8> = (0..1472u32).map(|i| i as u8).collect();
    let mut whole = Vec::new();
    PacketBuilder::ipv4(A, B, 64).udp(7000, 7001).write(&mut whole, &payload).unwrap();
    let udp_bytes = &whole[20..];
    let split = 1000; // a multiple of 8
    let frag = |off: usize, data: &[u8], more: bool| {
        let mut ip = whole[..20].to_vec();
        let total = (20 + data.len()) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        let fo = (off / 8) as u16 | if more { 0x2000 } else { 0 };
        ip[6..8].copy_from_slice(&fo.to_be_bytes());
        ip[10..12].copy_from_slice(&[0, 0]);
        let mut sum: u32 = 0;
        for ch in ip.chunks(2) {
            sum += u16::from_be_bytes([ch[0], ch[1]]) as u32;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        let mut f = Vec::new();
        f.extend_from_slice(&MAC_B);
        f.extend_from_slice(&MAC_A);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(data);
        f
    };
    let f = vec![(1.0, frag(split, &udp_bytes[split..], false)), (1.0, frag(0, &udp_bytes[..split], true))];
    let r = removed(&run(zeek_cfg(), &f)).into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].orig.size, 1472);
    assert_eq!(r[0].orig.num_pkts, Some(1), "one reassembled datagram");
    assert_eq!(r[0].orig.num_bytes_ip, Some(1500));
}

#[test]
fn status_updates_every_interval_of_network_time() {
    let cfg = Config { connection_status_update_interval: 1.0, ..zeek_cfg() };
    let f: Vec<_> = (0..6).map(|i| (i as f64 * 0.5, udp(Dir::AtoB, 6000, 9999, b"tick"))).collect();
    let ev = run(cfg, &f);
    // Created at 0.0; due at 1.0 and 2.0, fired by the packets at 1.0 and 2.0; none at shutdown.
    let updates = ev.iter().filter(|e| matches!(e, Event::ConnectionStatusUpdate { .. })).count();
    assert_eq!(updates, 2);
    let ev = run(zeek_cfg(), &f);
    assert!(ev.iter().all(|e| !matches!(e, Event::ConnectionStatusUpdate { .. })), "off by default");
}

/// Runs one UDP datagram A→B through `s` under a tunnel numbered `tunnel`
/// (0: none) and returns its connection's slot.
fn udp_in_tunnel(s: &mut Sessions, q: &mut EventQueue, ts: f64, tunnel: u16) -> u32 {
    let frame = udp(Dir::AtoB, 5000, 5001, b"x");
    let ip = parse_ip(&frame[14..], frame.len() - 14, true, &mut Vec::new()).unwrap();
    let l4 = parse_l4(&ip).unwrap();
    let cid = conn_id((IpAddr::from([192, 0, 2, 1]), tunnel), (IpAddr::from([192, 0, 2, 2]), 3544), 17);
    let encap = [EncapsulatingConn { cid, tunnel_type: TunnelType::Teredo, uid: Some(format!("T{tunnel}")) }];
    let encap: &[EncapsulatingConn] = if tunnel == 0 { &[] } else { &encap };
    let p = PacketInfo { ts, ip: &ip, l4: &l4, l2: &L2Info::default(), encap };
    s.process(&p, q).unwrap().0
}

#[test]
fn tunnel_max_changes_per_connection_is_a_setting() {
    let mut subs = Subscriptions::default();
    subs.insert(EventKind::ConnWeird);
    // The weird of the change past the limit, with the limit as its addl.
    let addls = |q: &mut EventQueue| -> Vec<String> {
        q.take()
            .into_iter()
            .filter_map(|e| match e {
                Event::ConnWeird { name, addl, .. } if name == "tunnel_max_changes_per_connection_exceeded" => Some(addl),
                _ => None,
            })
            .collect()
    };
    let run = |limit: &str| {
        let mut cfg = zeek_cfg();
        cfg.set("Tunnel::max_changes_per_connection", limit).unwrap();
        let mut s = Sessions::new(cfg);
        let mut q = EventQueue::new(subs.clone());
        let slot = udp_in_tunnel(&mut s, &mut q, 1.0, 0);
        let mut at = Vec::new();
        for t in 1..=8 {
            udp_in_tunnel(&mut s, &mut q, 1.0 + f64::from(t), t);
            if s.conn(slot).unwrap().history.as_str().contains('X') && at.is_empty() {
                at.push(t);
            }
        }
        (at, addls(&mut q))
    };
    assert_eq!(run("2"), (vec![3], vec!["2".to_string()]), "the third change is past a limit of 2");
    assert_eq!(run("0"), (vec![], vec![]), "0: no limit");
}

#[test]
fn tunnel_changes_past_the_limit_mark_analysis_limited_once() {
    let mut subs = Subscriptions::default();
    subs.insert(EventKind::ConnWeird);
    let weirds = |q: &mut EventQueue| {
        q.take().into_iter().filter(|e| matches!(e, Event::ConnWeird { name, .. } if name == "tunnel_max_changes_per_connection_exceeded")).count()
    };
    // Six changes of tunnel: the sixth marks `X` and raises the weird once.
    let mut s = Sessions::new(zeek_cfg());
    let mut q = EventQueue::new(subs);
    let slot = udp_in_tunnel(&mut s, &mut q, 1.0, 0);
    for t in 1..=5 {
        udp_in_tunnel(&mut s, &mut q, 1.0 + f64::from(t), t);
    }
    assert!(!s.conn(slot).unwrap().history.as_str().contains('X'));
    udp_in_tunnel(&mut s, &mut q, 7.0, 6);
    udp_in_tunnel(&mut s, &mut q, 8.0, 7);
    assert_eq!(s.conn(slot).unwrap().history.as_str(), "DX");
    assert_eq!(weirds(&mut q), 1);
    // Already limited (an analyzer hit its limit): the letter is not repeated.
    let mut s = Sessions::new(zeek_cfg());
    let mut q = EventQueue::new(subs);
    let slot = udp_in_tunnel(&mut s, &mut q, 1.0, 0);
    s.analysis_limited(slot);
    for t in 1..=7 {
        udp_in_tunnel(&mut s, &mut q, 1.0 + f64::from(t), t);
    }
    assert_eq!(s.conn(slot).unwrap().history.as_str(), "DX");
    assert_eq!(weirds(&mut q), 1);
}

/// A VXLAN header with an inner Ethernet/IPv4/UDP packet.
fn vxlan(inner: &[u8]) -> Vec<u8> {
    let mut p = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    p.extend_from_slice(inner);
    p
}

/// A Teredo bubble-less packet: an IPv6 header with no payload (next header 59).
fn teredo_ipv6() -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 0, 59, 64];
    p.extend_from_slice(&[0x20, 0x01, 0, 0, 0x41, 0x37, 0x9e, 0x50, 0x80, 0, 0xf1, 0x2a, 0xb9, 0xc8, 0x28, 0x15]);
    p.extend_from_slice(&[0x20, 0x01, 0x48, 0x60, 0, 0, 0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x68]);
    p
}

fn services(events: &[Event], port: u16) -> Vec<String> {
    removed(events).iter().find(|c| c.id.resp_p.number == port).map(|c| c.service.clone()).unwrap_or_default()
}

#[test]
fn tunnels_confirm_their_outer_connection_as_zeek_does() {
    let inner = udp(Dir::AtoB, 1000, 2000, b"x");
    // VXLAN: the first good header confirms, once.
    let ev = run(zeek_cfg(), &[(1.0, udp(Dir::AtoB, 50000, 4789, &vxlan(&inner))), (2.0, udp(Dir::AtoB, 50000, 4789, &vxlan(&inner)))]);
    assert_eq!(services(&ev, 4789), ["VXLAN"]);
    let confirmations: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ProtocolConfirmation { atype, aid, .. } => Some((atype.name.clone(), *aid)),
            _ => None,
        })
        .collect();
    assert_eq!(confirmations, [("VXLAN".to_string(), 0)]);
    // A header with nothing after it confirms too (then its weird).
    let ev = run(zeek_cfg(), &[(1.0, udp(Dir::AtoB, 50000, 4789, &vxlan(&[])))]);
    assert_eq!(services(&ev, 4789), ["VXLAN"]);
    // No 'I' flag: not VXLAN, no service.
    let mut bad = vxlan(&inner);
    bad[0] = 0;
    let ev = run(zeek_cfg(), &[(1.0, udp(Dir::AtoB, 50000, 4789, &bad))]);
    assert!(services(&ev, 4789).is_empty());
    // Past Tunnel::max_depth nothing is decapsulated or confirmed.
    let cfg = Config { tunnel_max_depth: 0, ..zeek_cfg() };
    let ev = run(cfg, &[(1.0, udp(Dir::AtoB, 50000, 4789, &vxlan(&inner)))]);
    assert!(services(&ev, 4789).is_empty());
    // Teredo waits for both directions (Tunnel::delay_teredo_confirmation).
    let one_way = run(zeek_cfg(), &[(1.0, udp(Dir::AtoB, 3797, 3544, &teredo_ipv6()))]);
    assert!(services(&one_way, 3544).is_empty());
    let both = [(1.0, udp(Dir::AtoB, 3797, 3544, &teredo_ipv6())), (1.5, udp(Dir::BtoA, 3544, 3797, &teredo_ipv6()))];
    assert_eq!(services(&run(zeek_cfg(), &both), 3544), ["TEREDO"]);
    let eager = Config { delay_teredo_confirmation: false, ..zeek_cfg() };
    let one_way = run(eager, &[(1.0, udp(Dir::AtoB, 3797, 3544, &teredo_ipv6()))]);
    assert_eq!(services(&one_way, 3544), ["TEREDO"]);
}

/// An engine with every event subscribed, for driving requests by hand.
fn engine(cfg: Config) -> Engine {
    let mut subs = Subscriptions::default();
    for k in EventKind::ALL {
        subs.insert(*k);
    }
    Engine::new(cfg, subs)
}

fn feed(e: &mut Engine, ts: f64, f: &[u8]) -> Vec<Event> {
    e.process(&Packet { ts, wire_len: f.len() as u32, link_type: dlt::EN10MB, data: f });
    e.queue.take().into_iter().collect()
}

fn finish(mut e: Engine) -> Vec<Event> {
    e.finish();
    e.queue.take().into_iter().collect()
}

#[test]
fn a_scheduled_analyzer_replaces_the_port_analyzers_and_is_announced() {
    use weir_engine::analyzers::requests::Request;
    use weir_engine::analyzers::{Tag, Transport as T};
    let ntp = vec![0x23u8; 48];
    let mut e = engine(zeek_cfg());
    feed(&mut e, 1.0, &udp(Dir::AtoB, 5000, 7, b"x"));
    let schedule = |port| Request::Schedule { orig: None, resp: IpAddr::from(B), resp_p: port, transport: T::Udp, tag: Tag::Ntp, timeout: 10.0 };
    e.apply_requests(vec![schedule(9999)]);
    let ev = feed(&mut e, 2.0, &udp(Dir::AtoB, 4000, 9999, &ntp));
    let kinds: Vec<&str> = ev.iter().map(|e| e.kind().name()).collect();
    let applied = kinds.iter().position(|k| *k == "scheduled_analyzer_applied").expect("announced");
    assert_eq!(kinds[applied + 1], "new_connection", "{kinds:?}");
    assert!(matches!(&ev[applied], Event::ScheduledAnalyzerApplied { a, c } if a.name == "NTP" && c.id.resp_p.number == 9999));
    // Another originator, same responder and port: the entry is not used up.
    feed(&mut e, 3.0, &udp(Dir::BtoA, 4001, 9999, b"y"));
    // Past its time the any-originator entry no longer matches.
    let late = feed(&mut e, 13.0, &tcp(Dir::AtoB, 4002, 9999, 1, 0, SYN, b""));
    assert!(!late.iter().any(|e| e.kind() == EventKind::ScheduledAnalyzerApplied));
    let ev = finish(e);
    assert_eq!(services(&ev, 9999), ["NTP"], "the scheduled analyzer ran");
    assert_eq!(removed(&ev).iter().filter(|c| c.id.resp_p.number == 9999).count(), 3);
}

#[test]
fn a_scheduled_ftp_data_analyzer_gives_the_ftp_data_service() {
    use weir_engine::analyzers::requests::Request;
    use weir_engine::analyzers::{Tag, Transport as T};
    let mut e = engine(zeek_cfg());
    feed(&mut e, 1.0, &udp(Dir::AtoB, 5000, 7, b"x"));
    let r = Request::Schedule { orig: Some(IpAddr::from(A)), resp: IpAddr::from(B), resp_p: 20000, transport: T::Tcp, tag: Tag::FtpData, timeout: 300.0 };
    e.apply_requests(vec![r]);
    let ev = feed(&mut e, 2.0, &tcp(Dir::AtoB, 4000, 20000, 1, 0, SYN, b""));
    assert!(ev.iter().any(|e| matches!(e, Event::ScheduledAnalyzerApplied { a, c } if a.name == "FTP_DATA" && c.service == ["ftp-data"])));
    // A connection to another port gets its port's analyzers and no such service.
    feed(&mut e, 3.0, &tcp(Dir::AtoB, 4001, 20001, 1, 0, SYN, b""));
    let ev = finish(e);
    assert_eq!(services(&ev, 20000), ["ftp-data"]);
    assert!(services(&ev, 20001).is_empty());
}

#[test]
fn a_handler_can_disable_an_analyzer_and_dpd_ignore_ports_attaches_none() {
    use weir_engine::analyzers::requests::Request;
    let ntp = vec![0x23u8; 48];
    // NTP by port confirms the service at its first full message.
    let mut e = engine(zeek_cfg());
    feed(&mut e, 1.0, &udp(Dir::AtoB, 4000, 123, &ntp));
    assert_eq!(services(&finish(e), 123), ["NTP"]);
    // Disabled (by conn_id and instance id) before that message: no service.
    let mut e = engine(zeek_cfg());
    let ev = feed(&mut e, 1.0, &udp(Dir::AtoB, 4000, 123, b"short"));
    let c = ev.iter().find_map(|e| if let Event::NewConnection { c } = e { Some(c.id) } else { None }).unwrap();
    let id = (c.orig_h, c.orig_p.number, c.resp_h, c.resp_p.number, 17);
    let other = (c.orig_h, 4001, c.resp_h, 123, 17);
    e.apply_requests(vec![Request::Disable { id: other, aid: 1 }, Request::Disable { id, aid: 99 }]);
    feed(&mut e, 1.5, &udp(Dir::AtoB, 4000, 123, b"short"));
    e.apply_requests(vec![Request::Disable { id, aid: 1 }]);
    feed(&mut e, 2.0, &udp(Dir::AtoB, 4000, 123, &ntp));
    assert!(services(&finish(e), 123).is_empty());
    // dpd_ignore_ports: no analyzer by port.
    let mut e = engine(Config { dpd_ignore_ports: true, ..zeek_cfg() });
    feed(&mut e, 1.0, &udp(Dir::AtoB, 4000, 123, &ntp));
    assert!(services(&finish(e), 123).is_empty());
}
