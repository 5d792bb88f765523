//! The driver: one packet through decode and sessions, events into the queue.

use crate::bytes::be16;
use crate::capture::Packet;
use crate::config::Config;
use crate::decode::frag::FragReassembler;
use crate::decode::ip::{ip_addresses, parse_ip, IpWeird};
use crate::decode::link::{decode_ethernet, decode_ieee80211_all, decode_link, link_header_len};
use crate::decode::tunnel::{self, Inner, TunnelError};
use crate::decode::UdpDgram;
use crate::decode::transport::parse_l4;
use crate::decode::{IpHdr, L2Info, LinkOutcome, L4};
use crate::events::pkt;
use crate::events::values::{conn_id, encap as encap_level};
use crate::events::{EncapsulatingConn, Event, EventKind, EventQueue, Layer3Proto, RawPktHdr, Subscriptions, TunnelType};
use crate::clock::{NetworkClock, Step};
use crate::sessions::{PacketInfo, Sessions};
use crate::weird::{FlowWeirds, NetWeirds};
use std::net::IpAddr;

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

/// The size of every table the engine keeps and what its bounds did: for
/// the end-of-run line and for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Connections tracked.
    pub connections: usize,
    /// Connections evicted by `max_connections`.
    pub connections_evicted: u64,
    /// Timers pending (stale ones included).
    pub timers: usize,
    /// Fragmented datagrams waiting for reassembly.
    pub frag_datagrams: usize,
    /// Bytes those datagrams hold.
    pub frag_bytes: usize,
    /// Fragment table counters (reassembled, expired, evicted).
    pub frags: crate::decode::frag::FragStats,
    /// Address pairs with flow weird counts.
    pub flow_weird_pairs: usize,
    /// Pairs dropped early by `max_flow_weird_pairs`.
    pub flow_weird_pairs_evicted: u64,
    /// Names with net weird counts.
    pub net_weird_names: usize,
    /// IP-in-IP and GRE tunnels tracked.
    pub ip_tunnels: usize,
    /// Tunnels forgotten early by `max_ip_tunnels`.
    pub ip_tunnels_evicted: u64,
    /// What packet timestamps did to network time.
    pub clock: crate::clock::ClockStats,
}

/// One engine instance: owns every stage's state.
pub struct Engine {
    /// Settings.
    pub cfg: Config,
    /// Events waiting for dispatch.
    pub queue: EventQueue,
    /// Network time: the latest packet timestamp seen, as [`NetworkClock`]
    /// moves it (never back, far jumps only once confirmed).
    pub network_time: f64,
    /// Run counters.
    pub stats: Stats,
    sessions: Sessions,
    frags: FragReassembler,
    notes: Vec<IpWeird>,
    net_weirds: NetWeirds,
    flow_weirds: FlowWeirds,
    clock: NetworkClock,
}

impl Engine {
    /// A new engine raising the events in `subs`.
    pub fn new(mut cfg: Config, subs: Subscriptions) -> Self {
        cfg.check_rexmit = subs.wants(EventKind::RexmitInconsistency);
        cfg.tcp_stats = subs.wants(EventKind::ConnStats);
        let mut sessions = Sessions::new(cfg.clone());
        sessions.keep_analyzers_for(&subs);
        Engine {
            sessions,
            frags: FragReassembler::with_caps(cfg.frag_timeout, cfg.max_frag_datagrams, cfg.max_frag_bytes),
            flow_weirds: FlowWeirds::new(cfg.max_flow_weird_pairs),
            clock: NetworkClock::for_config(&cfg),
            cfg,
            queue: EventQueue::new(subs),
            network_time: 0.0,
            stats: Stats::default(),
            notes: Vec::new(),
            net_weirds: NetWeirds::default(),
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

    /// Timers waiting in the connection table's queue (stale ones included).
    pub fn pending_timers(&self) -> usize {
        self.sessions.pending_timers()
    }

    /// Connections evicted so far by the connection-table cap.
    pub fn evictions(&self) -> u64 {
        self.sessions.evictions()
    }

    /// The size of every table and what its bounds did so far.
    pub fn table_stats(&self) -> TableStats {
        TableStats {
            connections: self.sessions.len(),
            connections_evicted: self.sessions.evictions(),
            timers: self.sessions.pending_timers(),
            frag_datagrams: self.frags.pending(),
            frag_bytes: self.frags.pending_bytes(),
            frags: self.frags.stats(),
            flow_weird_pairs: self.flow_weirds.len(),
            flow_weird_pairs_evicted: self.flow_weirds.evicted(),
            net_weird_names: self.net_weirds.len(),
            ip_tunnels: self.sessions.tunnels(),
            ip_tunnels_evicted: self.sessions.tunnels_evicted(),
            clock: self.clock.stats(),
        }
    }

    /// Raises a net weird, sampled per name (`Weird::sampling_*`).
    pub fn net_weird(&mut self, name: &str, addl: String, source: &'static str) {
        let permitted = self.net_weirds.permit(&self.cfg.weird_sampling, name, self.network_time);
        if self.queue.wants(EventKind::NetWeird) && permitted {
            self.queue.push(Event::NetWeird { name: name.into(), addl, source: source.into() });
        }
    }

    /// Raises a flow weird, sampled per (src, dst) pair and name (`Weird::sampling_*`).
    pub fn flow_weird(&mut self, name: &'static str, src: IpAddr, dst: IpAddr, addl: String, source: &'static str) {
        let permitted = self.flow_weirds.permit(&self.cfg.weird_sampling, name, src, dst, self.network_time);
        if self.queue.wants(EventKind::FlowWeird) && permitted {
            self.queue.push(Event::FlowWeird { name: name.into(), src, dst, addl, source: source.into() });
        }
    }

    /// Runs everything due by network time: connection timers, fragment and
    /// weird-state expiry.
    fn expire_state(&mut self) {
        let now = self.network_time;
        self.sessions.advance(now, &mut self.queue);
        self.frags.expire(now);
        self.flow_weirds.expire(&self.cfg.weird_sampling, now);
    }

    /// Runs one captured packet through the stages; its events end up in `queue`.
    pub fn process(&mut self, pkt: &Packet<'_>) {
        self.stats.packets += 1;
        self.stats.bytes += pkt.data.len() as u64;
        if pkt.ts < 0.0 {
            self.net_weird("negative_packet_timestamp", String::new(), "");
            return;
        }
        let step = self.clock.packet(pkt.ts);
        self.network_time = self.clock.now();
        self.sessions.held_jump = step == Step::JumpHeld;
        self.expire_state();
        self.report_ignored_jump();
        let outcome = decode_link(pkt.link_type, pkt.data);
        let (l2, ip, protocol) = match outcome {
            LinkOutcome::Ip { l2, ip } => {
                let link_hdr = crate::decode::link::link_header_len(pkt.data, ip);
                let wire = (pkt.wire_len as usize).saturating_sub(link_hdr);
                let mut encap = Vec::new();
                self.process_ip(pkt.ts, ip, wire, &l2, &mut encap);
                (l2, Some((ip, wire)), 0)
            }
            LinkOutcome::NotIp { l2, protocol } => (l2, None, protocol),
            LinkOutcome::Weird { l2, name } => {
                self.net_weird(name, String::new(), "");
                (l2, None, 0)
            }
            LinkOutcome::UnknownLinkType => {
                self.net_weird("no_suitable_analyzer_found", String::new(), "");
                (L2Info::default(), None, 0)
            }
        };
        if self.queue.wants(EventKind::RawPacket) {
            let hdr = raw_pkt_hdr(pkt, &l2, ip, protocol);
            self.queue.push(Event::RawPacket { p: Box::new(hdr) });
        }
    }

    fn ip_weird(&mut self, w: IpWeird, data: &[u8], in_tunnel: bool) {
        match (w.flow, ip_addresses(data)) {
            (true, Some((s, d))) => self.flow_weird(w.name, s, d, String::new(), "IP"),
            _ => self.net_weird(&packet_weird_name(w.name, in_tunnel), String::new(), "IP"),
        }
    }

    /// One IP packet (possibly the inside of a tunnel) through IP, tunnels and sessions.
    fn process_ip(&mut self, ts: f64, data: &[u8], wire_len: usize, l2: &L2Info, encap: &mut Vec<EncapsulatingConn>) {
        let mut notes = std::mem::take(&mut self.notes);
        notes.clear();
        let nets = &self.cfg.ignore_checksums_nets;
        let exempt = |a| nets.iter().any(|n: &weir_events::site::Subnet| n.contains(a));
        let parsed = crate::decode::ip::parse_ip_exempt(data, wire_len, self.cfg.ignore_checksums, &exempt, &mut notes);
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
            // Expiry counts from network time (not the packet's own, which may lie far
            // ahead or behind), so the fragment table expires in the order it fills.
            let whole = self.frags.add(self.network_time, &ip, &mut notes);
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
    fn process_datagram(&mut self, ts: f64, ip: &IpHdr<'_>, l2: &L2Info, encap: &mut Vec<EncapsulatingConn>) {
        if matches!(ip.proto, 4 | 41) {
            if encap.len() as u32 >= self.cfg.tunnel_max_depth {
                self.flow_weird("exceeded_tunnel_max_depth", ip.src, ip.dst, String::new(), "IPTunnel");
                return;
            }
            let uid = self.sessions.tunnel_uid(ip.src, ip.dst, TunnelType::Ip);
            encap.push(encap_level(conn_id((ip.src, 0), (ip.dst, 0), ip.proto), TunnelType::Ip, uid));
            let inner = ip.payload;
            self.process_ip(ts, inner, ip.payload_len, &L2Info::default(), encap);
            encap.pop();
            return;
        }
        if ip.proto == 47 {
            self.gre(ts, ip, encap);
            return;
        }
        if ip.version == 6 {
            match ip.proto {
                // No next header: nothing to analyse (Teredo bubbles end here too).
                59 => {
                    if !encap.last().is_some_and(|e| e.tunnel_type == TunnelType::Teredo) {
                        self.flow_weird("ipv6_no_next", ip.src, ip.dst, String::new(), "IP");
                    }
                    return;
                }
                // An IPv6 chain ending in ESP or a Mobility Header makes no connection.
                50 => {
                    if self.queue.wants(EventKind::EspPacket) {
                        self.queue.push(Event::EspPacket { p: Box::new(pkt::pkt_hdr(ip, None)) });
                    }
                    return;
                }
                135 => {
                    self.mobility(ip);
                    return;
                }
                _ => {}
            }
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
        let done = self.sessions.process(&info, &mut self.queue);
        if let (Some((slot, true)), L4::Udp(u)) = (done, &l4) {
            self.udp_tunnel(ts, ip, u, slot, encap);
        }
    }

    /// An IPv6 Mobility Header: checksum, piggybacked payload, `mobile_ipv6_message`.
    fn mobility(&mut self, ip: &IpHdr<'_>) {
        let Some(mh) = pkt::mobility_header(ip) else { return };
        if !self.cfg.ignore_checksums && !crate::decode::checksum::mobility_ok(ip, mh) {
            self.flow_weird("bad_MH_checksum", ip.src, ip.dst, String::new(), "IP");
            return;
        }
        if mh[0] != 59 {
            self.flow_weird("mobility_piggyback", ip.src, ip.dst, String::new(), "IP");
        }
        if self.queue.wants(EventKind::MobileIpv6Message) {
            self.queue.push(Event::MobileIpv6Message { p: Box::new(pkt::pkt_hdr(ip, None)) });
        }
    }

    /// Whether one more encapsulation layer is allowed; raises the weird when not.
    fn depth_ok(&mut self, ip: &IpHdr<'_>, encap: &[EncapsulatingConn], source: &'static str) -> bool {
        if (encap.len() as u32) < self.cfg.tunnel_max_depth {
            return true;
        }
        let name = if encap.is_empty() { "exceeded_tunnel_max_depth" } else { "exceeded_tunnel_max_depth_in_tunnel" };
        self.flow_weird(name, ip.src, ip.dst, String::new(), source);
        false
    }

    /// A GRE packet (IP protocol 47): decapsulated when it parses, else a weird.
    fn gre(&mut self, ts: f64, ip: &IpHdr<'_>, encap: &mut Vec<EncapsulatingConn>) {
        match tunnel::parse_gre(ip.payload) {
            Ok(gre) => {
                if !self.depth_ok(ip, encap, "GRE") {
                    return;
                }
                let uid = self.sessions.tunnel_uid(ip.src, ip.dst, TunnelType::Gre);
                encap.push(encap_level(conn_id((ip.src, 0), (ip.dst, 0), 47), TunnelType::Gre, uid));
                self.inner(ts, gre.inner, encap);
                encap.pop();
            }
            Err(TunnelError::Weird(w)) => self.flow_weird(w, ip.src, ip.dst, String::new(), "GRE"),
            Err(TunnelError::Violation(_)) => {}
        }
    }

    /// Runs what a tunnel carried back through the packet path.
    fn inner(&mut self, ts: f64, inner: Inner<'_>, encap: &mut Vec<EncapsulatingConn>) {
        let (frame, outcome) = match inner {
            Inner::Ip(d) => {
                self.process_ip(ts, d, d.len(), &L2Info::default(), encap);
                return;
            }
            Inner::Ethernet(f) => (f, decode_ethernet(f)),
            Inner::Ieee80211(f) => {
                for outcome in decode_ieee80211_all(f) {
                    self.inner_link(ts, f, outcome, encap);
                }
                return;
            }
            Inner::Other(_) => return,
        };
        self.inner_link(ts, frame, outcome, encap);
    }

    fn inner_link(&mut self, ts: f64, frame: &[u8], outcome: LinkOutcome<'_>, encap: &mut Vec<EncapsulatingConn>) {
        match outcome {
            LinkOutcome::Ip { l2, ip } => {
                let wire = frame.len() - link_header_len(frame, ip);
                self.process_ip(ts, ip, wire, &l2, encap);
            }
            LinkOutcome::Weird { name, .. } => self.net_weird(&packet_weird_name(name, true), String::new(), ""),
            LinkOutcome::NotIp { .. } | LinkOutcome::UnknownLinkType => {}
        }
    }

    /// UDP-based tunnels, chosen by the responder port as Zeek does, then by
    /// content for Teredo.
    fn udp_tunnel(&mut self, ts: f64, ip: &IpHdr<'_>, u: &UdpDgram<'_>, slot: u32, encap: &mut Vec<EncapsulatingConn>) {
        let Some(c) = self.sessions.conn(slot) else { return };
        let resp_p = c.resp.1;
        let data = u.payload;
        let (kind, source, parsed) = match resp_p {
            tunnel::ports::VXLAN => (TunnelType::Vxlan, "VXLAN", tunnel::parse_vxlan(data).map(|(_, i)| i)),
            tunnel::ports::GENEVE => (TunnelType::Geneve, "GENEVE", tunnel::parse_geneve(data).map(|(_, i)| i)),
            tunnel::ports::GTPV1_U => {
                if encap.iter().any(|e| e.tunnel_type == TunnelType::Gtpv1) {
                    return;
                }
                (TunnelType::Gtpv1, "GTPV1", tunnel::parse_gtpv1(data).map(|(_, i)| i))
            }
            tunnel::ports::AYIYA => (TunnelType::Ayiya, "AYIYA", tunnel::parse_ayiya(data)),
            tunnel::ports::GRE_UDP => (TunnelType::Gre, "GRE", tunnel::parse_gre(data).map(|g| g.inner)),
            _ => match teredo(data) {
                Some(Ok(inner)) => (TunnelType::Teredo, "TEREDO", Ok(inner)),
                Some(Err(w)) if resp_p == tunnel::ports::TEREDO => (TunnelType::Teredo, "TEREDO", Err(w)),
                _ => return,
            },
        };
        let inner = match parsed {
            Ok(i) => i,
            Err(TunnelError::Weird(w)) => {
                if w.ends_with("_empty_packet") && (encap.len() as u32) < self.cfg.tunnel_max_depth {
                    // A good header with nothing after it confirms the tunnel first.
                    let is_orig = self.sessions.conn(slot).is_some_and(|c| c.is_orig((ip.src, u.sport)));
                    self.sessions.tunnel_confirmed(slot, kind, is_orig, &mut self.queue);
                }
                match kind {
                    TunnelType::Teredo => self.sessions.weird(slot, w, source, &mut self.queue),
                    _ => self.flow_weird(w, ip.src, ip.dst, String::new(), source),
                }
                return;
            }
            Err(TunnelError::Violation(_)) => return,
        };
        if kind == TunnelType::Teredo && matches!(tunnel::parse_teredo(data), Ok(t) if tunnel::teredo_bubble_with_payload(&t)) {
            self.sessions.weird(slot, "Teredo_bubble_with_payload", source, &mut self.queue);
        }
        if (encap.len() as u32) >= self.cfg.tunnel_max_depth {
            if kind == TunnelType::Gtpv1 {
                self.net_weird("tunnel_depth", String::new(), source);
            } else {
                self.depth_ok(ip, encap, source);
                self.sessions.analysis_limited(slot);
            }
            return;
        }
        let is_orig = self.sessions.conn(slot).is_some_and(|c| c.is_orig((ip.src, u.sport)));
        self.sessions.tunnel_confirmed(slot, kind, is_orig, &mut self.queue);
        let c = self.sessions.conn(slot).expect("connection of a processed packet");
        encap.push(encap_level(conn_id(c.orig, c.resp, 17), kind, c.uid_string()));
        self.inner(ts, inner, encap);
        encap.pop();
    }

    /// Moves network time to `now` without a packet (a quiet live interface,
    /// or a worker learning how far the reader has got) and runs the timers
    /// due by then.
    pub fn advance_to(&mut self, now: f64) {
        if now > self.network_time {
            self.clock.advance_to(now);
            self.network_time = self.clock.now();
            self.expire_state();
        }
    }

    /// Raises `network_time_jump_ignored` for a jump the clock gave up.
    fn report_ignored_jump(&mut self) {
        if let Some((ts, packets)) = self.clock.take_ignored_jump() {
            let addl = format!(
                "{packets} packet(s) from {ts:.6}, {:.0} s ahead of network time {:.6}",
                ts - self.network_time,
                self.network_time
            );
            self.net_weird("network_time_jump_ignored", addl, "");
        }
    }

    /// Carries out the analyzer requests handlers made while the last
    /// events ran (`weir:events/analyzers`), in order.
    pub fn apply_requests(&mut self, requests: Vec<crate::analyzers::requests::Request>) {
        for r in requests {
            self.sessions.apply_request(r, &mut self.queue);
        }
    }

    /// End of input: removes every remaining connection, then queues `bro_done`.
    pub fn finish(&mut self) {
        self.clock.finish();
        self.report_ignored_jump();
        self.sessions.finish(&mut self.queue);
        self.queue.push(Event::BroDone);
    }
}

/// The `raw_pkt_hdr` of a captured frame: its link layer, and the IP and
/// transport headers when it carried a complete, unfragmented IP packet.
fn raw_pkt_hdr(pkt: &Packet<'_>, l2: &L2Info, ip: Option<(&[u8], usize)>, protocol: u32) -> RawPktHdr {
    let proto = match (ip, protocol) {
        (Some((d, _)), _) if d.first().is_some_and(|b| b >> 4 == 6) => Layer3Proto::Ipv6,
        (Some(_), _) => Layer3Proto::Ipv4,
        (None, 0x0806 | 0x8035) => Layer3Proto::Arp,
        (None, _) => Layer3Proto::Unknown,
    };
    let ethernet = pkt.link_type == crate::capture::dlt::EN10MB;
    let l2h = pkt::l2_hdr(ethernet, pkt.wire_len, pkt.data.len() as u32, l2, proto);
    let mut hdr = None;
    if let Some((data, wire)) = ip {
        let mut notes = Vec::new();
        if let Ok(h) = parse_ip(data, wire, true, &mut notes) {
            if !h.is_fragment && h.payload.len() >= h.payload_len {
                hdr = Some(pkt::pkt_hdr(&h, parse_l4(&h).ok().as_ref()));
            }
        }
    }
    pkt::raw_pkt_hdr(l2h, hdr)
}

/// Teredo by content: `None` when the payload is not Teredo at all, else
/// the inner IPv6 packet or the reason it cannot be analysed. The inner
/// length must match the IPv6 payload length, except for a bubble.
fn teredo(data: &[u8]) -> Option<Result<Inner<'_>, TunnelError>> {
    match tunnel::parse_teredo(data) {
        Ok(t) => {
            let total = 40 + usize::from(be16(t.ip6, 4));
            if t.ip6.len() == total || (t.ip6.len() > total && t.bubble) {
                Some(Ok(Inner::Ip(&t.ip6[..total])))
            } else {
                None
            }
        }
        Err(TunnelError::Weird(w)) => Some(Err(TunnelError::Weird(w))),
        Err(TunnelError::Violation(_)) => None,
    }
}

/// Packet-analyzer weirds raised inside a tunnel get the `_in_tunnel`
/// suffix (`session::Manager::Weird`).
fn packet_weird_name(name: &'static str, in_tunnel: bool) -> std::borrow::Cow<'static, str> {
    if in_tunnel {
        format!("{name}_in_tunnel").into()
    } else {
        name.into()
    }
}
