//! One tracked connection: the flat per-connection state, its history
//! string, and the snapshot handed to events.

use super::key::ConnKey;
use super::tcp::TcpState;
use super::uid::Uid;
use crate::decode::L2Info;
use crate::config::Config;
use crate::events::{Connection, EncapsulatingConn, Endpoint, Event, EventKind, EventQueue, Transport};
use std::net::IpAddr;

/// History bits (Zeek's `HIST_*`) of the originator; the responder's are these `<< 8`.
pub mod hist {
    /// SYN without ACK, or SYN+ACK (they share the slot).
    pub const SYN_PKT: u16 = 0x1;
    /// FIN.
    pub const FIN_PKT: u16 = 0x2;
    /// RST.
    pub const RST_PKT: u16 = 0x4;
    /// FIN+RST.
    pub const FIN_RST_PKT: u16 = 0x8;
    /// Pure ACK.
    pub const ACK_PKT: u16 = 0x10;
    /// Payload.
    pub const DATA_PKT: u16 = 0x20;
    /// Other multi-flag combination.
    pub const MULTI_FLAG_PKT: u16 = 0x40;
}

/// A logarithmic history letter's counter ("scaled" entries: 1st, 10th,
/// 100th ... up to 10^9, then every 10^9th), in 4 bytes: the count in the
/// low 31 bits, and the top bit set once the threshold stopped at 10^9.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scaled(u32);

impl Scaled {
    const TOP: u32 = 1_000_000_000;
    const STOPPED: u32 = 1 << 31;

    /// Counts one occurrence; true when the letter is to be added.
    pub fn hit(&mut self) -> bool {
        let stopped = self.0 & Self::STOPPED;
        let count = (self.0 & !Self::STOPPED) + 1;
        if count == Self::TOP {
            self.0 = Self::STOPPED;
            return true;
        }
        self.0 = stopped | count;
        stopped == 0 && is_power_of_ten(count)
    }
}

/// Whether `n` is 1, 10, 100 ... (below 10^9).
fn is_power_of_ten(mut n: u32) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

/// History letters: up to 14 kept inline (16 bytes in all; few histories
/// are longer), a longer string on the heap.
#[derive(Clone, Debug)]
pub enum History {
    /// Length and ASCII letters.
    Inline(u8, [u8; 14]),
    /// The letters once they outgrow the inline buffer.
    Heap(Box<String>),
}

impl Default for History {
    fn default() -> Self {
        History::Inline(0, [0; 14])
    }
}

impl History {
    /// The letters.
    pub fn as_str(&self) -> &str {
        match self {
            History::Inline(n, b) => std::str::from_utf8(&b[..*n as usize]).unwrap_or(""),
            History::Heap(s) => s,
        }
    }

    /// Whether the letters are exactly `s` (no UTF-8 check, for the per-packet test).
    pub fn is(&self, s: &str) -> bool {
        match self {
            History::Inline(n, b) => &b[..*n as usize] == s.as_bytes(),
            History::Heap(h) => h.as_str() == s,
        }
    }

    /// Appends a letter.
    pub fn push(&mut self, c: char) {
        match self {
            History::Inline(n, b) if c.is_ascii() && (*n as usize) < b.len() => {
                b[*n as usize] = c as u8;
                *n += 1;
            }
            History::Inline(..) => {
                let mut s = String::with_capacity(32);
                s.push_str(self.as_str());
                s.push(c);
                *self = History::Heap(Box::new(s));
            }
            History::Heap(s) => s.push(c),
        }
    }

    /// Replaces the letters with `s`.
    pub fn set(&mut self, s: &str) {
        *self = History::default();
        s.chars().for_each(|c| self.push(c));
    }

    /// Whether letter `c` was recorded.
    pub fn contains(&self, c: char) -> bool {
        self.as_str().contains(c)
    }
}

/// Encapsulation facts of a tunnelled connection (absent for most).
#[derive(Clone, Debug, Default)]
pub struct Tunnels {
    /// Encapsulation stack at creation.
    pub tunnel: Option<Vec<EncapsulatingConn>>,
    /// Encapsulation of the latest packet, for `tunnel_changed`.
    pub cur_encap: Vec<EncapsulatingConn>,
    /// Number of `tunnel_changed` events raised.
    pub changes: u32,
}

/// The parts of a [`Conn`] most connections never need, made on first use.
#[derive(Clone, Debug, Default)]
pub struct ConnExtra {
    /// Encapsulation state; default while no packet was tunnelled.
    pub tunnels: Tunnels,
    /// Weird counts per name, for rate limiting (`Weird::sampling_*`).
    pub weird_counts: Vec<(&'static str, crate::weird::WeirdState)>,
    /// The connection's application analyzers, chosen at creation by the
    /// port registry.
    pub analyzers: crate::analyzers::AnalyzerSet,
    /// Signature matching state, when signatures are loaded.
    pub signatures: Option<Box<crate::signatures::ConnMatch>>,
    /// What signatures that fired on an analyzer's content (an HTTP header,
    /// an FTP command) ask of the connection's analyzers, for the session
    /// layer to carry out once the analyzers' call returns.
    pub signature_requests: Option<Box<crate::sessions::signatures::SignatureRequests>>,
    /// Zeek names of the analyzers that confirmed the protocol, in
    /// confirmation order (the record's `service`).
    pub service: Vec<&'static str>,
    /// A good tunnel header came from the (originator, responder): a
    /// delayed tunnel confirmation waits for both.
    pub tunnel_valid: [bool; 2],
    /// The analyzers were handed a gap in either direction (Zeek's `HadGap`).
    pub had_gap: bool,
}

/// Per-direction counters that every protocol keeps.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    /// Packets counted (valid ones only).
    pub pkts: u64,
    /// Sum of IP lengths of those packets.
    pub ip_bytes: u64,
    /// Current IPv6 flow label.
    pub flow_label: u32,
    /// Link-layer address.
    pub l2_addr: Option<[u8; 6]>,
    /// UDP/ICMP payload bytes; negative while inactive (Zeek's `request_len`).
    pub payload_len: i64,
    /// Bad-checksum letter counter.
    pub chk: Scaled,
    /// Whether the flow label was recorded yet.
    pub label_seen: bool,
}

impl Default for Side {
    fn default() -> Self {
        Side { pkts: 0, ip_bytes: 0, flow_label: 0, l2_addr: None, payload_len: -1, chk: Scaled::default(), label_seen: false }
    }
}

/// Protocol-specific state.
#[derive(Clone, Debug)]
pub enum ProtoState {
    /// TCP endpoints and flags.
    Tcp(Box<TcpState>),
    /// UDP, ICMP and other IP protocols keep only [`Side`] counters.
    Datagram,
}

/// A tracked connection (208 bytes, plus its boxed TCP state). Its table
/// key is not stored but derived from the endpoints ([`Conn::key`]).
#[derive(Clone, Debug)]
pub struct Conn {
    /// Originator address and port.
    pub orig: (IpAddr, u16),
    /// Responder address and port.
    pub resp: (IpAddr, u16),
    /// IP protocol number.
    pub proto: u8,
    /// Keyed in the direction of its packets (one-way ICMP; never flipped).
    pub one_way: bool,
    /// UID, formatted when a record is built.
    pub uid: Uid,
    /// Time of the creating packet.
    pub start_time: f64,
    /// Time of the latest packet that counts for duration.
    pub last_time: f64,
    /// History letters.
    pub history: History,
    /// History bits already recorded.
    pub hist_seen: u16,
    /// Originator counters.
    pub o: Side,
    /// Responder counters.
    pub r: Side,
    /// TCP state, if TCP.
    pub state: ProtoState,
    /// Inactivity timeout in force (0 = none).
    pub inactivity_timeout: f64,
    /// Tunnel facts, weird counts and analyzers, made on the first tunnelled
    /// packet or weird, or at creation when the registry attaches analyzers.
    pub extra: Option<Box<ConnExtra>>,
    /// VLAN ids of the creating packet.
    pub vlan: Option<u16>,
    /// Inner VLAN id of the creating packet.
    pub inner_vlan: Option<u16>,
    /// Cleared when a timer decided the connection is over.
    pub is_active: bool,
    /// Identifies this connection's live timers; changed to cancel them all.
    pub timer_gen: u32,
    /// Whether packets and IP bytes are counted (`use_conn_size_analyzer`).
    pub conn_size: bool,
}

impl Conn {
    /// A new connection for a packet from `src` to `dst` (roles as given).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: ConnKey,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        proto: u8,
        uid: Uid,
        t: f64,
        l2: &L2Info,
        encap: &[EncapsulatingConn],
        flow_label: u32,
    ) -> Conn {
        let state = if proto == 6 { ProtoState::Tcp(Box::default()) } else { ProtoState::Datagram };
        let tunnels = Tunnels { tunnel: Some(encap.to_vec()), cur_encap: encap.to_vec(), changes: 0 };
        Conn {
            orig: src,
            resp: dst,
            proto,
            one_way: key.one_way,
            uid,
            start_time: t,
            last_time: t,
            history: History::default(),
            hist_seen: 0,
            o: Side { l2_addr: l2.src.filter(|m| *m != [0; 6]), flow_label, label_seen: true, ..Side::default() },
            r: Side { l2_addr: l2.dst.filter(|m| *m != [0; 6]), ..Side::default() },
            state,
            inactivity_timeout: 0.0,
            extra: (!encap.is_empty()).then(|| Box::new(ConnExtra { tunnels, ..ConnExtra::default() })),
            vlan: l2.vlan,
            inner_vlan: l2.inner_vlan,
            is_active: true,
            timer_gen: 0,
            conn_size: true,
        }
    }

    /// The table key; `vlan_key` adds the VLAN ids (`Config::vlan_conn_key`).
    pub fn key(&self, vlan_key: bool) -> ConnKey {
        let mut k = ConnKey::new(self.orig, self.resp, self.proto, self.one_way);
        if vlan_key {
            k.ctx = (self.vlan, self.inner_vlan);
        }
        k
    }

    /// Whether this connection has table key `k` (as [`Conn::key`] would
    /// give it, without building it).
    pub fn has_key(&self, k: &ConnKey, vlan_key: bool) -> bool {
        let (o, r) = (ConnKey::end(self.orig), ConnKey::end(self.resp));
        let ends = if self.one_way {
            o == k.a && r == k.b
        } else {
            // Keys hold the endpoints in canonical order, either may be the originator.
            (o == k.a && r == k.b) || (o == k.b && r == k.a)
        };
        let ctx = if vlan_key { (self.vlan, self.inner_vlan) } else { (None, None) };
        ends && self.orig.0.is_ipv6() == k.v6 && self.proto == k.proto && self.one_way == k.one_way && ctx == k.ctx
    }

    /// Transport of the ports.
    pub fn transport(&self) -> Transport {
        crate::events::values::transport_of(self.proto)
    }

    /// Whether a weird was raised for this connection.
    pub fn did_weird(&self) -> bool {
        self.extra.as_ref().is_some_and(|x| !x.weird_counts.is_empty())
    }

    /// Records `code` once per `mask` (Zeek's `CheckHistory`); true if already seen.
    pub fn check_history(&mut self, mask: u16, code: char) -> bool {
        if self.hist_seen & mask == 0 {
            self.hist_seen |= mask;
            self.history.push(code);
            false
        } else {
            true
        }
    }

    /// Records a per-direction letter: upper case for the originator.
    pub fn check_history_dir(&mut self, is_orig: bool, mask: u16, code: char) -> bool {
        if is_orig {
            self.check_history(mask, code)
        } else {
            self.check_history(mask << 8, code.to_ascii_lowercase())
        }
    }

    /// Appends a direction letter unconditionally.
    pub fn add_history_dir(&mut self, is_orig: bool, code: char) {
        self.history.push(if is_orig { code } else { code.to_ascii_lowercase() });
    }

    /// Swaps originator and responder, history bits included: a letter
    /// recorded for one side stays recorded for that side.
    pub fn flip_roles(&mut self) {
        self.flip_roles_keeping_history_bits();
        self.hist_seen = self.hist_seen.rotate_right(8);
    }

    /// Zeek's `Connection::FlipRoles` exactly: addresses, ports, counters and
    /// endpoint state swap, but the history-seen bits stay where they are (an
    /// analyzer's flip: the new originator counts as having sent what the old
    /// one did).
    pub fn flip_roles_keeping_history_bits(&mut self) {
        std::mem::swap(&mut self.orig, &mut self.resp);
        std::mem::swap(&mut self.o, &mut self.r);
        if let ProtoState::Tcp(t) = &mut self.state {
            t.flip();
        }
        self.history.push('^');
    }

    /// Raises weird `name` about this connection with extra text `addl`
    /// from analyzer `source`, rate-limited per connection and name
    /// (`Weird::sampling_*` of `cfg`, at network time `now`).
    pub fn weird(&mut self, name: &'static str, addl: String, source: &'static str, cfg: &Config, now: f64, q: &mut EventQueue) {
        let counts = &mut self.extra.get_or_insert_with(Box::default).weird_counts;
        let i = match counts.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                counts.push((name, Default::default()));
                counts.len() - 1
            }
        };
        let permitted = counts[i].1.permit(&cfg.weird_sampling, now);
        if q.wants(EventKind::ConnWeird) && permitted {
            q.push(Event::ConnWeird { name: name.to_string(), c: Box::new(self.snapshot()), addl, source: source.to_string() });
        }
    }

    /// Records `X` (analysis limited) once in the history.
    pub fn analysis_limited(&mut self) {
        if !self.history.contains('X') {
            self.history.push('X');
        }
    }

    /// Whether a packet from `src` is from the originator.
    pub fn is_orig(&self, src: (IpAddr, u16)) -> bool {
        src == self.orig
    }

    /// The side counters of a direction.
    pub fn side(&mut self, is_orig: bool) -> &mut Side {
        if is_orig {
            &mut self.o
        } else {
            &mut self.r
        }
    }

    /// The UID's text form.
    pub fn uid_string(&self) -> String {
        self.uid.format('C')
    }

    /// Encapsulation of the latest packet (empty when not tunnelled).
    pub fn cur_encap(&self) -> &[EncapsulatingConn] {
        self.extra.as_ref().map_or(&[], |x| &x.tunnels.cur_encap)
    }

    /// Bytes sent by the originator and responder, as the record's
    /// `size` fields show them.
    pub fn sizes(&self) -> (u64, u64) {
        match &self.state {
            ProtoState::Tcp(t) => (t.orig.size(&t.resp), t.resp.size(&t.orig)),
            ProtoState::Datagram if self.transport() == Transport::Unknown => (0, 0),
            ProtoState::Datagram => (self.o.payload_len.max(0) as u64, self.r.payload_len.max(0) as u64),
        }
    }

    /// Whether this is a TCP connection picked up after its start, or whose
    /// analyzers missed bytes: TCP analyzers' violations are not believed then.
    pub fn unreliable_stream(&self) -> bool {
        match &self.state {
            ProtoState::Tcp(t) => t.is_partial() || self.extra.as_ref().is_some_and(|x| x.had_gap),
            ProtoState::Datagram => false,
        }
    }

    /// The `connection` record as events see it now.
    pub fn snapshot(&self) -> Connection {
        let (os, rs) = match &self.state {
            ProtoState::Tcp(t) => ((t.orig.size(&t.resp), t.orig.state as u8), (t.resp.size(&t.orig), t.resp.state as u8)),
            ProtoState::Datagram if self.transport() == Transport::Unknown => ((0, 0), (0, 0)),
            ProtoState::Datagram => (
                (self.o.payload_len.max(0) as u64, (self.o.payload_len >= 0) as u8),
                (self.r.payload_len.max(0) as u64, (self.r.payload_len >= 0) as u8),
            ),
        };
        let ep = |s: &Side, (size, state): (u64, u8)| Endpoint {
            size,
            state,
            num_pkts: self.conn_size.then_some(s.pkts),
            num_bytes_ip: self.conn_size.then_some(s.ip_bytes),
            flow_label: s.flow_label,
            l2_addr: s.l2_addr.filter(|a| *a != [0; 6]).map(crate::events::MacAddress),
        };
        Connection {
            id: crate::events::values::conn_id(self.orig, self.resp, self.proto),
            orig: ep(&self.o, os),
            resp: ep(&self.r, rs),
            start_time: self.start_time,
            duration: self.last_time - self.start_time,
            service: self.extra.as_ref().map_or_else(Vec::new, |x| x.service.iter().map(|s| s.to_string()).collect()),
            history: self.history.as_str().to_string(),
            uid: self.uid_string(),
            tunnel: self.extra.as_ref().and_then(|x| x.tunnels.tunnel.clone()),
            vlan: self.vlan.map(i64::from),
            inner_vlan: self.inner_vlan.map(i64::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_hits_like_a_growing_threshold() {
        // The original two-counter form: threshold x10 on each hit, kept at 10^9.
        let (mut count, mut threshold) = (0u32, 1u32);
        let mut s = Scaled::default();
        for _ in 0..2_000_000 {
            count += 1;
            let want = count == threshold;
            if want {
                threshold *= 10;
            }
            assert_eq!(s.hit(), want, "at {count}");
        }
        let mut s = Scaled(Scaled::TOP - 2);
        assert!(!s.hit());
        assert!(s.hit(), "10^9th");
        for _ in 1..10 {
            assert!(!s.hit(), "no 1st, 10th ... after 10^9");
        }
        let mut s = Scaled(Scaled::STOPPED | (Scaled::TOP - 1));
        assert!(s.hit(), "every 10^9th after that");
    }
    #[test]
    fn has_key_agrees_with_key() {
        let x: IpAddr = "10.0.0.1".parse().unwrap();
        let y: IpAddr = "2001:db8::2".parse().unwrap();
        let l2 = L2Info { vlan: Some(7), ..L2Info::default() };
        for (a, b, proto, one_way) in [((x, 1234), (x, 80), 6, false), ((y, 3), (y, 0), 58, true), ((x, 5), (x, 5), 17, false)] {
            let k = ConnKey::new(a, b, proto, one_way);
            let mut c = Conn::new(k, a, b, proto, super::super::uid::UidGen::new(Some(1)).next_words(), 0.0, &l2, &[], 0);
            for vlan_key in [false, true] {
                assert!(c.has_key(&c.key(vlan_key), vlan_key));
                assert!(!c.has_key(&c.key(!vlan_key), vlan_key));
            }
            if !one_way {
                c.flip_roles();
                assert!(c.has_key(&k, false), "roles do not change the key");
                assert_eq!(c.key(false), k);
            }
            assert!(!c.has_key(&ConnKey::new(a, (x, 9), proto, one_way), false));
            assert!(!c.has_key(&ConnKey::new(a, b, 1, one_way), false));
        }
    }

    /// The per-connection memory figure rests on these sizes (64-bit targets).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn state_sizes() {
        use std::mem::size_of;
        assert_eq!(size_of::<Option<Conn>>(), 208);
        assert_eq!(size_of::<TcpState>(), 184);
        assert_eq!(size_of::<History>(), 16);
    }
}
