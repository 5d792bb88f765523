//! The packet-level events (`raw_packet`, `new_packet`, `packet_contents`,
//! `ipv6_ext_headers`, `esp_packet`, `mobile_ipv6_message`,
//! `connection_flow_label_changed`) on the repository's generated traces and
//! on real oracle traces (skipped with a printed reason when absent).

use std::path::{Path, PathBuf};
use weir_engine::capture::{file::FileSource, PacketSource};
use weir_engine::events::{Ip6ExtHdr, Layer3Proto};
use weir_engine::events::{Event, EventKind, Subscriptions};
use weir_engine::{Config, Engine};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// All events of a trace, in order, with `kinds` subscribed.
fn events(trace: &Path, kinds: &[EventKind]) -> (Vec<Event>, u64) {
    let mut subs = Subscriptions::default();
    for k in kinds {
        subs.insert(*k);
    }
    let mut e = Engine::new(Config::default(), subs);
    let mut src = FileSource::open(trace, None).expect("trace");
    let mut out = Vec::new();
    let mut packets = 0;
    while let Some(p) = src.next_packet().expect("read") {
        packets += 1;
        e.process(&p);
        out.extend(e.queue.take());
    }
    e.finish();
    out.extend(e.queue.take());
    (out, packets)
}

fn oracle(case: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared/oracle/dev").join(case);
    let entry = std::fs::read_dir(&dir).ok()?.filter_map(Result::ok).find(|e| {
        let n = e.file_name().to_string_lossy().to_string();
        n.ends_with(".pcap") || n.ends_with(".pcapng")
    });
    if entry.is_none() {
        println!("skipped: no oracle trace in {}", dir.display());
    }
    entry.map(|e| e.path())
}

#[test]
fn raw_packet_once_per_captured_packet_outer_frame_only() {
    // VXLAN: the inner packets get no raw_packet of their own.
    let Some(trace) = oracle("core.tunnels.analyzer-confirmation") else { return };
    let (ev, packets) = events(&trace, &[EventKind::RawPacket]);
    let raws: Vec<_> = ev.iter().filter_map(|e| if let Event::RawPacket { p: r } = e { Some(r) } else { None }).collect();
    assert_eq!(raws.len() as u64, packets);
    assert!(raws.iter().all(|r| r.l2.encap == weir_engine::events::LinkEncap::Ethernet && r.l2.src.is_some() && r.l2.eth_type == Some(0x0800)));
    assert!(raws.iter().all(|r| r.l2.proto == Layer3Proto::Ipv4 && r.udp.is_some_and(|u| u.dport.number == 4789)));
}

#[test]
fn raw_packet_on_a_cooked_capture_is_not_ethernet() {
    // Linux SLL: LINK_UNKNOWN, no MACs or EtherType in l2_hdr, IP headers still there.
    let Some(trace) = oracle("scripts.base.protocols.irc.starttls") else { return };
    let (ev, packets) = events(&trace, &[EventKind::RawPacket]);
    let raws: Vec<_> = ev.iter().filter_map(|e| if let Event::RawPacket { p: r } = e { Some(r) } else { None }).collect();
    assert_eq!(raws.len() as u64, packets);
    assert!(raws.iter().all(|r| r.l2.encap == weir_engine::events::LinkEncap::Unknown && r.l2.src.is_none() && r.l2.dst.is_none() && r.l2.eth_type.is_none()));
    assert!(raws.iter().all(|r| r.l2.proto == Layer3Proto::Ipv4 && r.tcp.is_some()));
}

#[test]
fn new_packet_for_every_packet_of_a_connection_then_raw_packet_last() {
    let trace = repo().join("tests/traces/demo.pcap");
    let kinds = [EventKind::NewConnection, EventKind::NewPacket, EventKind::RawPacket, EventKind::ConnectionStateRemove];
    let (ev, packets) = events(&trace, &kinds);
    let raws = ev.iter().filter(|e| matches!(e, Event::RawPacket { .. })).count() as u64;
    assert_eq!(raws, packets);
    // Every packet of the demo trace belongs to a connection.
    let news = ev.iter().filter(|e| matches!(e, Event::NewPacket { .. })).count() as u64;
    assert_eq!(news, packets);
    // Per packet: new_connection (first packet only) -> new_packet -> raw_packet.
    for (i, e) in ev.iter().enumerate() {
        if let Event::NewConnection { c } = e {
            assert!(matches!(&ev[i + 1], Event::NewPacket { c: c2, .. } if c2.uid == c.uid));
            assert!(matches!(ev[i + 2], Event::RawPacket { .. }));
        }
    }
    // The TCP header of new_packet carries absolute sequence numbers.
    let first_tcp = ev.iter().find_map(|e| match e {
        Event::NewPacket { p, .. } => p.tcp,
        _ => None,
    });
    assert!(first_tcp.is_some_and(|t| t.flags & 0x02 != 0 && t.hl >= 20));
}

#[test]
fn packet_contents_add_up_to_the_payload_sent() {
    let trace = repo().join("tests/traces/demo.pcap");
    let (ev, _) = events(&trace, &[EventKind::PacketContents, EventKind::ConnectionStateRemove]);
    // The DNS flow: one query and one answer; contents are the UDP payloads.
    let dns = ev
        .iter()
        .find_map(|e| match e {
            Event::ConnectionStateRemove { c } if c.id.resp_p.number == 53 => Some(c.clone()),
            _ => None,
        })
        .expect("DNS flow");
    let total: u64 = ev
        .iter()
        .filter_map(|e| match e {
            Event::PacketContents { c, contents } if c.uid == dns.uid => Some(contents.len() as u64),
            _ => None,
        })
        .sum();
    assert_eq!(total, dns.orig.size + dns.resp.size);
    assert!(ev.iter().all(|e| !matches!(e, Event::PacketContents { contents, .. } if contents.is_empty())));
}

#[test]
fn ipv6_extension_headers_esp_and_mobility() {
    let trace = repo().join("tests/traces/ipv6.pcap");
    let kinds = [
        EventKind::Ipv6ExtHeaders,
        EventKind::NewPacket,
        EventKind::EspPacket,
        EventKind::MobileIpv6Message,
        EventKind::ConnectionFlowLabelChanged,
        EventKind::FlowWeird,
    ];
    let (ev, _) = events(&trace, &kinds);
    let ext: Vec<_> = ev.iter().filter_map(|e| if let Event::Ipv6ExtHeaders { p, .. } = e { Some(p) } else { None }).collect();
    assert_eq!(ext.len(), 1, "only the SYN has extension headers");
    let ip6 = ext[0].ip6.as_ref().unwrap();
    assert_eq!(ip6.flow, 0x12345);
    assert!(matches!(&ip6.exts[..], [Ip6ExtHdr::Hopopts(h), Ip6ExtHdr::Dstopts(d)] if h.nxt == 60 && d.nxt == 6 && d.options.len() == 2 && d.options[0].otype == 0));
    // ipv6_ext_headers comes right before the packet's new_packet.
    let at = ev.iter().position(|e| matches!(e, Event::Ipv6ExtHeaders { .. })).unwrap();
    assert!(matches!(ev[at + 1], Event::NewPacket { .. }));

    let flow: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ConnectionFlowLabelChanged { is_orig, old_label, new_label, .. } => Some((*is_orig, *old_label, *new_label)),
            _ => None,
        })
        .collect();
    assert_eq!(flow, vec![(true, 0x12345, 0x54321)], "the responder's first packet only records its label");

    let esp: Vec<_> = ev.iter().filter_map(|e| if let Event::EspPacket { p } = e { Some(p) } else { None }).collect();
    assert_eq!(esp.len(), 1);
    assert!(matches!(esp[0].ip6.as_ref().unwrap().exts[..], [Ip6ExtHdr::Esp(weir_engine::events::Ip6Esp { spi: 0x1001, seq: 7 })]));

    let mh: Vec<_> = ev.iter().filter_map(|e| if let Event::MobileIpv6Message { p } = e { Some(p) } else { None }).collect();
    assert_eq!(mh.len(), 1, "the message with the bad checksum raises no event");
    assert!(matches!(mh[0].ip6.as_ref().unwrap().exts[..], [Ip6ExtHdr::Mobility(ref m)] if m.mh_type == 0 && m.nxt == 59));
    let bad = ev.iter().filter(|e| matches!(e, Event::FlowWeird { name, .. } if name == "bad_MH_checksum")).count();
    assert_eq!(bad, 1);
}

/// A column of the first record of a Zeek baseline log (`#fields` or a `zeek-cut` header line).
fn baseline_value(path: &Path, column: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut fields: Option<Vec<&str>> = None;
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = Some(f.split('\t').collect());
        } else if line.starts_with('#') {
            continue;
        } else if let Some(f) = &fields {
            let i = f.iter().position(|c| *c == column).expect("column");
            return line.split('\t').nth(i).unwrap().to_string();
        } else {
            fields = Some(line.split('\t').collect());
        }
    }
    panic!("no record in {}", path.display())
}

#[test]
fn conn_stats_and_content_gaps_on_a_retransmitting_connection() {
    let Some(trace) = oracle("core.tcp.rxmit-history--conn-1") else { return };
    let kinds = [EventKind::ConnStats, EventKind::ContentGap, EventKind::ConnectionStateRemove];
    let mut subs = Subscriptions::default();
    for k in kinds {
        subs.insert(k);
    }
    // The case runs with -C (checksums ignored).
    let mut e = Engine::new(Config { ignore_checksums: true, ..Config::default() }, subs);
    let mut src = FileSource::open(&trace, None).unwrap();
    let mut ev = Vec::new();
    while let Some(p) = src.next_packet().unwrap() {
        e.process(&p);
        ev.extend(e.queue.take());
    }
    e.finish();
    ev.extend(e.queue.take());
    let stats = ev.iter().position(|e| matches!(e, Event::ConnStats { .. })).expect("conn_stats");
    assert!(matches!(ev[stats + 1], Event::ConnectionStateRemove { .. }), "conn_stats comes right before the removal");
    let Event::ConnStats { c, os, rs } = &ev[stats] else { unreachable!() };
    assert_eq!(Some(os.num_pkts), c.orig.num_pkts);
    assert_eq!(Some(rs.num_pkts), c.resp.num_pkts);
    assert!(rs.num_rxmit >= 1 && rs.num_rxmit_bytes >= 1430, "the responder retransmits a 1430-byte segment");
    // Pure ACKs do not advance the top sequence number, so TCPStats counts them too.
    assert!(os.num_rxmit > 0 && os.num_rxmit_bytes == 0);
    assert!(os.num_in_order + os.num_oo + os.num_repl + 1 == os.num_pkts);
    // missed_bytes of Zeek's conn.log is the sum of the content gaps.
    let missed: u64 = ev.iter().filter_map(|e| if let Event::ContentGap { length, .. } = e { Some(*length) } else { None }).sum();
    let base = trace.parent().unwrap().join("conn-1.log");
    assert_eq!(missed.to_string(), baseline_value(&base, "missed_bytes"));
}

#[test]
fn rexmit_inconsistency_and_content_gap_on_generated_connections() {
    // See scripts/gen-tcp-events-trace.py for what each connection does.
    let trace = repo().join("tests/traces/tcp-events.pcap");
    let (ev, _) = events(&trace, &[EventKind::RexmitInconsistency, EventKind::ContentGap]);
    let rexmit: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::RexmitInconsistency { c, t1, t2, tcp_flags } => Some((c.id.orig_p.number, t1.clone(), t2.clone(), tcp_flags.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(rexmit, vec![(42000, b"world".to_vec(), b"WORLD".to_vec(), "AP".to_string())]);
    let gaps: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ContentGap { c, is_orig, seq, length } => Some((c.id.orig_p.number, *is_orig, *seq, *length)),
            _ => None,
        })
        .collect();
    assert_eq!(gaps, vec![(42001, false, 1, 1000)]);
}

/// `udp_session_done` comes right before `connection_state_remove` for
/// exactly the UDP connections on a DNS/NTP/SNMP/Syslog responder port.
fn check_udp_session_done(trace: &Path) -> usize {
    let (ev, _) = events(trace, &[EventKind::UdpSessionDone, EventKind::ConnectionStateRemove]);
    let analyzer_port = |p: u16| [53, 137, 5353, 5355, 123, 161, 162, 514].contains(&p);
    let mut done = 0;
    for (i, e) in ev.iter().enumerate() {
        match e {
            Event::UdpSessionDone { u: c } => {
                done += 1;
                let Some(Event::ConnectionStateRemove { c: r }) = ev.get(i + 1) else {
                    panic!("udp_session_done for {} not followed by its removal", c.uid)
                };
                assert_eq!(r.uid, c.uid);
                assert!(c.id.proto == 17 && analyzer_port(c.id.resp_p.number));
            }
            Event::ConnectionStateRemove { c } => {
                let expected = c.id.proto == 17 && analyzer_port(c.id.resp_p.number);
                let got = i > 0 && matches!(&ev[i - 1], Event::UdpSessionDone { u } if u.uid == c.uid);
                assert_eq!(got, expected, "{} {:?}", c.uid, c.id);
            }
            _ => {}
        }
    }
    done
}

#[test]
fn udp_session_done_for_udp_analyzer_ports() {
    assert!(check_udp_session_done(&repo().join("tests/traces/demo.pcap")) >= 1);
    for case in ["opt.basic", "scripts.base.protocols.ntp.misordered-ntp"] {
        if let Some(trace) = oracle(case) {
            assert!(check_udp_session_done(&trace) >= 1, "{case}");
        }
    }
}
