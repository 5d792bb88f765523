//! Engine events, the subscription set, and the FIFO queue with Zeek's
//! ordering rules: events run in the order they were queued, a packet's
//! timer events before its own, and `raw_packet` last among a packet's events.
//!
//! An event nobody subscribed to is never built: producers ask
//! [`Subscriptions::wants`] first.

pub mod pkt;
pub mod records;

use std::collections::VecDeque;
use std::net::IpAddr;

pub use pkt::{PktHdr, RawPktHdr};
pub use records::{CallArgument, ConnId, Connection, EncapConn, Endpoint, EndpointStats, Transport, TunnelType};

macro_rules! event_kinds {
    ($($variant:ident = $name:literal,)*) => {
        /// Every event of the seed, by name. The discriminant indexes the
        /// subscription bit set.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum EventKind { $(#[doc = $name] $variant,)* }

        impl EventKind {
            /// All kinds, in declaration order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];
            /// The event's name as in Zeek/Bro (`new_connection`).
            pub fn name(self) -> &'static str {
                match self { $(EventKind::$variant => $name,)* }
            }
            /// The kind with Zeek/Bro name `name`.
            pub fn from_name(name: &str) -> Option<EventKind> {
                match name { $($name => Some(EventKind::$variant),)* _ => None }
            }
        }
    };
}

event_kinds! {
    BroInit = "bro_init",
    BroDone = "bro_done",
    BroScriptLoaded = "bro_script_loaded",
    NewConnection = "new_connection",
    ConnectionExternal = "connection_external",
    ConnectionReused = "connection_reused",
    ConnectionStateRemove = "connection_state_remove",
    ConnectionStatusUpdate = "connection_status_update",
    ConnectionTimeout = "connection_timeout",
    ConnectionFlowLabelChanged = "connection_flow_label_changed",
    TunnelChanged = "tunnel_changed",
    UdpSessionDone = "udp_session_done",
    ScheduledAnalyzerApplied = "scheduled_analyzer_applied",
    ConnStats = "conn_stats",
    RawPacket = "raw_packet",
    NewPacket = "new_packet",
    Ipv6ExtHeaders = "ipv6_ext_headers",
    EspPacket = "esp_packet",
    MobileIpv6Message = "mobile_ipv6_message",
    PacketContents = "packet_contents",
    ContentGap = "content_gap",
    RexmitInconsistency = "rexmit_inconsistency",
    ProtocolConfirmation = "protocol_confirmation",
    ProtocolViolation = "protocol_violation",
    ConnWeird = "conn_weird",
    FlowWeird = "flow_weird",
    NetWeird = "net_weird",
    ReporterInfo = "reporter_info",
    ReporterWarning = "reporter_warning",
    ReporterError = "reporter_error",
    GetFileHandle = "get_file_handle",
    FileNew = "file_new",
    FileOverNewConnection = "file_over_new_connection",
    FileSniff = "file_sniff",
    FileGap = "file_gap",
    FileReassemblyOverflow = "file_reassembly_overflow",
    FileTimeout = "file_timeout",
    FileStateRemove = "file_state_remove",
    FileOpened = "file_opened",
    DnsMappingValid = "dns_mapping_valid",
    DnsMappingUnverified = "dns_mapping_unverified",
    DnsMappingNewName = "dns_mapping_new_name",
    DnsMappingLostName = "dns_mapping_lost_name",
    DnsMappingAltered = "dns_mapping_altered",
    SignatureMatch = "signature_match",
    SoftwareVersionFound = "software_version_found",
    SoftwareParseError = "software_parse_error",
    SoftwareUnparsedVersionFound = "software_unparsed_version_found",
    OsVersionFound = "OS_version_found",
    RootBackdoorSignatureFound = "root_backdoor_signature_found",
    NapsterSignatureFound = "napster_signature_found",
    KazaaSignatureFound = "kazaa_signature_found",
    GaobotSignatureFound = "gaobot_signature_found",
    NewEvent = "new_event",
    EventQueueFlushPoint = "event_queue_flush_point",
    LoadSample = "load_sample",
    ProfilingUpdate = "profiling_update",
    PrintHook = "print_hook",
    RotateInterval = "rotate_interval",
    RotateSize = "rotate_size",
    AnonymizationMapping = "anonymization_mapping",
    RemoteConnectionEstablished = "remote_connection_established",
    RemoteConnectionHandshakeDone = "remote_connection_handshake_done",
    RemoteConnectionClosed = "remote_connection_closed",
    RemoteConnectionError = "remote_connection_error",
    RemoteEventRegistered = "remote_event_registered",
    RemoteCaptureFilter = "remote_capture_filter",
    RemoteLog = "remote_log",
    RemoteLogPeer = "remote_log_peer",
    RemotePong = "remote_pong",
    RemoteStateAccessPerformed = "remote_state_access_performed",
    RemoteStateInconsistency = "remote_state_inconsistency",
    FinishedSendState = "finished_send_state",
}

/// The set of events at least one loaded handler takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Subscriptions(u128);

impl Subscriptions {
    /// Every event (for tests and `new_event`-style tracing).
    pub fn all() -> Self {
        Subscriptions(u128::MAX)
    }
    /// Adds `kind`.
    pub fn insert(&mut self, kind: EventKind) {
        self.0 |= 1u128 << (kind as u8);
    }
    /// Whether anyone takes `kind`.
    #[inline]
    pub fn wants(&self, kind: EventKind) -> bool {
        self.0 & (1u128 << (kind as u8)) != 0
    }
}

/// Where a weird came from (`source` argument, e.g. `"TCP"`); empty when unknown.
pub type WeirdSource = &'static str;

/// An event with its arguments, in the engine's own form.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Start of processing.
    BroInit,
    /// End of processing.
    BroDone,
    /// One per loaded handler: its path and load level.
    BroScriptLoaded {
        /// Handler file path.
        path: String,
        /// Depth (0 for handlers given on the command line).
        level: u64,
    },
    /// First packet of a new connection.
    NewConnection(Box<Connection>),
    /// A SYN reused the tuple of the (old) connection.
    ConnectionReused(Box<Connection>),
    /// The connection is removed; last event for it.
    ConnectionStateRemove(Box<Connection>),
    /// Periodic status (when `connection_status_update_interval` > 0).
    ConnectionStatusUpdate(Box<Connection>),
    /// The connection timed out.
    ConnectionTimeout(Box<Connection>),
    /// A UDP connection on a port of a UDP analyzer that raises this at its
    /// end (DNS, NTP, SNMP, Syslog) is removed.
    UdpSessionDone(Box<Connection>),
    /// A side's IPv6 flow label changed.
    ConnectionFlowLabelChanged {
        /// The connection.
        c: Box<Connection>,
        /// Which side.
        is_orig: bool,
        /// Previous label.
        old_label: u32,
        /// New label.
        new_label: u32,
    },
    /// The encapsulation of an existing connection changed.
    TunnelChanged {
        /// The connection.
        c: Box<Connection>,
        /// The new stack (empty when now untunnelled).
        e: Vec<EncapConn>,
    },
    /// A TCP content gap.
    ContentGap {
        /// The connection.
        c: Box<Connection>,
        /// Direction.
        is_orig: bool,
        /// Relative sequence number of the hole.
        seq: u64,
        /// Length of the hole.
        length: u64,
    },
    /// A weird about a connection.
    ConnWeird {
        /// Weird name.
        name: String,
        /// The connection.
        c: Box<Connection>,
        /// Extra text.
        addl: String,
        /// Reporting component.
        source: String,
    },
    /// A weird about a pair of hosts.
    FlowWeird {
        /// Weird name.
        name: String,
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// Extra text.
        addl: String,
        /// Reporting component.
        source: String,
    },
    /// A weird with no flow.
    NetWeird {
        /// Weird name.
        name: String,
        /// Extra text.
        addl: String,
        /// Reporting component.
        source: String,
    },
    /// Informational message.
    ReporterInfo {
        /// Network time (or wall clock before the first packet).
        t: f64,
        /// Message.
        msg: String,
        /// Location text.
        location: String,
    },
    /// Warning.
    ReporterWarning {
        /// Network time.
        t: f64,
        /// Message.
        msg: String,
        /// Location text.
        location: String,
    },
    /// Error.
    ReporterError {
        /// Network time.
        t: f64,
        /// Message.
        msg: String,
        /// Location text.
        location: String,
    },
    /// Marks the start of each queue drain.
    EventQueueFlushPoint,
    /// Every captured packet, after its analysis (the outer frame of tunnels).
    RawPacket(Box<RawPktHdr>),
    /// Every packet mapped to a connection, before transport processing.
    NewPacket {
        /// The connection.
        c: Box<Connection>,
        /// The packet's headers.
        p: Box<PktHdr>,
    },
    /// An IPv6 packet of a connection with at least one extension header.
    Ipv6ExtHeaders {
        /// The connection.
        c: Box<Connection>,
        /// The packet's headers.
        p: Box<PktHdr>,
    },
    /// The transport payload of a connection's packet (clipped to the capture).
    PacketContents {
        /// The connection.
        c: Box<Connection>,
        /// The payload bytes.
        contents: Vec<u8>,
    },
    /// An IPv6 packet whose header chain ends in ESP (no connection).
    EspPacket(Box<PktHdr>),
    /// An IPv6 Mobility Header message with a valid checksum (no connection).
    MobileIpv6Message(Box<PktHdr>),
    /// A TCP retransmission whose bytes differ from those first seen.
    RexmitInconsistency {
        /// The connection.
        c: Box<Connection>,
        /// The bytes seen first.
        t1: Vec<u8>,
        /// The retransmitted bytes.
        t2: Vec<u8>,
        /// Flag letters of the retransmitting segment (S F R A P U).
        tcp_flags: String,
    },
    /// A handler opened a file in a folder the operator granted it.
    FileOpened {
        /// The path as the handler named it.
        path: String,
    },
    /// Raised before every other dispatched event, with its name and arguments.
    NewEvent {
        /// The event's name (`new_connection`).
        name: String,
        /// Its arguments, rendered.
        params: Vec<CallArgument>,
    },
    /// TCP statistics of both sides, just before `connection_state_remove`.
    ConnStats {
        /// The connection.
        c: Box<Connection>,
        /// Originator statistics.
        os: EndpointStats,
        /// Responder statistics.
        rs: EndpointStats,
    },
}

impl Event {
    /// The kind of this event.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::BroInit => EventKind::BroInit,
            Event::BroDone => EventKind::BroDone,
            Event::BroScriptLoaded { .. } => EventKind::BroScriptLoaded,
            Event::NewConnection(_) => EventKind::NewConnection,
            Event::ConnectionReused(_) => EventKind::ConnectionReused,
            Event::ConnectionStateRemove(_) => EventKind::ConnectionStateRemove,
            Event::ConnectionStatusUpdate(_) => EventKind::ConnectionStatusUpdate,
            Event::ConnectionTimeout(_) => EventKind::ConnectionTimeout,
            Event::UdpSessionDone(_) => EventKind::UdpSessionDone,
            Event::ConnectionFlowLabelChanged { .. } => EventKind::ConnectionFlowLabelChanged,
            Event::TunnelChanged { .. } => EventKind::TunnelChanged,
            Event::ContentGap { .. } => EventKind::ContentGap,
            Event::ConnWeird { .. } => EventKind::ConnWeird,
            Event::FlowWeird { .. } => EventKind::FlowWeird,
            Event::NetWeird { .. } => EventKind::NetWeird,
            Event::ReporterInfo { .. } => EventKind::ReporterInfo,
            Event::ReporterWarning { .. } => EventKind::ReporterWarning,
            Event::ReporterError { .. } => EventKind::ReporterError,
            Event::EventQueueFlushPoint => EventKind::EventQueueFlushPoint,
            Event::RawPacket(_) => EventKind::RawPacket,
            Event::NewPacket { .. } => EventKind::NewPacket,
            Event::Ipv6ExtHeaders { .. } => EventKind::Ipv6ExtHeaders,
            Event::PacketContents { .. } => EventKind::PacketContents,
            Event::EspPacket(_) => EventKind::EspPacket,
            Event::MobileIpv6Message(_) => EventKind::MobileIpv6Message,
            Event::ConnStats { .. } => EventKind::ConnStats,
            Event::RexmitInconsistency { .. } => EventKind::RexmitInconsistency,
            Event::NewEvent { .. } => EventKind::NewEvent,
            Event::FileOpened { .. } => EventKind::FileOpened,
        }
    }
}

fn port(p: u16, t: Transport) -> String {
    format!("{p}/{}", if t == Transport::Unknown { "unknown" } else { t.name() })
}

fn conn_text(c: &Connection) -> String {
    let id = &c.id;
    format!(
        "[id=[orig_h={}, orig_p={}, resp_h={}, resp_p={}], uid={}, history={}, start_time={:.6}, duration={:.6}]",
        id.orig_h,
        port(id.orig_p, id.transport),
        id.resp_h,
        port(id.resp_p, id.transport),
        c.uid,
        c.history,
        c.start_time,
        c.duration
    )
}

fn bytes_text(b: &[u8]) -> String {
    b.iter().map(|&c| if (0x20..0x7f).contains(&c) && c != b'\\' { (c as char).to_string() } else { format!("\\x{c:02x}") }).collect()
}

impl Event {
    /// The event's arguments as `new_event` reports them: name, type and value
    /// rendered as text (a connection as its id, uid, history and times; packet
    /// headers by their kind).
    pub fn arguments(&self) -> Vec<CallArgument> {
        let a = |name: &str, type_name: &str, value: String| CallArgument {
            name: name.into(),
            type_name: type_name.into(),
            value,
        };
        let c = |c: &Connection| a("c", "connection", conn_text(c));
        let s = |name: &str, v: &str| a(name, "string", v.to_string());
        let n = |name: &str, v: u64| a(name, "count", v.to_string());
        let t = |name: &str, v: f64| a(name, "time", format!("{v:.6}"));
        let b = |name: &str, v: bool| a(name, "bool", if v { "T" } else { "F" }.into());
        match self {
            Event::BroInit | Event::BroDone | Event::EventQueueFlushPoint => vec![],
            Event::BroScriptLoaded { path, level } => vec![s("path", path), n("level", *level)],
            Event::NewConnection(x)
            | Event::ConnectionReused(x)
            | Event::ConnectionStateRemove(x)
            | Event::ConnectionStatusUpdate(x)
            | Event::ConnectionTimeout(x) => vec![c(x)],
            Event::UdpSessionDone(x) => vec![a("u", "connection", conn_text(x))],
            Event::ConnectionFlowLabelChanged { c: x, is_orig, old_label, new_label } => {
                vec![c(x), b("is_orig", *is_orig), n("old_label", *old_label as u64), n("new_label", *new_label as u64)]
            }
            Event::TunnelChanged { c: x, e } => vec![c(x), a("e", "EncapsulatingConnVector", format!("{} tunnels", e.len()))],
            Event::ContentGap { c: x, is_orig, seq, length } => {
                vec![c(x), b("is_orig", *is_orig), n("seq", *seq), n("length", *length)]
            }
            Event::ConnWeird { name, c: x, addl, source } => vec![s("name", name), c(x), s("addl", addl), s("source", source)],
            Event::FlowWeird { name, src, dst, addl, source } => vec![
                s("name", name),
                a("src", "addr", src.to_string()),
                a("dst", "addr", dst.to_string()),
                s("addl", addl),
                s("source", source),
            ],
            Event::NetWeird { name, addl, source } => vec![s("name", name), s("addl", addl), s("source", source)],
            Event::ReporterInfo { t: tm, msg, location }
            | Event::ReporterWarning { t: tm, msg, location }
            | Event::ReporterError { t: tm, msg, location } => vec![t("t", *tm), s("msg", msg), s("location", location)],
            Event::RawPacket(_) => vec![a("p", "raw_pkt_hdr", "[...]".into())],
            Event::NewPacket { c: x, .. } | Event::Ipv6ExtHeaders { c: x, .. } => vec![c(x), a("p", "pkt_hdr", "[...]".into())],
            Event::PacketContents { c: x, contents } => vec![c(x), s("contents", &bytes_text(contents))],
            Event::EspPacket(_) | Event::MobileIpv6Message(_) => vec![a("p", "pkt_hdr", "[...]".into())],
            Event::ConnStats { c: x, os, rs } => vec![
                c(x),
                a("os", "endpoint_stats", format!("[num_pkts={}]", os.num_pkts)),
                a("rs", "endpoint_stats", format!("[num_pkts={}]", rs.num_pkts)),
            ],
            Event::RexmitInconsistency { c: x, t1, t2, tcp_flags } => {
                vec![c(x), s("t1", &bytes_text(t1)), s("t2", &bytes_text(t2)), s("tcp_flags", tcp_flags)]
            }
            Event::FileOpened { path } => vec![a("f", "file", format!("[path={path}]"))],
            Event::NewEvent { name, params } => vec![s("name", name), a("params", "call_argument_vector", format!("{} arguments", params.len()))],
        }
    }
}

/// The FIFO of events waiting for dispatch.
#[derive(Default)]
pub struct EventQueue {
    queue: VecDeque<Event>,
    /// What handlers take; events outside it are dropped on push.
    pub subs: Subscriptions,
}

impl EventQueue {
    /// A queue that keeps only the events in `subs`.
    pub fn new(subs: Subscriptions) -> Self {
        EventQueue { queue: VecDeque::new(), subs }
    }
    /// Whether anyone takes `kind` (ask before building an event).
    #[inline]
    pub fn wants(&self, kind: EventKind) -> bool {
        self.subs.wants(kind)
    }
    /// Queues `ev` if subscribed.
    pub fn push(&mut self, ev: Event) {
        if self.subs.wants(ev.kind()) {
            self.queue.push_back(ev);
        }
    }
    /// Takes every queued event, oldest first.
    pub fn take(&mut self) -> VecDeque<Event> {
        std::mem::take(&mut self.queue)
    }
    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
