//! TCP sessions, following Zeek's `TCPSessionAdapter` and `TCP_Endpoint`
//! (endpoint states, history letters, the state machine, sizes from
//! sequence numbers, gaps and retransmissions): [`process`] takes one segment through the
//! endpoints (`endpoint`), history letters (`history`), the state machine
//! (`state`), the reassembler that also feeds the analyzers (`reassembly`), retransmission checks
//! (`rexmit`), the TCPStats counters (`stats`) and option checks
//! (`options`).

mod endpoint;
mod history;
mod options;
mod reassembly;
mod rexmit;
mod state;
mod stats;
#[cfg(test)]
mod testing;

pub use endpoint::{EndpointState, TcpEndpoint};
pub use reassembly::{Delivery, MAX_PENDING};
pub use history::checksum_error;
pub use state::{attempt_failed, expire_check, ExpireDecision};
pub use stats::Stats;

use super::conn::{Conn, ProtoState};
use super::timers::TimerKind;
use crate::config::Config;
use crate::decode::TcpSeg;
use endpoint::{seq_delta, TOO_LARGE_SEQ_DELTA};
use history::{update_history, update_window};
use options::check_window_scale;
use rexmit::flag_letters;
use state::{connection_closed, init_endpoint, update_state_machine, Outcome, Segment};

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
    /// Whether the connection began without a handshake (Zeek's `IsPartial`).
    pub fn is_partial(&self) -> bool {
        self.is_partial
    }

    /// The roles flipped (Zeek's `TCPSessionAdapter::FlipRoles`): the
    /// endpoints and their first-packet marks swap, and the connection no
    /// longer counts as partial (it may become so again).
    pub fn flip(&mut self) {
        std::mem::swap(&mut self.orig, &mut self.resp);
        self.first_seen = ((self.first_seen & 1) << 1) | ((self.first_seen & 2) >> 1);
        self.is_partial = false;
    }

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
    /// What reassembly delivered in order for the connection's analyzers
    /// (only when it has any): (from the originator, bytes or gap).
    pub delivered: Vec<(bool, Delivery)>,
}

/// The TCP state of a TCP connection.
fn tcp(c: &mut Conn) -> &mut TcpState {
    match &mut c.state {
        ProtoState::Tcp(t) => t,
        ProtoState::Datagram => unreachable!("TCP processing of a non-TCP connection"),
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

    set_partial_status(tcp(c), is_orig, flags);
    // A connection that began with a SYN+ACK is flipped by the next pure
    // ACK or data packet from either side, which counts as having seen the
    // missing first packet: the flip leaves it not partial.
    if c.history.is("H") && !flags.syn() && !flags.fin() && !flags.rst() && (len > 0 || flags.ack()) {
        c.flip_roles();
        c.history.set("^h");
        tcp(c).first_seen |= 1;
        is_orig = !is_orig;
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
        syn_weirds(seg, did_weird, fx);
    }
    count_fin_rst(tcp(c).ep(is_orig).0, flags, rel_seq + seq_len as u64, t, cfg, fx);

    let rel_ack = if flags.ack() { ack(tcp(c), is_orig, flags, ack_seq, did_weird, fx) } else { 0 };
    let delta_last = advance_last_seq(c, is_orig, flags, seq_one_past, len, t);

    let step = Segment { base_seq, ack_seq, len, delta_last, flags, t, cfg };
    let Outcome { do_close, gen_event } = update_state_machine(c, &mut is_orig, &step, fx);
    let _ = gen_event;

    if flags.ack() {
        gaps_below_ack(c, is_orig, rel_ack, cfg, fx);
    }

    let full = seg.payload.len() >= len as usize;
    let rel_data = rel_seq + flags.syn() as u64;
    let analyzed = c.extra.as_ref().is_some_and(|x| !x.analyzers.is_empty() || x.signatures.as_ref().is_some_and(|s| !s.done()));
    if len > 0 && full && !flags.rst() && !underflow {
        deliver(tcp(c), is_orig, rel_data, &seg.payload[..len as usize], flags, cfg, analyzed, fx);
    }
    if flags.fin() && analyzed && !underflow {
        let mut delivered = Vec::new();
        tcp(c).ep(is_orig).0.fin_sent(rel_data + len as u64, &mut delivered);
        fx.delivered.extend(delivered.into_iter().map(|d| (is_orig, d)));
    }
    if cfg.tcp_stats {
        tcp(c).ep(is_orig).0.extra().stats.get_or_insert_with(Stats::default).packet(ip_id, rel_data, len as u64);
    }

    if do_close {
        connection_closed(c, is_orig, t, cfg, fx);
    }
}

/// `SetPartialStatus`: on each side's first segment, whether the
/// connection began without a handshake.
fn set_partial_status(st: &mut TcpState, is_orig: bool, flags: Flags) {
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

/// The weirds of a SYN's flags, payload and options.
fn syn_weirds(seg: &TcpSeg<'_>, did_weird: bool, fx: &mut Effects) {
    let flags = Flags(seg.flags);
    if flags.rst() {
        fx.weirds.push("TCP_christmas");
    }
    if flags.urg() {
        fx.weirds.push("baroque_SYN");
    }
    if seg.len > 0 {
        fx.weirds.push("SYN_with_data");
    }
    check_window_scale(seg.options, &mut fx.weirds, did_weird);
}

/// Counts a FIN or RST (storms are weirds: `tcp_storm_thresh` of them, the
/// last within `tcp_storm_interarrival_thresh` of the side's previous
/// packet); `fin_seq` is the relative sequence number just past the segment.
fn count_fin_rst(ep: &mut TcpEndpoint, flags: Flags, fin_seq: u64, t: f64, cfg: &Config, fx: &mut Effects) {
    let (thresh, gap) = (cfg.tcp_storm_thresh, cfg.tcp_storm_interarrival_thresh);
    if flags.fin() {
        ep.fin_cnt = ep.fin_cnt.saturating_add(1);
        if u64::from(ep.fin_cnt) >= thresh && t < ep.last_time + gap {
            fx.weirds.push("FIN_storm");
        }
        ep.fin_seq = fin_seq;
    }
    if flags.rst() {
        ep.rst_cnt = ep.rst_cnt.saturating_add(1);
        if u64::from(ep.rst_cnt) >= thresh && t < ep.last_time + gap {
            fx.weirds.push("RST_storm");
        }
    }
}

/// Takes the acknowledgment number of an ACK segment into the peer's
/// state; returns it relative to the peer's start (0 when it lies before).
fn ack(st: &mut TcpState, is_orig: bool, flags: Flags, ack_seq: u32, did_weird: bool, fx: &mut Effects) -> u64 {
    let (ep, peer) = st.ep(is_orig);
    if peer.state == EndpointState::Inactive {
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
        return 1;
    }
    let (rel, underflow) = peer.relative_seq(ack_seq, peer.ack_seq, peer.ack_wraps);
    if underflow {
        fx.weirds.push("TCP_ack_underflow_or_misorder");
        return 0;
    }
    if !flags.rst() {
        let delta = seq_delta(ack_seq, peer.ack_seq);
        let broken = ack_seq == 0 && delta > TOO_LARGE_SEQ_DELTA;
        if !broken && delta > 0 {
            peer.update_ack_seq(ack_seq);
        }
    }
    rel
}

/// Moves the side's last sequence number to `seq_one_past` where Zeek
/// trusts it, counts a retransmission (history `T`) otherwise, and returns
/// how far `seq_one_past` lies past the old last sequence number.
fn advance_last_seq(c: &mut Conn, is_orig: bool, flags: Flags, seq_one_past: u32, len: u32, t: f64) -> i32 {
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
}

/// The ack `rel_ack` from `is_orig` may reveal holes in the peer's data:
/// content gaps and history `G`.
fn gaps_below_ack(c: &mut Conn, is_orig: bool, rel_ack: u64, cfg: &Config, fx: &mut Effects) {
    let mut gaps = Vec::new();
    let st = tcp(c);
    let is_partial = st.is_partial;
    st.ep(is_orig).1.ack_received(rel_ack, is_partial, &mut gaps);
    if cfg.check_rexmit {
        st.ep(is_orig).1.trim_kept(rel_ack);
    }
    if gaps.is_empty() {
        return;
    }
    // The analyzers get the holes now too, and what waited behind them.
    if let Some(&(at, len)) = gaps.last() {
        let mut skipped = Vec::new();
        st.ep(is_orig).1.acked_past_hole(at + len, &mut skipped);
        fx.delivered.extend(skipped.into_iter().map(|d| (!is_orig, d)));
    }
    let st = tcp(c);
    let (o, r) = (&st.orig, &st.resp);
    let established = |e: &TcpEndpoint| e.state == EndpointState::Established;
    let closing =
        |e: &TcpEndpoint| established(e) || (e.state == EndpointState::Closed && e.prev_state == EndpointState::Established);
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

/// Captured payload `data` at relative `rel_data` enters reassembly, after
/// the retransmission check when `rexmit_inconsistency` is wanted; when the
/// connection is `analyzed`, what becomes deliverable in order goes to
/// [`Effects::delivered`].
#[allow(clippy::too_many_arguments)]
fn deliver(
    st: &mut TcpState,
    is_orig: bool,
    rel_data: u64,
    data: &[u8],
    flags: Flags,
    cfg: &Config,
    analyzed: bool,
    fx: &mut Effects,
) {
    let len = data.len() as u32;
    if cfg.check_rexmit {
        let (ep, peer) = st.ep(is_orig);
        // A 1-byte keep-alive towards a peer that never sent data is no inconsistency.
        let keepalive = len == 1 && peer.last_seq.wrapping_sub(peer.start_seq) <= 1;
        if let Some((old, new)) = ep.check_rexmit(rel_data, data) {
            if !keepalive {
                fx.rexmit.push((old, new, flag_letters(flags.0)));
            }
        }
    }
    let mut delivered = Vec::new();
    st.ep(is_orig).0.data_sent(rel_data, data, analyzed.then_some(&mut delivered));
    fx.delivered.extend(delivered.into_iter().map(|d| (is_orig, d)));
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_weird, seg, Feed, A, F, R, S, U};
    use super::*;

    #[test]
    fn syn_flag_weirds() {
        let mut f = Feed::default();
        assert_weird(&f.send(true, 0.0, S | R, 100, 0, b""), "TCP_christmas");
        let mut f = Feed::default();
        assert_weird(&f.send(true, 0.0, S | U, 100, 0, b""), "baroque_SYN");
        let mut f = Feed::default();
        assert_weird(&f.send(true, 0.0, S, 100, 0, b"hi"), "SYN_with_data");
        let mut f = Feed::default();
        let fx = f.send_seg(true, 0.0, &seg(S, 100, 0, b"", &[1, 3, 3, 15]));
        assert_weird(&fx, "TCP_scale_range");
        assert_eq!(fx.weirds.len(), 1, "{:?}", fx.weirds);
    }

    #[test]
    fn seq_underflow() {
        let mut f = Feed::default();
        f.handshake();
        assert_weird(&f.send(true, 1.0, A, 50, 501, b"data"), "TCP_seq_underflow_or_misorder");
        assert!(f.send(true, 1.1, A, 101, 501, b"data").weirds.is_empty());
    }

    #[test]
    fn ack_underflow() {
        let mut f = Feed::default();
        f.handshake();
        assert_weird(&f.send(true, 1.0, A, 101, 400, b""), "TCP_ack_underflow_or_misorder");
    }

    #[test]
    fn possible_split_routing() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_weird(&f.send(true, 0.1, A, 101, 501, b""), "possible_split_routing");
    }

    #[test]
    fn fin_and_rst_storms() {
        let mut f = Feed::default();
        f.handshake();
        let storms = (0..1000).filter(|k| f.send(true, 1.0 + *k as f64 * 1e-4, F | A, 101, 501, b"").weirds.contains(&"FIN_storm"));
        assert_eq!(storms.count(), 1, "the 1000th FIN within a second");
        let mut f = Feed::default();
        f.handshake();
        let storms =
            (0..1000).filter(|k| f.send(true, 1.0 + *k as f64 * 1e-4, R | A, 101, 501, b"").weirds.contains(&"RST_storm"));
        assert_eq!(storms.count(), 1, "the 1000th RST within a second");
    }

    #[test]
    fn storm_thresholds_are_settings() {
        let mut f = Feed::default();
        f.cfg.set("tcp_storm_thresh", "3").unwrap();
        f.cfg.set("tcp_storm_interarrival_thresh", "100 msec").unwrap();
        f.handshake();
        let fins: Vec<bool> =
            [1.0, 1.01, 1.02, 1.5, 1.51].iter().map(|&t| f.send(true, t, F | A, 101, 501, b"").weirds.contains(&"FIN_storm")).collect();
        // The third FIN comes 10 ms after the previous packet: a storm; the
        // fourth 480 ms after, beyond the interarrival threshold; the fifth again.
        assert_eq!(fins, [false, false, true, false, true]);
    }

    #[test]
    fn syn_ack_first_is_flipped_by_the_next_ack() {
        let mut f = Feed::default();
        f.send(true, 0.0, S | A, 500, 101, b"");
        assert_eq!(f.history(), "H");
        f.send(false, 0.1, A, 101, 501, b"");
        assert_eq!(f.history(), "^hA");
        assert_eq!(f.c.orig.1, 80, "the SYN+ACK's sender is the responder");
        assert!(!f.st().is_partial(), "the flip counts the missing SYN as seen");
        f.send(false, 0.2, A, 101, 501, b"GET /");
        assert!(!f.st().is_partial(), "the new originator's data keeps it whole");
    }

    #[test]
    fn payload_enters_reassembly_and_acks_reveal_gaps() {
        let mut f = Feed::default();
        f.handshake();
        let fx = f.send(true, 1.0, A, 101, 501, b"abcd");
        assert!(fx.delivered.is_empty(), "no analyzer: no bytes delivered");
        f.c.extra.get_or_insert_with(Box::default).analyzers.add(Box::new(crate::analyzers::ntp::Ntp::default()), 1);
        let fx = f.send(true, 1.1, A, 105, 501, b"ef");
        assert_eq!(fx.delivered, [(true, Delivery::Data(b"ef".to_vec()))], "in order once an analyzer is attached");
        let fx = f.send(true, 1.1, A, 115, 501, b"efgh");
        assert!(fx.delivered.is_empty(), "above a hole: waits");
        let fx = f.send(false, 1.2, A, 501, 119, b"");
        assert_eq!(fx.gaps, [(true, 7, 8)], "bytes 7..15 were never seen");
        assert_eq!(f.history(), "ShADaG");
        let st = f.st().clone();
        assert_eq!(st.orig.size(&st.resp), 18, "4 + 2 + 4 bytes and the hole");
    }

    #[test]
    fn inconsistent_retransmission() {
        let mut f = Feed::default();
        f.cfg.check_rexmit = true;
        f.handshake();
        assert!(f.send(true, 1.0, A, 101, 501, b"abcd").rexmit.is_empty());
        assert!(f.send(true, 1.1, A, 101, 501, b"abcd").rexmit.is_empty(), "the same bytes again");
        let fx = f.send(true, 1.2, A | 0x08, 101, 501, b"abXd");
        assert_eq!(fx.rexmit, [(b"abcd".to_vec(), b"abXd".to_vec(), "AP".to_string())]);
        assert!(f.history().contains('T'), "{}", f.history());
    }

    #[test]
    fn reuse() {
        let cfg = Config::default();
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_eq!(is_reuse(&f.c, &seg(S, 100, 0, b"", &[]), 1.0, &cfg), None, "the same SYN again");
        assert_eq!(is_reuse(&f.c, &seg(A, 900, 0, b"", &[]), 1.0, &cfg), None, "not a SYN");
        assert_eq!(is_reuse(&f.c, &seg(S, 900, 0, b"", &[]), 1.0, &cfg), Some(Some("SYN_seq_jump")));
        let mut f = Feed::default();
        f.handshake();
        assert_eq!(is_reuse(&f.c, &seg(S, 900, 0, b"", &[]), 1.0, &cfg), Some(Some("active_connection_reuse")));
        f.send(true, 1.0, F | A, 101, 501, b"");
        assert_eq!(is_reuse(&f.c, &seg(S, 900, 0, b"", &[]), 1.5, &cfg), Some(Some("active_connection_reuse")));
        f.send(false, 1.1, F | A, 501, 102, b"");
        assert_eq!(is_reuse(&f.c, &seg(S, 900, 0, b"", &[]), 2.0, &cfg), Some(Some("premature_connection_reuse")));
        assert_eq!(is_reuse(&f.c, &seg(S, 900, 0, b"", &[]), 10.0, &cfg), Some(None), "past the linger time");
    }

    /// Every weird name the TCP code raises is named by a unit test of these files.
    #[test]
    fn every_tcp_weird_has_a_test() {
        let files = [
            include_str!("mod.rs"),
            include_str!("endpoint.rs"),
            include_str!("history.rs"),
            include_str!("options.rs"),
            include_str!("reassembly.rs"),
            include_str!("rexmit.rs"),
            include_str!("state.rs"),
            include_str!("stats.rs"),
        ];
        let marker = ["#[cfg(test)]", "\nmod tests"].concat();
        let quoted = |text: &str, before: &str| -> Vec<String> {
            text.split(before).skip(1).filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_string())).collect()
        };
        let (mut raised, mut tested) = (Vec::new(), Vec::new());
        for f in files {
            let (code, tests) = f.split_once(marker.as_str()).unwrap_or((f, ""));
            for before in ["weirds.push(\"", "Some(Some(\""] {
                raised.extend(quoted(code, before));
            }
            tested.push(tests);
        }
        raised.sort();
        raised.dedup();
        assert!(raised.len() >= 28, "{raised:?}");
        let untested: Vec<_> = raised.iter().filter(|w| !tested.iter().any(|t| t.contains(&format!("\"{w}\"")))).collect();
        assert!(untested.is_empty(), "weirds without a test: {untested:?}");
    }
}
