//! Hand-built packets for each decoder.

use std::net::IpAddr;

use weir_engine::decode::checksum::{ipv4_header_checksum, l4_checksum_ok};
use weir_engine::decode::frag::FragReassembler;
use weir_engine::decode::ip::{parse_ip, IpWeird};
use weir_engine::decode::link::decode_link;
use weir_engine::decode::transport::parse_l4;
use weir_engine::decode::tunnel::*;
use weir_engine::decode::{LinkOutcome, L4};

/// IPv4 header + payload with a correct header checksum.
fn ipv4(proto: u8, id: u16, flags_off: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&flags_off.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    let sum = ipv4_header_checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    u
}

fn err(data: &[u8], wire: usize, ignore: bool) -> IpWeird {
    parse_ip(data, wire, ignore, &mut Vec::new()).unwrap_err()
}

#[test]
fn ipv4_checks_in_zeek_order() {
    let p = ipv4(17, 1, 0, &udp(1, 2, b"hi"));
    assert_eq!(err(&p[..19], 19, false).name, "truncated_IP");
    let mut v = p.clone();
    v[0] = 0x55;
    assert_eq!(err(&v, v.len(), false).name, "unknown_ip_version");
    let mut z = p.clone();
    z[2] = 0;
    z[3] = 0;
    assert_eq!(err(&z, z.len(), false).name, "ip_hdr_len_zero");
    let mut notes = Vec::new();
    let h = parse_ip(&z, z.len(), true, &mut notes).unwrap();
    assert_eq!(h.total_len, 0, "ConnSize counts the header's zero length");
    assert_eq!(h.payload.len(), z.len() - 20, "the captured bytes stand in for the length");
    assert_eq!(notes[0].name, "ip_hdr_len_zero");
    assert_eq!(err(&p, p.len() - 1, false).name, "truncated_IP_len");
    let mut s = p.clone();
    s[8] = 1; // TTL change breaks the checksum
    let w = err(&s, s.len(), false);
    assert_eq!((w.name, w.flow), ("bad_IP_checksum", true));
    assert!(parse_ip(&s, s.len(), true, &mut Vec::new()).is_ok());
    let mut small = p.clone();
    small[0] = 0x44;
    assert_eq!(err(&small, small.len(), true).name, "IPv4_min_header_size");

    // Padding after the datagram is not payload.
    let mut padded = p.clone();
    padded.extend_from_slice(&[0; 6]);
    let h = parse_ip(&padded, padded.len(), false, &mut Vec::new()).unwrap();
    assert_eq!(h.payload.len(), 10);
    assert_eq!(h.payload_len, 10);
    let L4::Udp(u) = parse_l4(&h).unwrap() else { panic!() };
    assert_eq!((u.sport, u.dport, u.ulen, u.payload), (1, 2, 10, &b"hi"[..]));
}

#[test]
fn transport_truncation_kinds() {
    let p = ipv4(6, 1, 0, &[0u8; 10]);
    let h = parse_ip(&p, p.len(), true, &mut Vec::new()).unwrap();
    assert_eq!(parse_l4(&h).unwrap_err(), "truncated_header");
    let p = ipv4(6, 1, 0, &[0u8; 20]);
    let h = parse_ip(&p[..30], p.len(), true, &mut Vec::new()).unwrap();
    assert_eq!(parse_l4(&h).unwrap_err(), "internally_truncated_header");
    let mut tcp = [0u8; 20];
    tcp[12] = 0x40; // data offset 4 words
    let p = ipv4(6, 1, 0, &tcp);
    let h = parse_ip(&p, p.len(), true, &mut Vec::new()).unwrap();
    let L4::Tcp(t) = parse_l4(&h).unwrap() else { panic!() };
    assert_eq!(t.weird, Some("bad_TCP_header_len"));
    tcp[12] = 0x60; // 24 bytes of header in 20
    let p = ipv4(6, 1, 0, &tcp);
    let h = parse_ip(&p, p.len(), true, &mut Vec::new()).unwrap();
    let L4::Tcp(t) = parse_l4(&h).unwrap() else { panic!() };
    assert_eq!(t.weird, Some("truncated_header"));
}

#[test]
fn udp_checksums() {
    // 0 means "no checksum" over IPv4.
    let p = ipv4(17, 1, 0, &udp(1, 2, b"abc"));
    let h = parse_ip(&p, p.len(), false, &mut Vec::new()).unwrap();
    assert!(l4_checksum_ok(&h));
    // Compute the right value by hand: pseudo header + UDP.
    let mut u = udp(1, 2, b"abc");
    let mut sum: u32 = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + u.len() as u32;
    for c in u.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let cs = !(sum as u16);
    u[6..8].copy_from_slice(&cs.to_be_bytes());
    let p = ipv4(17, 1, 0, &u);
    let h = parse_ip(&p, p.len(), false, &mut Vec::new()).unwrap();
    assert!(l4_checksum_ok(&h));
    let mut bad = u.clone();
    bad[8] ^= 1;
    let p = ipv4(17, 1, 0, &bad);
    let h = parse_ip(&p, p.len(), false, &mut Vec::new()).unwrap();
    assert!(!l4_checksum_ok(&h));
    // Not fully captured: not checkable, counts as fine.
    let h = parse_ip(&p[..p.len() - 1], p.len(), false, &mut Vec::new()).unwrap();
    assert!(l4_checksum_ok(&h));
}

fn ipv6(next: u8, ext_and_payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0x01, 0x23, 0x45];
    p.extend_from_slice(&(ext_and_payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(ext_and_payload);
    p
}

#[test]
fn ipv6_home_address_and_routing_type2() {
    let home: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99];
    let final_dst: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77];
    // Dest opts (next: routing), len 2 => 24 bytes: PadN(2) + HAO(18) + PadN(2)... keep simple:
    let mut dst = vec![43, 2, 1, 2, 0, 0, 201, 16];
    dst.extend_from_slice(&home);
    // Routing type 2: next UDP, len 2, type 2, segleft 1, reserved 4, address.
    let mut rt = vec![17, 2, 2, 1, 0, 0, 0, 0];
    rt.extend_from_slice(&final_dst);
    let mut body = dst;
    body.extend_from_slice(&rt);
    body.extend_from_slice(&udp(5, 6, b""));
    let p = ipv6(60, &body);
    let mut notes = Vec::new();
    let h = parse_ip(&p, p.len(), true, &mut notes).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(h.proto, 17);
    assert_eq!(h.hdr_len, 40 + 24 + 24);
    assert_eq!(h.src, IpAddr::from(home));
    assert_eq!(h.dst, IpAddr::from(final_dst));
    assert_ne!(h.raw_src, h.src);
    assert_eq!(h.flow_label, 0x12345);
    assert_eq!(h.total_len, p.len());
    let L4::Udp(u) = parse_l4(&h).unwrap() else { panic!() };
    assert_eq!((u.sport, u.dport), (5, 6));

    // Routing type 0 always raises routing0_hdr; an odd length odd_routing0_len.
    let mut rt0 = vec![59, 3, 0, 1, 0, 0, 0, 0];
    rt0.extend_from_slice(&[0; 24]);
    let p = ipv6(43, &rt0);
    let mut notes = Vec::new();
    parse_ip(&p, p.len(), true, &mut notes).unwrap();
    let names: Vec<_> = notes.iter().map(|n| n.name).collect();
    assert_eq!(names, ["odd_routing0_len", "routing0_hdr"]);
}

#[test]
fn ipv4_fragments_reassemble_with_weirds() {
    let payload: Vec<u8> = (0..200u8).collect();
    let l4 = udp(7, 9, &payload);
    let f1 = ipv4(17, 42, 0x2000, &l4[..104]);
    let f2 = ipv4(17, 42, 104 / 8, &l4[104..]);
    let mut r = FragReassembler::default();
    let mut w = Vec::new();
    let h1 = parse_ip(&f1, f1.len(), false, &mut Vec::new()).unwrap();
    assert!(h1.is_fragment && h1.mf);
    assert!(r.add(1.0, &h1, &mut w).is_none());
    // Duplicate of the first fragment: identical overlap.
    assert!(r.add(1.0, &h1, &mut w).is_none());
    assert_eq!(w, [IpWeird::flow("fragment_overlap")]);
    let h2 = parse_ip(&f2, f2.len(), false, &mut Vec::new()).unwrap();
    assert_eq!(h2.frag_offset, 104);
    let whole = r.add(2.0, &h2, &mut w).expect("complete");
    assert_eq!(r.pending(), 0);
    let h = parse_ip(&whole, whole.len(), false, &mut Vec::new()).unwrap();
    assert!(!h.is_fragment);
    assert_eq!(h.payload, &l4[..]);

    // A lone fragment expires.
    let mut r = FragReassembler::default();
    r.add(1.0, &h1, &mut Vec::new());
    r.expire(100.0);
    assert_eq!(r.pending(), 1);
    r.expire(302.0);
    assert_eq!(r.pending(), 0);
}

#[test]
fn ipv6_fragments_drop_the_fragment_header() {
    let l4 = udp(7, 9, &[0xab; 100]);
    let frag = |off: u16, m: bool, data: &[u8]| {
        let mut b = vec![17, 0];
        b.extend_from_slice(&(off | u16::from(m)).to_be_bytes());
        b.extend_from_slice(&7u32.to_be_bytes());
        b.extend_from_slice(data);
        ipv6(44, &b)
    };
    let a = frag(0, true, &l4[..64]);
    let b = frag(64, false, &l4[64..]);
    let mut r = FragReassembler::default();
    let mut w = Vec::new();
    let ha = parse_ip(&a, a.len(), true, &mut Vec::new()).unwrap();
    assert!(ha.is_fragment && ha.mf && ha.id == 7 && ha.proto == 17);
    assert!(r.add(0.0, &ha, &mut w).is_none());
    let hb = parse_ip(&b, b.len(), true, &mut Vec::new()).unwrap();
    let whole = r.add(0.0, &hb, &mut w).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let h = parse_ip(&whole, whole.len(), true, &mut Vec::new()).unwrap();
    assert_eq!((h.hdr_len, h.proto, h.is_fragment), (40, 17, false));
    assert_eq!(h.payload, &l4[..]);
}

#[test]
fn ethernet_qinq_and_weirds() {
    let ip = ipv4(17, 1, 0, &udp(1, 2, b"x"));
    let mut f = vec![0xaa; 6];
    f.extend_from_slice(&[0xbb; 6]);
    f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00]);
    f.extend_from_slice(&ip);
    match decode_link(1, &f) {
        LinkOutcome::Ip { l2, ip: got } => {
            assert_eq!((l2.vlan, l2.inner_vlan, l2.eth_type), (Some(10), Some(20), Some(0x0800)));
            assert_eq!(l2.src, Some([0xbb; 6]));
            assert_eq!(got, &ip[..]);
        }
        o => panic!("{o:?}"),
    }
    assert!(matches!(decode_link(1, &f[..16]), LinkOutcome::Weird { name: "truncated_ethernet_frame", .. }));
    let mut u = f.clone();
    u[12] = 0x05;
    u[13] = 0xf0; // 1520
    assert!(matches!(decode_link(1, &u), LinkOutcome::Weird { name: "undefined_ether_type", .. }));
    assert!(matches!(decode_link(1, &f[..18]), LinkOutcome::Weird { name: "truncated_VLAN_header", .. }));
    assert!(matches!(decode_link(4242, &f), LinkOutcome::UnknownLinkType));
    // BSD null, little-endian family 2.
    let mut n = vec![2, 0, 0, 0];
    n.extend_from_slice(&ip);
    assert!(matches!(decode_link(0, &n), LinkOutcome::Ip { .. }));
    // SLL2.
    let mut s = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
    s.extend_from_slice(&ip);
    assert!(matches!(decode_link(276, &s), LinkOutcome::Ip { .. }));
    assert!(matches!(decode_link(276, &s[..19]), LinkOutcome::Weird { name: "truncated_Linux_SLL2_header", .. }));
}

#[test]
fn tunnel_headers() {
    let ip = ipv4(17, 1, 0, &udp(1, 2, b"x"));
    // VXLAN needs the I flag.
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 5, 0];
    vx.extend_from_slice(&[1; 20]);
    assert_eq!(parse_vxlan(&vx).unwrap().0, 5);
    vx[0] = 0;
    assert!(matches!(parse_vxlan(&vx), Err(TunnelError::Violation(_))));
    assert_eq!(parse_vxlan(&[0x08, 0, 0, 0, 0, 0, 5, 0]), Err(TunnelError::Weird("vxlan_empty_packet")));
    // Geneve: version, options, protocol.
    let mut g = vec![0x01, 0, 0x08, 0x00, 0, 0, 9, 0, 0, 0, 0, 0];
    g.extend_from_slice(&ip);
    assert_eq!(parse_geneve(&g).unwrap(), (9, Inner::Ip(&ip[..])));
    g[0] = 0x41;
    assert_eq!(parse_geneve(&g), Err(TunnelError::Weird("geneve_invalid_version")));
    // GRE v0 with key, carrying IPv4; routing bit; v1 PPP.
    let mut gre = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 1];
    gre.extend_from_slice(&ip);
    assert_eq!(parse_gre(&gre).unwrap().inner, Inner::Ip(&ip[..]));
    gre[0] = 0x40;
    assert_eq!(parse_gre(&gre), Err(TunnelError::Weird("gre_routing")));
    let mut pptp = vec![0x30, 0x01, 0x88, 0x0b, 0, 10, 0, 0, 0, 0, 0, 1, 0xff, 0x03, 0x00, 0x21];
    pptp.extend_from_slice(&ip);
    assert_eq!(parse_gre(&pptp).unwrap().inner, Inner::Ip(&ip[..]));
    pptp[15] = 0x23;
    assert_eq!(parse_gre(&pptp), Err(TunnelError::Weird("non_ip_packet_in_encap")));
    assert_eq!(parse_gre(&[0x00, 0x03, 0x08, 0x00]), Err(TunnelError::Weird("unknown_gre_version")));
    // GTPv1-U G-PDU with sequence number.
    let mut gtp = vec![0x32, 0xff, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0];
    gtp.extend_from_slice(&ip);
    assert_eq!(parse_gtpv1(&gtp).unwrap(), (3, Inner::Ip(&ip[..])));
    gtp[1] = 0x01;
    assert!(parse_gtpv1(&gtp).is_err());
    // Teredo bubble with an origin indication.
    let mut t = vec![0, 0, 1, 2, 3, 4, 5, 6];
    let bubble = ipv6(59, &[]);
    t.extend_from_slice(&bubble);
    let te = parse_teredo(&t).unwrap();
    assert!(te.bubble && te.origin.is_some() && !teredo_bubble_with_payload(&te));
    // A bubble followed by more bytes; "no next header" with a payload length is no bubble.
    let mut padded = t.clone();
    padded.extend_from_slice(&[0; 4]);
    let te = parse_teredo(&padded).unwrap();
    assert!(te.bubble && teredo_bubble_with_payload(&te));
    let not_bubble = ipv6(59, &[0; 4]);
    let te = parse_teredo(&not_bubble).unwrap();
    assert!(!te.bubble && !teredo_bubble_with_payload(&te));
    assert_eq!(parse_teredo(&t[..5]), Err(TunnelError::Weird("truncated_Teredo_origin_indication")));
    // AYIYA: identity 2^1 bytes, signature 0, forward, IPv4.
    let mut a = vec![0x11, 0x00, 0x01, 4, 0, 0, 0, 0, 0xaa, 0xbb];
    a.extend_from_slice(&ip);
    assert_eq!(parse_ayiya(&a).unwrap(), Inner::Ip(&ip[..]));
    a[2] = 0x02;
    assert!(matches!(parse_ayiya(&a), Err(TunnelError::Violation(_))));
}

#[test]
fn ignore_checksums_nets_exempts_ipv4_headers_by_source() {
    use weir_engine::decode::ip::parse_ip_exempt;
    let mut s = ipv4(17, 1, 0, &udp(1, 2, b"hi"));
    s[8] = 1; // TTL change breaks the checksum; the source is 10.0.0.1
    let nets = weir_events::site::parse_subnets("10.0.0.0/30").unwrap();
    let exempt = |a: IpAddr| nets.iter().any(|n| n.contains(a));
    assert!(parse_ip_exempt(&s, s.len(), false, &exempt, &mut Vec::new()).is_ok());
    let other = weir_events::site::parse_subnets("10.0.0.2/32").unwrap();
    let by_dst = |a: IpAddr| other.iter().any(|n| n.contains(a));
    let w = parse_ip_exempt(&s, s.len(), false, &by_dst, &mut Vec::new()).unwrap_err();
    assert_eq!(w.name, "bad_IP_checksum", "the destination's network does not exempt it");
}
