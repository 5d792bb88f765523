//! Link layers: Ethernet (+ 802.1Q/QinQ, MPLS, PPPoE, PBB, VN-Tag, LLC/SNAP),
//! Linux SLL/SLL2, BSD null/loop, raw IP, PPP, 802.11 (radiotap, prism), NFLOG.
//!
//! Rules and weird names follow Zeek's packet analyzers
//! (`src/packet_analysis/protocol/<name>/`).

use super::{L2Info, LinkOutcome};
use crate::bytes::{be16, be32, le16, le32};
use crate::capture::dlt;

/// EtherType values the link layer dispatches on.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// Transparent Ethernet bridging.
    pub const TEB: u16 = 0x6558;
    /// 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MC: u16 = 0x8848;
    /// PPPoE discovery.
    pub const PPPOE_DISC: u16 = 0x8863;
    /// PPPoE session.
    pub const PPPOE: u16 = 0x8864;
    /// 802.1ad service tag.
    pub const QINQ: u16 = 0x88a8;
    /// 802.1ah provider backbone bridging.
    pub const PBB: u16 = 0x88e7;
    /// Cisco FabricPath.
    pub const FABRICPATH: u16 = 0x8903;
    /// Cisco VN-Tag.
    pub const VNTAG: u16 = 0x8926;
    /// Legacy 802.1QinQ tag.
    pub const QINQ_OLD: u16 = 0x9100;
}

/// PPP protocol numbers carrying IP.
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// Bound on nested link headers (VLAN in PBB in VLAN ...), like Zeek's analyzer depth.
const MAX_LINK_DEPTH: usize = 25;

fn mac(d: &[u8], at: usize) -> [u8; 6] {
    let mut m = [0u8; 6];
    m.copy_from_slice(&d[at..at + 6]);
    m
}

fn weird(l2: L2Info, name: &'static str) -> LinkOutcome<'static> {
    LinkOutcome::Weird { l2, name }
}

/// Decodes the link layer of a captured frame of type `link_type` (a `capture::dlt` value).
pub fn decode_link(link_type: i32, frame: &[u8]) -> LinkOutcome<'_> {
    let l2 = L2Info::default();
    match link_type {
        dlt::EN10MB => ethernet(frame, l2, 0),
        dlt::NULL => null_family(frame, l2, false),
        dlt::LOOP => null_family(frame, l2, true),
        dlt::RAW | dlt::RAW_14 | dlt::LINKTYPE_RAW => raw_ip(frame, l2),
        dlt::IPV4 | dlt::IPV6 => LinkOutcome::Ip { l2, ip: frame },
        dlt::LINUX_SLL => sll(frame, l2),
        dlt::LINUX_SLL2 => sll2(frame, l2),
        dlt::PPP => ppp(frame, l2, "truncated_ppp_header"),
        dlt::PPP_SERIAL => ppp(frame, l2, "truncated_ppp_serial_header"),
        dlt::IEEE802_11 => ieee80211(frame, l2),
        dlt::IEEE802_11_RADIO => radiotap(frame, l2),
        dlt::PRISM => prism(frame, l2),
        dlt::NFLOG => nflog(frame, l2),
        dlt::FDDI => fddi(frame, l2),
        _ => LinkOutcome::UnknownLinkType,
    }
}

/// Decodes an Ethernet frame found inside a tunnel (VXLAN, Geneve, GRE bridging, ERSPAN).
pub fn decode_ethernet(frame: &[u8]) -> LinkOutcome<'_> {
    ethernet(frame, L2Info::default(), 0)
}

/// Decodes an 802.11 frame found inside a tunnel (Aruba GRE).
pub fn decode_ieee80211(frame: &[u8]) -> LinkOutcome<'_> {
    ieee80211(frame, L2Info::default())
}

/// Dispatches on an EtherType (Ethernet, VLAN, PBB, VN-Tag, SNAP, SLL payloads).
fn by_ethertype(proto: u16, data: &[u8], mut l2: L2Info, depth: usize) -> LinkOutcome<'_> {
    if depth > MAX_LINK_DEPTH {
        return weird(l2, "max_packet_analyzer_depth_exceeded");
    }
    l2.eth_type = Some(proto);
    match proto {
        ethertype::IPV4 | ethertype::IPV6 => LinkOutcome::Ip { l2, ip: data },
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => vlan(data, l2, depth),
        ethertype::MPLS | ethertype::MPLS_MC => mpls(data, l2),
        ethertype::PPPOE => pppoe(data, l2),
        ethertype::PBB => pbb(data, l2, depth),
        ethertype::VNTAG => vntag(data, l2, depth),
        ethertype::TEB => ethernet_inner(data, l2, depth + 1),
        _ => LinkOutcome::NotIp { l2, protocol: u32::from(proto) },
    }
}

fn ethernet(frame: &[u8], l2: L2Info, depth: usize) -> LinkOutcome<'_> {
    ethernet_inner(frame, l2, depth)
}

fn ethernet_inner(frame: &[u8], mut l2: L2Info, depth: usize) -> LinkOutcome<'_> {
    if frame.len() <= 16 {
        return weird(l2, "truncated_ethernet_frame");
    }
    let mut data = frame;
    // Cisco FabricPath: a 16-byte outer header before the real Ethernet header.
    if be16(data, 12) == ethertype::FABRICPATH {
        const CFP_LEN: usize = 16;
        if CFP_LEN + 14 >= data.len() {
            return weird(l2, "truncated_link_header_cfp");
        }
        data = &data[CFP_LEN..];
    }
    let proto = be16(data, 12);
    l2.dst = Some(mac(data, 0));
    l2.src = Some(mac(data, 6));
    l2.eth_type = Some(proto);
    if proto >= 1536 {
        return by_ethertype(proto, &data[14..], l2, depth + 1);
    }
    if proto <= 1500 {
        // IEEE 802.3 length frame: LLC, SNAP or Novell raw follow.
        let rest = &data[14..];
        if rest.len() < 2 {
            return weird(l2, "truncated_ethernet_frame");
        }
        return if rest[0] == 0xaa && rest[1] == 0xaa {
            snap(rest, l2, depth)
        } else if rest[0] == 0xff && rest[1] == 0xff {
            LinkOutcome::NotIp { l2, protocol: 0xffff }
        } else {
            llc(rest, l2)
        };
    }
    weird(l2, "undefined_ether_type")
}

/// IEEE 802.2 LLC with SNAP: DSAP, SSAP, control, OUI, EtherType.
fn snap(data: &[u8], l2: L2Info, depth: usize) -> LinkOutcome<'_> {
    if data.len() <= 8 {
        return weird(l2, "truncated_snap_header");
    }
    by_ethertype(be16(data, 6), &data[8..], l2, depth + 1)
}

/// Plain IEEE 802.2 LLC: nothing Zeek decodes further (reported by DSAP).
fn llc(data: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    if data.len() <= 3 {
        return weird(l2, "truncated_llc_header");
    }
    LinkOutcome::NotIp { l2, protocol: u32::from(data[0]) }
}

fn vlan(data: &[u8], mut l2: L2Info, depth: usize) -> LinkOutcome<'_> {
    if data.len() <= 4 {
        return weird(l2, "truncated_VLAN_header");
    }
    let id = be16(data, 0) & 0x0fff;
    match (l2.vlan, l2.inner_vlan) {
        (None, _) | (Some(0), _) => l2.vlan = Some(id),
        (Some(_), None) | (Some(_), Some(0)) => l2.inner_vlan = Some(id),
        (Some(_), Some(_)) => {
            // Zeek keeps going but overwrites the inner id.
            tracing::trace!("triple tagged VLAN");
            l2.inner_vlan = Some(id);
            let proto = be16(data, 2);
            return match by_ethertype(proto, &data[4..], l2, depth + 1) {
                LinkOutcome::Ip { l2, .. } | LinkOutcome::NotIp { l2, .. } | LinkOutcome::Weird { l2, .. } => {
                    weird(l2, "triple_tagged_vlan_unsupported")
                }
                LinkOutcome::UnknownLinkType => weird(l2, "triple_tagged_vlan_unsupported"),
            };
        }
    }
    by_ethertype(be16(data, 2), &data[4..], l2, depth + 1)
}

fn mpls(mut data: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    loop {
        if data.len() <= 4 {
            return weird(l2, "truncated_link_header");
        }
        let bottom = data[2] & 0x01 != 0;
        data = &data[4..];
        if bottom {
            break;
        }
    }
    // RFC 3032 does not say what follows; like Zeek, assume IP.
    if data.len() <= 20 {
        return weird(l2, "no_ip_in_mpls_payload");
    }
    match data[0] >> 4 {
        4 | 6 => LinkOutcome::Ip { l2, ip: data },
        _ => weird(l2, "no_ip_in_mpls_payload"),
    }
}

fn pppoe(data: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    if data.len() <= 8 {
        return weird(l2, "truncated_pppoe_header");
    }
    // Length covers the PPP protocol field and its payload.
    let plen = usize::from(be16(data, 4));
    let avail = data.len() - 6;
    if plen > avail {
        return weird(l2, "pppoe_truncated_payload");
    }
    let end = 6 + plen;
    if plen < 2 {
        return weird(l2, "truncated_pppoe_header");
    }
    ppp_proto(be16(data, 6), &data[8..end], l2)
}

fn ppp_proto(proto: u16, data: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    match proto {
        PPP_IPV4 | PPP_IPV6 => LinkOutcome::Ip { l2, ip: data },
        _ => LinkOutcome::NotIp { l2, protocol: u32::from(proto) },
    }
}

fn pbb(data: &[u8], mut l2: L2Info, depth: usize) -> LinkOutcome<'_> {
    const PBB_LEN: usize = 18;
    if data.len() <= PBB_LEN {
        return weird(l2, "truncated_PBB_header");
    }
    l2.dst = Some(mac(data, 4));
    l2.src = Some(mac(data, 10));
    by_ethertype(be16(data, 16), &data[PBB_LEN..], l2, depth + 1)
}

fn vntag(data: &[u8], l2: L2Info, depth: usize) -> LinkOutcome<'_> {
    if data.len() <= 6 {
        return weird(l2, "truncated_vntag_header");
    }
    by_ethertype(be16(data, 4), &data[6..], l2, depth + 1)
}

fn null_family(frame: &[u8], l2: L2Info, network_order: bool) -> LinkOutcome<'_> {
    if frame.len() <= 4 {
        return weird(l2, "null_analyzer_failed");
    }
    let family = if network_order {
        be32(frame, 0)
    } else {
        // Host order of the capturing machine: little-endian unless the
        // value only makes sense big-endian.
        let le = le32(frame, 0);
        if le > 0xffff {
            be32(frame, 0)
        } else {
            le
        }
    };
    match family {
        2 | 24 | 28 | 30 => LinkOutcome::Ip { l2, ip: &frame[4..] },
        _ => LinkOutcome::NotIp { l2, protocol: family },
    }
}

fn raw_ip(frame: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    LinkOutcome::Ip { l2, ip: frame }
}

fn sll(frame: &[u8], mut l2: L2Info) -> LinkOutcome<'_> {
    if frame.len() < 16 {
        return weird(l2, "truncated_Linux_SLL_header");
    }
    if be16(frame, 4) == 6 {
        l2.src = Some(mac(frame, 6));
    }
    let proto = be16(frame, 14);
    sll_payload(proto, &frame[16..], l2)
}

fn sll2(frame: &[u8], mut l2: L2Info) -> LinkOutcome<'_> {
    if frame.len() < 20 {
        return weird(l2, "truncated_Linux_SLL2_header");
    }
    if frame[11] == 6 {
        l2.src = Some(mac(frame, 12));
    }
    sll_payload(be16(frame, 0), &frame[20..], l2)
}

fn sll_payload(proto: u16, data: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    if proto >= 1536 {
        by_ethertype(proto, data, l2, 1)
    } else {
        LinkOutcome::NotIp { l2, protocol: u32::from(proto) }
    }
}

fn ppp<'a>(frame: &'a [u8], l2: L2Info, trunc: &'static str) -> LinkOutcome<'a> {
    // With HDLC-like framing (address 0xff, control 0x03) or without it.
    let data = if frame.len() >= 2 && frame[0] == 0xff && frame[1] == 0x03 { &frame[2..] } else { frame };
    if data.is_empty() {
        return weird(l2, trunc);
    }
    // Protocol field compression: an odd first byte is a one-byte protocol.
    if data[0] & 1 == 1 {
        return ppp_proto(u16::from(data[0]), &data[1..], l2);
    }
    if data.len() <= 2 {
        return weird(l2, trunc);
    }
    ppp_proto(be16(data, 0), &data[2..], l2)
}

/// The 802.11 header: link facts, the payload after it, and whether it is an A-MSDU.
fn ieee80211_header(frame: &[u8], mut l2: L2Info) -> Result<(L2Info, &[u8], bool), LinkOutcome<'_>> {
    let mut hlen = 24usize;
    if frame.len() < hlen {
        return Err(weird(l2, "truncated_802_11_header"));
    }
    let fc = frame[0];
    // Only data frames (type 2) carry payload.
    if (fc >> 2) & 0x03 != 0x02 {
        return Err(LinkOutcome::NotIp { l2, protocol: 0 });
    }
    // Subtypes with the "no data" bit (null, CF-Ack ...).
    if (fc >> 4) & 0x04 != 0 {
        return Err(LinkOutcome::NotIp { l2, protocol: 0 });
    }
    let ds = frame[1] & 0x03;
    if ds == 0x03 {
        hlen += 6;
    }
    let mut amsdu = false;
    if (fc >> 4) & 0x08 != 0 {
        // QoS control field.
        if frame.len() < hlen + 2 {
            return Err(weird(l2, "truncated_802_11_header"));
        }
        amsdu = frame[hlen] & 0x80 != 0;
        hlen += 2;
    }
    if frame.len() < hlen {
        return Err(weird(l2, "truncated_802_11_header"));
    }
    let (src, dst) = match ds {
        0x00 => (10, 4),
        0x01 => (10, 16),
        0x02 => (16, 4),
        _ => (24, 16),
    };
    l2.src = Some(mac(frame, src));
    l2.dst = Some(mac(frame, dst));
    // Encrypted payloads cannot be decoded.
    if frame[1] & 0x40 != 0 {
        return Err(LinkOutcome::NotIp { l2, protocol: 0 });
    }
    Ok((l2, &frame[hlen..], amsdu))
}

/// LLC/SNAP after an 802.11 header.
fn ieee80211_llc(data: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    if data.len() < 8 {
        return weird(l2, "truncated_802_11_llc_header");
    }
    if data[0] == 0xaa && data[1] == 0xaa && data[2] == 0x03 {
        by_ethertype(be16(data, 6), &data[8..], l2, 1)
    } else {
        LinkOutcome::NotIp { l2, protocol: u32::from(data[0]) }
    }
}

/// The subframes of an A-MSDU payload (DA, SA, length, LLC/SNAP; padded to 4 bytes).
fn amsdu_subframes<'a>(mut data: &'a [u8], l2: L2Info, out: &mut Vec<LinkOutcome<'a>>) {
    while !data.is_empty() {
        if data.len() < 14 {
            out.push(weird(l2, "invalid_802_11_amsdu_inner_packet"));
            return;
        }
        let sub_len = usize::from(be16(data, 12));
        if sub_len == 0 || data.len() < 14 + sub_len {
            out.push(weird(l2, "invalid_802_11_amsdu_inner_packet"));
            return;
        }
        out.push(ieee80211_llc(&data[14..14 + sub_len], l2));
        let used = 14 + sub_len;
        let padded = used.div_ceil(4) * 4;
        data = data.get(padded..).unwrap_or(&[]);
    }
}

fn ieee80211(frame: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    match ieee80211_header(frame, l2) {
        Err(outcome) => outcome,
        Ok((l2, data, false)) => ieee80211_llc(data, l2),
        Ok((l2, data, true)) => {
            let mut all = Vec::new();
            amsdu_subframes(data, l2, &mut all);
            all.into_iter().next().unwrap_or(LinkOutcome::NotIp { l2, protocol: 0 })
        }
    }
}

/// Every packet an 802.11 frame carries: one, or one per A-MSDU subframe.
pub fn decode_ieee80211_all(frame: &[u8]) -> Vec<LinkOutcome<'_>> {
    match ieee80211_header(frame, L2Info::default()) {
        Err(outcome) => vec![outcome],
        Ok((l2, data, false)) => vec![ieee80211_llc(data, l2)],
        Ok((l2, data, true)) => {
            let mut all = Vec::new();
            amsdu_subframes(data, l2, &mut all);
            all
        }
    }
}

fn radiotap(frame: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    if frame.len() < 8 {
        return weird(l2, "truncated_radiotap_header");
    }
    let rlen = usize::from(le16(frame, 2));
    if rlen > frame.len() || rlen < 8 {
        return weird(l2, "truncated_radiotap_header");
    }
    let mut data = &frame[rlen..];
    // The "flags" field (present bit 1) may say the frame ends in an FCS.
    let present = le32(frame, 4);
    if present & 0x02 != 0 && present & 0x8000_0000 == 0 {
        // Flags follow TSFT (8 bytes, 8-aligned) when that is present.
        let at = if present & 0x01 != 0 { 16 } else { 8 };
        if at < rlen && frame[at] & 0x10 != 0 && data.len() >= 4 {
            data = &data[..data.len() - 4];
        }
    }
    ieee80211(data, l2)
}

fn prism(frame: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    if frame.len() < 8 {
        return weird(l2, "truncated_prism_header");
    }
    let code = be32(frame, 0);
    // AVS headers (0x8021100x) carry a big-endian length; Prism ones a host-order one.
    let hlen = if code & 0xffff_fff0 == 0x8021_1000 {
        be32(frame, 4)
    } else {
        le32(frame, 4)
    } as usize;
    if hlen > frame.len() {
        return weird(l2, "truncated_prism_header");
    }
    ieee80211(&frame[hlen..], l2)
}

fn nflog(frame: &[u8], l2: L2Info) -> LinkOutcome<'_> {
    const NFULA_PAYLOAD: u16 = 9;
    if frame.len() < 4 {
        return weird(l2, "truncated_nflog_header");
    }
    let family = frame[0];
    if frame[1] != 0 {
        return weird(l2, "unknown_nflog_version");
    }
    let mut data = &frame[4..];
    loop {
        if data.len() < 4 {
            return weird(l2, "nflog_no_pcap_payload");
        }
        // TLV lengths and types are in host order (little-endian captures).
        let tlen = usize::from(le16(data, 0));
        let ttype = le16(data, 2);
        if tlen < 4 || tlen > data.len() {
            return weird(l2, "nflog_bad_tlv_len");
        }
        if ttype == NFULA_PAYLOAD {
            let payload = &data[4..tlen];
            return match family {
                2 | 10 => LinkOutcome::Ip { l2, ip: payload },
                _ => LinkOutcome::NotIp { l2, protocol: u32::from(family) },
            };
        }
        let padded = (tlen + 3) & !3;
        data = &data[padded.min(data.len())..];
    }
}

fn fddi(frame: &[u8], mut l2: L2Info) -> LinkOutcome<'_> {
    // Frame control, destination, source, then 802.2 LLC/SNAP (assumed).
    const HDR: usize = 13 + 8;
    if frame.len() < HDR {
        return weird(l2, "FDDI_analyzer_failed");
    }
    l2.dst = Some(mac(frame, 1));
    l2.src = Some(mac(frame, 7));
    let proto = be16(frame, HDR - 2);
    by_ethertype(proto, &frame[HDR..], l2, 1)
}

/// Bytes of link-layer header before `ip` inside `frame` (for the IP wire
/// length: `wire_len - link_header_len`), when `ip` is a tail of `frame`.
pub fn link_header_len(frame: &[u8], ip: &[u8]) -> usize {
    let f = frame.as_ptr() as usize;
    let i = ip.as_ptr() as usize;
    if i >= f && i <= f + frame.len() {
        i - f
    } else {
        0
    }
}
