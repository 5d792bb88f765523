//! Walks real oracle traces through capture and decode.
//!
//! Expected counts come from tcpdump's reading of the same files (packets in
//! the trace, packets tcpdump shows as IPv4/IPv6), not from this decoder.

use std::path::{Path, PathBuf};

use weir_engine::capture::file::FileSource;
use weir_engine::capture::{CaptureError, PacketSource};
use weir_engine::decode::ip::parse_ip;
use weir_engine::decode::link::{decode_link, link_header_len};
use weir_engine::decode::{LinkOutcome, L4};

fn oracle() -> Option<PathBuf> {
    let p = PathBuf::from("/work/shared/oracle/dev");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: oracle traces not present at {}", p.display());
        None
    }
}

#[derive(Default, Debug)]
struct Counts {
    total: usize,
    ip: usize,
    weird: Vec<&'static str>,
    link_type: i32,
}

/// Reads every packet of `path`, decoding link and IP layers and the transport header.
fn walk(path: &Path) -> Counts {
    let mut src = FileSource::open(path, None).unwrap_or_else(|e| panic!("{e}"));
    let mut c = Counts { link_type: src.link_type(), ..Default::default() };
    let mut notes = Vec::new();
    while let Some(p) = src.next_packet().unwrap_or_else(|e| panic!("{e}")) {
        c.total += 1;
        match decode_link(p.link_type, p.data) {
            LinkOutcome::Ip { ip, .. } => {
                let wire = p.wire_len as usize - link_header_len(p.data, ip);
                notes.clear();
                match parse_ip(ip, wire, true, &mut notes) {
                    Ok(h) => {
                        c.ip += 1;
                        if !h.is_fragment || h.frag_offset == 0 {
                            let _ = weir_engine::decode::transport::parse_l4(&h);
                        }
                    }
                    Err(w) => c.weird.push(w.name),
                }
            }
            LinkOutcome::Weird { name, .. } => c.weird.push(name),
            LinkOutcome::NotIp { .. } => {}
            LinkOutcome::UnknownLinkType => panic!("{}: unknown link type {}", path.display(), p.link_type),
        }
    }
    c
}

#[test]
fn link_layers_of_oracle_traces_decode_to_ip() {
    let Some(dev) = oracle() else { return };
    // (trace, link type, packets, IP packets), counts per tcpdump.
    let cases: &[(&str, i32, usize, usize)] = &[
        ("core.pppoe-over-qinq/pppoe-over-qinq.pcap", 1, 86, 86),
        ("core.mpls-in-vlan/mpls-in-vlan.pcap", 1, 3, 3),
        // tcpdump does not decode PBB / VN-Tag; read from its hex dumps: of the 12 PBB
        // frames, 2 carry 0x0800 and 8 carry 802.1Q → 0x0800, one ARP, one 0x8102.
        // Zeek's conn.log for the trace counts 10 packets. The one VN-Tag frame: → 802.1Q → 0x0800.
        ("core.pbb/pbb.pcap", 1, 12, 10),
        ("core.vntag-in-vlan/vntag_vlan_sandwich_clean.pcap", 1, 1, 1),
        ("scripts.base.protocols.irc.starttls/irc-starttls.pcap", 113, 20, 20),
        ("scripts.base.protocols.quic.interop.quic-go_quic-go.zerortt/zerortt.pcap", 9, 104, 104),
        ("scripts.base.protocols.http.http-connect-with-header/connect-with-header.pcap", 0, 58, 58),
        ("scripts.policy.protocols.conn.mac-logging--conn3/llc.pcap", 10, 1333, 1333),
        ("scripts.base.protocols.http.261.te-cl-desync/variant-04-te_cl_desync.pcap", 228, 8, 8),
        ("core.tunnels.gre-in-gre/gre-within-gre.pcap", 1, 628, 628),
        ("core.tunnels.gtp.different_dl_and_ul/gtp2_different_udp_port.pcap", 1, 120, 120),
        ("core.tunnels.teredo_bubble_with_payload/teredo_bubble_with_payload.pcap", 1, 29, 29),
    ];
    for &(trace, lt, total, ip) in cases {
        let path = dev.join(trace);
        if !path.exists() {
            eprintln!("skipping {trace}: not present");
            continue;
        }
        let c = walk(&path);
        assert_eq!(c.link_type, lt, "{trace}: link type");
        assert_eq!(c.total, total, "{trace}: packets");
        assert_eq!(c.ip, ip, "{trace}: IP packets (weirds {:?})", c.weird);
    }
}

#[test]
fn gzip_traces_are_read() {
    let Some(dev) = oracle() else { return };
    let mut seen = 0;
    for entry in std::fs::read_dir(&dev).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "gz") {
                // Packet count per `zcat | tcpdump -r - | wc -l`.
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(format!("zcat '{}' | tcpdump -nr - 2>/dev/null | wc -l", f.display()))
                    .output();
                let Ok(out) = out else { continue };
                let want: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
                if want == 0 {
                    continue;
                }
                let c = walk(&f);
                assert_eq!(c.total, want, "{}", f.display());
                seen += 1;
                if seen >= 3 {
                    return;
                }
            }
        }
    }
}

#[test]
fn not_a_trace_is_an_open_error_naming_the_file() {
    let Some(dev) = oracle() else { return };
    let f = dev.join("MANIFEST.tsv");
    match FileSource::open(&f, None) {
        Err(e @ CaptureError::Open { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("MANIFEST.tsv"), "{msg}");
            assert_eq!(msg.lines().count(), 1, "{msg}");
        }
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a TSV file opened as a trace"),
    }
}

#[test]
fn truncated_trace_reports_packets_and_offset() {
    let Some(dev) = oracle() else { return };
    let src = dev.join("core.mpls-in-vlan/mpls-in-vlan.pcap");
    if !src.exists() {
        eprintln!("skipping: trace missing");
        return;
    }
    let bytes = std::fs::read(&src).unwrap();
    // Records: 24-byte file header, then 16-byte headers + caplen (little-endian magic here).
    let caplen = |at: usize| u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
    let first = 24;
    let second = first + 16 + caplen(first);
    let third = second + 16 + caplen(second);
    let cut = third + 16 + 10; // inside the third record's data
    let tmp = std::env::temp_dir().join(format!("weir-trunc-{}.pcap", std::process::id()));
    std::fs::write(&tmp, &bytes[..cut]).unwrap();
    let mut s = FileSource::open(&tmp, None).unwrap();
    let mut n = 0;
    let err = loop {
        match s.next_packet() {
            Ok(Some(_)) => n += 1,
            Ok(None) => panic!("no error at the damaged record"),
            Err(e) => break e,
        }
    };
    std::fs::remove_file(&tmp).ok();
    assert_eq!(n, 2);
    match err {
        CaptureError::Truncated { packets, offset, .. } => {
            assert_eq!(packets, 2);
            assert_eq!(offset, Some(third as u64));
        }
        e => panic!("wrong error {e}"),
    }
}

#[test]
fn truncated_prefixes_never_panic() {
    let Some(dev) = oracle() else { return };
    let traces = [
        "core.pppoe-over-qinq/pppoe-over-qinq.pcap",
        "core.pbb/pbb.pcap",
        "core.vntag-in-vlan/vntag_vlan_sandwich_clean.pcap",
        "core.mpls-in-vlan/mpls-in-vlan.pcap",
        "core.tunnels.gre-in-gre/gre-within-gre.pcap",
        "core.tunnels.teredo_bubble_with_payload/teredo_bubble_with_payload.pcap",
        "core.tunnels.gtp.inner_ipv6/gtp7_ipv6.pcap",
        "core.tunnels.geneve/geneve.pcap",
        "core.tunnels.ayiya-large-identity/ayiya-large-identity.pcap",
        "core.tunnels.gre-aruba-amsdu/gre-aruba-amsdu.pcap",
        "scripts.policy.protocols.conn.mac-logging--conn3/llc.pcap",
        "scripts.base.protocols.irc.starttls/irc-starttls.pcap",
    ];
    use weir_engine::decode::tunnel::*;
    let mut fed = 0usize;
    for t in traces {
        let path = dev.join(t);
        if !path.exists() {
            continue;
        }
        let mut src = FileSource::open(&path, None).unwrap();
        let mut k = 0;
        while let Some(p) = src.next_packet().unwrap() {
            k += 1;
            if k > 40 {
                break;
            }
            for cut in 0..=p.data.len() {
                let d = &p.data[..cut];
                let _ = decode_link(p.link_type, d);
                let _ = decode_link(1, d);
                let _ = decode_link(127, d);
                let _ = decode_link(239, d);
                let _ = decode_link(276, d);
                let _ = parse_gre(d);
                let _ = parse_vxlan(d);
                let _ = parse_geneve(d);
                let _ = parse_gtpv1(d);
                let _ = parse_teredo(d);
                let _ = parse_ayiya(d);
                fed += 1;
            }
            // Truncated IP layers, with the wire length claiming more.
            if let LinkOutcome::Ip { ip, .. } = decode_link(p.link_type, p.data) {
                let mut notes = Vec::new();
                for cut in 0..=ip.len() {
                    for ignore in [false, true] {
                        if let Ok(h) = parse_ip(&ip[..cut], ip.len(), ignore, &mut notes) {
                            let _ = weir_engine::decode::checksum::l4_checksum_ok(&h);
                            if let Ok(L4::Tcp(_) | L4::Udp(_) | L4::Icmp(_) | L4::Other(_)) =
                                weir_engine::decode::transport::parse_l4(&h)
                            {}
                            let mut fr = weir_engine::decode::frag::FragReassembler::default();
                            if h.is_fragment {
                                let _ = fr.add(0.0, &h, &mut notes);
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(fed > 1000, "too few inputs fed: {fed}");
}

/// Decapsulation depth reached for one IP packet (0 = not tunnelled), or None on failure.
fn tunnel_depth(ip: &[u8], depth: usize) -> Option<usize> {
    use weir_engine::decode::tunnel::*;
    if depth > 8 {
        return None;
    }
    let mut notes = Vec::new();
    let h = parse_ip(ip, ip.len(), true, &mut notes).ok()?;
    let inner = match h.proto {
        4 | 41 => Inner::Ip(h.payload),
        47 => parse_gre(h.payload).ok()?.inner,
        _ => match weir_engine::decode::transport::parse_l4(&h).ok()? {
            L4::Udp(u) => match u.dport {
                ports::VXLAN => parse_vxlan(u.payload).ok()?.1,
                ports::GENEVE => parse_geneve(u.payload).ok()?.1,
                ports::GTPV1_U => parse_gtpv1(u.payload).ok()?.1,
                ports::AYIYA => parse_ayiya(u.payload).ok()?,
                _ => return Some(depth),
            },
            _ => return Some(depth),
        },
    };
    let inner_ip = match inner {
        Inner::Ip(d) => d,
        Inner::Ethernet(f) => match weir_engine::decode::link::decode_ethernet(f) {
            LinkOutcome::Ip { ip, .. } => ip,
            _ => return None,
        },
        Inner::Ieee80211(f) => match weir_engine::decode::link::decode_ieee80211(f) {
            LinkOutcome::Ip { ip, .. } => ip,
            _ => return None,
        },
        Inner::Other(_) => return None,
    };
    tunnel_depth(inner_ip, depth + 1)
}

#[test]
fn tunnels_of_oracle_traces_decapsulate() {
    let Some(dev) = oracle() else { return };
    // (trace, packets decapsulated to the given depth), per tcpdump's reading
    // (lines showing VXLAN / Geneve, GRE inside GRE).
    let cases: &[(&str, usize, usize)] = &[
        ("core.tunnels.analyzer-confirmation/vxlan-encapsulated-http.pcap", 1, 12),
        ("core.tunnels.geneve/geneve.pcap", 1, 6),
        ("core.tunnels.gre-in-gre/gre-within-gre.pcap", 2, 628),
    ];
    for &(trace, want_depth, want) in cases {
        let path = dev.join(trace);
        if !path.exists() {
            eprintln!("skipping {trace}: not present");
            continue;
        }
        let mut src = FileSource::open(&path, None).unwrap();
        let mut n = 0;
        while let Some(p) = src.next_packet().unwrap() {
            if let LinkOutcome::Ip { ip, .. } = decode_link(p.link_type, p.data) {
                if tunnel_depth(ip, 0) == Some(want_depth) {
                    n += 1;
                }
            }
        }
        assert_eq!(n, want, "{trace}");
    }
}
