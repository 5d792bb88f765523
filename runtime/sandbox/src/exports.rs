//! The per-event tables: which event interfaces a handler exports
//! ([`ExportIndices`], looked up once per handler), the loaded exports of a live
//! instance ([`Guests`]), an event converted to WIT values once ([`WitEvent`])
//! and the call of one event on one instance ([`Guests::call`]).

use wasmtime::component::InstancePre;
use wasmtime::Store;

use anyhow::bail;
use weir_engine::events::{Event, EventKind};

use crate::bindings;
use crate::convert;
use crate::host::HostState;

macro_rules! events {
    ($( $kind:ident, $field:ident, $module:ident; )*) => {
        /// Which event interfaces a component exports (looked up once per handler).
        #[derive(Default, Clone)]
        pub(crate) struct ExportIndices {
            $( $field: Option<bindings::exports::weir::events::$module::GuestIndices>, )*
        }

        /// The exported interfaces of one live instance.
        #[derive(Default)]
        pub(crate) struct Guests {
            $( $field: Option<bindings::exports::weir::events::$module::Guest>, )*
        }

        impl ExportIndices {
            pub(crate) fn find(pre: &InstancePre<HostState>, names: &[String]) -> anyhow::Result<ExportIndices> {
                let mut x = ExportIndices::default();
                $(
                    let iface = concat!("weir:events/", stringify!($module), "@0.1.0").replace('_', "-");
                    if names.iter().any(|n| *n == iface) {
                        match bindings::exports::weir::events::$module::GuestIndices::new(pre) {
                            Ok(i) => x.$field = Some(i),
                            Err(e) => bail!("export {iface} does not match the WIT: {e}"),
                        }
                    }
                )*
                Ok(x)
            }
            pub(crate) fn kinds(&self) -> Vec<EventKind> {
                let mut v = Vec::new();
                $( if self.$field.is_some() { v.push(EventKind::$kind); } )*
                v
            }
            pub(crate) fn load(&self, store: &mut Store<HostState>, inst: &wasmtime::component::Instance) -> wasmtime::Result<Guests> {
                let mut g = Guests::default();
                $( if let Some(i) = &self.$field { g.$field = Some(i.load(&mut *store, inst)?); } )*
                Ok(g)
            }
        }
    };
}

events! {
    BroInit, bro_init, bro_init;
    BroDone, bro_done, bro_done;
    BroScriptLoaded, bro_script_loaded, bro_script_loaded;
    NewConnection, new_connection, new_connection;
    ConnectionStateRemove, connection_state_remove, connection_state_remove;
    ConnectionTimeout, connection_timeout, connection_timeout;
    UdpSessionDone, udp_session_done, udp_session_done;
    ConnectionStatusUpdate, connection_status_update, connection_status_update;
    ConnectionReused, connection_reused, connection_reused;
    ConnectionFlowLabelChanged, connection_flow_label_changed, connection_flow_label_changed;
    TunnelChanged, tunnel_changed, tunnel_changed;
    ContentGap, content_gap, content_gap;
    ConnWeird, conn_weird, conn_weird;
    FlowWeird, flow_weird, flow_weird;
    NetWeird, net_weird, net_weird;
    ReporterInfo, reporter_info, reporter_info;
    ReporterWarning, reporter_warning, reporter_warning;
    ReporterError, reporter_error, reporter_error;
    EventQueueFlushPoint, event_queue_flush_point, event_queue_flush_point;
    RawPacket, raw_packet, raw_packet;
    NewPacket, new_packet, new_packet;
    Ipv6ExtHeaders, ipv6_ext_headers, ipv6_ext_headers;
    PacketContents, packet_contents, packet_contents;
    EspPacket, esp_packet, esp_packet;
    MobileIpv6Message, mobile_ipv6_message, mobile_ipv6_message;
    ConnStats, conn_stats, conn_stats;
    RexmitInconsistency, rexmit_inconsistency, rexmit_inconsistency;
    NewEvent, new_event, new_event;
    FileOpened, file_opened, file_opened;
}

/// An event converted to WIT values once, then delivered to every handler taking it.
pub(crate) enum WitEvent<'a> {
    Plain(&'a Event),
    Conn(&'a Event, bindings::weir::events::types::Connection),
    Tunnel(bindings::weir::events::types::Connection, Vec<bindings::weir::events::types::EncapsulatingConn>),
    /// A packet event: its headers, with the connection when it has one.
    Packet(&'a Event, Option<bindings::weir::events::types::Connection>, bindings::weir::events::types::PktHdr),
    Raw(bindings::weir::events::types::RawPktHdr),
}

impl<'a> WitEvent<'a> {
    pub(crate) fn new(ev: &'a Event) -> WitEvent<'a> {
        match ev {
            Event::NewConnection(c)
            | Event::ConnectionReused(c)
            | Event::ConnectionStateRemove(c)
            | Event::ConnectionStatusUpdate(c)
            | Event::ConnectionTimeout(c)
            | Event::UdpSessionDone(c)
            | Event::ConnectionFlowLabelChanged { c, .. }
            | Event::ContentGap { c, .. }
            | Event::PacketContents { c, .. }
            | Event::ConnStats { c, .. }
            | Event::RexmitInconsistency { c, .. }
            | Event::ConnWeird { c, .. } => WitEvent::Conn(ev, convert::connection(c)),
            Event::NewPacket { c, p } | Event::Ipv6ExtHeaders { c, p } => {
                WitEvent::Packet(ev, Some(convert::connection(c)), convert::pkt_hdr(p))
            }
            Event::EspPacket(p) | Event::MobileIpv6Message(p) => WitEvent::Packet(ev, None, convert::pkt_hdr(p)),
            Event::RawPacket(r) => WitEvent::Raw(convert::raw_pkt_hdr(r)),
            Event::TunnelChanged { c, e } => WitEvent::Tunnel(convert::connection(c), convert::encaps(e)),
            _ => WitEvent::Plain(ev),
        }
    }
}

impl Guests {
    /// Calls event `ev` on this live instance, in `s`, its store.
    pub(crate) fn call(&self, s: &mut Store<HostState>, ev: &WitEvent<'_>) -> wasmtime::Result<()> {
        let g = self;
        let missing = || wasmtime::format_err!("handler does not export this event");
        match ev {
            WitEvent::Plain(e) => match e {
                Event::BroInit => g.bro_init.as_ref().ok_or_else(missing)?.call_bro_init(s),
                Event::BroDone => g.bro_done.as_ref().ok_or_else(missing)?.call_bro_done(s),
                Event::BroScriptLoaded { path, level } => {
                    g.bro_script_loaded.as_ref().ok_or_else(missing)?.call_bro_script_loaded(s, path, *level)
                }
                Event::FlowWeird { name, src, dst, addl, source } => g.flow_weird.as_ref().ok_or_else(missing)?.call_flow_weird(
                    s,
                    name,
                    convert::addr(*src),
                    convert::addr(*dst),
                    addl,
                    source,
                ),
                Event::NetWeird { name, addl, source } => {
                    g.net_weird.as_ref().ok_or_else(missing)?.call_net_weird(s, name, addl, source)
                }
                Event::ReporterInfo { t, msg, location } => {
                    g.reporter_info.as_ref().ok_or_else(missing)?.call_reporter_info(s, *t, msg, location)
                }
                Event::ReporterWarning { t, msg, location } => {
                    g.reporter_warning.as_ref().ok_or_else(missing)?.call_reporter_warning(s, *t, msg, location)
                }
                Event::ReporterError { t, msg, location } => {
                    g.reporter_error.as_ref().ok_or_else(missing)?.call_reporter_error(s, *t, msg, location)
                }
                Event::FileOpened { path } => {
                    let f = bindings::weir::events::types::OpenedFile { path: path.clone() };
                    g.file_opened.as_ref().ok_or_else(missing)?.call_file_opened(s, &f)
                }
                Event::NewEvent { name, params } => {
                    let params: Vec<_> = params.iter().map(convert::call_argument).collect();
                    g.new_event.as_ref().ok_or_else(missing)?.call_new_event(s, name, &params)
                }
                Event::EventQueueFlushPoint => {
                    g.event_queue_flush_point.as_ref().ok_or_else(missing)?.call_event_queue_flush_point(s)
                }
                _ => Err(missing()),
            },
            WitEvent::Conn(e, c) => match e {
                Event::NewConnection(_) => g.new_connection.as_ref().ok_or_else(missing)?.call_new_connection(s, c),
                Event::ConnectionReused(_) => g.connection_reused.as_ref().ok_or_else(missing)?.call_connection_reused(s, c),
                Event::ConnectionStateRemove(_) => {
                    g.connection_state_remove.as_ref().ok_or_else(missing)?.call_connection_state_remove(s, c)
                }
                Event::ConnectionStatusUpdate(_) => {
                    g.connection_status_update.as_ref().ok_or_else(missing)?.call_connection_status_update(s, c)
                }
                Event::ConnectionTimeout(_) => g.connection_timeout.as_ref().ok_or_else(missing)?.call_connection_timeout(s, c),
                Event::UdpSessionDone(_) => g.udp_session_done.as_ref().ok_or_else(missing)?.call_udp_session_done(s, c),
                Event::ConnectionFlowLabelChanged { is_orig, old_label, new_label, .. } => g
                    .connection_flow_label_changed
                    .as_ref()
                    .ok_or_else(missing)?
                    .call_connection_flow_label_changed(s, c, *is_orig, *old_label, *new_label),
                Event::ContentGap { is_orig, seq, length, .. } => {
                    g.content_gap.as_ref().ok_or_else(missing)?.call_content_gap(s, c, *is_orig, *seq, *length)
                }
                Event::ConnWeird { name, addl, source, .. } => {
                    g.conn_weird.as_ref().ok_or_else(missing)?.call_conn_weird(s, name, c, addl, source)
                }
                Event::PacketContents { contents, .. } => {
                    g.packet_contents.as_ref().ok_or_else(missing)?.call_packet_contents(s, c, contents)
                }
                Event::ConnStats { os, rs, .. } => g.conn_stats.as_ref().ok_or_else(missing)?.call_conn_stats(
                    s,
                    c,
                    convert::endpoint_stats(os),
                    convert::endpoint_stats(rs),
                ),
                Event::RexmitInconsistency { t1, t2, tcp_flags, .. } => g
                    .rexmit_inconsistency
                    .as_ref()
                    .ok_or_else(missing)?
                    .call_rexmit_inconsistency(s, c, t1, t2, tcp_flags),
                _ => Err(missing()),
            },
            WitEvent::Tunnel(c, e) => g.tunnel_changed.as_ref().ok_or_else(missing)?.call_tunnel_changed(s, c, e),
            WitEvent::Raw(p) => g.raw_packet.as_ref().ok_or_else(missing)?.call_raw_packet(s, p),
            WitEvent::Packet(e, c, p) => match (e, c) {
                (Event::NewPacket { .. }, Some(c)) => g.new_packet.as_ref().ok_or_else(missing)?.call_new_packet(s, c, p),
                (Event::Ipv6ExtHeaders { .. }, Some(c)) => {
                    g.ipv6_ext_headers.as_ref().ok_or_else(missing)?.call_ipv6_ext_headers(s, c, p)
                }
                (Event::EspPacket(_), None) => g.esp_packet.as_ref().ok_or_else(missing)?.call_esp_packet(s, p),
                (Event::MobileIpv6Message(_), None) => {
                    g.mobile_ipv6_message.as_ref().ok_or_else(missing)?.call_mobile_ipv6_message(s, p)
                }
                _ => Err(missing()),
            },
        }
    }
}
