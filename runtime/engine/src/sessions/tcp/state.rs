//! The TCP state machine (`TCPSessionAdapter::UpdateStateMachine`), endpoint
//! initialisation, closing and the expire and attempt timers.

use super::super::conn::{Conn, ProtoState};
use super::super::timers::TimerKind;
use super::endpoint::{seq_delta, EndpointState, TcpEndpoint};
use super::{tcp, Effects, Flags, TcpState};
use crate::config::Config;

/// Sets up the side's sequence numbers on its first segment, or again on a
/// SYN that jumps (`SYN_seq_jump`).
pub(super) fn init_endpoint(ep: &mut TcpEndpoint, flags: Flags, first_seq: u32, last_seq: u32, t: f64, fx: &mut Effects) {
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

/// Moves a side to `new`, arming the inactivity timeout once it leaves the handshake.
pub(super) fn set_state(st: &mut TcpState, is_orig: bool, new: EndpointState, cfg: &Config, fx: &mut Effects) {
    let (ep, _) = st.ep(is_orig);
    if new != ep.state {
        if ep.state.is_handshake() && !new.is_handshake() {
            fx.inactivity = Some(cfg.tcp_inactivity_timeout);
        }
        ep.prev_state = ep.state;
        ep.state = new;
    }
}

/// What the state machine reads of one segment.
pub(super) struct Segment<'a> {
    /// Absolute sequence number.
    pub(super) base_seq: u32,
    /// Absolute acknowledgment number.
    pub(super) ack_seq: u32,
    /// Payload length.
    pub(super) len: u32,
    /// How far the segment's end moved past the side's last sequence number.
    pub(super) delta_last: i32,
    /// The flags.
    pub(super) flags: Flags,
    /// Packet time.
    pub(super) t: f64,
    /// Timeouts and delays.
    pub(super) cfg: &'a Config,
}

/// What a state transition asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Outcome {
    /// The side's close is to be processed.
    pub(super) do_close: bool,
    /// Zeek would raise a connection event here (none is wanted yet).
    pub(super) gen_event: bool,
}

/// `UpdateStateMachine`: moves both sides' states for a segment from
/// `is_orig` (which a SYN/SYN-ACK reversal flips).
pub(super) fn update_state_machine(c: &mut Conn, is_orig: &mut bool, seg: &Segment<'_>, fx: &mut Effects) -> Outcome {
    use EndpointState::*;
    let state = tcp(c).ep(*is_orig).0.state;
    match state {
        Inactive => from_inactive(c, is_orig, seg, fx),
        SynSent | SynAckSent => from_handshake(c, *is_orig, state, seg, fx),
        Established | Partial => from_established(c, *is_orig, state, seg, fx),
        Closed => from_closed(c, *is_orig, seg, fx),
        Reset => from_reset(seg, fx),
    }
}

/// A segment from a side that sent nothing before.
fn from_inactive(c: &mut Conn, is_orig: &mut bool, seg: &Segment<'_>, fx: &mut Effects) -> Outcome {
    use EndpointState::*;
    let (flags, cfg) = (seg.flags, seg.cfg);
    let mut out = Outcome::default();
    if flags.syn() {
        if *is_orig {
            if flags.ack() {
                fx.weirds.push("connection_originator_SYN_ack");
                set_state(tcp(c), true, SynAckSent, cfg, fx);
            } else {
                set_state(tcp(c), true, SynSent, cfg, fx);
            }
            if cfg.tcp_attempt_delay > 0.0 {
                fx.timers.push((seg.t + cfg.tcp_attempt_delay, TimerKind::TcpAttempt));
            }
        } else {
            let st = tcp(c);
            if flags.ack() {
                let p = &st.orig;
                let between = seq_delta(seg.ack_seq, p.start_seq) >= 0 && seq_delta(seg.ack_seq, p.last_seq) <= 0;
                if p.state != Inactive && p.state != Partial && !between {
                    fx.weirds.push("bad_SYN_ack");
                }
            } else if st.orig.state == SynAckSent && seg.base_seq == st.resp.start_seq {
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
        out.do_close = true;
        out.gen_event = true;
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
        out.do_close = true;
        out.gen_event = !is_reject;
        if !is_reject && peer_state == Inactive {
            fx.weirds.push("spontaneous_RST");
        }
    }
    if tcp(c).ep(*is_orig).0.state == Inactive {
        let st = tcp(c);
        if !*is_orig && seg.len == 0 && st.orig.state == SynSent {
            // An ack of a SYN before the SYN reply: not partial.
        } else if flags.ack() && st.ep(*is_orig).1.state == Established {
            set_state(st, *is_orig, Established, cfg, fx);
            st.is_partial = false;
        } else {
            set_state(st, *is_orig, Partial, cfg, fx);
        }
    }
    out
}

/// A segment from a side in `state`, `SynSent` or `SynAckSent`.
fn from_handshake(c: &mut Conn, is_orig: bool, state: EndpointState, seg: &Segment<'_>, fx: &mut Effects) -> Outcome {
    use EndpointState::*;
    let (flags, cfg) = (seg.flags, seg.cfg);
    let mut out = Outcome::default();
    if flags.syn() {
        if is_orig {
            if flags.ack() && !flags.fin() && !flags.rst() && state != SynAckSent {
                fx.weirds.push("repeated_SYN_with_ack");
            }
        } else if !flags.ack() && state != SynSent {
            fx.weirds.push("repeated_SYN_reply_wo_ack");
        }
    }
    if flags.fin() {
        let ps = tcp(c).ep(is_orig).1.state;
        if ps == Inactive || ps == SynSent {
            fx.weirds.push("inappropriate_FIN");
        }
        set_state(tcp(c), is_orig, Closed, cfg, fx);
        out.do_close = true;
        out.gen_event = true;
    }
    if flags.rst() {
        set_state(tcp(c), is_orig, Reset, cfg, fx);
        out.do_close = true;
    } else if seg.len > 0 {
        fx.weirds.push("data_before_established");
    }
    out
}

/// A segment from a side in `state`, `Established` or `Partial`.
fn from_established(c: &mut Conn, is_orig: bool, state: EndpointState, seg: &Segment<'_>, fx: &mut Effects) -> Outcome {
    use EndpointState::*;
    let (flags, cfg) = (seg.flags, seg.cfg);
    let mut out = Outcome::default();
    if flags.syn() {
        let ps = tcp(c).ep(is_orig).1.state;
        if state == Partial && ps == Inactive && !flags.ack() {
            fx.weirds.push("SYN_after_partial");
            set_state(tcp(c), is_orig, SynSent, cfg, fx);
        }
    }
    if flags.fin() && !flags.rst() {
        set_state(tcp(c), is_orig, Closed, cfg, fx);
        out.do_close = true;
        out.gen_event = true;
        let st = tcp(c);
        let peer = st.ep(is_orig).1;
        if peer.state == Reset && peer.prev_state == Closed {
            // The peer's FIN then RST was a normal close after all.
            set_state(st, !is_orig, Closed, cfg, fx);
        }
    }
    if flags.rst() {
        set_state(tcp(c), is_orig, Reset, cfg, fx);
        out.do_close = true;
    }
    out
}

/// A segment from a side that sent a FIN.
fn from_closed(c: &mut Conn, is_orig: bool, seg: &Segment<'_>, fx: &mut Effects) -> Outcome {
    let flags = seg.flags;
    let mut out = Outcome::default();
    if flags.syn() {
        fx.weirds.push("SYN_after_close");
    }
    if flags.fin() && seg.delta_last > 0 {
        fx.weirds.push("FIN_advanced_last_seq");
    }
    let (ep, peer) = tcp(c).ep(is_orig);
    if flags.rst() && peer.state != EndpointState::Closed {
        let did_close = ep.did_close;
        set_state(tcp(c), is_orig, EndpointState::Reset, seg.cfg, fx);
        if !did_close {
            out.do_close = true;
        }
    }
    out
}

/// A segment from a side that sent a RST: only weirds.
fn from_reset(seg: &Segment<'_>, fx: &mut Effects) -> Outcome {
    let flags = seg.flags;
    if flags.syn() {
        fx.weirds.push("SYN_after_reset");
    }
    if flags.fin() {
        fx.weirds.push("FIN_after_reset");
    }
    if seg.len > 0 && !flags.rst() {
        fx.weirds.push("data_after_reset");
    }
    Outcome::default()
}

/// `TCPSessionAdapter::ConnectionClosed`: schedules removal or the expire check.
pub(super) fn connection_closed(c: &mut Conn, is_orig: bool, _t: f64, cfg: &Config, fx: &mut Effects) {
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

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_weird, Feed, A, F, R, S};
    use super::*;
    use EndpointState::*;

    #[test]
    fn handshake_establishes_both_sides_and_arms_the_attempt_timer() {
        let mut f = Feed::default();
        let fx = f.send(true, 0.0, S, 100, 0, b"");
        assert_eq!(fx.timers, [(5.0, TimerKind::TcpAttempt)]);
        assert_eq!(f.st().orig.state, SynSent);
        assert!(attempt_failed(&f.c), "an unanswered SYN is a failed attempt");
        f.send(false, 0.1, S | A, 500, 101, b"");
        assert_eq!((f.st().orig.state, f.st().resp.state), (Established, Established));
        assert!(!attempt_failed(&f.c));
        let fx = f.send(true, 0.2, A, 101, 501, b"");
        assert!(fx.weirds.is_empty(), "{:?}", fx.weirds);
        assert_eq!(f.history(), "ShA");
    }

    #[test]
    fn originator_syn_ack() {
        let mut f = Feed::default();
        let fx = f.send(true, 0.0, S | A, 100, 7, b"");
        assert_weird(&fx, "connection_originator_SYN_ack");
        assert_eq!(f.st().orig.state, SynAckSent);
    }

    #[test]
    fn bad_syn_ack() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_weird(&f.send(false, 0.1, S | A, 500, 5000, b""), "bad_SYN_ack");
        // An ack within the SYN's sequence space is good.
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert!(f.send(false, 0.1, S | A, 500, 101, b"").weirds.is_empty());
    }

    #[test]
    fn simultaneous_open() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_weird(&f.send(false, 0.1, S, 900, 0, b""), "simultaneous_open");
        assert_eq!((f.st().orig.state, f.st().resp.state), (Established, Established));
    }

    #[test]
    fn syn_reply_to_a_syn_ack_flips_roles() {
        let mut f = Feed::default();
        f.send(true, 0.0, S | A, 100, 501, b"");
        let fx = f.send(false, 0.1, S, 500, 0, b"");
        assert!(!fx.weirds.contains(&"simultaneous_open"), "{:?}", fx.weirds);
        assert_eq!(f.c.orig.1, 80, "the SYN's sender is the originator now");
        assert_eq!(f.st().resp.state, Established);
    }

    #[test]
    fn unsolicited_syn_response() {
        let mut f = Feed::default();
        assert_weird(&f.send(false, 0.0, S | A, 500, 101, b""), "unsolicited_SYN_response");
    }

    #[test]
    fn spontaneous_fin_and_rst() {
        let mut f = Feed::default();
        assert_weird(&f.send(true, 0.0, F, 100, 0, b""), "spontaneous_FIN");
        assert_eq!(f.st().orig.state, Closed);
        let mut f = Feed::default();
        let fx = f.send(true, 0.0, R, 100, 0, b"");
        assert_weird(&fx, "spontaneous_RST");
        assert_eq!(f.st().orig.state, Reset);
        // A RST answering a SYN is a rejection, not spontaneous.
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        let fx = f.send(false, 0.1, R | A, 0, 101, b"");
        assert!(!fx.weirds.contains(&"spontaneous_RST"), "{:?}", fx.weirds);
    }

    #[test]
    fn repeated_syn_with_ack() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_weird(&f.send(true, 0.1, S | A, 100, 7, b""), "repeated_SYN_with_ack");
    }

    #[test]
    fn repeated_syn_reply_without_ack() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        f.st().resp.state = SynAckSent;
        assert_weird(&f.send(false, 0.1, S, 500, 0, b""), "repeated_SYN_reply_wo_ack");
    }

    #[test]
    fn inappropriate_fin_and_data_before_established() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_weird(&f.send(true, 0.1, F, 101, 0, b""), "inappropriate_FIN");
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_weird(&f.send(true, 0.1, 0, 101, 0, b"data"), "data_before_established");
    }

    #[test]
    fn syn_after_partial() {
        let mut f = Feed::default();
        f.send(true, 0.0, A, 100, 7, b"data");
        assert_eq!(f.st().orig.state, Partial);
        let fx = f.send(true, 0.1, S, 100, 0, b"");
        assert_weird(&fx, "SYN_after_partial");
        assert_eq!(f.st().orig.state, SynSent);
    }

    #[test]
    fn syn_seq_jump() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        assert_weird(&f.send(true, 1.0, S, 5000, 0, b""), "SYN_seq_jump");
        assert!(!f.send(true, 2.0, S, 5000, 0, b"").weirds.contains(&"SYN_seq_jump"), "the same SYN again is no jump");
    }

    #[test]
    fn after_close() {
        let mut f = Feed::default();
        f.handshake();
        f.send(true, 1.0, F | A, 101, 501, b"");
        assert_eq!(f.st().orig.state, Closed);
        assert_weird(&f.send(true, 1.1, S, 101, 0, b""), "SYN_after_close");
        assert_weird(&f.send(true, 1.2, F | A, 200, 501, b""), "FIN_advanced_last_seq");
    }

    #[test]
    fn after_reset() {
        let mut f = Feed::default();
        f.send(true, 0.0, S, 100, 0, b"");
        f.send(true, 0.1, R, 101, 0, b"");
        assert_eq!(f.st().orig.state, Reset);
        assert_weird(&f.send(true, 0.2, S, 100, 0, b""), "SYN_after_reset");
        assert_weird(&f.send(true, 0.3, F, 101, 0, b""), "FIN_after_reset");
        assert_weird(&f.send(true, 0.4, 0, 101, 0, b"data"), "data_after_reset");
        assert!(f.send(true, 0.5, R, 101, 0, b"data").weirds.is_empty(), "a RST with data is not data after reset");
    }

    #[test]
    fn closing_schedules_removal_or_expiry() {
        let mut f = Feed::default();
        f.handshake();
        let fx = f.send(true, 1.0, F | A, 101, 501, b"");
        assert_eq!(fx.timers, [(1.0 + 6.0, TimerKind::TcpExpire)], "a half close waits for the expire timer");
        assert!(!fx.cancel_timers);
        assert!(matches!(expire_check(&f.c, 2.0, &f.cfg), ExpireDecision::Reschedule));
        assert!(matches!(expire_check(&f.c, 7.0, &f.cfg), ExpireDecision::Reschedule), "the peer is still open");
        let fx = f.send(false, 1.5, F | A, 501, 102, b"");
        assert!(fx.cancel_timers);
        assert_eq!(fx.timers, [(1.5 + 5.0, TimerKind::ConnDelete)]);
        assert!(matches!(expire_check(&f.c, 6.0, &f.cfg), ExpireDecision::Reschedule), "within the linger time");
        assert!(matches!(expire_check(&f.c, 7.0, &f.cfg), ExpireDecision::Remove));
    }

    #[test]
    fn set_state_arms_the_inactivity_timeout_once_past_the_handshake() {
        let cfg = Config::default();
        let mut st = TcpState::default();
        let mut fx = Effects::default();
        set_state(&mut st, true, SynSent, &cfg, &mut fx);
        assert_eq!(fx.inactivity, None);
        set_state(&mut st, true, Established, &cfg, &mut fx);
        assert_eq!(fx.inactivity, Some(cfg.tcp_inactivity_timeout));
        assert_eq!((st.orig.prev_state, st.orig.state), (SynSent, Established));
    }
}
