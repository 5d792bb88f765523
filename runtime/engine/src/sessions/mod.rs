//! Connections as Zeek keys, ages and describes them: the connection table,
//! originator/responder roles, TCP endpoint states, history, sizes, timers
//! on network time, and UIDs.

pub mod conn;
pub mod key;
pub mod tcp;
pub mod timers;
pub mod uid;

use crate::analyzers::set::Effects as Found;
use crate::analyzers::{Outcome, Registry, Transport};
use crate::config::{Config, PortProto};
use crate::decode::{checksum, IpHdr, L2Info, L4};
use crate::events::{pkt, EncapConn, Event, EventKind, EventQueue, TunnelType};
use conn::{Conn, ProtoState};
use key::{icmp_ports, ConnKey};
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr};
use timers::{TimerKind, TimerQueue};

/// One packet as the session layer sees it.
pub struct PacketInfo<'a, 'b> {
    /// Packet timestamp.
    pub ts: f64,
    /// IP header.
    pub ip: &'b IpHdr<'a>,
    /// Transport view.
    pub l4: &'b L4<'a>,
    /// Link facts of the (outermost) frame.
    pub l2: &'b L2Info,
    /// Encapsulation stack, outermost first.
    pub encap: &'b [EncapConn],
}

/// The connection table's index: slot numbers only (4 bytes a bucket), each
/// hashed and compared through the key its connection holds. foldhash
/// (randomly seeded per process) is several times faster than SipHash on
/// the short keys of a packet's lookup.
type ConnTable = hashbrown::HashTable<u32>;

/// The connection table with its timers.
pub struct Sessions {
    cfg: Config,
    /// Which analyzers a new connection gets.
    registry: Registry,
    table: ConnTable,
    hasher: foldhash::fast::RandomState,
    slots: Vec<Option<Conn>>,
    free: Vec<u32>,
    timers: TimerQueue,
    uids: uid::UidGen,
    next_timer_gen: u32,
    /// IP-in-IP and GRE tunnels: UID and time of the latest packet.
    tunnel_uids: HashMap<TunnelKey, (String, f64)>,
    /// Expiry checks of `tunnel_uids` in due order (Zeek's `IPTunnelTimer`).
    tunnel_timers: VecDeque<(f64, TunnelKey)>,
    /// Tunnels forgotten before their time because the table was full.
    tunnels_evicted: u64,
    /// Network time of the latest [`Sessions::advance`].
    now: f64,
    /// The packet being processed lies far ahead of network time (a jump
    /// not yet confirmed, see [`crate::clock`]).
    pub held_jump: bool,
    /// Where the next eviction sample starts in `slots`.
    evict_cursor: usize,
    /// Connections evicted by the table cap so far.
    evictions: u64,
    /// Pending timers above which the stale ones are dropped.
    compact_timers_at: usize,
}

/// An IP tunnel's endpoints (in address order) and kind.
type TunnelKey = (IpAddr, IpAddr, TunnelType);

/// Stale timers tolerated beyond four per tracked connection before the
/// queue is compacted.
const TIMER_SLACK: usize = 65_536;

/// How many tracked connections an eviction compares (the least recently
/// active of them goes): an approximate LRU that needs no list per connection.
const EVICTION_SAMPLE: usize = 8;

impl Sessions {
    /// An empty table.
    pub fn new(cfg: Config) -> Sessions {
        let uids = uid::UidGen::new(cfg.uid_seed);
        Sessions {
            cfg,
            registry: Registry::standard(),
            table: ConnTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: TimerQueue::default(),
            uids,
            next_timer_gen: 1,
            tunnel_uids: HashMap::new(),
            tunnel_timers: VecDeque::new(),
            tunnels_evicted: 0,
            now: 0.0,
            held_jump: false,
            evict_cursor: 0,
            evictions: 0,
            compact_timers_at: TIMER_SLACK,
        }
    }

    /// Number of tracked connections.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Timers waiting in the queue, stale ones (of removed connections) included.
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }

    /// Drops the timers of removed connections once they outnumber the live
    /// ones by far: they would only be skipped when due, but a flood of short
    /// connections (or evictions under the table cap) would otherwise grow the
    /// queue with the arrival rate times the timeouts instead of with the
    /// table. Amortized: the next compaction waits for the queue to double.
    fn compact_timers(&mut self) {
        if self.timers.len() <= self.compact_timers_at {
            return;
        }
        let slots = &self.slots;
        self.timers.retain(|t| slots.get(t.slot as usize).and_then(|c| c.as_ref()).is_some_and(|c| c.timer_gen == t.generation));
        self.compact_timers_at = (2 * self.timers.len()).max(4 * self.table.len() + TIMER_SLACK);
    }

    /// Connections evicted so far by [`Config::max_connections`].
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Whether no connection is tracked.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The connection in `slot`, if any.
    pub fn conn(&self, slot: u32) -> Option<&Conn> {
        self.slots.get(slot as usize).and_then(|c| c.as_ref())
    }

    /// The UID of an IP-in-IP or GRE tunnel between `a` and `b` (either
    /// order), made on first use; each use keeps the tunnel alive (at
    /// network time, as Zeek's `TunnelActivity`).
    /// A tunnel idle for `Tunnel::ip_tunnel_timeout` is forgotten, and under
    /// [`Config::max_ip_tunnels`] the one due to be checked first makes room.
    pub fn tunnel_uid(&mut self, a: IpAddr, b: IpAddr, kind: TunnelType) -> String {
        let k = if a <= b { (a, b, kind) } else { (b, a, kind) };
        let seen = self.now;
        if let Some(u) = self.tunnel_uids.get_mut(&k) {
            u.1 = seen;
            return u.0.clone();
        }
        let cap = self.cfg.max_ip_tunnels;
        while cap > 0 && self.tunnel_uids.len() >= cap {
            let Some((_, old)) = self.tunnel_timers.pop_front() else { break };
            if self.tunnel_uids.remove(&old).is_some() {
                self.tunnels_evicted += 1;
            }
        }
        let u = self.uids.next('C');
        self.tunnel_uids.insert(k, (u.clone(), seen));
        self.tunnel_timers.push_back((self.now + self.cfg.ip_tunnel_timeout, k));
        u
    }

    /// Runs the tunnel expiry checks due at `now`: an idle tunnel goes, an
    /// active one is checked again a timeout later.
    fn expire_tunnels(&mut self, now: f64) {
        let timeout = self.cfg.ip_tunnel_timeout;
        while let Some(&(due, k)) = self.tunnel_timers.front() {
            if due > now {
                break;
            }
            self.tunnel_timers.pop_front();
            let Some(&(_, last)) = self.tunnel_uids.get(&k) else { continue };
            if now - last >= timeout {
                self.tunnel_uids.remove(&k);
            } else {
                self.tunnel_timers.push_back((now + timeout, k));
            }
        }
    }

    /// IP-in-IP and GRE tunnels tracked.
    pub fn tunnels(&self) -> usize {
        self.tunnel_uids.len()
    }

    /// Tunnels forgotten early because [`Config::max_ip_tunnels`] was reached.
    pub fn tunnels_evicted(&self) -> u64 {
        self.tunnels_evicted
    }

    fn lsp(&self, port: u16, proto: u8) -> bool {
        self.cfg.likely_server_ports.contains(&PortProto { port, proto })
    }

    /// Runs the timers due at or before `now`, at most `max_timer_expires` of them.
    pub fn advance(&mut self, now: f64, q: &mut EventQueue) {
        // Network time only goes back at the start of the input (see
        // `crate::clock`), before anything is due.
        self.now = now;
        self.expire_tunnels(now);
        let max = self.cfg.max_timer_expires;
        let mut n = 0;
        while max == 0 || n < max {
            let Some(tm) = self.timers.pop_due(now) else { break };
            n += 1;
            self.fire(tm, now, q);
        }
    }

    fn fire(&mut self, tm: timers::Timer, t: f64, q: &mut EventQueue) {
        let Some(c) = self.slots.get(tm.slot as usize).and_then(|c| c.as_ref()) else { return };
        if c.timer_gen != tm.generation {
            return;
        }
        match tm.kind() {
            TimerKind::Inactivity => {
                if c.inactivity_timeout <= 0.0 {
                    return;
                }
                if c.last_time + c.inactivity_timeout <= t {
                    self.timeout_and_remove(tm.slot, q);
                } else {
                    let due = c.last_time + c.inactivity_timeout;
                    self.timers.add(due, tm.slot, tm.generation, TimerKind::Inactivity);
                }
            }
            TimerKind::TcpExpire => match tcp::expire_check(c, t, &self.cfg) {
                tcp::ExpireDecision::Remove => self.timeout_and_remove(tm.slot, q),
                tcp::ExpireDecision::Reschedule => {
                    self.timers.add(t + self.cfg.tcp_session_timer, tm.slot, tm.generation, TimerKind::TcpExpire)
                }
            },
            TimerKind::TcpAttempt => {
                if c.is_active && tcp::attempt_failed(c) {
                    self.remove(tm.slot, q);
                }
            }
            TimerKind::ConnDelete => {
                if c.is_active {
                    self.timeout_and_remove(tm.slot, q);
                } else {
                    self.remove(tm.slot, q);
                }
            }
            TimerKind::TcpDelete => self.remove(tm.slot, q),
            TimerKind::StatusUpdate => {
                if q.wants(EventKind::ConnectionStatusUpdate) {
                    q.push(Event::ConnectionStatusUpdate(Box::new(c.snapshot())));
                }
                let iv = self.cfg.connection_status_update_interval;
                if iv > 0.0 {
                    self.timers.add(t + iv, tm.slot, tm.generation, TimerKind::StatusUpdate);
                }
            }
        }
    }

    fn timeout_and_remove(&mut self, slot: u32, q: &mut EventQueue) {
        if q.wants(EventKind::ConnectionTimeout) {
            if let Some(c) = self.conn(slot) {
                q.push(Event::ConnectionTimeout(Box::new(c.snapshot())));
            }
        }
        self.remove(slot, q);
    }

    /// Removes a connection, ending its analyzers' data first, and raising
    /// `udp_session_done` (by the registry, for the responder port at
    /// removal), `conn_stats` (TCP) and `connection_state_remove`.
    pub fn remove(&mut self, slot: u32, q: &mut EventQueue) {
        self.end_of_data(slot, q);
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.take()) else { return };
        if c.proto == 17 && self.registry.udp_session_done(c.resp.1) && q.wants(EventKind::UdpSessionDone) {
            q.push(Event::UdpSessionDone(Box::new(c.snapshot())));
        }
        if let (ProtoState::Tcp(t), true) = (&c.state, q.wants(EventKind::ConnStats)) {
            q.push(Event::ConnStats { c: Box::new(c.snapshot()), os: t.orig.stats_record(), rs: t.resp.stats_record() });
        }
        if q.wants(EventKind::ConnectionStateRemove) {
            q.push(Event::ConnectionStateRemove(Box::new(c.snapshot())));
        }
        if let Ok(e) = self.table.find_entry(self.hasher.hash_one(c.key(self.cfg.vlan_conn_key)), |&s| s == slot) {
            e.remove();
        }
        self.free.push(slot);
    }

    /// End of input: unanswered SYNs are settled, then every remaining
    /// connection is removed, oldest first.
    pub fn finish(&mut self, q: &mut EventQueue) {
        // No timer fires any more: free the queue before the list is made.
        self.timers = TimerQueue::default();
        let mut live: Vec<u32> =
            self.slots.iter().enumerate().filter_map(|(i, c)| c.as_ref().map(|_| i as u32)).collect();
        // Slots break ties, so an unstable sort (no buffer) gives the same order.
        live.sort_unstable_by(|a, b| {
            let (ca, cb) = (self.conn(*a).unwrap(), self.conn(*b).unwrap());
            ca.start_time.total_cmp(&cb.start_time).then(a.cmp(b))
        });
        for slot in live {
            self.remove(slot, q);
        }
    }

    /// Makes room under [`Config::max_connections`]: of the next
    /// [`EVICTION_SAMPLE`] tracked connections after the cursor, removes the
    /// one with the oldest last packet, as a removal at a timeout would
    /// (`conn_stats`, `connection_state_remove`), and raises the sampled
    /// `connection_table_full` net weird.
    fn evict(&mut self, q: &mut EventQueue) {
        let n = self.slots.len();
        let mut oldest: Option<(f64, u32)> = None;
        let mut seen = 0;
        for step in 0..n {
            let i = (self.evict_cursor + step) % n;
            let Some(c) = &self.slots[i] else { continue };
            if oldest.is_none_or(|(t, _)| c.last_time < t) {
                oldest = Some((c.last_time, i as u32));
            }
            seen += 1;
            if seen == EVICTION_SAMPLE {
                self.evict_cursor = (i + 1) % n;
                break;
            }
        }
        let Some((_, slot)) = oldest else { return };
        self.evictions += 1;
        if q.wants(EventKind::NetWeird) && self.cfg.weird_sampling.permit(self.evictions) {
            let addl = format!("{} connections tracked", self.table.len());
            q.push(Event::NetWeird { name: "connection_table_full".into(), addl, source: String::new() });
        }
        self.remove(slot, q);
    }

    fn insert(&mut self, c: Conn) -> u32 {
        let vlan_key = self.cfg.vlan_conn_key;
        let key = c.key(vlan_key);
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(c);
                s
            }
            None => {
                self.slots.push(Some(c));
                (self.slots.len() - 1) as u32
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        let rehash = |s: &u32| slots[*s as usize].as_ref().map_or(0, |c| hasher.hash_one(c.key(vlan_key)));
        self.table.insert_unique(hasher.hash_one(key), slot, rehash);
        slot
    }

    /// The slot of the connection with `key`, if tracked.
    fn lookup(&self, key: &ConnKey) -> Option<u32> {
        let slots = &self.slots;
        let vlan_key = self.cfg.vlan_conn_key;
        let same = |s: &u32| slots[*s as usize].as_ref().is_some_and(|c| c.has_key(key, vlan_key));
        self.table.find(self.hasher.hash_one(key), same).copied()
    }

    fn fresh_timer_gen(&mut self) -> u32 {
        self.next_timer_gen = self.next_timer_gen.wrapping_add(1).max(1);
        self.next_timer_gen
    }

    fn conn_weird(&mut self, slot: u32, name: &'static str, addl: String, source: &'static str, q: &mut EventQueue) {
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        let counts = &mut c.extra.get_or_insert_with(Box::default).weird_counts;
        let i = match counts.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                counts.push((name, Default::default()));
                counts.len() - 1
            }
        };
        let permitted = counts[i].1.permit(&self.cfg.weird_sampling, self.now);
        if q.wants(EventKind::ConnWeird) && permitted {
            q.push(Event::ConnWeird { name: name.to_string(), c: Box::new(c.snapshot()), addl, source: source.to_string() });
        }
    }

    /// Records `X` (analysis limited) once in a connection's history.
    pub fn analysis_limited(&mut self, slot: u32) {
        if let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) {
            if !c.history.contains('X') {
                c.history.push('X');
            }
        }
    }

    /// Raises a conn weird on the connection in `slot` (rate-limited per name).
    pub fn weird(&mut self, slot: u32, name: &'static str, source: &'static str, q: &mut EventQueue) {
        self.conn_weird(slot, name, String::new(), source, q);
    }

    /// Processes one IP packet that has a transport header. Returns the
    /// slot of its connection and whether the packet was valid (checksum
    /// and header), i.e. went on to the connection's analyzers.
    pub fn process(&mut self, p: &PacketInfo<'_, '_>, q: &mut EventQueue) -> Option<(u32, bool)> {
        let ip = p.ip;
        let (sport, dport, one_way) = match p.l4 {
            L4::Tcp(s) => (s.sport, s.dport, false),
            L4::Udp(u) => (u.sport, u.dport, false),
            L4::Icmp(m) => icmp_ports(m.v6, m.itype, m.icode),
            L4::Other(_) => (0, 0, false),
        };
        let src = (ip.src, sport);
        let dst = (ip.dst, dport);
        let mut key = ConnKey::new(src, dst, ip.proto, one_way);
        if self.cfg.vlan_conn_key {
            key.ctx = (p.l2.vlan, p.l2.inner_vlan);
        }

        let mut found = self.lookup(&key);
        if let (true, Some(slot)) = (self.held_jump, found) {
            // Network time waits for the jump to be confirmed, so this
            // connection's timers have not run yet: end it here if they
            // would have by the packet's time, as they would once followed.
            let c = self.conn(slot).unwrap();
            if c.inactivity_timeout > 0.0 && c.last_time + c.inactivity_timeout <= p.ts {
                self.timeout_and_remove(slot, q);
                found = None;
            }
        }
        let slot = match found {
            Some(slot) => {
                let reuse = match p.l4 {
                    L4::Tcp(seg) => tcp::is_reuse(self.conn(slot).unwrap(), seg, p.ts, &self.cfg),
                    _ => None,
                };
                match reuse {
                    Some(weird) => {
                        if let Some(w) = weird {
                            self.conn_weird(slot, w, String::new(), "TCP", q);
                        }
                        if q.wants(EventKind::ConnectionReused) {
                            q.push(Event::ConnectionReused(Box::new(self.conn(slot).unwrap().snapshot())));
                        }
                        self.remove(slot, q);
                        self.create(key, src, dst, p, q)
                    }
                    None => {
                        self.check_encapsulation(slot, p.encap, q);
                        slot
                    }
                }
            }
            None => self.create(key, src, dst, p, q),
        };

        let is_orig = self.conn(slot).unwrap().is_orig(src);
        self.check_flow_label(slot, is_orig, ip.flow_label, q);
        self.packet_events(slot, p, q);

        let checksums = !self.cfg.ignore_checksums;
        let t = p.ts;
        match p.l4 {
            L4::Tcp(seg) => {
                if let Some(w) = seg.weird {
                    self.conn_weird(slot, w, String::new(), "TCP", q);
                    return Some((slot, false));
                }
                if checksums && !checksum::l4_checksum_ok(ip) {
                    self.conn_weird(slot, "bad_TCP_checksum", String::new(), "TCP", q);
                    tcp::checksum_error(self.slots[slot as usize].as_mut().unwrap(), is_orig);
                    return Some((slot, false));
                }
                let mut fx = tcp::Effects::default();
                let c = self.slots[slot as usize].as_mut().unwrap();
                let before = c.is_orig(src);
                tcp::process(c, is_orig, seg, ip.id as u16, t, &self.cfg, &mut fx);
                // A flip inside processing changes which side sent the packet.
                let now_orig = if c.is_orig(src) == before { is_orig } else { !is_orig };
                count_packet(c, now_orig, ip);
                let delivered = std::mem::take(&mut fx.delivered);
                self.apply(slot, fx, q);
                for (from_orig, d) in delivered {
                    self.app_data(slot, from_orig, d, q);
                }
            }
            L4::Udp(u) => {
                let c = self.slots[slot as usize].as_mut().unwrap();
                if checksums && !udp_checksum_ok(ip, u) {
                    if c.side(is_orig).chk.hit() {
                        c.add_history_dir(is_orig, 'C');
                    }
                    self.conn_weird(slot, "bad_UDP_checksum", String::new(), "UDP", q);
                    return Some((slot, false));
                }
                let len = ip.payload_len as i64;
                let ulen = u.ulen as i64;
                c.last_time = t;
                c.check_history_dir(is_orig, conn::hist::DATA_PKT, 'D');
                // The analyzers see the datagram before the sizes are
                // counted; after a flip, `is_orig` names the new side.
                if let Some(x) = c.extra.as_mut().filter(|x| !x.analyzers.is_empty()) {
                    let found = x.analyzers.datagram(is_orig, u.payload);
                    self.carry_out(slot, found, q);
                }
                let c = self.slots[slot as usize].as_mut().unwrap();
                let side = c.side(is_orig);
                let add = ulen - 8;
                side.payload_len = if side.payload_len < 0 { add } else { side.payload_len + add };
                count_packet(c, is_orig, ip);
                if ulen != len {
                    self.conn_weird(slot, "UDP_datagram_length_mismatch", format!("{ulen} != {len}"), "UDP", q);
                }
            }
            L4::Icmp(_) => {
                if checksums && !checksum::l4_checksum_ok(ip) {
                    self.conn_weird(slot, "bad_ICMP_checksum", String::new(), "ICMP", q);
                    return Some((slot, false));
                }
                let c = self.slots[slot as usize].as_mut().unwrap();
                c.last_time = t;
                let side = c.side(is_orig);
                let add = ip.payload_len as i64 - 8;
                side.payload_len = if side.payload_len < 0 { add } else { side.payload_len + add };
                count_packet(c, is_orig, ip);
            }
            L4::Other(_) => {
                let c = self.slots[slot as usize].as_mut().unwrap();
                c.last_time = t;
                count_packet(c, is_orig, ip);
            }
        }
        Some((slot, true))
    }

    /// In-order TCP payload (or a gap) from the reassembler for the
    /// connection's analyzers.
    fn app_data(&mut self, slot: u32, from_orig: bool, d: tcp::Delivery, q: &mut EventQueue) {
        let Some(set) = self.analyzers(slot) else { return };
        let found = match d {
            tcp::Delivery::Data(data) => set.stream(from_orig, &data),
            tcp::Delivery::Gap => set.gap(from_orig),
        };
        self.carry_out(slot, found, q);
    }

    /// Both directions of the connection's data have ended, for its analyzers.
    fn end_of_data(&mut self, slot: u32, q: &mut EventQueue) {
        let Some(set) = self.analyzers(slot) else { return };
        if set.is_empty() {
            return;
        }
        let mut found = set.end_of_data(true);
        found.extend(set.end_of_data(false));
        self.carry_out(slot, found, q);
    }

    /// The analyzer set of the connection in `slot`, if it has made one.
    fn analyzers(&mut self, slot: u32) -> Option<&mut crate::analyzers::AnalyzerSet> {
        self.slots.get_mut(slot as usize)?.as_mut()?.extra.as_mut().map(|x| &mut x.analyzers)
    }

    /// Carries out what the analyzers found, in order: weirds, limits
    /// (the weird, then history `X`) and role flips.
    fn carry_out(&mut self, slot: u32, found: Found, q: &mut EventQueue) {
        for (tag, o) in found {
            match o {
                Outcome::Weird(name, addl) => self.conn_weird(slot, name, addl, tag.source(), q),
                Outcome::Limit(name, addl) => {
                    self.conn_weird(slot, name, addl, tag.source(), q);
                    self.analysis_limited(slot);
                }
                Outcome::FlipRoles => {
                    if let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) {
                        c.flip_roles_keeping_history_bits();
                    }
                }
                Outcome::Confirm | Outcome::Violate(_) => {}
            }
        }
    }

    /// `ipv6_ext_headers`, `new_packet` and `packet_contents`, in that order,
    /// built only when subscribed.
    fn packet_events(&self, slot: u32, p: &PacketInfo<'_, '_>, q: &mut EventQueue) {
        let ip = p.ip;
        let want_ext = q.wants(EventKind::Ipv6ExtHeaders) && pkt::ext_header_count(ip) > 0;
        let want_new = q.wants(EventKind::NewPacket);
        let want_contents = q.wants(EventKind::PacketContents);
        if !(want_ext || want_new || want_contents) {
            return;
        }
        let c = self.conn(slot).unwrap();
        if want_ext || want_new {
            let hdr = Box::new(pkt::pkt_hdr(ip, Some(p.l4)));
            if want_ext {
                q.push(Event::Ipv6ExtHeaders { c: Box::new(c.snapshot()), p: hdr.clone() });
            }
            if want_new {
                q.push(Event::NewPacket { c: Box::new(c.snapshot()), p: hdr });
            }
        }
        if want_contents {
            let contents = match p.l4 {
                L4::Tcp(seg) if seg.weird.is_none() => seg.payload,
                L4::Tcp(_) => &[][..],
                L4::Udp(u) => u.payload,
                L4::Icmp(m) => m.payload,
                L4::Other(d) => d,
            };
            if !contents.is_empty() {
                q.push(Event::PacketContents { c: Box::new(c.snapshot()), contents: contents.to_vec() });
            }
        }
    }

    fn apply(&mut self, slot: u32, fx: tcp::Effects, q: &mut EventQueue) {
        for w in fx.weirds {
            self.conn_weird(slot, w, String::new(), "TCP", q);
        }
        if q.wants(EventKind::RexmitInconsistency) {
            for (t1, t2, tcp_flags) in fx.rexmit {
                let c = Box::new(self.conn(slot).unwrap().snapshot());
                q.push(Event::RexmitInconsistency { c, t1, t2, tcp_flags });
            }
        }
        if q.wants(EventKind::ContentGap) {
            for &(is_orig, seq, length) in &fx.gaps {
                let c = Box::new(self.conn(slot).unwrap().snapshot());
                q.push(Event::ContentGap { c, is_orig, seq, length });
            }
        }
        if fx.cancel_timers {
            let g = self.fresh_timer_gen();
            self.slots[slot as usize].as_mut().unwrap().timer_gen = g;
        }
        let c = self.slots[slot as usize].as_mut().unwrap();
        let generation = c.timer_gen;
        if let Some(to) = fx.inactivity {
            if to != c.inactivity_timeout && !fx.cancel_timers {
                c.inactivity_timeout = to;
                if to > 0.0 {
                    let due = c.last_time + to;
                    self.timers.add(due, slot, generation, TimerKind::Inactivity);
                }
            }
        }
        for (due, kind) in fx.timers {
            self.timers.add(due, slot, generation, kind);
        }
    }

    fn create(&mut self, key: ConnKey, src: (IpAddr, u16), dst: (IpAddr, u16), p: &PacketInfo<'_, '_>, q: &mut EventQueue) -> u32 {
        let ip = p.ip;
        let flip = match p.l4 {
            L4::Tcp(seg) => {
                let syn = seg.flags & 0x02 != 0;
                let ack = seg.flags & 0x10 != 0;
                if syn && !ack {
                    false
                } else if self.lsp(src.1, 6) {
                    if self.lsp(dst.1, 6) {
                        !(syn && ack) && src.1 < dst.1
                    } else {
                        true
                    }
                } else {
                    false
                }
            }
            L4::Udp(_) => self.lsp(src.1, 17) && !self.lsp(dst.1, 17),
            _ => false,
        } && ip.dst != IpAddr::V4(Ipv4Addr::BROADCAST);

        let uid = self.uids.next_words();
        let mut c = Conn::new(key, src, dst, ip.proto, uid, p.ts, p.l2, p.encap, ip.flow_label);
        c.conn_size = self.cfg.use_conn_size_analyzer;
        if flip {
            c.flip_roles();
        }
        if let Some(transport) = Transport::of_proto(ip.proto) {
            let set = self.registry.analyzers_for(transport, c.resp.1, &self.cfg);
            if !set.is_empty() {
                c.extra.get_or_insert_with(Box::default).analyzers = set;
            }
        }
        let timeout = match ip.proto {
            6 | 17 => self.cfg.udp_inactivity_timeout,
            1 | 58 => self.cfg.icmp_inactivity_timeout,
            _ => self.cfg.unknown_ip_inactivity_timeout,
        };
        c.inactivity_timeout = timeout;
        c.timer_gen = self.fresh_timer_gen();
        let generation = c.timer_gen;
        let t = p.ts;
        let is_tcp = matches!(c.state, ProtoState::Tcp(_));
        if self.cfg.max_connections > 0 && self.table.len() >= self.cfg.max_connections {
            self.evict(q);
        }
        let slot = self.insert(c);
        self.compact_timers();
        if timeout > 0.0 {
            self.timers.add(t + timeout, slot, generation, TimerKind::Inactivity);
        }
        if is_tcp {
            self.timers.add(t + self.cfg.tcp_syn_timeout, slot, generation, TimerKind::TcpExpire);
        }
        let iv = self.cfg.connection_status_update_interval;
        if iv > 0.0 && matches!(ip.proto, 6 | 17) {
            self.timers.add(t + iv, slot, generation, TimerKind::StatusUpdate);
        }
        if q.wants(EventKind::NewConnection) {
            q.push(Event::NewConnection(Box::new(self.conn(slot).unwrap().snapshot())));
        }
        slot
    }

    fn check_flow_label(&mut self, slot: u32, is_orig: bool, label: u32, q: &mut EventQueue) {
        let c = self.slots[slot as usize].as_mut().unwrap();
        let seen = c.side(is_orig).label_seen;
        let old = c.side(is_orig).flow_label;
        if old != label {
            c.side(is_orig).flow_label = label;
            if seen && q.wants(EventKind::ConnectionFlowLabelChanged) {
                let snap = c.snapshot();
                q.push(Event::ConnectionFlowLabelChanged { c: Box::new(snap), is_orig, old_label: old, new_label: label });
            }
        }
        c.side(is_orig).label_seen = true;
    }

    fn check_encapsulation(&mut self, slot: u32, encap: &[EncapConn], q: &mut EventQueue) {
        let c = self.slots[slot as usize].as_mut().unwrap();
        if encap_equal(c.cur_encap(), encap) {
            return;
        }
        let tun = &mut c.extra.get_or_insert_with(Box::default).tunnels;
        tun.cur_encap = encap.to_vec();
        tun.changes += 1;
        let changes = tun.changes;
        if changes > 5 {
            if changes == 6 {
                self.analysis_limited(slot);
                self.conn_weird(slot, "tunnel_max_changes_per_connection_exceeded", String::new(), "", q);
            }
            return;
        }
        if q.wants(EventKind::TunnelChanged) {
            let c = self.conn(slot).unwrap();
            q.push(Event::TunnelChanged { c: Box::new(c.snapshot()), e: encap.to_vec() });
        }
    }
}

/// Counts a valid packet for the ConnSize figures.
fn count_packet(c: &mut Conn, is_orig: bool, ip: &IpHdr<'_>) {
    if !c.conn_size {
        return;
    }
    let s = c.side(is_orig);
    s.pkts += 1;
    s.ip_bytes += ip.total_len as u64;
}

/// UDP checksum rule: IPv4 checksum 0 means none; VXLAN on 4789 may send 0.
fn udp_checksum_ok(ip: &IpHdr<'_>, u: &crate::decode::UdpDgram<'_>) -> bool {
    let sum = ip.payload.get(6..8).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
    if sum == 0 && (ip.version == 4 || u.dport == 4789) {
        return true;
    }
    checksum::l4_checksum_ok(ip)
}

/// Zeek's encapsulation equality: IP and GRE tunnels ignore endpoint order.
fn encap_equal(a: &[EncapConn], b: &[EncapConn]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            if x.tunnel_type != y.tunnel_type || x.uid != y.uid || x.cid.proto != y.cid.proto {
                return false;
            }
            match x.tunnel_type {
                TunnelType::Ip | TunnelType::Gre => {
                    (x.cid.orig_h == y.cid.orig_h && x.cid.resp_h == y.cid.resp_h)
                        || (x.cid.orig_h == y.cid.resp_h && x.cid.resp_h == y.cid.orig_h)
                }
                TunnelType::Vxlan => {
                    x.cid.resp_p == y.cid.resp_p
                        && ((x.cid.orig_h == y.cid.orig_h && x.cid.resp_h == y.cid.resp_h)
                            || (x.cid.orig_h == y.cid.resp_h && x.cid.resp_h == y.cid.orig_h))
                }
                _ => x.cid == y.cid,
            }
        })
}
