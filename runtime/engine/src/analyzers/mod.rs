//! Application analyzers, as far as they change a connection itself: the
//! role flips, history letters, weirds and end events that Zeek's protocol
//! analyzers cause. They sit after the session layer: it hands them
//! datagrams (NTP) or in-order TCP payload ([`stream`]), and turns what
//! they find into weirds and history. No protocol events or protocol logs
//! come from here.

pub mod ftp;
pub mod ntp;
pub mod stream;

/// UDP responder ports of the analyzers whose `Done()` raises
/// `udp_session_done` (DNS, mDNS, LLMNR, NetBIOS name service, NTP, SNMP,
/// Syslog), as their scripts register them.
pub const UDP_SESSION_DONE_PORTS: [u16; 8] = [53, 137, 5353, 5355, ntp::PORT, 161, 162, 514];

/// The TCP application analyzer attached to a connection, chosen by its
/// responder port at creation.
#[derive(Clone, Debug)]
pub enum TcpApp {
    /// FTP control connection.
    Ftp(ftp::Ftp),
}

impl TcpApp {
    /// The analyzer for a new TCP connection to `resp_port`, if any.
    pub fn for_new_tcp(resp_port: u16) -> Option<TcpApp> {
        ftp::PORTS.contains(&resp_port).then(|| TcpApp::Ftp(ftp::Ftp::default()))
    }
}
