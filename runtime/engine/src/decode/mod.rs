//! Packet decoding: link layers, IPv4/IPv6 (with extension headers),
//! fragment reassembly, transport headers, checksums and tunnel headers.
//!
//! Decoders are small functions over byte slices that return views into
//! the packet; problems come back as the weird names Zeek raises for them,
//! never as panics.

use std::net::IpAddr;

/// Link-layer facts of a frame that the connection record and `raw_packet` carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L2Info {
    /// Source MAC (Ethernet-like links only).
    pub src: Option<[u8; 6]>,
    /// Destination MAC.
    pub dst: Option<[u8; 6]>,
    /// Outer 802.1Q VLAN id.
    pub vlan: Option<u16>,
    /// Inner 802.1Q VLAN id (QinQ).
    pub inner_vlan: Option<u16>,
    /// Innermost EtherType, when the link has one.
    pub eth_type: Option<u16>,
}

/// What the link layer found in a frame.
#[derive(Debug)]
pub enum LinkOutcome<'a> {
    /// An IPv4 or IPv6 packet starts at `ip`.
    Ip {
        /// Link facts.
        l2: L2Info,
        /// The IP packet (header first); may run past the IP total length (padding).
        ip: &'a [u8],
    },
    /// A well-formed frame carrying something other than IP (ARP, LLDP, ...).
    NotIp {
        /// Link facts.
        l2: L2Info,
        /// The protocol identifier the link layer reported (EtherType etc.).
        protocol: u32,
    },
    /// A malformed frame: the name of the net weird to raise.
    Weird {
        /// Link facts gathered before the problem.
        l2: L2Info,
        /// Weird name (`truncated_ethernet_frame`, ...).
        name: &'static str,
    },
    /// The link type itself is not supported.
    UnknownLinkType,
}

/// A parsed IP header (v4, or v6 with its extension-header chain).
#[derive(Clone, Copy, Debug)]
pub struct IpHdr<'a> {
    /// 4 or 6.
    pub version: u8,
    /// Source address for the connection key (IPv6: Home Address option if present).
    pub src: IpAddr,
    /// Destination for the key (IPv6: final routing-header address if present).
    pub dst: IpAddr,
    /// Source address as written in the fixed header.
    pub raw_src: IpAddr,
    /// Destination address as written in the fixed header.
    pub raw_dst: IpAddr,
    /// Transport protocol: last next-header of the chain.
    pub proto: u8,
    /// Bytes of all IP headers (IPv4 header incl. options; IPv6 fixed + extensions).
    pub hdr_len: usize,
    /// IP length that conn.log counts: IPv4 total length, IPv6 payload length + 40.
    pub total_len: usize,
    /// TTL / hop limit.
    pub ttl: u8,
    /// IPv4 identification (IPv6: fragment header id or 0).
    pub id: u32,
    /// Don't-fragment flag (IPv4).
    pub df: bool,
    /// More-fragments flag.
    pub mf: bool,
    /// Fragment offset in bytes.
    pub frag_offset: u32,
    /// Whether this packet is a fragment (offset > 0 or MF).
    pub is_fragment: bool,
    /// IPv6 flow label (0 for IPv4).
    pub flow_label: u32,
    /// The IP headers as captured.
    pub header: &'a [u8],
    /// Captured transport bytes, clipped to the IP length.
    pub payload: &'a [u8],
    /// Transport bytes the IP header announces (may exceed `payload.len()`).
    pub payload_len: usize,
}

/// A TCP segment view.
#[derive(Clone, Copy, Debug)]
pub struct TcpSeg<'a> {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Absolute sequence number.
    pub seq: u32,
    /// Absolute acknowledgment number.
    pub ack: u32,
    /// Flag byte (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128).
    pub flags: u8,
    /// Raw window.
    pub win: u16,
    /// Header length in bytes.
    pub hdr_len: usize,
    /// Options bytes.
    pub options: &'a [u8],
    /// Captured payload bytes.
    pub payload: &'a [u8],
    /// Payload length per the IP header (may exceed `payload.len()`).
    pub len: u32,
    /// A conn weird that makes the segment unusable beyond its ports
    /// (`bad_TCP_header_len`, `truncated_header`): the connection exists,
    /// the segment is skipped. `None` for a well-formed segment.
    pub weird: Option<&'static str>,
}

/// A UDP datagram view.
#[derive(Clone, Copy, Debug)]
pub struct UdpDgram<'a> {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// UDP length field.
    pub ulen: u16,
    /// Captured payload.
    pub payload: &'a [u8],
}

/// An ICMP or ICMPv6 message view.
#[derive(Clone, Copy, Debug)]
pub struct IcmpMsg<'a> {
    /// ICMPv6 (protocol 58) rather than ICMPv4.
    pub v6: bool,
    /// Type.
    pub itype: u8,
    /// Code.
    pub icode: u8,
    /// Captured bytes after the 8-byte ICMP header.
    pub payload: &'a [u8],
    /// ICMP length per the IP header (header included).
    pub len: u32,
}

/// The transport layer of an IP packet.
#[derive(Clone, Copy, Debug)]
pub enum L4<'a> {
    /// TCP.
    Tcp(TcpSeg<'a>),
    /// UDP.
    Udp(UdpDgram<'a>),
    /// ICMP / ICMPv6.
    Icmp(IcmpMsg<'a>),
    /// Any other protocol: the raw payload.
    Other(&'a [u8]),
}

pub mod checksum;
pub mod frag;
pub mod ip;
pub mod link;
pub mod transport;
pub mod tunnel;
