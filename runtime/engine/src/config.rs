//! Settings an operator can change, with Zeek's defaults.

use std::collections::HashSet;

/// A transport-layer port as Zeek writes it (`80/tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortProto {
    /// Port number.
    pub port: u16,
    /// IP protocol number of the transport (6 TCP, 17 UDP).
    pub proto: u8,
}

/// Engine configuration. `Default` gives Zeek's defaults (`init-bare.zeek`).
#[derive(Clone, Debug)]
pub struct Config {
    /// `-C`: skip IP header and transport checksum checks.
    pub ignore_checksums: bool,
    /// Ports that decide direction when a connection starts without a SYN.
    pub likely_server_ports: HashSet<PortProto>,
    /// `Tunnel::max_depth`: how many encapsulations are decapsulated.
    pub tunnel_max_depth: u32,
    /// `report_gaps_for_partial`: report content gaps on partial connections.
    pub report_gaps_for_partial: bool,
    /// `tcp_SYN_timeout` in seconds.
    pub tcp_syn_timeout: f64,
    /// `tcp_session_timer`.
    pub tcp_session_timer: f64,
    /// `tcp_connection_linger`.
    pub tcp_connection_linger: f64,
    /// `tcp_attempt_delay`.
    pub tcp_attempt_delay: f64,
    /// `tcp_close_delay`.
    pub tcp_close_delay: f64,
    /// `tcp_reset_delay`.
    pub tcp_reset_delay: f64,
    /// `tcp_partial_close_delay`.
    pub tcp_partial_close_delay: f64,
    /// `tcp_inactivity_timeout`.
    pub tcp_inactivity_timeout: f64,
    /// `udp_inactivity_timeout`.
    pub udp_inactivity_timeout: f64,
    /// `icmp_inactivity_timeout`.
    pub icmp_inactivity_timeout: f64,
    /// `unknown_ip_inactivity_timeout`.
    pub unknown_ip_inactivity_timeout: f64,
    /// `connection_status_update_interval` (0 = off).
    pub connection_status_update_interval: f64,
    /// `frag_timeout`.
    pub frag_timeout: f64,
    /// `max_timer_expires` per packet (0 = unlimited).
    pub max_timer_expires: usize,
    /// Responder ports that get the 1 h inactivity timeout of
    /// `base/protocols/conn` (21, 22, 23, 513 TCP).
    pub long_timeout_ports: HashSet<PortProto>,
    /// Inactivity timeout for [`Config::long_timeout_ports`].
    pub long_inactivity_timeout: f64,
    /// Seed for connection UIDs (deterministic runs); `None` = random.
    pub uid_seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        let tcp = |port| PortProto { port, proto: 6 };
        Config {
            ignore_checksums: false,
            likely_server_ports: HashSet::new(),
            tunnel_max_depth: 4,
            report_gaps_for_partial: false,
            tcp_syn_timeout: 5.0,
            tcp_session_timer: 6.0,
            tcp_connection_linger: 5.0,
            tcp_attempt_delay: 5.0,
            tcp_close_delay: 5.0,
            tcp_reset_delay: 5.0,
            tcp_partial_close_delay: 3.0,
            tcp_inactivity_timeout: 300.0,
            udp_inactivity_timeout: 60.0,
            icmp_inactivity_timeout: 60.0,
            unknown_ip_inactivity_timeout: 60.0,
            connection_status_update_interval: 0.0,
            frag_timeout: 300.0,
            max_timer_expires: 300,
            long_timeout_ports: [21, 22, 23, 513].into_iter().map(tcp).collect(),
            long_inactivity_timeout: 3600.0,
            uid_seed: None,
        }
    }
}

impl PortProto {
    /// Parses Zeek's `80/tcp` notation (`tcp`, `udp`, `icmp`).
    pub fn parse(s: &str) -> Option<PortProto> {
        let (n, p) = s.trim().split_once('/')?;
        let proto = match p {
            "tcp" => 6,
            "udp" => 17,
            "icmp" => 1,
            _ => return None,
        };
        Some(PortProto { port: n.parse().ok()?, proto })
    }
}
