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
    /// `ignore_checksums_nets`: packets whose (outermost-address-of-their-own
    /// IP header) source is in these subnets skip the IPv4 header, TCP, UDP
    /// and ICMP checksum checks.
    pub ignore_checksums_nets: Vec<weir_events::site::Subnet>,
    /// Ports that decide direction when a connection starts without a SYN.
    pub likely_server_ports: HashSet<PortProto>,
    /// `Tunnel::max_depth`: how many encapsulations are decapsulated.
    pub tunnel_max_depth: u32,
    /// `Tunnel::max_changes_per_connection` (5; 0: no limit): `tunnel_changed`
    /// events per connection; the next change is the
    /// `tunnel_max_changes_per_connection_exceeded` weird and history `X`.
    pub tunnel_max_changes_per_connection: u64,
    /// `partial_connection_ok` (T): TCP connections may start without a SYN.
    pub partial_connection_ok: bool,
    /// `tcp_SYN_ack_ok` (T): ... or with a SYN-ACK.
    pub tcp_syn_ack_ok: bool,
    /// `Tunnel::validate_vxlan_checksums` (T): a VXLAN datagram's UDP
    /// checksum, when not 0, is checked.
    pub validate_vxlan_checksums: bool,
    /// `tcp_storm_thresh` (1000): FINs or RSTs from one side before a
    /// `FIN_storm` / `RST_storm` weird...
    pub tcp_storm_thresh: u64,
    /// `tcp_storm_interarrival_thresh` (1 s): ...when the last came this soon
    /// after the side's previous packet.
    pub tcp_storm_interarrival_thresh: f64,
    /// `report_gaps_for_partial`: report content gaps on partial connections.
    pub report_gaps_for_partial: bool,
    /// How much of a side's data reassembly holds for delivery (Zeek's
    /// `TCP_Reassembler` limits).
    pub tcp_limits: TcpLimits,
    /// `tcp_SYN_timeout` in seconds.
    pub tcp_syn_timeout: f64,
    /// `tcp_session_timer`.
    pub tcp_session_timer: f64,
    /// `Finger::max_line_length` (1024; 0: no limit).
    pub finger_max_line_length: u64,
    /// `dns_session_timeout` (10 s): a UDP connection whose DNS analyzer
    /// saw nothing for this long (less a second) times out and is removed.
    pub dns_session_timeout: f64,
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
    /// Zeek's `ConnKey::CONNKEY_VLAN_FIVETUPLE`: VLAN ids are part of the connection key.
    pub vlan_conn_key: bool,
    /// `use_conn_size_analyzer`: count packets and IP bytes per side.
    pub use_conn_size_analyzer: bool,
    /// Keep unacknowledged TCP payload to compare retransmissions (set when
    /// `rexmit_inconsistency` is subscribed).
    pub check_rexmit: bool,
    /// Count the TCPStats figures per side (set when `conn_stats` is subscribed).
    pub tcp_stats: bool,
    /// Most connections tracked at once (0 = no cap). A new connection past the
    /// cap evicts the least recently active of a sample of tracked ones, which
    /// ends as at a timeout (`connection_state_remove`, conn.log) and counts
    /// towards the `connection_table_full` net weird.
    pub max_connections: usize,
    /// `FTP::max_command_length`: longest FTP command word before the limit weird (0 = none).
    pub ftp_max_command_length: u64,
    /// `QUIC::max_discarded_packet_events` (100): `QUIC::discarded_packet`
    /// events per connection (0: unlimited, negative: none).
    pub quic_max_discarded_packet_events: i64,
    /// The DNS analyzer's options (`dns_skip_all_auth`, `dns_max_queries`, ...).
    pub dns: crate::analyzers::dns::DnsConfig,
    /// The SSL analyzer's options (`SSL::max_alerts_per_record`, ...).
    pub ssl: crate::analyzers::ssl::SslConfig,
    /// HTTP's settings: `http_entity_data_delivery_size`, `truncate_http_URI`,
    /// `MIME::max_header_bytes`, `MIME::max_depth`.
    pub http: crate::analyzers::http::Settings,
    /// SMTP's settings: `SMTP::bdat_max_line_length`, `mime_segment_length`
    /// (the MIME limits are HTTP's, above).
    pub smtp: crate::analyzers::smtp::Settings,
    /// `Weird::sampling_threshold`, `Weird::sampling_rate` and `Weird::sampling_duration`.
    pub weird_sampling: crate::weird::Sampling,
    /// Most (source, destination) pairs whose flow weirds are counted at
    /// once (0 = no cap); past it the oldest pair's counts are dropped.
    pub max_flow_weird_pairs: usize,
    /// `Tunnel::ip_tunnel_timeout`: an IP-in-IP or GRE tunnel idle this long
    /// is forgotten (its next packet gets a new tunnel UID).
    pub ip_tunnel_timeout: f64,
    /// Most IP-in-IP and GRE tunnels tracked at once (0 = no cap); past it
    /// the one scheduled to expire first is forgotten.
    pub max_ip_tunnels: usize,
    /// Most fragmented datagrams waiting for reassembly at once (0 = no cap);
    /// past it the oldest is dropped.
    pub max_frag_datagrams: usize,
    /// Most bytes held by datagrams waiting for reassembly (0 = no cap);
    /// past it the oldest are dropped.
    pub max_frag_bytes: usize,
    /// A packet more than this many seconds ahead of network time does not
    /// move network time by itself (0 = any jump is followed at once).
    pub time_jump_threshold: f64,
    /// How many packets in a row must lie beyond such a jump before network
    /// time follows them.
    pub time_jump_confirm_packets: u32,
    /// File analysis: `default_file_bof_buffer_size`,
    /// `default_file_timeout_interval`, `Files::enable_reassembler`,
    /// `Files::reassembly_buffer_size`, `Files::max_files`.
    pub files: crate::files::Settings,
    /// The MIME signatures files are sniffed with (None: weir's own,
    /// `--magic` replaces them), shared by the workers.
    pub magic: Option<std::sync::Arc<crate::files::Magic>>,
    /// The loaded signatures (`--signatures`), shared by the workers.
    pub signatures: Option<std::sync::Arc<crate::signatures::RuleSet>>,
    /// Dynamic protocol detection's buffer: `dpd_buffer_size`,
    /// `dpd_max_packets`, `dpd_match_only_beginning`, `dpd_late_match_stop`.
    pub dpd: crate::analyzers::detect::Limits,
    /// `dpd_ignore_ports`: no analyzer is attached by port, only by detection.
    pub dpd_ignore_ports: bool,
    /// `Analyzer::disable_all`: no application analyzer runs, except those
    /// in `Analyzer::requested_analyzers`.
    pub analyzers_disable_all: bool,
    /// `Analyzer::requested_analyzers`: the analyzers that run even under
    /// `Analyzer::disable_all` (Zeek enables them after disabling all).
    pub requested_analyzers: Vec<crate::analyzers::Tag>,
    /// `Analyzer::disabled_analyzers`: analyzers that never run, by Zeek
    /// name (`HTTP`, or `Analyzer::ANALYZER_HTTP`).
    pub disabled_analyzers: Vec<crate::analyzers::Tag>,
    /// Dynamic protocol detection's rules for violations (`DPD::*`,
    /// `max_analyzer_violations`).
    pub dpd_rules: crate::analyzers::context::ViolationRules,
    /// `Tunnel::delay_teredo_confirmation`: a Teredo connection's service
    /// waits for good Teredo from both sides.
    pub delay_teredo_confirmation: bool,
    /// `Tunnel::delay_gtp_confirmation`: likewise for GTPv1.
    pub delay_gtp_confirmation: bool,
    /// The packet-filter framework's settings (`PacketFilter::*`,
    /// `capture_filters`, `restrict_filters`).
    pub packet_filter: PacketFilter,
    /// Address anonymization: `orig_addr_anonymization` and the other classes'
    /// methods, `preserve_*_addr`, `anonymization_key`, `log_addr_anonymization`.
    pub anonymization: crate::anon::Settings,
    /// Passive OS fingerprinting: the p0f database (`passive_fingerprint_file`)
    /// and `generate_OS_version_event`.
    pub os_fingerprint: crate::osfp::Settings,
}

/// How much of a side's data TCP reassembly holds for delivery, with
/// Zeek's names and defaults (`init-bare.zeek`); 0 turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpLimits {
    /// `tcp_max_initial_window` (16384): a side that sent more than this
    /// while the peer acknowledged none of it is presumed to lose its
    /// peer's acks, and its delivered bytes are not held for them.
    pub max_initial_window: u64,
    /// `tcp_max_above_hole_without_any_acks` (16384): more bytes than this
    /// waiting above a hole while the peer acknowledged nothing: weird
    /// `above_hole_data_without_any_acks`, and the side's delivery stops.
    pub max_above_hole_without_any_acks: u64,
    /// `tcp_excessive_data_without_further_acks` (10 MiB): more bytes than
    /// this held for the peer's acks: weird
    /// `excessive_data_without_further_acks`, and the side's delivery stops.
    pub excessive_data_without_further_acks: u64,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits { max_initial_window: 16384, max_above_hole_without_any_acks: 16384, excessive_data_without_further_acks: 10 << 20 }
    }
}

/// Zeek's packet-filter framework (`base/frameworks/packet-filter`): the
/// settings its `build` combines into the BPF filter of the capture.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketFilter {
    /// `PacketFilter::default_capture_filter` ("ip or not ip"): the capture
    /// filter when `capture_filters` is empty and auto filters are off.
    pub default_capture_filter: String,
    /// `PacketFilter::unrestricted_filter`: packets it matches pass whatever the rest says.
    pub unrestricted_filter: String,
    /// `PacketFilter::restricted_filter`: only packets it matches pass.
    pub restricted_filter: String,
    /// `PacketFilter::enable_auto_protocol_capture_filters`: capture the
    /// analyzers' ports (here the run's `likely_server_ports`) besides `capture_filters`.
    pub enable_auto_protocol_capture_filters: bool,
    /// `capture_filters` (name, filter), or-ed together.
    pub capture_filters: Vec<(String, String)>,
    /// `restrict_filters` (name, filter), and-ed together.
    pub restrict_filters: Vec<(String, String)>,
}

impl Default for PacketFilter {
    fn default() -> Self {
        PacketFilter {
            default_capture_filter: "ip or not ip".into(),
            unrestricted_filter: String::new(),
            restricted_filter: String::new(),
            enable_auto_protocol_capture_filters: false,
            capture_filters: Vec::new(),
            restrict_filters: Vec::new(),
        }
    }
}

/// `PacketFilter::combine_filters`: `(l) op (r)`, or the one that is not empty.
pub fn combine_filters(l: &str, op: &str, r: &str) -> String {
    match (l.is_empty(), r.is_empty()) {
        (true, _) => r.to_string(),
        (_, true) => l.to_string(),
        _ => format!("({l}) {op} ({r})"),
    }
}

impl PacketFilter {
    /// The filter `PacketFilter::build` makes (`cmd_line` is `-f`, which
    /// wins outright), or `None` when it lets every packet through as no
    /// filter does (the default, "ip or not ip", is left uncompiled).
    /// `ports` stands for `Analyzer::ports` when auto filters are on.
    pub fn build(&self, cmd_line: Option<&str>, ports: &HashSet<PortProto>) -> Option<String> {
        if let Some(f) = cmd_line.filter(|f| !f.is_empty()) {
            return Some(f.to_string());
        }
        if *self == PacketFilter::default() {
            return None;
        }
        let mut cfilter = String::new();
        if self.capture_filters.is_empty() && !self.enable_auto_protocol_capture_filters {
            cfilter = self.default_capture_filter.clone();
        }
        for (_, f) in &self.capture_filters {
            cfilter = combine_filters(&cfilter, "or", f);
        }
        if self.enable_auto_protocol_capture_filters {
            let mut sorted: Vec<_> = ports.iter().collect();
            sorted.sort_by_key(|p| (p.proto, p.port));
            let mut auto = String::new();
            for p in sorted {
                let t = match p.proto {
                    6 => "tcp",
                    17 => "udp",
                    _ => "icmp",
                };
                auto = combine_filters(&auto, "or", &format!("{t} and port {}", p.port));
            }
            cfilter = combine_filters(&cfilter, "or", &auto);
        }
        let mut rfilter = String::new();
        for (_, f) in &self.restrict_filters {
            rfilter = combine_filters(&rfilter, "and", f);
        }
        let mut filter = combine_filters(&cfilter, "and", &rfilter);
        if !self.unrestricted_filter.is_empty() {
            filter = combine_filters(&self.unrestricted_filter, "or", &filter);
        }
        if !self.restricted_filter.is_empty() {
            filter = combine_filters(&self.restricted_filter, "and", &filter);
        }
        (!filter.is_empty()).then_some(filter)
    }
}

/// A Zeek string literal's text (`"tcp port 80"`), or the value as given.
fn zeek_string(v: &str) -> String {
    let v = v.trim();
    match v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => v.to_string(),
    }
}

/// A `table[string] of string` as Zeek writes it (`{ ["a"] = "x", ["b"] = "y" }`)
/// or as `a=x;b=y`.
fn parse_string_table(v: &str) -> Result<Vec<(String, String)>, String> {
    let t = v.trim();
    let Some(inner) = t.strip_prefix('{').and_then(|x| x.strip_suffix('}')) else {
        return t
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| e.split_once('=').map(|(k, v)| (k.trim().to_string(), zeek_string(v))).ok_or_else(|| format!("'{e}' is not NAME=FILTER")))
            .collect();
    };
    // Entries `["key"] = "value"`, separated by commas outside quotes.
    let mut out = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let bad = || format!("'{t}' is not a table like {{ [\"name\"] = \"filter\" }}");
        let after = rest.strip_prefix('[').ok_or_else(bad)?;
        let (key, after) = quoted(after).ok_or_else(bad)?;
        let after = after.trim_start().strip_prefix(']').ok_or_else(bad)?.trim_start();
        let after = after.strip_prefix('=').ok_or_else(bad)?.trim_start();
        let (value, after) = quoted(after).ok_or_else(bad)?;
        out.push((key, value));
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Ok(out)
}

/// A leading Zeek string literal: its text and what follows it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &body[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// Replaces or adds the entries of `add` in `table` (Zeek's `+=` on a table).
fn merge_table(table: &mut Vec<(String, String)>, add: Vec<(String, String)>) {
    for (k, v) in add {
        match table.iter_mut().find(|(n, _)| *n == k) {
            Some(e) => e.1 = v,
            None => table.push((k, v)),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let tcp = |port| PortProto { port, proto: 6 };
        Config {
            ignore_checksums: false,
            ignore_checksums_nets: Vec::new(),
            likely_server_ports: HashSet::new(),
            tunnel_max_depth: 4,
            tunnel_max_changes_per_connection: 5,
            tcp_storm_thresh: 1000,
            partial_connection_ok: true,
            tcp_syn_ack_ok: true,
            validate_vxlan_checksums: true,
            tcp_storm_interarrival_thresh: 1.0,
            report_gaps_for_partial: false,
            tcp_limits: TcpLimits::default(),
            tcp_syn_timeout: 5.0,
            tcp_session_timer: 6.0,
            finger_max_line_length: 1024,
            dns_session_timeout: 10.0,
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
            vlan_conn_key: false,
            use_conn_size_analyzer: true,
            check_rexmit: false,
            tcp_stats: false,
            max_connections: 0,
            ftp_max_command_length: 100,
            quic_max_discarded_packet_events: 100,
            dns: Default::default(),
            ssl: Default::default(),
            http: crate::analyzers::http::Settings::default(),
            smtp: crate::analyzers::smtp::Settings::default(),
            weird_sampling: crate::weird::Sampling::default(),
            max_flow_weird_pairs: 100_000,
            ip_tunnel_timeout: 86_400.0,
            max_ip_tunnels: 100_000,
            max_frag_datagrams: 65_536,
            max_frag_bytes: 64 << 20,
            time_jump_threshold: 86_400.0,
            time_jump_confirm_packets: 8,
            files: crate::files::Settings::default(),
            magic: None,
            signatures: None,
            dpd: crate::analyzers::detect::Limits { buffer_size: 1024, max_packets: 100, match_only_beginning: true, late_match_stop: false },
            dpd_ignore_ports: false,
            analyzers_disable_all: false,
            requested_analyzers: Vec::new(),
            disabled_analyzers: Vec::new(),
            dpd_rules: Default::default(),
            delay_teredo_confirmation: true,
            delay_gtp_confirmation: false,
            packet_filter: PacketFilter::default(),
            anonymization: crate::anon::Settings::default(),
            os_fingerprint: crate::osfp::Settings::default(),
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

/// Zeek's default `likely_server_ports` with all base scripts loaded.
pub const DEFAULT_LIKELY_SERVER_PORTS: &str = "21/tcp,22/tcp,25/tcp,53/tcp,79/tcp,80/tcp,81/tcp,88/tcp,135/tcp,139/tcp,143/tcp,389/tcp,443/tcp,445/tcp,465/tcp,502/tcp,514/tcp,563/tcp,585/tcp,587/tcp,614/tcp,631/tcp,636/tcp,989/tcp,990/tcp,992/tcp,993/tcp,995/tcp,1080/tcp,1434/tcp,1883/tcp,2811/tcp,3128/tcp,3268/tcp,3306/tcp,3389/tcp,5222/tcp,5223/tcp,5269/tcp,5432/tcp,6379/tcp,6666/tcp,6667/tcp,6668/tcp,6669/tcp,8000/tcp,8080/tcp,8888/tcp,20000/tcp,53/udp,67/udp,88/udp,123/udp,137/udp,161/udp,162/udp,389/udp,443/udp,514/udp,1812/udp,2123/udp,2152/udp,3389/udp,3544/udp,4011/udp,4754/udp,4789/udp,5060/udp,5072/udp,5353/udp,5355/udp,6081/udp,20000/udp";

/// Parses a comma-separated list of `port/proto` items.
pub fn parse_port_list(s: &str) -> Result<HashSet<PortProto>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| PortProto::parse(p).ok_or_else(|| format!("'{p}' is not a port like 80/tcp")))
        .collect()
}

/// Parses a Zeek interval: a number of seconds, optionally with a unit
/// (`usec`, `msec`, `sec`, `min`, `hr`, `day`, plural or not).
fn parse_interval(v: &str) -> Result<f64, String> {
    let v = v.trim();
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.trim().parse().map_err(|_| format!("'{v}' is not an interval"))?;
    let mult = match unit.trim().trim_end_matches('s') {
        "" | "sec" => 1.0,
        "usec" | "u" => 1e-6,
        "msec" | "m" => 1e-3,
        "min" => 60.0,
        "hr" => 3600.0,
        "day" => 86400.0,
        u => return Err(format!("unknown interval unit '{u}'")),
    };
    Ok(n * mult)
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim() {
        "T" | "true" | "1" => Ok(true),
        "F" | "false" | "0" => Ok(false),
        _ => Err(format!("'{v}' is not a bool (T or F)")),
    }
}

impl Config {
    /// Whether packets from `src` skip checksum checks by `ignore_checksums_nets`.
    pub fn checksum_exempt(&self, src: std::net::IpAddr) -> bool {
        !self.ignore_checksums_nets.is_empty() && self.ignore_checksums_nets.iter().any(|n| n.contains(src))
    }

    /// Sets an option by its Zeek name (`tcp_inactivity_timeout`, `Tunnel::max_depth`, ...).
    /// `likely_server_ports+` adds ports; `ConnKey::factory` takes `vlan_fivetuple`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let iv = || parse_interval(value);
        let count = || value.trim().parse::<u64>().map_err(|_| format!("'{value}' is not a count"));
        match name.trim() {
            "Weird::sampling_threshold" => self.weird_sampling.threshold = count()?,
            "Weird::sampling_rate" => self.weird_sampling.rate = count()?,
            "Weird::sampling_duration" => self.weird_sampling.duration = iv()?,
            "Tunnel::max_changes_per_connection" => {
                let n = count()?;
                if n > 255 {
                    return Err(format!("'{n}' is too large (at most 255, as Zeek's counter)"));
                }
                self.tunnel_max_changes_per_connection = n
            }
            "tcp_storm_thresh" => self.tcp_storm_thresh = count()?,
            "partial_connection_ok" => self.partial_connection_ok = parse_bool(value)?,
            "tcp_SYN_ack_ok" => self.tcp_syn_ack_ok = parse_bool(value)?,
            "Tunnel::validate_vxlan_checksums" => self.validate_vxlan_checksums = parse_bool(value)?,
            "tcp_storm_interarrival_thresh" => self.tcp_storm_interarrival_thresh = iv()?,
            "Tunnel::ip_tunnel_timeout" => self.ip_tunnel_timeout = iv()?,
            "max_flow_weird_pairs" => self.max_flow_weird_pairs = count()? as usize,
            "max_ip_tunnels" => self.max_ip_tunnels = count()? as usize,
            "max_frag_datagrams" => self.max_frag_datagrams = count()? as usize,
            "max_frag_bytes" => self.max_frag_bytes = count()? as usize,
            "time_jump_threshold" => self.time_jump_threshold = iv()?,
            "time_jump_confirm_packets" => self.time_jump_confirm_packets = count()?.clamp(1, u32::MAX.into()) as u32,
            "ignore_checksums" => self.ignore_checksums = parse_bool(value)?,
            "PacketFilter::default_capture_filter" => self.packet_filter.default_capture_filter = zeek_string(value),
            "PacketFilter::unrestricted_filter" => self.packet_filter.unrestricted_filter = zeek_string(value),
            "PacketFilter::restricted_filter" => self.packet_filter.restricted_filter = zeek_string(value),
            "PacketFilter::enable_auto_protocol_capture_filters" => {
                self.packet_filter.enable_auto_protocol_capture_filters = parse_bool(value)?
            }
            "capture_filters" => self.packet_filter.capture_filters = parse_string_table(value)?,
            "capture_filters+" => merge_table(&mut self.packet_filter.capture_filters, parse_string_table(value)?),
            "restrict_filters" => self.packet_filter.restrict_filters = parse_string_table(value)?,
            "restrict_filters+" => merge_table(&mut self.packet_filter.restrict_filters, parse_string_table(value)?),
            "ignore_checksums_nets" => self.ignore_checksums_nets = weir_events::site::parse_subnets(value)?,
            "ignore_checksums_nets+" => {
                for n in weir_events::site::parse_subnets(value)? {
                    if !self.ignore_checksums_nets.contains(&n) {
                        self.ignore_checksums_nets.push(n);
                    }
                }
            }
            "dpd_buffer_size" => self.dpd.buffer_size = count()? as usize,
            "dpd_max_packets" => self.dpd.max_packets = count()?,
            "dpd_match_only_beginning" => self.dpd.match_only_beginning = parse_bool(value)?,
            "dpd_late_match_stop" => self.dpd.late_match_stop = parse_bool(value)?,
            "dpd_ignore_ports" => self.dpd_ignore_ports = parse_bool(value)?,
            "Analyzer::disable_all" => self.analyzers_disable_all = parse_bool(value)?,
            "Analyzer::requested_analyzers" => self.requested_analyzers = parse_analyzer_set(value)?,
            "Analyzer::requested_analyzers+" => self.requested_analyzers.extend(parse_analyzer_set(value)?),
            "Analyzer::disabled_analyzers" => self.disabled_analyzers = parse_analyzer_set(value)?,
            "Analyzer::disabled_analyzers+" => self.disabled_analyzers.extend(parse_analyzer_set(value)?),
            "DPD::ignore_violations" => self.dpd_rules.ignore = parse_analyzer_set(value)?,
            "DPD::ignore_violations+" => self.dpd_rules.ignore.extend(parse_analyzer_set(value)?),
            "DPD::ignore_violations_after" => self.dpd_rules.ignore_after = count()?,
            "DPD::track_removed_services_in_connection" => self.dpd_rules.track_removed = parse_bool(value)?,
            "max_analyzer_violations" => self.dpd_rules.max_violations = count()?,
            "Tunnel::delay_teredo_confirmation" => self.delay_teredo_confirmation = parse_bool(value)?,
            "Tunnel::delay_gtp_confirmation" => self.delay_gtp_confirmation = parse_bool(value)?,
            "report_gaps_for_partial" => self.report_gaps_for_partial = parse_bool(value)?,
            "tcp_max_initial_window" => self.tcp_limits.max_initial_window = count()?,
            "tcp_max_above_hole_without_any_acks" => self.tcp_limits.max_above_hole_without_any_acks = count()?,
            "tcp_excessive_data_without_further_acks" => {
                self.tcp_limits.excessive_data_without_further_acks = count()?
            }
            "use_conn_size_analyzer" => self.use_conn_size_analyzer = parse_bool(value)?,
            "Tunnel::max_depth" => self.tunnel_max_depth = value.trim().parse().map_err(|_| format!("'{value}' is not a count"))?,
            "FTP::max_command_length" => {
                self.ftp_max_command_length = value.trim().parse().map_err(|_| format!("'{value}' is not a count"))?
            }
            "QUIC::max_discarded_packet_events" => {
                self.quic_max_discarded_packet_events = value.trim().parse().map_err(|_| format!("'{value}' is not an int"))?
            }
            "http_entity_data_delivery_size" => self.http.entity_data_delivery_size = count()?.max(1) as usize,
            "truncate_http_URI" => {
                self.http.truncate_uri = value.trim().parse().map_err(|_| format!("'{value}' is not an int"))?
            }
            "MIME::max_header_bytes" => self.http.max_header_bytes = count()?,
            "MIME::max_depth" => self.http.max_depth = count()?,
            "SMTP::bdat_max_line_length" => self.smtp.bdat_max_line_length = count()?.max(1) as usize,
            "mime_segment_length" => self.smtp.mime.segment_length = count()?.max(1) as usize,
            "default_file_bof_buffer_size" => self.files.bof_buffer_size = count()?,
            "default_file_timeout_interval" => self.files.timeout_interval = iv()?,
            "Files::enable_reassembler" => self.files.enable_reassembler = parse_bool(value)?,
            "Files::reassembly_buffer_size" => self.files.reassembly_buffer_size = count()?,
            "Files::max_files" => self.files.max_files = count()? as usize,
            "FileExtract::prefix" => self.files.extract_dir = Some(std::path::PathBuf::from(value.trim().trim_matches('"'))),
            "FileExtract::default_limit" => self.files.extract_limit = count()?,
            "FileExtract::default_limit_includes_missing" => self.files.extract_limit_includes_missing = parse_bool(value)?,
            "max_connections" => self.max_connections = value.trim().parse().map_err(|_| format!("'{value}' is not a count"))?,
            "max_timer_expires" => self.max_timer_expires = value.trim().parse().map_err(|_| format!("'{value}' is not a count"))?,
            "tcp_SYN_timeout" => self.tcp_syn_timeout = iv()?,
            "tcp_session_timer" => self.tcp_session_timer = iv()?,
            "dns_session_timeout" => self.dns_session_timeout = iv()?,
            "Finger::max_line_length" => self.finger_max_line_length = count()?,
            "tcp_connection_linger" => self.tcp_connection_linger = iv()?,
            "tcp_attempt_delay" => self.tcp_attempt_delay = iv()?,
            "tcp_close_delay" => self.tcp_close_delay = iv()?,
            "tcp_reset_delay" => self.tcp_reset_delay = iv()?,
            "tcp_partial_close_delay" => self.tcp_partial_close_delay = iv()?,
            "tcp_inactivity_timeout" => self.tcp_inactivity_timeout = iv()?,
            "udp_inactivity_timeout" => self.udp_inactivity_timeout = iv()?,
            "icmp_inactivity_timeout" => self.icmp_inactivity_timeout = iv()?,
            "unknown_ip_inactivity_timeout" => self.unknown_ip_inactivity_timeout = iv()?,
            "connection_status_update_interval" => self.connection_status_update_interval = iv()?,
            "frag_timeout" => self.frag_timeout = iv()?,
            "likely_server_ports" => self.likely_server_ports = parse_port_list(value)?,
            "likely_server_ports+" => self.likely_server_ports.extend(parse_port_list(value)?),
            "orig_addr_anonymization" => self.anonymization.orig = crate::anon::Method::parse(value)?,
            "resp_addr_anonymization" => self.anonymization.resp = crate::anon::Method::parse(value)?,
            "other_addr_anonymization" => self.anonymization.other = crate::anon::Method::parse(value)?,
            "log_addr_anonymization" => self.anonymization.logs = crate::anon::Method::parse(value)?,
            "preserve_orig_addr" => self.anonymization.preserve_orig = crate::anon::parse_addr_set(value)?,
            "preserve_resp_addr" => self.anonymization.preserve_resp = crate::anon::parse_addr_set(value)?,
            "preserve_other_addr" => self.anonymization.preserve_other = crate::anon::parse_addr_set(value)?,
            "anonymization_key" => self.anonymization.key = Some(crate::anon::parse_key(value)?),
            "passive_fingerprint_file" => {
                let db = crate::osfp::Database::load(std::path::Path::new(value.trim()))?;
                self.os_fingerprint.db = Some(std::sync::Arc::new(db));
            }
            "generate_OS_version_event" => self.os_fingerprint.hosts = crate::anon::parse_addr_set(value)?,
            "ConnKey::factory" => {
                self.vlan_conn_key = match value.trim() {
                    "vlan_fivetuple" | "ConnKey::CONNKEY_VLAN_FIVETUPLE" => true,
                    "fivetuple" | "ConnKey::CONNKEY_FIVETUPLE" => false,
                    v => return Err(format!("unknown connection key '{v}' (vlan_fivetuple or fivetuple)")),
                }
            }
            n => match self.dns.set(n, value).or_else(|| self.ssl.set(n, value)) {
                Some(r) => r?,
                None => return Err(format!("unknown option '{n}'")),
            },
        }
        Ok(())
    }

    /// Applies `NAME=VALUE` (or `NAME+=VALUE`).
    pub fn set_assignment(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment.split_once('=').ok_or_else(|| format!("'{assignment}' is not NAME=VALUE"))?;
        self.set(name, value)
    }
}

/// A set of analyzer names (`HTTP,DNS`, `{Analyzer::ANALYZER_HTTP}`).
fn parse_analyzer_set(value: &str) -> Result<Vec<crate::analyzers::Tag>, String> {
    let inner = value.trim().trim_start_matches('{').trim_end_matches('}');
    inner
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            let bare = n.strip_prefix("Analyzer::").unwrap_or(n);
            let bare = bare.strip_prefix("ANALYZER_").unwrap_or(bare);
            crate::analyzers::Tag::from_name(bare).ok_or_else(|| format!("unknown analyzer '{n}'"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_option_names_and_values() {
        let mut c = Config::default();
        c.set_assignment("tcp_inactivity_timeout=2 min").unwrap();
        assert_eq!(c.tcp_inactivity_timeout, 120.0);
        c.set_assignment("Tunnel::max_depth=2").unwrap();
        assert_eq!(c.tunnel_max_depth, 2);
        c.set_assignment("report_gaps_for_partial=T").unwrap();
        assert!(c.report_gaps_for_partial);
        c.set_assignment("Analyzer::disabled_analyzers={Analyzer::ANALYZER_HTTP, dns}").unwrap();
        assert_eq!(c.disabled_analyzers, [crate::analyzers::Tag::Http, crate::analyzers::Tag::Dns]);
        assert!(c.set_assignment("Analyzer::disabled_analyzers=GOPHER").is_err());
        c.set_assignment("Analyzer::requested_analyzers+={Analyzer::ANALYZER_HTTP,}").unwrap();
        assert_eq!(c.requested_analyzers, [crate::analyzers::Tag::Http]);
        c.set_assignment("likely_server_ports+=40190/udp").unwrap();
        assert!(c.likely_server_ports.contains(&PortProto { port: 40190, proto: 17 }));
        assert!(c.set_assignment("no_such_thing=1").is_err());
        assert!(c.set_assignment("tcp_close_delay=soon").is_err());
        assert_eq!(parse_port_list(DEFAULT_LIKELY_SERVER_PORTS).unwrap().len(), 73);
        c.set_assignment("Weird::sampling_duration=1 min").unwrap();
        c.set_assignment("Weird::sampling_threshold=5").unwrap();
        assert_eq!((c.weird_sampling.duration, c.weird_sampling.threshold), (60.0, 5));
        c.set_assignment("Tunnel::ip_tunnel_timeout=1 hr").unwrap();
        assert_eq!(c.ip_tunnel_timeout, 3600.0);
    }

    #[test]
    fn packet_filter_combines_as_zeeks_build() {
        let ports = parse_port_list("80/tcp,53/udp").unwrap();
        let mut c = Config::default();
        assert_eq!(c.packet_filter.build(None, &ports), None, "the default passes everything uncompiled");
        assert_eq!(c.packet_filter.build(Some("tcp"), &ports).as_deref(), Some("tcp"));
        c.set_assignment(r#"PacketFilter::restricted_filter="net 10.0.0.0/8""#).unwrap();
        assert_eq!(c.packet_filter.build(None, &ports).as_deref(), Some("(net 10.0.0.0/8) and (ip or not ip)"));
        assert_eq!(c.packet_filter.build(Some("udp"), &ports).as_deref(), Some("udp"), "-f wins outright");
        c.set_assignment(r#"capture_filters={ ["dns"] = "port 53", ["icmp"]="icmp", }"#).unwrap();
        c.set_assignment(r#"PacketFilter::unrestricted_filter=host 10.1.1.1"#).unwrap();
        assert_eq!(
            c.packet_filter.build(None, &ports).as_deref(),
            Some("(net 10.0.0.0/8) and ((host 10.1.1.1) or ((port 53) or (icmp)))")
        );
        c.set_assignment(r#"restrict_filters+={ ["no-ssh"] = "not port 22" }"#).unwrap();
        c.set_assignment(r#"capture_filters+={ ["dns"] = "udp port 53" }"#).unwrap();
        assert_eq!(c.packet_filter.capture_filters.len(), 2, "+= replaces an entry of the same name");
        assert_eq!(
            c.packet_filter.build(None, &ports).as_deref(),
            Some("(net 10.0.0.0/8) and ((host 10.1.1.1) or (((udp port 53) or (icmp)) and (not port 22)))")
        );
        let mut a = Config::default();
        a.set_assignment("PacketFilter::enable_auto_protocol_capture_filters=T").unwrap();
        assert_eq!(a.packet_filter.build(None, &ports).as_deref(), Some("(tcp and port 80) or (udp and port 53)"));
        assert!(a.set_assignment(r#"capture_filters={ ["x"] = tcp }"#).unwrap_err().contains("is not a table"));
    }

    /// The names `set` takes, from its match arms (and those of the DNS and
    /// SSL options it hands on), without the `+` of adding forms.
    fn names_in_source() -> Vec<String> {
        let dir = env!("CARGO_MANIFEST_DIR");
        let mut names = Vec::new();
        for f in ["src/config.rs", "src/analyzers/dns/mod.rs", "src/analyzers/ssl/mod.rs"] {
            let src = std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
            let start = src.find("pub fn set(&mut self, name: &str").expect("a set function");
            let body = &src[start..start + src[start..].find("\n    }\n").unwrap()];
            for line in body.lines().filter(|l| l.starts_with("            \"") && l.contains("=>")) {
                for part in line.split("=>").next().unwrap().split('|') {
                    let n = part.trim().trim_matches('"').trim_end_matches('+').to_string();
                    // Setting names have `_` or `::`; bare values (`T`, `1`) of inner matches do not.
                    if (n.contains('_') || n.contains("::")) && !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
        }
        names
    }

    #[test]
    fn docs_options_md_lists_every_engine_setting_with_a_default_it_takes() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/options.md")).unwrap();
        // Every section whose heading starts "Engine settings".
        let sections: Vec<&str> = doc.split("\n## ").filter(|s| s.starts_with("Engine settings")).collect();
        assert!(!sections.is_empty(), "an engine settings section");
        let rows: Vec<(String, String)> = sections
            .iter()
            .flat_map(|s| s.lines())
            .filter_map(|l| l.strip_prefix("| `"))
            .map(|l| {
                let (name, rest) = l.split_once("` | ").unwrap();
                (name.to_string(), rest.split(" | ").next().unwrap().to_string())
            })
            .collect();
        let names = names_in_source();
        assert!(names.len() > 70, "{names:?}");
        for n in &names {
            assert!(rows.iter().any(|(r, _)| r == n), "docs/options.md's engine table lacks `{n}`");
        }
        for (name, default) in &rows {
            assert!(names.contains(name), "docs/options.md lists `{name}`, which Config::set does not take");
            if !default.starts_with('(') {
                Config::default().set(name, default).unwrap_or_else(|e| panic!("{name}={default}: {e}"));
            }
        }
    }

    #[test]
    fn storm_and_tunnel_change_limits() {
        let mut c = Config::default();
        c.set_assignment("tcp_storm_thresh=3").unwrap();
        c.set_assignment("tcp_storm_interarrival_thresh=500 msec").unwrap();
        c.set_assignment("Tunnel::max_changes_per_connection=0").unwrap();
        assert_eq!((c.tcp_storm_thresh, c.tcp_storm_interarrival_thresh, c.tunnel_max_changes_per_connection), (3, 0.5, 0));
        assert!(c.set_assignment("Tunnel::max_changes_per_connection=256").unwrap_err().contains("too large"));
    }
}
