//! Connections as Zeek keys, ages and describes them: the connection table,
//! originator/responder roles, TCP endpoint states, history, sizes, timers
//! on network time, and UIDs. [`Sessions`] is split by what it does: the
//! table and its index (`table`), making a connection (`create`), one
//! packet's processing (`process`), handing data to the analyzers
//! (`analysis`), timers and removal (`removal`) and tunnel UIDs
//! (`tunnels`); this file holds the state and the weirds.

mod analysis;
mod fingerprint;
pub mod conn;
mod create;
pub mod key;
mod process;
mod removal;
mod requests;
pub mod signatures;
mod table;
pub mod tcp;
pub mod timers;
mod tunnels;
pub mod uid;

use crate::analyzers::Registry;
use crate::config::Config;
use crate::decode::{IpHdr, L2Info, L4};
use crate::events::{EncapsulatingConn, EventQueue, TunnelType};
use conn::Conn;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use timers::TimerQueue;

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
    pub encap: &'b [EncapsulatingConn],
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
    /// The signatures of this worker, if any are loaded.
    matcher: Option<crate::signatures::Matcher>,
    /// The files the connections' analyzers carry.
    files: crate::files::Manager,
    /// New TCP and UDP connections get a detector: signatures may enable
    /// analyzers on them.
    detecting: bool,
    /// Instance id of the next analyzer made (Zeek's analyzer ids count from 1).
    next_aid: u64,
    /// Analyzers handlers scheduled for expected connections.
    scheduled: crate::analyzers::requests::Scheduled,
    /// Each host's last fingerprint match (`OS_version_found`).
    os_cache: HashMap<IpAddr, fingerprint::Cached>,
    /// The MSS of each connection's SYN, for its SYN+ACK's window multiple.
    syn_mss: HashMap<u32, u16>,
}

/// An IP tunnel's endpoints (in address order) and kind.
type TunnelKey = (IpAddr, IpAddr, TunnelType);

/// Stale timers tolerated beyond four per tracked connection before the
/// queue is compacted.
const TIMER_SLACK: usize = 65_536;

impl Sessions {
    /// An empty table.
    pub fn new(cfg: Config) -> Sessions {
        let uids = uid::UidGen::new(cfg.uid_seed);
        let matcher = Sessions::make_matcher(&cfg);
        let magic = cfg.magic.clone().unwrap_or_else(|| std::sync::Arc::new(crate::files::Magic::builtin()));
        let files = crate::files::Manager::new(cfg.files.clone(), Some(magic));
        Sessions {
            files,
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
            matcher,
            next_aid: 1,
            detecting: false,
            scheduled: Default::default(),
            os_cache: HashMap::new(),
            syn_mss: HashMap::new(),
        }
    }

    /// Stops attaching the analyzers no subscribed event needs (see
    /// [`Tag::wanted`](crate::analyzers::Tag::wanted)) and those the
    /// settings disable (`Analyzer::disable_all` unless requested by
    /// `Analyzer::requested_analyzers`, `Analyzer::disabled_analyzers`).
    /// The signatures are matched only when that can matter: some signature
    /// raises an event a handler takes, or enables an analyzer that may run
    /// (then every TCP and UDP connection keeps its first bytes for it).
    pub fn keep_analyzers_for(&mut self, subs: &crate::events::Subscriptions) {
        use crate::events::EventKind;
        for tag in crate::analyzers::Tag::ALL {
            let all_off = self.cfg.analyzers_disable_all && !self.cfg.requested_analyzers.contains(&tag);
            if all_off || self.cfg.disabled_analyzers.contains(&tag) || !tag.wanted(subs) {
                self.registry.disable(tag);
            }
        }
        let runnable = crate::analyzers::Tag::ALL.into_iter().any(|t| self.registry.is_enabled(t) && t.instantiate(&self.cfg).is_some());
        let (events, detects) = self.matcher.as_ref().map_or((false, false), |m| (m.set().raises_events(), m.set().detects()));
        let taken = subs.wants(EventKind::SignatureMatch) || subs.wants(EventKind::SignatureEvent);
        self.detecting = detects && runnable;
        if !(self.detecting || events && taken) {
            self.matcher = None;
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

    fn fresh_timer_gen(&mut self) -> u32 {
        self.next_timer_gen = self.next_timer_gen.wrapping_add(1).max(1);
        self.next_timer_gen
    }

    /// Raises a weird about the connection in `slot` with extra text `addl`
    /// (rate-limited per connection and name).
    fn weird_with(&mut self, slot: u32, name: &'static str, addl: String, source: &'static str, q: &mut EventQueue) {
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        c.weird(name, addl, source, &self.cfg, self.now, q);
    }

    /// Records `X` (analysis limited) once in a connection's history.
    pub fn analysis_limited(&mut self, slot: u32) {
        if let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) {
            c.analysis_limited();
        }
    }

    /// Raises a conn weird on the connection in `slot` (rate-limited per name).
    pub fn weird(&mut self, slot: u32, name: &'static str, source: &'static str, q: &mut EventQueue) {
        self.weird_with(slot, name, String::new(), source, q);
    }
}
