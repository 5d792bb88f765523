//! TCP endpoint state, history letters, sizes from sequence numbers and the
//! state machine, following Zeek's `TCPSessionAdapter` and `TCP_Endpoint`
//! (CONNECTIONS.md §3–6).

use super::conn::{hist, Conn, ProtoState, Scaled};
use super::timers::TimerKind;
use crate::config::Config;
use crate::decode::TcpSeg;

/// A jump in sequence space beyond which SYN/RST numbers are not trusted.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// TCP endpoint states (Zeek's `TCP_ENDPOINT_*` numbering).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum EndpointState {
    /// Nothing seen.
    #[default]
    Inactive = 0,
    /// SYN sent.
    SynSent = 1,
    /// SYN+ACK sent by the originator.
    SynAckSent = 2,
    /// Data without a handshake.
    Partial = 3,
    /// Handshake done.
    Established = 4,
    /// FIN sent.
    Closed = 5,
    /// RST sent.
    Reset = 6,
}

impl EndpointState {
    fn is_handshake(self) -> bool {
        matches!(self, EndpointState::Inactive | EndpointState::SynSent | EndpointState::SynAckSent)
    }
}

/// One side of a TCP connection: 88 bytes, what nearly every connection
/// uses; the rest is in [`EndpointExtra`], made on first need. No window
/// is kept: the scaled window is zero exactly when the offered one is
/// (a scale of at most 14 keeps it within 32 bits), and Zeek's window
/// recision check reports nothing.
#[derive(Clone, Debug, Default)]
pub struct TcpEndpoint {
    /// Current state.
    pub state: EndpointState,
    /// Previous state.
    pub prev_state: EndpointState,
    /// Whether this side's close was processed.
    pub did_close: bool,
    /// FINs and RSTs sent, saturating (only `> 0` and `>= 1000` matter).
    fin_cnt: u16,
    rst_cnt: u16,
    start_seq: u32,
    last_seq: u32,
    ack_seq: u32,
    seq_wraps: u32,
    ack_wraps: u32,
    rxmit: Scaled,
    fin_seq: u64,
    hist_last_syn: u64,
    hist_last_fin: u64,
    hist_last_rst: u64,
    /// Time of this side's latest packet.
    pub last_time: f64,
    /// Reassembly: relative sequence number up to which data is accounted for.
    last_reassem: u64,
    /// Rarely needed state, made on first use.
    extra: Option<Box<EndpointExtra>>,
}

/// Most disjoint ranges above a hole kept per side: a sender choosing
/// sequence numbers could otherwise grow them without end. Far more than
/// any real window holds.
const MAX_BLOCKS: usize = 16_384;

/// The parts of a [`TcpEndpoint`] most connections never need.
#[derive(Clone, Debug, Default)]
struct EndpointExtra {
    /// Reassembly: captured data above a hole, as disjoint `[seq, upper)`
    /// ranges keyed by `seq` (a tree: segments arrive in any order the
    /// sender likes), at most [`MAX_BLOCKS`] of them.
    blocks: std::collections::BTreeMap<u64, u64>,
    /// Zero-window letter counter.
    win0: Scaled,
    /// Content-gap letter counter.
    gap: Scaled,
    /// TCPStats analyzer counters, made on the first packet when
    /// `conn_stats` is wanted (`Config::tcp_stats`).
    stats: Option<Stats>,
    /// Unacknowledged payload for retransmission checks, made on first use
    /// when `rexmit_inconsistency` is wanted (`Config::check_rexmit`).
    kept: Option<Kept>,
}

/// Payload delivered in order and not yet acknowledged, kept only to
/// compare retransmissions (`rexmit_inconsistency`).
#[derive(Clone, Debug, Default)]
struct Kept {
    /// The bytes, starting at relative sequence number `from`.
    bytes: std::collections::VecDeque<u8>,
    from: u64,
}

/// At most this many unacknowledged bytes are kept per side for
/// retransmission checks; older ones are dropped.
const MAX_KEPT: usize = 1 << 16;

/// Zeek's `TCPStats_Endpoint`: IP ID order and retransmissions per side.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// The record `conn_stats` reports.
    pub rec: crate::events::EndpointStats,
    last_id: u16,
    max_top_seq: u64,
}

impl Stats {
    /// Accounts one packet with IP ID `id` carrying `len` bytes at relative `seq`.
    pub fn packet(&mut self, id: u16, seq: u64, len: u64) {
        let r = &mut self.rec;
        r.num_pkts += 1;
        if r.num_pkts == 1 {
            self.last_id = id;
            return;
        }
        if id == self.last_id {
            r.num_repl += 1;
            return;
        }
        let delta = id.wrapping_sub(self.last_id) as i16;
        let endian_delta = id.swap_bytes().wrapping_sub(self.last_id.swap_bytes()) as i16;
        let (abs, abs_endian) = (delta.unsigned_abs(), endian_delta.unsigned_abs());
        let mut check = |whom: u8| {
            r.endian_type = match r.endian_type {
                0 => whom,
                e if e == whom => e,
                _ => 3,
            }
        };
        let delta = if abs < abs_endian {
            check(1);
            delta
        } else if abs > abs_endian {
            check(2);
            endian_delta
        } else {
            delta
        };
        if delta < 0 && delta > -256 {
            r.num_oo += 1;
            return;
        }
        self.last_id = id;
        r.num_in_order += 1;
        let top = seq + len;
        if top <= self.max_top_seq {
            r.num_rxmit += 1;
            r.num_rxmit_bytes += len;
        } else {
            self.max_top_seq = top;
        }
    }
}

fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

impl TcpEndpoint {
    fn init_seqs(&mut self, start: u32, last: u32) {
        self.start_seq = start;
        self.ack_seq = start;
        self.last_seq = last;
    }

    fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps += 1;
        }
        self.ack_seq = seq;
    }

    fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps += 1;
        }
        self.last_seq = seq;
    }

    fn no_data_acked(&self) -> bool {
        let ack = ((self.ack_wraps as u64) << 32) | self.ack_seq as u64;
        let start = self.start_seq as u64;
        ack == start || ack == start + 1
    }

    /// Sequence number relative to the start (`get_relative_seq`); the flag
    /// says it lies before the start.
    fn relative_seq(&self, cur: u32, last: u32, mut wraps: u32) -> (u64, bool) {
        let delta = seq_delta(cur, last);
        if delta < 0 {
            if wraps > 0 && cur > last {
                wraps -= 1;
            }
        } else if delta > 0 && cur < last {
            wraps += 1;
        }
        if wraps == 0 {
            let d = seq_delta(cur, self.start_seq);
            return (d as i64 as u64, d < 0);
        }
        let full = ((wraps as u64) << 32) | cur as u64;
        (full.wrapping_sub(self.start_seq as u64), false)
    }

    /// The `conn_stats` record of this side (zero when not counted).
    pub fn stats_record(&self) -> crate::events::EndpointStats {
        self.extra.as_ref().and_then(|x| x.stats.as_ref()).map(|s| s.rec).unwrap_or_default()
    }

    /// Logical bytes sent (`TCP_Endpoint::Size`); `peer` is the other side.
    pub fn size(&self, peer: &TcpEndpoint) -> u64 {
        if self.prev_state == EndpointState::SynSent
            && self.state == EndpointState::Reset
            && peer.state == EndpointState::Inactive
            && !self.no_data_acked()
        {
            return 0;
        }
        let last = ((self.seq_wraps as u64) << 32) | self.last_seq as u64;
        let ack = ((self.ack_wraps as u64) << 32) | self.ack_seq as u64;
        let top = last.max(ack);
        // The SYN (real or, for partial connections, assumed) and a FIN take
        // sequence space but carry no data.
        let mut size = top.wrapping_sub(self.start_seq as u64).saturating_sub(1);
        if self.fin_cnt > 0 {
            size = size.saturating_sub(1);
        }
        size
    }

    fn is_active(&self) -> bool {
        self.state != EndpointState::Inactive && !self.did_close
    }

    /// Compares a retransmitted payload with the kept bytes it overlaps and
    /// keeps what extends them. Returns (kept, new) bytes when they differ.
    fn check_rexmit(&mut self, seq: u64, data: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let k = self.extra().kept.get_or_insert_with(Kept::default);
        if k.bytes.is_empty() {
            k.from = seq;
        }
        let kept_end = k.from + k.bytes.len() as u64;
        let mut diff = None;
        let lo = seq.max(k.from);
        let hi = (seq + data.len() as u64).min(kept_end);
        if lo < hi {
            let old: Vec<u8> = k.bytes.range((lo - k.from) as usize..(hi - k.from) as usize).copied().collect();
            let new = &data[(lo - seq) as usize..(hi - seq) as usize];
            if old != new {
                diff = Some((old, new.to_vec()));
            }
        }
        if seq <= kept_end && seq + data.len() as u64 > kept_end {
            k.bytes.extend(&data[(kept_end - seq) as usize..]);
            while k.bytes.len() > MAX_KEPT {
                k.bytes.pop_front();
                k.from += 1;
            }
        }
        diff
    }

    /// Drops kept bytes the peer acknowledged.
    fn trim_kept(&mut self, ack: u64) {
        let Some(k) = self.extra.as_mut().and_then(|x| x.kept.as_mut()) else { return };
        while ack > k.from && !k.bytes.is_empty() {
            k.bytes.pop_front();
            k.from += 1;
        }
    }

    /// Captured payload `[seq, seq + len)` (relative) entered reassembly.
    fn data_sent(&mut self, seq: u64, len: u64) {
        let upper = seq + len;
        if self.last_reassem == 0 {
            self.last_reassem = 1;
        }
        if upper <= self.last_reassem {
            return;
        }
        if seq <= self.last_reassem {
            self.last_reassem = upper;
        } else {
            let blocks = &mut self.extra().blocks;
            let (mut lo, mut hi) = (seq, upper);
            // Merge with overlapping or touching neighbours.
            if let Some((&s, &u)) = blocks.range(..=seq).next_back() {
                if u >= seq {
                    lo = s;
                    hi = hi.max(u);
                    blocks.remove(&s);
                }
            }
            while let Some((&s, &u)) = blocks.range(lo..=hi).next() {
                hi = hi.max(u);
                blocks.remove(&s);
            }
            blocks.insert(lo, hi);
            if blocks.len() > MAX_BLOCKS {
                // The highest range goes: its bytes count as missing if acknowledged.
                blocks.pop_last();
            }
        }
        while let Some((s, u)) = self.first_block() {
            if s > self.last_reassem {
                break;
            }
            self.last_reassem = self.last_reassem.max(u);
            self.drop_first_block();
        }
    }

    /// The rarely needed state, made now if not yet.
    fn extra(&mut self) -> &mut EndpointExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The lowest captured block above a hole.
    fn first_block(&self) -> Option<(u64, u64)> {
        self.extra.as_ref().and_then(|x| x.blocks.first_key_value()).map(|(&s, &u)| (s, u))
    }

    /// Removes the lowest captured block.
    fn drop_first_block(&mut self) {
        if let Some(x) = self.extra.as_mut() {
            x.blocks.pop_first();
        }
    }

    /// The peer acknowledged this side's data up to `seq` (relative): holes
    /// below it are gaps, returned as `(seq, len)` (`TCP_Reassembler::AckReceived`).
    fn ack_received(&mut self, mut seq: u64, is_partial: bool, gaps: &mut Vec<(u64, u64)>) {
        if self.last_reassem == 0 {
            self.last_reassem = 1;
        }
        if self.fin_cnt > 0 && seq >= self.fin_seq {
            seq = self.fin_seq.saturating_sub(1);
        }
        if seq <= self.last_reassem {
            return;
        }
        if seq <= 2 && is_partial {
            // The faked SYN of a partial connection is not a gap.
            self.last_reassem = seq;
            return;
        }
        while let Some((s, u)) = self.first_block() {
            if s >= seq {
                break;
            }
            if s > self.last_reassem {
                gaps.push((self.last_reassem, s - self.last_reassem));
            }
            self.last_reassem = self.last_reassem.max(u);
            self.drop_first_block();
        }
        if seq > self.last_reassem {
            gaps.push((self.last_reassem, seq - self.last_reassem));
            self.last_reassem = seq;
        }
    }
}

/// Both endpoints of a TCP connection.
#[derive(Clone, Debug, Default)]
pub struct TcpState {
    /// Originator side.
    pub orig: TcpEndpoint,
    /// Responder side.
    pub resp: TcpEndpoint,
    is_partial: bool,
    /// Which sides' first packets were seen (bit 0 orig, bit 1 resp).
    first_seen: u8,
}

impl TcpState {
    fn ep(&mut self, is_orig: bool) -> (&mut TcpEndpoint, &mut TcpEndpoint) {
        if is_orig {
            (&mut self.orig, &mut self.resp)
        } else {
            (&mut self.resp, &mut self.orig)
        }
    }

    /// Whether either side has closed (`IsClosed`).
    fn is_closed(&self) -> bool {
        self.orig.did_close || self.resp.did_close
    }
}

/// TCP flag bits.
#[derive(Clone, Copy, Debug)]
pub struct Flags(pub u8);

impl Flags {
    /// FIN.
    pub fn fin(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// SYN.
    pub fn syn(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// RST.
    pub fn rst(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// ACK.
    pub fn ack(self) -> bool {
        self.0 & 0x10 != 0
    }
    /// URG.
    pub fn urg(self) -> bool {
        self.0 & 0x20 != 0
    }
}

/// What processing a segment asks of the session table.
#[derive(Debug, Default)]
pub struct Effects {
    /// Conn weirds, in order.
    pub weirds: Vec<&'static str>,
    /// Timers to schedule.
    pub timers: Vec<(f64, TimerKind)>,
    /// Cancel every pending timer of the connection first.
    pub cancel_timers: bool,
    /// A new inactivity timeout.
    pub inactivity: Option<f64>,
    /// Content gaps to report: (is_orig, relative seq, length).
    pub gaps: Vec<(bool, u64, u64)>,
    /// Retransmissions whose bytes differ: (kept bytes, new bytes, flag letters).
    pub rexmit: Vec<(Vec<u8>, Vec<u8>, String)>,
    /// Payload that entered reassembly, for an application analyzer:
    /// (from the originator, relative sequence number, length).
    pub data: Option<(bool, u64, u32)>,
}

/// Zeek's letters for a segment's flags in `rexmit_inconsistency`.
fn flag_letters(f: u8) -> String {
    [(0x02, 'S'), (0x01, 'F'), (0x04, 'R'), (0x10, 'A'), (0x08, 'P'), (0x20, 'U')]
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|&(_, c)| c)
        .collect()
}

fn tcp(c: &mut Conn) -> &mut TcpState {
    match &mut c.state {
        ProtoState::Tcp(t) => t,
        ProtoState::Datagram => unreachable!("TCP processing of a non-TCP connection"),
    }
}

/// Checks the window-scale option of a SYN: a scale above 14 is a
/// `TCP_scale_range` weird (the scale itself is not needed, see [`TcpEndpoint`]).
fn check_window_scale(opts: &[u8], weirds: &mut Vec<&'static str>, did_weird: bool) {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => break,
            1 => i += 1,
            kind => {
                let Some(&len) = opts.get(i + 1) else { break };
                let len = len as usize;
                if len < 2 || i + len > opts.len() {
                    break;
                }
                if kind == 3 && len == 3 {
                    if opts[i + 2] > 14 && !did_weird {
                        weirds.push("TCP_scale_range");
                    }
                    return;
                }
                i += len;
            }
        }
    }
}

/// Whether a segment on an existing connection starts a new one (`IsReuse`).
/// Returns the weird to raise with it.
pub fn is_reuse(c: &Conn, seg: &TcpSeg<'_>, t: f64, cfg: &Config) -> Option<Option<&'static str>> {
    let ProtoState::Tcp(st) = &c.state else { return None };
    let flags = Flags(seg.flags);
    if !flags.syn() {
        return None;
    }
    let mut conn_orig = &st.orig;
    if flags.ack() {
        if st.orig.state != EndpointState::Inactive {
            return None;
        }
        conn_orig = &st.resp;
    }
    if !st.is_closed() {
        if seg.seq == conn_orig.start_seq {
            return None;
        }
        if !flags.ack()
            && conn_orig.state == EndpointState::SynAckSent
            && st.resp.state == EndpointState::Inactive
            && seg.seq == st.resp.start_seq
        {
            return None;
        }
        if conn_orig.state == EndpointState::SynSent {
            return Some(Some("SYN_seq_jump"));
        }
        return Some(Some("active_connection_reuse"));
    }
    let no_reset = st.orig.state != EndpointState::Reset && st.resp.state != EndpointState::Reset;
    if (st.orig.is_active() || st.resp.is_active()) && no_reset {
        Some(Some("active_connection_reuse"))
    } else if t - c.last_time < cfg.tcp_connection_linger && no_reset {
        Some(Some("premature_connection_reuse"))
    } else {
        Some(None)
    }
}

/// Processes one checksum-valid segment from `is_orig`'s side; `ip_id` feeds
/// the TCPStats counters.
pub fn process(c: &mut Conn, mut is_orig: bool, seg: &TcpSeg<'_>, ip_id: u16, t: f64, cfg: &Config, fx: &mut Effects) {
    let flags = Flags(seg.flags);
    let len = seg.len;

    // A connection that began with a SYN+ACK is flipped by the next pure
    // ACK or data packet from either side.
    if c.history.is("H") && !flags.syn() && !flags.fin() && !flags.rst() && (len > 0 || flags.ack()) {
        c.flip_roles();
        c.history.set("^h");
        is_orig = !is_orig;
    }

    {
        // SetPartialStatus.
        let st = tcp(c);
        let bit = if is_orig { 1 } else { 2 };
        if st.first_seen & bit == 0 {
            if is_orig {
                st.is_partial = !flags.syn() || flags.ack();
            } else if !st.is_partial {
                st.is_partial = !flags.syn();
            }
            st.first_seen |= bit;
        }
    }

    let base_seq = seg.seq;
    let ack_seq = seg.ack;
    let seq_len = len + flags.syn() as u32 + flags.fin() as u32;
    let seq_one_past = base_seq.wrapping_add(seq_len);

    let did_weird = c.did_weird();
    init_endpoint(tcp(c).ep(is_orig).0, flags, base_seq, seq_one_past, t, fx);

    let (rel_seq, underflow) = {
        let (ep, _) = tcp(c).ep(is_orig);
        ep.relative_seq(base_seq, ep.last_seq, ep.seq_wraps)
    };
    if underflow && !flags.rst() {
        fx.weirds.push("TCP_seq_underflow_or_misorder");
    }

    update_history(c, is_orig, flags, rel_seq, len);
    update_window(c, is_orig, seg.win, flags);

    {
        let st = tcp(c);
        let both_closed = st.orig.did_close && st.resp.did_close;
        if !both_closed {
            c.last_time = t;
        }
    }

    if flags.syn() {
        if flags.rst() {
            fx.weirds.push("TCP_christmas");
        }
        if flags.urg() {
            fx.weirds.push("baroque_SYN");
        }
        if len > 0 {
            fx.weirds.push("SYN_with_data");
        }
        check_window_scale(seg.options, &mut fx.weirds, did_weird);
    }

    {
        let (ep, _) = tcp(c).ep(is_orig);
        if flags.fin() {
            ep.fin_cnt = ep.fin_cnt.saturating_add(1);
            if ep.fin_cnt >= 1000 && t < ep.last_time + 1.0 {
                fx.weirds.push("FIN_storm");
            }
            ep.fin_seq = rel_seq + seq_len as u64;
        }
        if flags.rst() {
            ep.rst_cnt = ep.rst_cnt.saturating_add(1);
            if ep.rst_cnt >= 1000 && t < ep.last_time + 1.0 {
                fx.weirds.push("RST_storm");
            }
        }
    }

    let mut rel_ack = 0u64;
    if flags.ack() {
        let (ep, peer) = tcp(c).ep(is_orig);
        if peer.state == EndpointState::Inactive {
            rel_ack = 1;
            if !flags.syn()
                && !flags.fin()
                && !flags.rst()
                && matches!(ep.state, EndpointState::SynSent | EndpointState::SynAckSent | EndpointState::Established)
                && !did_weird
            {
                fx.weirds.push("possible_split_routing");
            }
            let s = ack_seq.wrapping_sub(1);
            peer.init_seqs(s, s);
        } else {
            let (rel, underflow) = peer.relative_seq(ack_seq, peer.ack_seq, peer.ack_wraps);
            rel_ack = if underflow { 0 } else { rel };
            if underflow {
                fx.weirds.push("TCP_ack_underflow_or_misorder");
            } else if !flags.rst() {
                let delta = seq_delta(ack_seq, peer.ack_seq);
                let broken = ack_seq == 0 && delta > TOO_LARGE_SEQ_DELTA;
                if !broken && delta > 0 {
                    peer.update_ack_seq(ack_seq);
                }
            }
        }
    }

    let delta_last = {
        let (ep, _) = tcp(c).ep(is_orig);
        let delta = seq_delta(seq_one_past, ep.last_seq);
        let mut rxmit = false;
        if (flags.syn() || flags.rst()) && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta) {
        } else if flags.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
            ep.update_last_seq(seq_one_past);
        } else if ep.state == EndpointState::Reset {
        } else if delta > 0 {
            ep.update_last_seq(seq_one_past);
        } else if len > 0 {
            rxmit = ep.rxmit.hit();
        }
        ep.last_time = t;
        if rxmit {
            c.add_history_dir(is_orig, 'T');
        }
        delta
    };

    let (do_close, gen_event) = update_state_machine(c, &mut is_orig, base_seq, ack_seq, len, delta_last, flags, t, cfg, fx);
    let _ = gen_event;

    if flags.ack() {
        // The ack may reveal holes in the peer's data.
        let mut gaps = Vec::new();
        let st = tcp(c);
        let is_partial = st.is_partial;
        st.ep(is_orig).1.ack_received(rel_ack, is_partial, &mut gaps);
        if cfg.check_rexmit {
            st.ep(is_orig).1.trim_kept(rel_ack);
        }
        if !gaps.is_empty() {
            let (o, r) = (&st.orig, &st.resp);
            let established = |e: &TcpEndpoint| e.state == EndpointState::Established;
            let closing = |e: &TcpEndpoint| {
                established(e) || (e.state == EndpointState::Closed && e.prev_state == EndpointState::Established)
            };
            let report = cfg.report_gaps_for_partial || (established(o) && established(r));
            let letter = closing(o) && closing(r);
            for (seq, glen) in gaps {
                if report {
                    fx.gaps.push((!is_orig, seq, glen));
                }
                if letter && tcp(c).ep(is_orig).1.extra().gap.hit() {
                    c.add_history_dir(!is_orig, 'G');
                }
            }
        }
    }

    let full = seg.payload.len() >= len as usize;
    let rel_data = rel_seq + flags.syn() as u64;
    if len > 0 && full && !flags.rst() && !underflow {
        if cfg.check_rexmit {
            let data = &seg.payload[..len as usize];
            let (ep, peer) = tcp(c).ep(is_orig);
            // A 1-byte keep-alive towards a peer that never sent data is no inconsistency.
            let keepalive = len == 1 && peer.last_seq.wrapping_sub(peer.start_seq) <= 1;
            if let Some((old, new)) = ep.check_rexmit(rel_data, data) {
                if !keepalive {
                    fx.rexmit.push((old, new, flag_letters(flags.0)));
                }
            }
        }
        tcp(c).ep(is_orig).0.data_sent(rel_data, len as u64);
        fx.data = Some((is_orig, rel_data, len));
    }
    if cfg.tcp_stats {
        tcp(c).ep(is_orig).0.extra().stats.get_or_insert_with(Stats::default).packet(ip_id, rel_data, len as u64);
    }

    if do_close {
        connection_closed(c, is_orig, t, cfg, fx);
    }
}

fn init_endpoint(ep: &mut TcpEndpoint, flags: Flags, first_seq: u32, last_seq: u32, t: f64, fx: &mut Effects) {
    match ep.state {
        EndpointState::Inactive => {
            if flags.syn() {
                ep.init_seqs(first_seq, last_seq);
            } else {
                // A partial connection: number as though a SYN preceded.
                ep.init_seqs(first_seq.wrapping_sub(1), first_seq);
            }
            let _ = t;
        }
        EndpointState::SynSent | EndpointState::SynAckSent => {
            if flags.syn() && first_seq != ep.start_seq {
                fx.weirds.push("SYN_seq_jump");
                ep.init_seqs(first_seq, last_seq);
            }
        }
        EndpointState::Established | EndpointState::Partial => {
            if flags.syn() {
                // Size() needs the peer; SYN_inside_connection is raised by the caller's data check.
                if first_seq != ep.start_seq {
                    fx.weirds.push("SYN_seq_jump");
                }
                ep.init_seqs(first_seq, last_seq);
            }
        }
        EndpointState::Reset => {
            if flags.syn() && ep.prev_state == EndpointState::Inactive {
                ep.init_seqs(first_seq, last_seq);
            }
        }
        EndpointState::Closed => {}
    }
}

fn update_history(c: &mut Conn, is_orig: bool, flags: Flags, rel_seq: u64, len: u32) {
    let bits = flags.syn() as u8 + flags.fin() as u8 + flags.rst() as u8;
    if bits > 1 {
        if flags.fin() && flags.rst() {
            c.check_history_dir(is_orig, hist::FIN_RST_PKT, 'I');
        } else {
            c.check_history_dir(is_orig, hist::MULTI_FLAG_PKT, 'Q');
        }
    } else if bits == 1 {
        if flags.syn() {
            let code = if flags.ack() { 'H' } else { 'S' };
            let last = tcp(c).ep(is_orig).0.hist_last_syn;
            if c.check_history_dir(is_orig, hist::SYN_PKT, code) && rel_seq != last {
                c.add_history_dir(is_orig, code);
            }
            tcp(c).ep(is_orig).0.hist_last_syn = rel_seq;
        }
        if flags.fin() {
            let last = tcp(c).ep(is_orig).0.hist_last_fin;
            if c.check_history_dir(is_orig, hist::FIN_PKT, 'F') && rel_seq + len as u64 != last {
                c.add_history_dir(is_orig, 'F');
            }
            tcp(c).ep(is_orig).0.hist_last_fin = rel_seq + len as u64;
        }
        if flags.rst() {
            let last = tcp(c).ep(is_orig).0.hist_last_rst;
            if c.check_history_dir(is_orig, hist::RST_PKT, 'R') && rel_seq != last {
                c.add_history_dir(is_orig, 'R');
            }
            tcp(c).ep(is_orig).0.hist_last_rst = rel_seq;
        }
    } else if len > 0 {
        c.check_history_dir(is_orig, hist::DATA_PKT, 'D');
    } else if flags.ack() {
        c.check_history_dir(is_orig, hist::ACK_PKT, 'A');
    }
}

fn update_window(c: &mut Conn, is_orig: bool, window: u16, flags: Flags) {
    let (ep, peer) = tcp(c).ep(is_orig);
    let zero = window == 0
        && !flags.rst()
        && peer.state != EndpointState::Closed
        && ep.state != EndpointState::Reset
        && ep.extra().win0.hit();
    if zero {
        c.add_history_dir(is_orig, 'W');
    }
}

fn set_state(st: &mut TcpState, is_orig: bool, new: EndpointState, cfg: &Config, fx: &mut Effects) {
    let (ep, _) = st.ep(is_orig);
    if new != ep.state {
        if ep.state.is_handshake() && !new.is_handshake() {
            fx.inactivity = Some(cfg.tcp_inactivity_timeout);
        }
        ep.prev_state = ep.state;
        ep.state = new;
    }
}

#[allow(clippy::too_many_arguments)]
fn update_state_machine(
    c: &mut Conn,
    is_orig: &mut bool,
    base_seq: u32,
    ack_seq: u32,
    len: u32,
    delta_last: i32,
    flags: Flags,
    t: f64,
    cfg: &Config,
    fx: &mut Effects,
) -> (bool, bool) {
    use EndpointState::*;
    let mut do_close = false;
    let mut gen_event = false;
    let state = tcp(c).ep(*is_orig).0.state;
    match state {
        Inactive => {
            if flags.syn() {
                if *is_orig {
                    if flags.ack() {
                        fx.weirds.push("connection_originator_SYN_ack");
                        set_state(tcp(c), true, SynAckSent, cfg, fx);
                    } else {
                        set_state(tcp(c), true, SynSent, cfg, fx);
                    }
                    if cfg.tcp_attempt_delay > 0.0 {
                        fx.timers.push((t + cfg.tcp_attempt_delay, TimerKind::TcpAttempt));
                    }
                } else {
                    let st = tcp(c);
                    if flags.ack() {
                        let p = &st.orig;
                        let between = seq_delta(ack_seq, p.start_seq) >= 0 && seq_delta(ack_seq, p.last_seq) <= 0;
                        if p.state != Inactive && p.state != Partial && !between {
                            fx.weirds.push("bad_SYN_ack");
                        }
                    } else if st.orig.state == SynAckSent && base_seq == st.resp.start_seq {
                        // SYN/SYN-ACK reversal: flip and establish.
                        st.is_partial = false;
                        c.flip_roles();
                        *is_orig = true;
                        set_state(tcp(c), false, Established, cfg, fx);
                    } else {
                        fx.weirds.push("simultaneous_open");
                    }
                    let peer_state = tcp(c).ep(*is_orig).1.state;
                    if peer_state == SynSent {
                        set_state(tcp(c), !*is_orig, Established, cfg, fx);
                    } else if peer_state == Inactive {
                        fx.weirds.push("unsolicited_SYN_response");
                    }
                    set_state(tcp(c), *is_orig, Established, cfg, fx);
                }
            }
            if flags.fin() {
                set_state(tcp(c), *is_orig, Closed, cfg, fx);
                do_close = true;
                gen_event = true;
                if tcp(c).ep(*is_orig).1.state != Partial && !flags.syn() {
                    fx.weirds.push("spontaneous_FIN");
                }
            }
            if flags.rst() {
                set_state(tcp(c), *is_orig, Reset, cfg, fx);
                let peer_state = tcp(c).ep(*is_orig).1.state;
                let is_reject = if *is_orig {
                    peer_state == Established
                } else {
                    matches!(peer_state, SynSent | SynAckSent)
                };
                do_close = true;
                gen_event = !is_reject;
                if !is_reject && peer_state == Inactive {
                    fx.weirds.push("spontaneous_RST");
                }
            }
            if tcp(c).ep(*is_orig).0.state == Inactive {
                let st = tcp(c);
                if !*is_orig && len == 0 && st.orig.state == SynSent {
                    // An ack of a SYN before the SYN reply: not partial.
                } else if flags.ack() && st.ep(*is_orig).1.state == Established {
                    set_state(st, *is_orig, Established, cfg, fx);
                    st.is_partial = false;
                } else {
                    set_state(st, *is_orig, Partial, cfg, fx);
                }
            }
        }
        SynSent | SynAckSent => {
            if flags.syn() {
                if *is_orig {
                    if flags.ack() && !flags.fin() && !flags.rst() && state != SynAckSent {
                        fx.weirds.push("repeated_SYN_with_ack");
                    }
                } else if !flags.ack() && state != SynSent {
                    fx.weirds.push("repeated_SYN_reply_wo_ack");
                }
            }
            if flags.fin() {
                let ps = tcp(c).ep(*is_orig).1.state;
                if ps == Inactive || ps == SynSent {
                    fx.weirds.push("inappropriate_FIN");
                }
                set_state(tcp(c), *is_orig, Closed, cfg, fx);
                do_close = true;
                gen_event = true;
            }
            if flags.rst() {
                set_state(tcp(c), *is_orig, Reset, cfg, fx);
                do_close = true;
            } else if len > 0 {
                fx.weirds.push("data_before_established");
            }
        }
        Established | Partial => {
            if flags.syn() {
                let ps = tcp(c).ep(*is_orig).1.state;
                if state == Partial && ps == Inactive && !flags.ack() {
                    fx.weirds.push("SYN_after_partial");
                    set_state(tcp(c), *is_orig, SynSent, cfg, fx);
                }
            }
            if flags.fin() && !flags.rst() {
                set_state(tcp(c), *is_orig, Closed, cfg, fx);
                do_close = true;
                gen_event = true;
                let st = tcp(c);
                let peer = st.ep(*is_orig).1;
                if peer.state == Reset && peer.prev_state == Closed {
                    // The peer's FIN then RST was a normal close after all.
                    set_state(st, !*is_orig, Closed, cfg, fx);
                }
            }
            if flags.rst() {
                set_state(tcp(c), *is_orig, Reset, cfg, fx);
                do_close = true;
            }
        }
        Closed => {
            if flags.syn() {
                fx.weirds.push("SYN_after_close");
            }
            if flags.fin() && delta_last > 0 {
                fx.weirds.push("FIN_advanced_last_seq");
            }
            let (ep, peer) = tcp(c).ep(*is_orig);
            if flags.rst() && peer.state != Closed {
                let did_close = ep.did_close;
                set_state(tcp(c), *is_orig, Reset, cfg, fx);
                if !did_close {
                    do_close = true;
                }
            }
        }
        Reset => {
            if flags.syn() {
                fx.weirds.push("SYN_after_reset");
            }
            if flags.fin() {
                fx.weirds.push("FIN_after_reset");
            }
            if len > 0 && !flags.rst() {
                fx.weirds.push("data_after_reset");
            }
        }
    }
    (do_close, gen_event)
}

/// `TCPSessionAdapter::ConnectionClosed`: schedules removal or the expire check.
fn connection_closed(c: &mut Conn, is_orig: bool, _t: f64, cfg: &Config, fx: &mut Effects) {
    let last_time = c.last_time;
    let (ep, peer) = tcp(c).ep(is_orig);
    if ep.did_close {
        return;
    }
    ep.did_close = true;
    let close_complete = ep.state == EndpointState::Reset || peer.did_close || peer.state == EndpointState::Inactive;
    if close_complete {
        fx.cancel_timers = true;
        if cfg.tcp_close_delay != 0.0 {
            fx.timers.push((last_time + cfg.tcp_close_delay, TimerKind::ConnDelete));
        } else {
            fx.timers.push((last_time, TimerKind::TcpDelete));
        }
    } else if ep.prev_state != EndpointState::Inactive {
        fx.timers.push((last_time + cfg.tcp_session_timer, TimerKind::TcpExpire));
    }
}

/// Decision of the TCP expire timer at time `t`.
pub enum ExpireDecision {
    /// Time the connection out and remove it.
    Remove,
    /// Check again later.
    Reschedule,
}

/// `TCPSessionAdapter::ExpireTimer`.
pub fn expire_check(c: &Conn, t: f64, cfg: &Config) -> ExpireDecision {
    let ProtoState::Tcp(st) = &c.state else { return ExpireDecision::Remove };
    use EndpointState::*;
    if c.last_time + cfg.tcp_connection_linger < t {
        let (o, r) = (&st.orig, &st.resp);
        if (o.did_close || r.did_close)
            && ((o.did_close && r.did_close) || o.state == Reset || r.state == Reset || o.state == Inactive || r.state == Inactive)
        {
            return ExpireDecision::Remove;
        }
        if r.state == Inactive && o.state == Inactive {
            return ExpireDecision::Remove;
        }
    }
    ExpireDecision::Reschedule
}

/// `TCPSessionAdapter::AttemptTimer`: true when the SYN went unanswered.
pub fn attempt_failed(c: &Conn) -> bool {
    let ProtoState::Tcp(st) = &c.state else { return false };
    matches!(st.orig.state, EndpointState::SynSent | EndpointState::SynAckSent) && st.resp.state == EndpointState::Inactive
}

/// Records a bad checksum for a side (history `C`/`c`, logarithmic).
pub fn checksum_error(c: &mut Conn, is_orig: bool) {
    if c.side(is_orig).chk.hit() {
        c.add_history_dir(is_orig, 'C');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(e: &TcpEndpoint) -> Vec<(u64, u64)> {
        e.extra.as_ref().map(|x| x.blocks.iter().map(|(&s, &u)| (s, u)).collect()).unwrap_or_default()
    }

    #[test]
    fn ranges_above_a_hole_merge_in_any_order() {
        let mut e = TcpEndpoint::default();
        e.data_sent(1, 10); // in order: [1, 11)
        e.data_sent(30, 5);
        e.data_sent(20, 5);
        e.data_sent(25, 5); // touches both neighbours
        e.data_sent(50, 10);
        e.data_sent(45, 20); // covers [50, 60)
        assert_eq!(ranges(&e), [(20, 35), (45, 65)]);
        let mut gaps = Vec::new();
        e.ack_received(70, false, &mut gaps);
        assert_eq!(gaps, [(11, 9), (35, 10), (65, 5)]);
        assert!(ranges(&e).is_empty());
    }

    #[test]
    fn ranges_above_a_hole_are_capped() {
        let mut e = TcpEndpoint::default();
        e.data_sent(1, 1);
        // Every other byte, highest first: the worst order for a sorted list.
        for k in (0..3 * MAX_BLOCKS as u64).rev() {
            e.data_sent(10 + 2 * k, 1);
        }
        assert_eq!(ranges(&e).len(), MAX_BLOCKS);
        assert_eq!(ranges(&e)[0], (10, 11), "the lowest ranges are the ones kept");
    }
}
