//! Which analyzers a new connection gets, by transport and responder port,
//! as Zeek's `Analyzer::register_for_ports` sets them up in the protocol
//! scripts. The registry also answers which ports' analyzers raise
//! `udp_session_done` when they finish (their `Done()`), including those
//! weir knows by name only.

use super::analyzer::Analyzer;
use super::set::AnalyzerSet;
use super::{dce_rpc, dns, finger, ftp, gssapi, http, irc, krb, ldap, modbus, ntlm, ntp, postgresql, quic, rdp, rdpeudp, smtp, socks, ssh, ssl};
use crate::config::Config;
use crate::events::{EventKind, Subscriptions};

/// The transport an analyzer is registered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
}

impl Transport {
    /// The transport of IP protocol number `proto`, if one analyzers use.
    pub fn of_proto(proto: u8) -> Option<Transport> {
        match proto {
            6 => Some(Transport::Tcp),
            17 => Some(Transport::Udp),
            _ => None,
        }
    }
}

/// An analyzer's name (Zeek's `Analyzer::Tag`). Some are known only for
/// what their end does to the connection and have no implementation yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tag {
    /// FTP control connections ([`ftp`]).
    Ftp,
    /// NTP ([`ntp`]).
    Ntp,
    /// DNS, also NetBIOS name service, mDNS and LLMNR ([`dns`]).
    Dns,
    /// HTTP/1.x ([`http`]).
    Http,
    /// SNMP (not implemented).
    Snmp,
    /// Syslog (not implemented).
    Syslog,
    /// SMTP ([`smtp`]).
    Smtp,
    /// SSH ([`ssh`]).
    Ssh,
    /// FTP data connections, scheduled from the control connection ([`ftp::FtpData`]).
    FtpData,
    /// SSL/TLS over TCP ([`ssl`]).
    Ssl,
    /// DTLS over UDP ([`ssl::dtls`]).
    Dtls,
    /// Finger ([`finger`]).
    Finger,
    /// PostgreSQL ([`postgresql`]).
    Postgresql,
    /// IRC ([`irc`]).
    Irc,
    /// IRC DCC transfers, scheduled by a handler ([`irc::IrcData`]).
    IrcData,
    /// RDP ([`rdp`]).
    Rdp,
    /// QUIC ([`quic`]), with an SSL child for its TLS handshake.
    Quic,
    /// LDAP over TCP ([`ldap`]).
    LdapTcp,
    /// LDAP over UDP ([`ldap`]).
    LdapUdp,
    /// Kerberos over UDP, and below GSSAPI ([`krb::Krb`]).
    Krb,
    /// Kerberos over TCP ([`krb::KrbTcp`]).
    KrbTcp,
    /// GSSAPI, a child of LDAP's SASL binds ([`gssapi`]).
    Gssapi,
    /// NTLM, a child of LDAP and GSSAPI ([`ntlm`]).
    Ntlm,
    /// Modbus/TCP ([`modbus`]).
    Modbus,
    /// SOCKS 4 and 5 ([`socks`]).
    Socks,
    /// RDP over UDP ([`rdpeudp`]).
    Rdpeudp,
    /// DCE/RPC over TCP ([`dce_rpc`]).
    DceRpc,
}

impl Tag {
    /// The analyzer's Zeek name (`Analyzer::name`), as `service` and
    /// `protocol_confirmation` show it.
    pub fn name(self) -> &'static str {
        match self {
            Tag::Ftp => "FTP",
            Tag::Ntp => "NTP",
            Tag::Dns => "DNS",
            Tag::Http => "HTTP",
            Tag::Snmp => "SNMP",
            Tag::Syslog => "SYSLOG",
            Tag::Smtp => "SMTP",
            Tag::Ssh => "SSH",
            Tag::FtpData => "FTP_DATA",
            Tag::Ssl => "SSL",
            Tag::Dtls => "DTLS",
            Tag::Finger => "FINGER",
            Tag::Postgresql => "POSTGRESQL",
            Tag::Irc => "IRC",
            Tag::IrcData => "IRC_DATA",
            Tag::Rdp => "RDP",
            Tag::Quic => "QUIC",
            Tag::LdapTcp => "LDAP_TCP",
            Tag::LdapUdp => "LDAP_UDP",
            Tag::Krb => "KRB",
            Tag::KrbTcp => "KRB_TCP",
            Tag::Gssapi => "GSSAPI",
            Tag::Ntlm => "NTLM",
            Tag::Modbus => "MODBUS",
            Tag::Socks => "SOCKS",
            Tag::Rdpeudp => "RDPEUDP",
            Tag::DceRpc => "DCE_RPC",
        }
    }

    /// Every tag weir knows.
    pub const ALL: [Tag; 27] = [
        Tag::Ftp,
        Tag::Ntp,
        Tag::Dns,
        Tag::Http,
        Tag::Snmp,
        Tag::Syslog,
        Tag::Smtp,
        Tag::Ssh,
        Tag::FtpData,
        Tag::Ssl,
        Tag::Dtls,
        Tag::Finger,
        Tag::Postgresql,
        Tag::Irc,
        Tag::Rdp,
        Tag::IrcData,
        Tag::Quic,
        Tag::LdapTcp,
        Tag::LdapUdp,
        Tag::Krb,
        Tag::KrbTcp,
        Tag::Gssapi,
        Tag::Ntlm,
        Tag::Modbus,
        Tag::Socks,
        Tag::Rdpeudp,
        Tag::DceRpc,
    ];

    /// The tag of a Zeek analyzer name, any case (`http`, `HTTP`), as
    /// signatures' `enable` actions and handlers spell it.
    pub fn from_name(name: &str) -> Option<Tag> {
        Tag::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// Whether the analyzer changes the connection itself (history letters,
    /// roles) and so runs whenever any event is taken.
    pub fn shapes_connection(self) -> bool {
        matches!(self, Tag::Ftp | Tag::Ntp)
    }

    /// Whether a handler needs the analyzer: it shapes the connection, or
    /// some subscribed event shows what it finds: one of its own family's
    /// events (the WIT world named after it; SSL and DTLS: the `ssl` and `x509` families), `protocol_confirmation`,
    /// `protocol_violation`, `conn_weird`, or `connection_state_remove`
    /// (whose record carries the services, as conn.log writes them).
    pub fn wanted(self, subs: &Subscriptions) -> bool {
        let family = self.name().to_ascii_lowercase();
        (self.shapes_connection() && !subs.is_empty())
            || super::context::findings_wanted(subs)
            || EventKind::ALL.iter().any(|&k| k.family() == family && subs.wants(k))
            || self.more_families().iter().any(|f| EventKind::ALL.iter().any(|&k| k.family() == *f && subs.wants(k)))
            || (self.carries_files() && crate::files::Manager::wanted(subs))
    }

    /// Event families the analyzer raises besides its own: SMTP the MIME
    /// events of its messages, SMTP and HTTP the software events of the
    /// strings they carry, SSL and DTLS the X.509 events of certificates;
    /// protocols that hand their stream to an SSL child those of SSL.
    fn more_families(self) -> &'static [&'static str] {
        match self {
            Tag::Smtp => &["mime", "software"],
            Tag::Http => &["software"],
            Tag::Ssl => &["x509"],
            Tag::Postgresql | Tag::Irc | Tag::Rdp | Tag::LdapTcp => &["ssl", "x509"],
            Tag::IrcData => &["irc"],
            Tag::Dtls | Tag::Quic => &["ssl", "x509"],
            _ => &[],
        }
    }

    /// Whether the analyzer hands files to file analysis (then a handler
    /// of `get_file_handle` is reason enough to run it).
    pub fn carries_files(self) -> bool {
        matches!(self, Tag::Http)
    }

    /// The service a connection gets when this analyzer is scheduled for it
    /// (Zeek's FTP script adds `ftp-data` at `scheduled_analyzer_applied`,
    /// its IRC script `irc-dcc-data`).
    pub fn scheduled_service(self) -> Option<&'static str> {
        match self {
            Tag::FtpData => Some("ftp-data"),
            Tag::IrcData => Some("irc-dcc-data"),
            _ => None,
        }
    }

    /// The `source` of the weirds the analyzer raises.
    pub fn source(self) -> &'static str {
        self.name()
    }

    /// Whether the analyzer's `Done()` on a UDP connection raises
    /// `udp_session_done`.
    pub fn raises_udp_session_done(self) -> bool {
        matches!(self, Tag::Dns | Tag::Ntp | Tag::Snmp | Tag::Syslog)
    }

    /// A fresh instance for a new connection, if weir implements the analyzer.
    pub fn instantiate(self, cfg: &Config) -> Option<Box<dyn Analyzer>> {
        match self {
            Tag::Ftp => Some(Box::new(ftp::Ftp::new(cfg.ftp_max_command_length))),
            Tag::Ntp => Some(Box::new(ntp::Ntp::default())),
            Tag::Dns => Some(Box::new(dns::Dns::new(cfg.dns.clone()))),
            Tag::Http => Some(Box::new(http::Http::new(cfg))),
            Tag::Smtp => Some(Box::new(smtp::Smtp::new(cfg))),
            Tag::Ssh => Some(Box::new(ssh::Ssh::default())),
            Tag::FtpData => Some(Box::new(ftp::FtpData)),
            Tag::Ssl => Some(Box::new(ssl::Ssl::new(cfg.ssl.clone()))),
            Tag::Dtls => Some(Box::new(ssl::dtls::Dtls::new(cfg.ssl.clone()))),
            Tag::Finger => Some(Box::new(finger::Finger::new(cfg.finger_max_line_length))),
            Tag::Postgresql => Some(Box::new(postgresql::Postgresql::default())),
            Tag::Irc => Some(Box::new(irc::Irc::default())),
            Tag::IrcData => Some(Box::new(irc::IrcData)),
            Tag::Rdp => Some(Box::new(rdp::Rdp::default())),
            Tag::Quic => Some(Box::new(quic::Quic::new(cfg.quic_max_discarded_packet_events))),
            Tag::LdapTcp => Some(Box::new(ldap::Ldap::new(true))),
            Tag::LdapUdp => Some(Box::new(ldap::Ldap::new(false))),
            Tag::Krb => Some(Box::new(krb::Krb)),
            Tag::KrbTcp => Some(Box::new(krb::KrbTcp::default())),
            Tag::Gssapi => Some(Box::new(gssapi::Gssapi::default())),
            Tag::Ntlm => Some(Box::new(ntlm::Ntlm)),
            Tag::Modbus => Some(Box::new(modbus::Modbus::default())),
            Tag::Socks => Some(Box::new(socks::Socks::default())),
            Tag::Rdpeudp => Some(Box::new(rdpeudp::Rdpeudp::default())),
            Tag::DceRpc => Some(Box::new(dce_rpc::DceRpc::default())),
            Tag::Snmp | Tag::Syslog => None,
        }
    }
}

/// Transport and port to analyzer tags.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    ports: Vec<(Transport, u16, Tag)>,
    /// Analyzers that are never attached, by port or by detection.
    disabled: Vec<Tag>,
}

impl Registry {
    /// The registrations of Zeek's standard protocol scripts for the
    /// analyzers weir knows.
    pub fn standard() -> Registry {
        let mut r = Registry::default();
        r.register_for_ports(Tag::Ftp, Transport::Tcp, &ftp::PORTS);
        r.register_for_ports(Tag::Ntp, Transport::Udp, &[ntp::PORT]);
        r.register_for_ports(Tag::Http, Transport::Tcp, &http::PORTS);
        // DNS proper, NetBIOS name service, mDNS and LLMNR.
        r.register_for_ports(Tag::Dns, Transport::Udp, &dns::UDP_PORTS);
        r.register_for_ports(Tag::Dns, Transport::Tcp, &dns::TCP_PORTS);
        r.register_for_ports(Tag::Snmp, Transport::Udp, &[161, 162]);
        r.register_for_ports(Tag::Syslog, Transport::Udp, &[514]);
        r.register_for_ports(Tag::Smtp, Transport::Tcp, &smtp::PORTS);
        r.register_for_ports(Tag::Ssh, Transport::Tcp, &ssh::PORTS);
        r.register_for_ports(Tag::Ssl, Transport::Tcp, &ssl::PORTS);
        r.register_for_ports(Tag::Dtls, Transport::Udp, &ssl::dtls::PORTS);
        r.register_for_ports(Tag::Finger, Transport::Tcp, &finger::PORTS);
        r.register_for_ports(Tag::Postgresql, Transport::Tcp, &postgresql::PORTS);
        r.register_for_ports(Tag::Irc, Transport::Tcp, &irc::PORTS);
        r.register_for_ports(Tag::Rdp, Transport::Tcp, &rdp::PORTS);
        r.register_for_ports(Tag::Quic, Transport::Udp, &quic::PORTS);
        r.register_for_ports(Tag::Quic, Transport::Udp, &quic::DOQ_PORTS);
        r.register_for_ports(Tag::LdapTcp, Transport::Tcp, &ldap::TCP_PORTS);
        r.register_for_ports(Tag::LdapUdp, Transport::Udp, &ldap::UDP_PORTS);
        r.register_for_ports(Tag::Krb, Transport::Udp, &krb::PORTS);
        r.register_for_ports(Tag::KrbTcp, Transport::Tcp, &krb::PORTS);
        r.register_for_ports(Tag::Modbus, Transport::Tcp, &modbus::PORTS);
        r.register_for_ports(Tag::Socks, Transport::Tcp, &socks::PORTS);
        r.register_for_ports(Tag::Rdpeudp, Transport::Udp, &rdpeudp::PORTS);
        r.register_for_ports(Tag::DceRpc, Transport::Tcp, &dce_rpc::PORTS);
        r
    }

    /// Never attaches `tag` (Zeek's `Analyzer::disable_analyzer`).
    pub fn disable(&mut self, tag: Tag) {
        if !self.disabled.contains(&tag) {
            self.disabled.push(tag);
        }
    }

    /// Whether `tag` may be attached.
    pub fn is_enabled(&self, tag: Tag) -> bool {
        !self.disabled.contains(&tag)
    }

    /// Registers `tag` for `ports` of `transport` (once per port).
    pub fn register_for_ports(&mut self, tag: Tag, transport: Transport, ports: &[u16]) {
        for &port in ports {
            if !self.ports.contains(&(transport, port, tag)) {
                self.ports.push((transport, port, tag));
            }
        }
    }

    /// The tags registered for `port` of `transport`, in registration order.
    pub fn tags(&self, transport: Transport, port: u16) -> impl Iterator<Item = Tag> + '_ {
        self.ports.iter().filter(move |&&(t, p, _)| t == transport && p == port).map(|&(_, _, tag)| tag)
    }

    /// The analyzers a new connection to responder port `port` gets,
    /// numbered from `next_aid` on (which moves past the ids given).
    pub fn analyzers_for(&self, transport: Transport, port: u16, cfg: &Config, next_aid: &mut u64) -> AnalyzerSet {
        let mut set = AnalyzerSet::default();
        for tag in self.tags(transport, port).filter(|&t| self.is_enabled(t)) {
            if let Some(a) = tag.instantiate(cfg) {
                set.add(a, *next_aid);
                *next_aid += 1;
            }
        }
        set
    }

    /// Whether a UDP connection with responder port `port` ends with
    /// `udp_session_done`: one of the port's analyzers raises it.
    pub fn udp_session_done(&self, port: u16) -> bool {
        self.tags(Transport::Udp, port).any(Tag::raises_udp_session_done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_ports() {
        let r = Registry::standard();
        assert_eq!(r.tags(Transport::Tcp, 21).collect::<Vec<_>>(), [Tag::Ftp]);
        assert_eq!(r.tags(Transport::Tcp, 2811).collect::<Vec<_>>(), [Tag::Ftp]);
        assert_eq!(r.tags(Transport::Udp, 21).count(), 0, "FTP is TCP only");
        assert_eq!(r.tags(Transport::Udp, 123).collect::<Vec<_>>(), [Tag::Ntp]);
        assert_eq!(r.tags(Transport::Tcp, 123).count(), 0);
        assert_eq!(r.tags(Transport::Udp, 137).collect::<Vec<_>>(), [Tag::Dns]);
        assert_eq!(r.tags(Transport::Tcp, 22).collect::<Vec<_>>(), [Tag::Ssh]);
        assert_eq!(r.tags(Transport::Tcp, 5432).collect::<Vec<_>>(), [Tag::Postgresql]);
        assert_eq!(r.tags(Transport::Tcp, 6667).collect::<Vec<_>>(), [Tag::Irc]);
        assert_eq!(r.tags(Transport::Tcp, 3389).collect::<Vec<_>>(), [Tag::Rdp]);
        assert_eq!(Tag::IrcData.scheduled_service(), Some("irc-dcc-data"), "DCC transfers are scheduled only");
        assert_eq!(r.tags(Transport::Tcp, 6667).filter(|&t| t == Tag::IrcData).count(), 0);
        assert_eq!(r.tags(Transport::Udp, 443).collect::<Vec<_>>(), [Tag::Dtls, Tag::Quic]);
        assert_eq!(r.tags(Transport::Udp, 853).collect::<Vec<_>>(), [Tag::Quic], "DNS over QUIC");
        assert_eq!(r.tags(Transport::Tcp, 443).collect::<Vec<_>>(), [Tag::Ssl], "QUIC is UDP only");
        assert_eq!(r.tags(Transport::Tcp, 389).collect::<Vec<_>>(), [Tag::LdapTcp]);
        assert_eq!(r.tags(Transport::Udp, 389).collect::<Vec<_>>(), [Tag::LdapUdp]);
        assert_eq!(r.tags(Transport::Tcp, 3268).collect::<Vec<_>>(), [Tag::LdapTcp], "the global catalog");
        assert_eq!(r.tags(Transport::Tcp, 88).collect::<Vec<_>>(), [Tag::KrbTcp]);
        assert_eq!(r.tags(Transport::Udp, 88).collect::<Vec<_>>(), [Tag::Krb]);
        assert_eq!(r.tags(Transport::Tcp, 502).collect::<Vec<_>>(), [Tag::Modbus]);
        assert_eq!(r.tags(Transport::Tcp, 1080).collect::<Vec<_>>(), [Tag::Http, Tag::Socks], "HTTP proxies too");
        assert_eq!(r.tags(Transport::Udp, 3389).collect::<Vec<_>>(), [Tag::Rdpeudp]);
        assert_eq!(r.tags(Transport::Tcp, 3389).collect::<Vec<_>>(), [Tag::Rdp]);
        assert_eq!(Tag::Gssapi.name(), "GSSAPI", "a child only, by no port");
        assert_eq!(r.tags(Transport::Tcp, 135).collect::<Vec<_>>(), [Tag::DceRpc]);
    }

    #[test]
    fn disabled_and_unwanted_analyzers_are_not_attached() {
        let (cfg, mut aid) = (Config::default(), 1);
        let mut r = Registry::standard();
        r.disable(Tag::Ftp);
        assert!(r.analyzers_for(Transport::Tcp, 21, &cfg, &mut aid).is_empty());
        assert!(r.is_enabled(Tag::Ntp) && !r.is_enabled(Tag::Ftp));
        let none = Subscriptions::default();
        assert!(!Tag::Ftp.wanted(&none), "no event taken: nothing runs");
        let mut one = Subscriptions::default();
        one.insert(EventKind::NewConnection);
        assert!(Tag::Ftp.wanted(&one), "FTP shapes the history");
        assert!(!Tag::Http.wanted(&none), "nobody needs HTTP");
        let mut remove = Subscriptions::default();
        remove.insert(EventKind::ConnectionStateRemove);
        assert!(Tag::Http.wanted(&remove), "the services reach the connection's end");
    }

    #[test]
    fn names_round_trip_in_any_case() {
        for t in Tag::ALL {
            assert_eq!(Tag::from_name(t.name()), Some(t));
            assert_eq!(Tag::from_name(&t.name().to_lowercase()), Some(t));
        }
        assert_eq!(Tag::from_name("gopher"), None);
    }

    #[test]
    fn udp_session_done_ports() {
        let r = Registry::standard();
        let mut done: Vec<u16> = (0..=u16::MAX).filter(|&p| r.udp_session_done(p)).collect();
        done.sort_unstable();
        assert_eq!(done, [53, 123, 137, 161, 162, 514, 5353, 5355]);
        let mut r = Registry::default();
        r.register_for_ports(Tag::Ftp, Transport::Udp, &[53]);
        assert!(!r.udp_session_done(53), "FTP's end raises nothing");
    }

    #[test]
    fn analyzers_are_made_only_for_implemented_tags() {
        let r = Registry::standard();
        let (cfg, mut aid) = (Config::default(), 1);
        assert_eq!(r.analyzers_for(Transport::Tcp, 21, &cfg, &mut aid).tags(), [Tag::Ftp]);
        assert_eq!(r.analyzers_for(Transport::Udp, 123, &cfg, &mut aid).tags(), [Tag::Ntp]);
        assert_eq!(aid, 3, "one id per analyzer made");
        assert_eq!(r.analyzers_for(Transport::Udp, 53, &cfg, &mut aid).tags(), [Tag::Dns]);
        assert_eq!(r.analyzers_for(Transport::Tcp, 53, &cfg, &mut aid).tags(), [Tag::Dns]);
        assert!(r.analyzers_for(Transport::Udp, 161, &cfg, &mut aid).is_empty(), "SNMP is known by name only");
        assert_eq!(r.analyzers_for(Transport::Tcp, 8080, &cfg, &mut aid).tags(), [Tag::Http]);
        assert!(r.analyzers_for(Transport::Tcp, 8081, &cfg, &mut aid).is_empty());
        let mut r = Registry::default();
        r.register_for_ports(Tag::Ntp, Transport::Udp, &[123, 123]);
        assert_eq!(r.tags(Transport::Udp, 123).count(), 1, "registered once");
    }
}
