//! The driver: one packet through decode and sessions, events into the queue.

use crate::capture::Packet;
use crate::config::Config;
use crate::decode::frag::FragReassembler;
use crate::decode::ip::{parse_ip, IpWeird};
use crate::decode::link::decode_link;
use crate::decode::transport::parse_l4;
use crate::decode::{IpHdr, L2Info, LinkOutcome};
use crate::events::{ConnId, EncapConn, Event, EventKind, EventQueue, Subscriptions, Transport, TunnelType};
use crate::sessions::{weird_permitted, PacketInfo, Sessions};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Counters of a run, for progress lines and the summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Packets that reached the session layer.
    pub ip_packets: u64,
}

/// One engine instance: owns every stage's state.
pub struct Engine {
    /// Settings.
    pub cfg: Config,
    /// Events waiting for dispatch.
    pub queue: EventQueue,
    /// Network time: the latest packet timestamp seen.
    pub network_time: f64,
    /// Run counters.
    pub stats: Stats,
    sessions: Sessions,
    frags: FragReassembler,
    notes: Vec<IpWeird>,
    net_weirds: HashMap<&'static str, u64>,
    flow_weirds: HashMap<(IpAddr, IpAddr, &'static str), u64>,
}

/// Source and destination of the IP header at the start of `data`, if readable.
fn ip_addrs(data: &[u8]) -> Option<(IpAddr, IpAddr)> {
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

impl Engine {
    /// A new engine raising the events in `subs`.
    pub fn new(cfg: Config, subs: Subscriptions) -> Self {
        Engine {
            sessions: Sessions::new(cfg.clone()),
            frags: FragReassembler::new(cfg.frag_timeout),
            cfg,
            queue: EventQueue::new(subs),
            network_time: 0.0,
            stats: Stats::default(),
            notes: Vec::new(),
            net_weirds: HashMap::new(),
            flow_weirds: HashMap::new(),
        }
    }

    /// Queues `bro_init`.
    pub fn start(&mut self) {
        self.queue.push(Event::BroInit);
    }

    /// Number of connections currently tracked.
    pub fn connections(&self) -> usize {
        self.sessions.len()
    }

    /// Raises a net weird, rate-limited per name.
    pub fn net_weird(&mut self, name: &'static str, addl: String, source: &'static str) {
        let n = self.net_weirds.entry(name).or_insert(0);
        *n += 1;
        if self.queue.wants(EventKind::NetWeird) && weird_permitted(*n) {
            self.queue.push(Event::NetWeird { name: name.into(), addl, source: source.into() });
        }
    }

    /// Raises a flow weird, rate-limited per (src, dst, name).
    pub fn flow_weird(&mut self, name: &'static str, src: IpAddr, dst: IpAddr, addl: String, source: &'static str) {
        let n = self.flow_weirds.entry((src, dst, name)).or_insert(0);
        *n += 1;
        if self.queue.wants(EventKind::FlowWeird) && weird_permitted(*n) {
            self.queue.push(Event::FlowWeird { name: name.into(), src, dst, addl, source: source.into() });
        }
    }

    /// Runs one captured packet through the stages; its events end up in `queue`.
    pub fn process(&mut self, pkt: &Packet<'_>) {
        self.stats.packets += 1;
        self.stats.bytes += pkt.data.len() as u64;
        if pkt.ts < 0.0 {
            self.net_weird("negative_packet_timestamp", String::new(), "");
            return;
        }
        if pkt.ts > self.network_time {
            self.network_time = pkt.ts;
        }
        self.sessions.advance(self.network_time, &mut self.queue);
        self.frags.expire(self.network_time);
        match decode_link(pkt.link_type, pkt.data) {
            LinkOutcome::Ip { l2, ip } => {
                let link_hdr = crate::decode::link::link_header_len(pkt.data, ip);
                let wire = (pkt.wire_len as usize).saturating_sub(link_hdr);
                let mut encap = Vec::new();
                self.process_ip(pkt.ts, ip, wire, &l2, &mut encap);
            }
            LinkOutcome::NotIp { .. } => {}
            LinkOutcome::Weird { name, .. } => self.net_weird(name, String::new(), ""),
            LinkOutcome::UnknownLinkType => self.net_weird("no_suitable_analyzer_found", String::new(), ""),
        }
    }

    fn ip_weird(&mut self, w: IpWeird, data: &[u8], in_tunnel: bool) {
        let name = if in_tunnel && !w.flow { tunnel_suffix(w.name) } else { w.name };
        match (w.flow, ip_addrs(data)) {
            (true, Some((s, d))) => self.flow_weird(name, s, d, String::new(), "IP"),
            _ => self.net_weird(name, String::new(), "IP"),
        }
    }

    /// One IP packet (possibly the inside of a tunnel) through IP, tunnels and sessions.
    fn process_ip(&mut self, ts: f64, data: &[u8], wire_len: usize, l2: &L2Info, encap: &mut Vec<EncapConn>) {
        let mut notes = std::mem::take(&mut self.notes);
        notes.clear();
        let parsed = parse_ip(data, wire_len, self.cfg.ignore_checksums, &mut notes);
        for w in notes.drain(..) {
            self.ip_weird(w, data, !encap.is_empty());
        }
        let ip = match parsed {
            Ok(ip) => ip,
            Err(w) => {
                self.notes = notes;
                self.ip_weird(w, data, !encap.is_empty());
                return;
            }
        };
        if ip.is_fragment {
            let whole = self.frags.add(ts, &ip, &mut notes);
            for w in notes.drain(..) {
                self.ip_weird(w, data, false);
            }
            self.notes = notes;
            if whole.is_none() && ip.frag_offset == 0 && crate::decode::frag::incompletely_captured(&ip) {
                // Zeek analyses an incompletely captured first fragment as it is.
                self.process_datagram(ts, &ip, l2, encap);
                return;
            }
            if let Some(buf) = whole {
                let n = buf.len();
                self.process_ip(ts, &buf, n, l2, encap);
            }
            return;
        }
        self.notes = notes;
        self.process_datagram(ts, &ip, l2, encap);
    }

    /// A complete IP datagram: decapsulate IP-in-IP or hand it to the sessions.
    fn process_datagram(&mut self, ts: f64, ip: &IpHdr<'_>, l2: &L2Info, encap: &mut Vec<EncapConn>) {
        if matches!(ip.proto, 4 | 41) {
            if encap.len() as u32 >= self.cfg.tunnel_max_depth {
                self.flow_weird("exceeded_tunnel_max_depth", ip.src, ip.dst, String::new(), "IPTunnel");
                return;
            }
            let uid = self.sessions.tunnel_uid(ip.src, ip.dst, TunnelType::Ip);
            encap.push(EncapConn {
                cid: ConnId {
                    orig_h: ip.src,
                    orig_p: 0,
                    resp_h: ip.dst,
                    resp_p: 0,
                    transport: Transport::Unknown,
                    proto: ip.proto,
                },
                tunnel_type: TunnelType::Ip,
                uid,
            });
            let inner = ip.payload;
            self.process_ip(ts, inner, ip.payload_len, &L2Info::default(), encap);
            encap.pop();
            return;
        }
        let l4 = match parse_l4(ip) {
            Ok(l4) => l4,
            Err(name) => {
                self.flow_weird(name, ip.src, ip.dst, String::new(), "IP");
                return;
            }
        };
        self.stats.ip_packets += 1;
        let info = PacketInfo { ts, ip, l4: &l4, l2, encap };
        self.sessions.process(&info, &mut self.queue);
    }

    /// End of input: removes every remaining connection, then queues `bro_done`.
    pub fn finish(&mut self) {
        self.sessions.finish(&mut self.queue);
        self.queue.push(Event::BroDone);
    }
}

/// Packet-analyzer weirds inside a tunnel get the `_in_tunnel` suffix.
fn tunnel_suffix(name: &'static str) -> &'static str {
    match name {
        "truncated_IP" => "truncated_IP_in_tunnel",
        "unknown_ip_version" => "unknown_ip_version_in_tunnel",
        "truncated_IP_len" => "truncated_IP_len_in_tunnel",
        "internally_truncated_header" => "internally_truncated_header_in_tunnel",
        "exceeded_tunnel_max_depth" => "exceeded_tunnel_max_depth_in_tunnel",
        _ => name,
    }
}
