//! IPv4 and IPv6 headers, IPv6 extension-header chains.
//!
//! The checks and their order follow Zeek's `IPAnalyzer::AnalyzePacket`
//! (`src/packet_analysis/protocol/ip/IP.cc`) and `IPv6_Hdr_Chain` (`src/IP.cc`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::checksum;
use crate::bytes::{be16, be32};
use super::IpHdr;

/// A problem that stops processing of an IP packet, as a weird.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpWeird {
    /// Weird name (`truncated_IP`, `bad_IP_checksum`, ...).
    pub name: &'static str,
    /// Raised as a flow weird (src, dst known) rather than a net weird.
    pub flow: bool,
}

impl IpWeird {
    /// A net weird.
    pub const fn net(name: &'static str) -> Self {
        IpWeird { name, flow: false }
    }
    /// A flow weird.
    pub const fn flow(name: &'static str) -> Self {
        IpWeird { name, flow: true }
    }
}

/// IPv6 next-header values.
pub mod proto {
    /// Hop-by-hop options.
    pub const HOPOPTS: u8 = 0;
    /// ICMPv4.
    pub const ICMP: u8 = 1;
    /// IPv4 in IP.
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 in IP.
    pub const IPV6: u8 = 41;
    /// Routing header.
    pub const ROUTING: u8 = 43;
    /// Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// GRE.
    pub const GRE: u8 = 47;
    /// Encapsulating security payload.
    pub const ESP: u8 = 50;
    /// Authentication header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// No next header.
    pub const NONE: u8 = 59;
    /// Destination options.
    pub const DSTOPTS: u8 = 60;
    /// Mobility header.
    pub const MOBILITY: u8 = 135;
}

fn v6addr(d: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&d[at..at + 16]);
    Ipv6Addr::from(a)
}

/// Source and destination of the IP header at the start of `data`, if it
/// is long enough to hold them (nothing else is checked).
pub fn ip_addresses(data: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match data.first()? >> 4 {
        4 if data.len() >= 20 => {
            let s: [u8; 4] = data[12..16].try_into().ok()?;
            let d: [u8; 4] = data[16..20].try_into().ok()?;
            Some((Ipv4Addr::from(s).into(), Ipv4Addr::from(d).into()))
        }
        6 if data.len() >= 40 => {
            let s: [u8; 16] = data[8..24].try_into().ok()?;
            let d: [u8; 16] = data[24..40].try_into().ok()?;
            Some((Ipv6Addr::from(s).into(), Ipv6Addr::from(d).into()))
        }
        _ => None,
    }
}

/// Parses the IP packet at the start of `data` (`wire_len` = bytes the link
/// layer says the IP packet had on the wire, for `truncated_IP_len`).
/// Non-fatal findings (IPv6 extension-header weirds) are pushed to `notes`.
///
/// IPv6 chains that end in ESP or a Mobility header report `proto` 50 / 135;
/// the caller decides what to do with those and with next header 59
/// (`ipv6_no_next` unless inside Teredo). Fragments come back as they are:
/// see [`super::frag`].
pub fn parse_ip<'a>(
    data: &'a [u8],
    wire_len: usize,
    ignore_checksums: bool,
    notes: &mut Vec<IpWeird>,
) -> Result<IpHdr<'a>, IpWeird> {
    parse_ip_exempt(data, wire_len, ignore_checksums, &|_| false, notes)
}

/// [`parse_ip`] where an IPv4 header whose source address `exempt` names
/// skips its checksum check (Zeek's `ignore_checksums_nets`).
pub fn parse_ip_exempt<'a>(
    data: &'a [u8],
    wire_len: usize,
    ignore_checksums: bool,
    exempt: &dyn Fn(IpAddr) -> bool,
    notes: &mut Vec<IpWeird>,
) -> Result<IpHdr<'a>, IpWeird> {
    if data.len() < 20 {
        return Err(IpWeird::net("truncated_IP"));
    }
    match data[0] >> 4 {
        4 => parse_v4(data, wire_len, ignore_checksums, exempt, notes),
        6 => {
            if data.len() < 40 {
                return Err(IpWeird::net("truncated_IP"));
            }
            parse_v6(data, wire_len, ignore_checksums, notes)
        }
        _ => Err(IpWeird::net("unknown_ip_version")),
    }
}

fn parse_v4<'a>(
    data: &'a [u8],
    wire_len: usize,
    ignore_checksums: bool,
    exempt: &dyn Fn(IpAddr) -> bool,
    notes: &mut Vec<IpWeird>,
) -> Result<IpHdr<'a>, IpWeird> {
    let hl = usize::from(data[0] & 0x0f) * 4;
    let mut total = usize::from(be16(data, 2));
    if total == 0 {
        // TCP segmentation offload zeroes the length; only tolerated with -C.
        if !ignore_checksums {
            return Err(IpWeird::net("ip_hdr_len_zero"));
        }
        notes.push(IpWeird::net("ip_hdr_len_zero"));
        total = data.len();
    }
    if wire_len < total {
        return Err(IpWeird::net("truncated_IP_len"));
    }
    if hl > total {
        return Err(IpWeird::net("invalid_IP_header_size"));
    }
    if hl > data.len() {
        return Err(IpWeird::net("internally_truncated_header"));
    }
    if hl < 20 {
        return Err(IpWeird::net("IPv4_min_header_size"));
    }
    let header = &data[..hl];
    let src = IpAddr::V4(Ipv4Addr::new(data[12], data[13], data[14], data[15]));
    if !ignore_checksums && !exempt(src) && !checksum::ipv4_header_ok(header) {
        return Err(IpWeird::flow("bad_IP_checksum"));
    }
    let dst = IpAddr::V4(Ipv4Addr::new(data[16], data[17], data[18], data[19]));
    let off = be16(data, 6);
    let frag_offset = u32::from(off & 0x1fff) * 8;
    let mf = off & 0x2000 != 0;
    Ok(IpHdr {
        version: 4,
        src,
        dst,
        raw_src: src,
        raw_dst: dst,
        proto: data[9],
        hdr_len: hl,
        // ConnSize counts the header's own field: 0 for an offloaded packet.
        total_len: usize::from(be16(data, 2)),
        ttl: data[8],
        id: u32::from(be16(data, 4)),
        df: off & 0x4000 != 0,
        mf,
        frag_offset,
        is_fragment: off & 0x3fff != 0,
        flow_label: 0,
        header,
        payload: &data[hl..total.min(data.len())],
        payload_len: total - hl,
    })
}

/// Whether `t` is an IPv6 extension header that continues the chain.
fn is_ext(t: u8) -> bool {
    matches!(t, proto::HOPOPTS | proto::ROUTING | proto::FRAGMENT | proto::ESP | proto::AH | proto::DSTOPTS | proto::MOBILITY)
}

/// The key-address state built while walking the chain.
struct ChainAddrs {
    home: Option<Ipv6Addr>,
    final_dst: Option<Ipv6Addr>,
}

fn process_routing(h: &[u8], st: &mut ChainAddrs, notes: &mut Vec<IpWeird>) {
    if st.final_dst.is_some() {
        notes.push(IpWeird::flow("multiple_routing_headers"));
        return;
    }
    let (len_units, rtype, segleft) = (h[1], h[2], h[3]);
    // The last 16 bytes of the header are the address of interest.
    let addr = if h.len() >= 24 { Some(v6addr(h, h.len() - 16)) } else { None };
    match rtype {
        0 => {
            if segleft > 0 && len_units >= 2 {
                if len_units % 2 == 0 {
                    st.final_dst = addr;
                } else {
                    notes.push(IpWeird::flow("odd_routing0_len"));
                }
            }
            notes.push(IpWeird::flow("routing0_hdr"));
        }
        2 => {
            if segleft > 0 {
                if len_units == 2 {
                    st.final_dst = addr;
                } else {
                    notes.push(IpWeird::flow("bad_routing2_len"));
                }
            }
        }
        _ => notes.push(IpWeird::flow("unknown_routing_type")),
    }
}

fn process_dstopts(h: &[u8], st: &mut ChainAddrs, notes: &mut Vec<IpWeird>) {
    let mut opts = &h[2..];
    while !opts.is_empty() {
        if opts[0] == 0 {
            // Pad1.
            opts = &opts[1..];
            continue;
        }
        if opts.len() < 2 || opts.len() < 2 + usize::from(opts[1]) {
            notes.push(IpWeird::flow("bad_ipv6_dest_opt_len"));
            return;
        }
        let olen = usize::from(opts[1]);
        if opts[0] == 201 {
            if olen == 16 {
                if st.home.is_some() {
                    notes.push(IpWeird::flow("multiple_home_addr_opts"));
                } else {
                    st.home = Some(v6addr(opts, 2));
                }
            } else {
                notes.push(IpWeird::flow("bad_home_addr_len"));
            }
        }
        opts = &opts[2 + olen..];
    }
}

/// Walks the IPv6 header chain over the captured bytes `data` (fixed header
/// first). Returns (header bytes, last protocol, fragment header offset,
/// offset of the last header).
fn walk_chain(data: &[u8], st: &mut ChainAddrs, notes: &mut Vec<IpWeird>) -> (usize, u8, Option<usize>, usize) {
    let mut off = 40usize;
    let mut last_start = 0usize;
    let mut current;
    let mut next = data[6];
    let mut frag = None;
    let mut last_proto = next;
    loop {
        if !is_ext(next) {
            break;
        }
        let rest = &data[off..];
        if rest.len() < 2 {
            break;
        }
        current = next;
        let cur_len = match current {
            proto::HOPOPTS | proto::ROUTING | proto::DSTOPTS | proto::MOBILITY => 8 + 8 * usize::from(rest[1]),
            proto::AH => 8 + 4 * usize::from(rest[1]),
            _ => 8,
        };
        if cur_len > rest.len() {
            break;
        }
        let h = &rest[..cur_len];
        next = match current {
            proto::ESP => proto::NONE,
            _ => h[0],
        };
        last_proto = match current {
            proto::ESP => proto::ESP,
            proto::MOBILITY => proto::MOBILITY,
            _ => next,
        };
        match current {
            proto::ROUTING => process_routing(h, st, notes),
            proto::DSTOPTS => process_dstopts(h, st, notes),
            proto::FRAGMENT => frag = Some(off),
            _ => {}
        }
        last_start = off;
        off += cur_len;
        if matches!(current, proto::FRAGMENT | proto::ESP | proto::MOBILITY) {
            break;
        }
    }
    (off, last_proto, frag, last_start)
}

fn parse_v6<'a>(
    data: &'a [u8],
    wire_len: usize,
    ignore_checksums: bool,
    notes: &mut Vec<IpWeird>,
) -> Result<IpHdr<'a>, IpWeird> {
    let raw_src = v6addr(data, 8);
    let raw_dst = v6addr(data, 24);
    let mut st = ChainAddrs { home: None, final_dst: None };
    let (hdr_len, last, frag, last_start) = walk_chain(data, &mut st, notes);
    let total = usize::from(be16(data, 4)) + 40;
    if wire_len < total {
        return Err(IpWeird::net("truncated_IP_len"));
    }
    if hdr_len > total {
        return Err(IpWeird::net("invalid_IP_header_size"));
    }
    let src = IpAddr::V6(st.home.unwrap_or(raw_src));
    let dst = IpAddr::V6(st.final_dst.unwrap_or(raw_dst));
    let payload = &data[hdr_len..total.min(data.len())];
    if last == proto::MOBILITY {
        // The Mobility header is the last one of the chain.
        let mh = &data[last_start..hdr_len];
        if !ignore_checksums {
            let sum = checksum_pseudo6(src, dst, proto::MOBILITY, mh.len());
            if checksum::fold(checksum::sum_words(sum, mh)) != 0xffff {
                return Err(IpWeird::flow("bad_MH_checksum"));
            }
        }
        if mh[0] != proto::NONE {
            notes.push(IpWeird::flow("mobility_piggyback"));
        }
    }
    let (id, mf, frag_offset) = match frag {
        Some(f) => (be32(data, f + 4), data[f + 3] & 1 != 0, u32::from(be16(data, f + 2) & 0xfff8)),
        None => (0, false, 0),
    };
    Ok(IpHdr {
        version: 6,
        src,
        dst,
        raw_src: IpAddr::V6(raw_src),
        raw_dst: IpAddr::V6(raw_dst),
        proto: last,
        hdr_len,
        total_len: total,
        ttl: data[7],
        id,
        df: false,
        mf,
        frag_offset,
        is_fragment: frag.is_some(),
        flow_label: be32(data, 0) & 0x000f_ffff,
        header: &data[..hdr_len],
        payload,
        payload_len: total - hdr_len,
    })
}

fn checksum_pseudo6(src: IpAddr, dst: IpAddr, next: u8, len: usize) -> u32 {
    let mut sum = 0;
    for a in [src, dst] {
        if let IpAddr::V6(a) = a {
            sum = checksum::sum_words(sum, &a.octets());
        }
    }
    sum + (len as u32 >> 16) + (len as u32 & 0xffff) + u32::from(next)
}

/// Offset of the IPv6 fragment header inside `ip.header`, when there is one
/// (it is always the last header of the chain).
pub fn ipv6_frag_header_offset(ip: &IpHdr<'_>) -> Option<usize> {
    if ip.version == 6 && ip.is_fragment && ip.hdr_len >= 48 {
        Some(ip.hdr_len - 8)
    } else {
        None
    }
}
