//! The engine's own form of the values events carry. The sandbox converts
//! these into the WIT records (generated from `wit/`) only when an event is
//! dispatched to a handler that takes it.

use std::net::IpAddr;

/// Transport of a port (`port` in Zeek: number + transport).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP and ICMPv6.
    Icmp,
    /// Anything else (ports are 0).
    Unknown,
}

impl Transport {
    /// Transport of an IP protocol number.
    pub fn of_proto(proto: u8) -> Transport {
        match proto {
            6 => Transport::Tcp,
            17 => Transport::Udp,
            1 | 58 => Transport::Icmp,
            _ => Transport::Unknown,
        }
    }
    /// Zeek's name (`tcp`, `udp`, `icmp`, `unknown_transport` for conn.log proto).
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
            Transport::Unknown => "unknown_transport",
        }
    }
}

/// `conn_id`: the connection's tuple, originator first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// Originator address.
    pub orig_h: IpAddr,
    /// Originator port (ICMP: type).
    pub orig_p: u16,
    /// Responder address.
    pub resp_h: IpAddr,
    /// Responder port (ICMP: counterpart type or code).
    pub resp_p: u16,
    /// Transport of both ports.
    pub transport: Transport,
    /// IP protocol number (`ip_proto`).
    pub proto: u8,
}

/// `endpoint`: one side's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// Logical bytes sent: TCP from sequence numbers (highest sent or acked
    /// minus the initial one, SYN and FIN not counted), UDP the sum of UDP
    /// lengths less 8, ICMP the sum of IP payload lengths less 8.
    pub size: u64,
    /// TCP endpoint state 0..6, or 0/1 for UDP/ICMP.
    pub state: u8,
    /// Packets counted (absent when `use_conn_size_analyzer` is off).
    pub num_pkts: Option<u64>,
    /// Sum of IP lengths (absent likewise).
    pub num_bytes_ip: Option<u64>,
    /// Current IPv6 flow label.
    pub flow_label: u32,
    /// Link-layer address of the first packet.
    pub l2_addr: Option<[u8; 6]>,
}

/// `Tunnel::Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TunnelType {
    /// No tunnel.
    None,
    /// IP-in-IP.
    Ip,
    /// AYIYA.
    Ayiya,
    /// Teredo.
    Teredo,
    /// SOCKS (script-registered).
    Socks,
    /// GTPv1-U.
    Gtpv1,
    /// HTTP CONNECT (script-registered).
    Http,
    /// GRE.
    Gre,
    /// VXLAN.
    Vxlan,
    /// Geneve.
    Geneve,
}

impl TunnelType {
    /// Zeek's enum name as logged (`Tunnel::VXLAN`).
    pub fn zeek_name(self) -> &'static str {
        match self {
            TunnelType::None => "Tunnel::NONE",
            TunnelType::Ip => "Tunnel::IP",
            TunnelType::Ayiya => "Tunnel::AYIYA",
            TunnelType::Teredo => "Tunnel::TEREDO",
            TunnelType::Socks => "Tunnel::SOCKS",
            TunnelType::Gtpv1 => "Tunnel::GTPv1",
            TunnelType::Http => "Tunnel::HTTP",
            TunnelType::Gre => "Tunnel::GRE",
            TunnelType::Vxlan => "Tunnel::VXLAN",
            TunnelType::Geneve => "Tunnel::GENEVE",
        }
    }
}

/// `Tunnel::EncapsulatingConn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncapConn {
    /// The outer tuple.
    pub cid: ConnId,
    /// Kind of tunnel.
    pub tunnel_type: TunnelType,
    /// UID of the tunnel (the outer connection's for UDP tunnels).
    pub uid: String,
}

/// `connection`: a snapshot of a connection at the time of an event.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    /// The tuple.
    pub id: ConnId,
    /// Originator side.
    pub orig: Endpoint,
    /// Responder side.
    pub resp: Endpoint,
    /// Time of the creating packet.
    pub start_time: f64,
    /// Last time minus start time.
    pub duration: f64,
    /// Confirmed analyzer names.
    pub service: Vec<String>,
    /// History letters.
    pub history: String,
    /// `C...` UID.
    pub uid: String,
    /// Encapsulation stack at creation (outermost first), if tunnelled.
    pub tunnel: Option<Vec<EncapConn>>,
    /// Outer VLAN id of the creating packet.
    pub vlan: Option<i64>,
    /// Inner VLAN id of the creating packet.
    pub inner_vlan: Option<i64>,
}

/// `endpoint_stats` (`conn_stats`): per-side packet statistics of Zeek's
/// TCPStats analyzer, from IP IDs and sequence numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Packets from this side.
    pub num_pkts: u64,
    /// Packets whose end sequence did not pass the highest seen.
    pub num_rxmit: u64,
    /// Payload bytes of those.
    pub num_rxmit_bytes: u64,
    /// Packets whose IP ID advanced.
    pub num_in_order: u64,
    /// Packets whose IP ID went back by 1..255.
    pub num_oo: u64,
    /// Packets repeating the previous IP ID.
    pub num_repl: u64,
    /// Byte order of IP ID increments: 0 unknown, 1 little, 2 big, 3 confused.
    pub endian_type: u8,
}

/// `call_argument` (`new_event`): one parameter of a dispatched event, its
/// value rendered as text in Zeek's style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallArgument {
    /// Parameter name.
    pub name: String,
    /// Short type description (`connection`, `string`, `count`, ...).
    pub type_name: String,
    /// The value as text.
    pub value: String,
}
