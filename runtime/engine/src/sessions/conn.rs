//! One tracked connection: the flat per-connection state, its history
//! string, and the snapshot handed to events.

use super::key::ConnKey;
use super::tcp::TcpState;
use super::uid::Uid;
use crate::decode::L2Info;
use crate::events::{ConnId, Connection, EncapConn, Endpoint, Transport};
use std::net::IpAddr;

/// History bits (Zeek's `HIST_*`); responder bits are shifted left by 16.
pub mod hist {
    /// SYN without ACK, or SYN+ACK (they share the slot).
    pub const SYN_PKT: u32 = 0x1;
    /// FIN.
    pub const FIN_PKT: u32 = 0x2;
    /// RST.
    pub const RST_PKT: u32 = 0x4;
    /// FIN+RST.
    pub const FIN_RST_PKT: u32 = 0x8;
    /// Pure ACK.
    pub const ACK_PKT: u32 = 0x10;
    /// Payload.
    pub const DATA_PKT: u32 = 0x20;
    /// Other multi-flag combination.
    pub const MULTI_FLAG_PKT: u32 = 0x40;
}

/// A logarithmic history letter's counter ("scaled" entries: 1st, 10th, 100th ...).
#[derive(Clone, Copy, Debug)]
pub struct Scaled {
    count: u32,
    threshold: u32,
}

impl Default for Scaled {
    fn default() -> Self {
        Scaled { count: 0, threshold: 1 }
    }
}

impl Scaled {
    /// Counts one occurrence; true when the letter is to be added.
    pub fn hit(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        if self.count == self.threshold {
            match self.threshold.checked_mul(10) {
                Some(t) => self.threshold = t,
                None => self.count = 0,
            }
            true
        } else {
            false
        }
    }
}

/// History letters: up to 22 kept inline, a longer string on the heap.
#[derive(Clone, Debug)]
pub enum History {
    /// Length and ASCII letters.
    Inline(u8, [u8; 22]),
    /// The letters once they outgrow the inline buffer.
    Heap(Box<String>),
}

impl Default for History {
    fn default() -> Self {
        History::Inline(0, [0; 22])
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
    pub tunnel: Option<Vec<EncapConn>>,
    /// Encapsulation of the latest packet, for `tunnel_changed`.
    pub cur_encap: Vec<EncapConn>,
    /// Number of `tunnel_changed` events raised.
    pub changes: u32,
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
}

impl Default for Side {
    fn default() -> Self {
        Side { pkts: 0, ip_bytes: 0, flow_label: 0, l2_addr: None, payload_len: -1, chk: Scaled::default() }
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

/// A tracked connection.
#[derive(Clone, Debug)]
pub struct Conn {
    /// Table key.
    pub key: ConnKey,
    /// Originator address and port.
    pub orig: (IpAddr, u16),
    /// Responder address and port.
    pub resp: (IpAddr, u16),
    /// IP protocol number.
    pub proto: u8,
    /// Transport of the ports.
    pub transport: Transport,
    /// UID, formatted when a record is built.
    pub uid: Uid,
    /// Time of the creating packet.
    pub start_time: f64,
    /// Time of the latest packet that counts for duration.
    pub last_time: f64,
    /// History letters.
    pub history: History,
    /// History bits already recorded.
    pub hist_seen: u32,
    /// Originator counters.
    pub o: Side,
    /// Responder counters.
    pub r: Side,
    /// TCP state, if TCP.
    pub state: ProtoState,
    /// Inactivity timeout in force (0 = none).
    pub inactivity_timeout: f64,
    /// Encapsulation state; `None` while no packet was tunnelled.
    pub tunnels: Option<Box<Tunnels>>,
    /// VLAN ids of the creating packet.
    pub vlan: Option<u16>,
    /// Inner VLAN id of the creating packet.
    pub inner_vlan: Option<u16>,
    /// Whether a weird was raised for this connection.
    pub did_weird: bool,
    /// Weird counts per name, for rate limiting (made on the first weird).
    pub weird_counts: Option<Box<Vec<(&'static str, u64)>>>,
    /// Cleared when a timer decided the connection is over.
    pub is_active: bool,
    /// Whether the responder's flow label was recorded yet.
    pub resp_label_seen: bool,
    /// Whether the originator's flow label was recorded yet.
    pub orig_label_seen: bool,
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
        encap: &[EncapConn],
        flow_label: u32,
    ) -> Conn {
        let transport = Transport::of_proto(proto);
        let state = if proto == 6 { ProtoState::Tcp(Box::default()) } else { ProtoState::Datagram };
        Conn {
            key,
            orig: src,
            resp: dst,
            proto,
            transport,
            uid,
            start_time: t,
            last_time: t,
            history: History::default(),
            hist_seen: 0,
            o: Side { l2_addr: l2.src.filter(|m| *m != [0; 6]), flow_label, ..Side::default() },
            r: Side { l2_addr: l2.dst.filter(|m| *m != [0; 6]), ..Side::default() },
            state,
            inactivity_timeout: 0.0,
            tunnels: (!encap.is_empty())
                .then(|| Box::new(Tunnels { tunnel: Some(encap.to_vec()), cur_encap: encap.to_vec(), changes: 0 })),
            vlan: l2.vlan,
            inner_vlan: l2.inner_vlan,
            did_weird: false,
            weird_counts: None,
            is_active: true,
            resp_label_seen: false,
            orig_label_seen: true,
            timer_gen: 0,
            conn_size: true,
        }
    }

    /// Records `code` once per `mask` (Zeek's `CheckHistory`); true if already seen.
    pub fn check_history(&mut self, mask: u32, code: char) -> bool {
        if self.hist_seen & mask == 0 {
            self.hist_seen |= mask;
            self.history.push(code);
            false
        } else {
            true
        }
    }

    /// Records a per-direction letter: upper case for the originator.
    pub fn check_history_dir(&mut self, is_orig: bool, mask: u32, code: char) -> bool {
        if is_orig {
            self.check_history(mask, code)
        } else {
            self.check_history(mask << 16, code.to_ascii_lowercase())
        }
    }

    /// Appends a direction letter unconditionally.
    pub fn add_history_dir(&mut self, is_orig: bool, code: char) {
        self.history.push(if is_orig { code } else { code.to_ascii_lowercase() });
    }

    /// Swaps originator and responder (Zeek's `Connection::FlipRoles`).
    pub fn flip_roles(&mut self) {
        std::mem::swap(&mut self.orig, &mut self.resp);
        std::mem::swap(&mut self.o, &mut self.r);
        std::mem::swap(&mut self.orig_label_seen, &mut self.resp_label_seen);
        self.hist_seen = self.hist_seen.rotate_right(16);
        if let ProtoState::Tcp(t) = &mut self.state {
            std::mem::swap(&mut t.orig, &mut t.resp);
        }
        self.history.push('^');
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
    pub fn cur_encap(&self) -> &[EncapConn] {
        self.tunnels.as_ref().map_or(&[], |t| &t.cur_encap)
    }

    /// The `connection` record as events see it now.
    pub fn snapshot(&self) -> Connection {
        let (os, rs) = match &self.state {
            ProtoState::Tcp(t) => ((t.orig.size(&t.resp), t.orig.state as u8), (t.resp.size(&t.orig), t.resp.state as u8)),
            ProtoState::Datagram if self.transport == Transport::Unknown => ((0, 0), (0, 0)),
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
            l2_addr: s.l2_addr,
        };
        Connection {
            id: ConnId {
                orig_h: self.orig.0,
                orig_p: self.orig.1,
                resp_h: self.resp.0,
                resp_p: self.resp.1,
                transport: self.transport,
                proto: self.proto,
            },
            orig: ep(&self.o, os),
            resp: ep(&self.r, rs),
            start_time: self.start_time,
            duration: self.last_time - self.start_time,
            service: Vec::new(),
            history: self.history.as_str().to_string(),
            uid: self.uid_string(),
            tunnel: self.tunnels.as_ref().and_then(|t| t.tunnel.clone()),
            vlan: self.vlan.map(i64::from),
            inner_vlan: self.inner_vlan.map(i64::from),
        }
    }
}
