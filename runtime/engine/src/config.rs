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
    /// Address anonymization: `orig_addr_anonymization` and the other classes'
    /// methods, `preserve_*_addr`, `anonymization_key`, `log_addr_anonymization`.
    pub anonymization: crate::anon::Settings,
    /// Passive OS fingerprinting: the p0f database (`passive_fingerprint_file`)
    /// and `generate_OS_version_event`.
    pub os_fingerprint: crate::osfp::Settings,
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
    /// Sets an option by its Zeek name (`tcp_inactivity_timeout`, `Tunnel::max_depth`, ...).
    /// `likely_server_ports+` adds ports; `ConnKey::factory` takes `vlan_fivetuple`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let iv = || parse_interval(value);
        let count = || value.trim().parse::<u64>().map_err(|_| format!("'{value}' is not a count"));
        match name.trim() {
            "Weird::sampling_threshold" => self.weird_sampling.threshold = count()?,
            "Weird::sampling_rate" => self.weird_sampling.rate = count()?,
            "Weird::sampling_duration" => self.weird_sampling.duration = iv()?,
            "Tunnel::ip_tunnel_timeout" => self.ip_tunnel_timeout = iv()?,
            "max_flow_weird_pairs" => self.max_flow_weird_pairs = count()? as usize,
            "max_ip_tunnels" => self.max_ip_tunnels = count()? as usize,
            "max_frag_datagrams" => self.max_frag_datagrams = count()? as usize,
            "max_frag_bytes" => self.max_frag_bytes = count()? as usize,
            "time_jump_threshold" => self.time_jump_threshold = iv()?,
            "time_jump_confirm_packets" => self.time_jump_confirm_packets = count()?.clamp(1, u32::MAX.into()) as u32,
            "ignore_checksums" => self.ignore_checksums = parse_bool(value)?,
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
}
