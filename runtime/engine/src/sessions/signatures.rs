//! The session layer's side of the signature engine: each TCP, UDP and
//! ICMP connection gets a matching state when signatures are loaded; a
//! side's first valid packet sets it up (header conditions), UDP and ICMP
//! payloads are matched per datagram, TCP payload on the reassembled
//! stream, all within `dpd_buffer_size` / `dpd_max_packets`; the end of
//! the connection decides negated dependencies. Fired signatures raise
//! `signature_match` (an `event "msg"` action) or `signature_event` (a
//! custom `event name ["msg"]` action), and their `enable` / `disable`
//! actions are handed to [`Sessions::signature_requests`].

use super::conn::{Conn, ProtoState};
use super::tcp::EndpointState;
use super::{PacketInfo, Sessions};
use crate::decode::L4;
use crate::events::{Event, EventKind, EventQueue, SignatureState};
use crate::signatures::{actions, Budget, ConnFacts, Fired, Matcher, Output, PacketView, PatternType};

/// A match's [`Output`] on connection `conn`: the rules that fired, and
/// `eval` conditions answered by the handlers through the queue
/// ([`EventQueue::eval`]) with the signature's state on the connection.
pub(crate) struct Collect<'a> {
    /// The rules that fired, in order.
    pub fired: Vec<Fired>,
    conn: &'a Conn,
    q: &'a mut EventQueue,
}

impl<'a> Collect<'a> {
    /// Nothing fired yet.
    pub(crate) fn new(conn: &'a Conn, q: &'a mut EventQueue) -> Self {
        Collect { fired: Vec::new(), conn, q }
    }
}

impl Output for Collect<'_> {
    fn fired(&mut self, f: Fired) {
        self.fired.push(f);
    }

    fn eval(&mut self, func: &str, sig_id: &str, is_orig: bool, payload_size: u64, data: &[u8]) -> bool {
        let state = SignatureState { sig_id: sig_id.to_string(), conn: self.conn.snapshot(), is_orig, payload_size };
        self.q.eval(func, &state, data)
    }
}

/// What a connection's fired signatures ask of its analyzers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureRequests {
    /// Analyzers to enable: (Zeek analyzer name as written, the matching side).
    pub enable: Vec<(String, bool)>,
    /// Analyzers to disable, by name.
    pub disable: Vec<String>,
}

impl Sessions {
    /// The matcher of this worker, made from [`crate::Config::signatures`].
    pub(super) fn make_matcher(cfg: &crate::Config) -> Option<Matcher> {
        let set = cfg.signatures.as_ref()?;
        set.matches_traffic().then(|| Matcher::new(set.clone()))
    }

    /// Gives the connection in `slot` its matching state before its first
    /// packet is processed (so that TCP reassembly keeps the stream).
    pub(super) fn sig_prepare(&mut self, slot: u32) {
        if self.matcher.is_none() {
            return;
        }
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        if matches!(c.proto, 1 | 6 | 17 | 58) {
            let x = c.extra.get_or_insert_with(Box::default);
            if x.signatures.is_none() {
                x.signatures = Some(Box::default());
            }
        }
    }

    /// A valid packet of side `is_orig`: sets the side up on its first one;
    /// a UDP or ICMP payload is matched as one datagram.
    pub(super) fn sig_packet(&mut self, slot: u32, is_orig: bool, p: &PacketInfo<'_, '_>, q: &mut EventQueue) {
        let budget = self.budget();
        let Some(m) = self.matcher.as_mut() else { return };
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        let facts = facts(c);
        let Some(mut cs) = c.extra.as_mut().and_then(|x| x.signatures.take()) else { return };
        let ip = p.ip;
        let view = PacketView {
            version: ip.version,
            ip: ip.header,
            next_proto: ip.proto,
            src: ip.raw_src,
            dst: ip.raw_dst,
            transport: ip.payload,
        };
        let mut out = Collect::new(c, q);
        m.init_endpoint(&mut cs, is_orig, &view, facts, &mut out);
        match p.l4 {
            L4::Udp(u) if cs.admit(u.payload.len(), &budget).now => {
                m.data(&mut cs, is_orig, PatternType::Payload, u.payload, facts, &mut out);
                m.clear_endpoint(&mut cs, is_orig, facts, &mut out);
            }
            L4::Icmp(i) => {
                m.data(&mut cs, is_orig, PatternType::Payload, i.payload, facts, &mut out);
                m.restart_endpoint(&mut cs, is_orig);
            }
            _ => {}
        }
        let fired = out.fired;
        c.extra.get_or_insert_with(Box::default).signatures = Some(cs);
        self.sig_fired(slot, fired, q);
    }

    /// In-order TCP payload of side `is_orig` from the reassembler.
    pub(super) fn sig_stream(&mut self, slot: u32, is_orig: bool, data: &[u8], q: &mut EventQueue) {
        let budget = self.budget();
        let Some(m) = self.matcher.as_mut() else { return };
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        let facts = facts(c);
        let Some(cs) = c.extra.as_mut().and_then(|x| x.signatures.as_mut()) else { return };
        if !cs.started(is_orig) || !cs.admit(data.len(), &budget).now {
            return;
        }
        let mut cs = c.extra.as_mut().and_then(|x| x.signatures.take()).expect("checked above");
        let mut out = Collect::new(c, q);
        m.data(&mut cs, is_orig, PatternType::Payload, data, facts, &mut out);
        let fired = out.fired;
        c.extra.get_or_insert_with(Box::default).signatures = Some(cs);
        self.sig_fired(slot, fired, q);
    }

    /// The connection in `slot` is being removed: negated dependencies are decided.
    pub(super) fn sig_finish(&mut self, slot: u32, q: &mut EventQueue) {
        let Some(m) = self.matcher.as_mut() else { return };
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        let facts = facts(c);
        let Some(mut cs) = c.extra.as_mut().and_then(|x| x.signatures.take()) else { return };
        let mut out = Collect::new(c, q);
        m.finish(&mut cs, facts, &mut out);
        let fired = out.fired;
        self.sig_fired(slot, fired, q);
    }

    fn budget(&self) -> Budget {
        Budget {
            buffer_size: self.cfg.dpd.buffer_size as u64,
            max_packets: self.cfg.dpd.max_packets,
            only_beginning: self.cfg.dpd.match_only_beginning,
        }
    }

    /// Raises the events of what fired and hands on its analyzer requests.
    fn sig_fired(&mut self, slot: u32, fired: Vec<Fired>, q: &mut EventQueue) {
        if fired.is_empty() {
            return;
        }
        let Some(set) = self.matcher.as_ref().map(|m| m.set().clone()) else { return };
        let Some(c) = self.conn(slot) else { return };
        let req = raise_fired(&set, fired, c, q);
        if req != SignatureRequests::default() {
            self.signature_requests(slot, req, q);
        }
    }

    /// What fired signatures' `enable` / `disable` actions ask of the
    /// connection in `slot`: dynamic protocol detection attaches each
    /// analyzer to enable (replaying the connection's start to it, see
    /// [`AnalyzerSet::enable`](crate::analyzers::AnalyzerSet::enable)) and
    /// stops each to disable. Names weir has no analyzer for are ignored.
    pub fn signature_requests(&mut self, slot: u32, req: SignatureRequests, q: &mut EventQueue) {
        for (name, _is_orig) in &req.enable {
            match crate::analyzers::Tag::from_name(analyzer_name(name)) {
                Some(tag) => {
                    let attached = self.enable_analyzer(slot, tag, q);
                    tracing::debug!(slot, analyzer = name.as_str(), attached, "signature enables an analyzer");
                }
                None => tracing::debug!(slot, analyzer = name.as_str(), "signature enables an analyzer weir does not have"),
            }
        }
        for name in &req.disable {
            if let (Some(tag), Some(set)) = (crate::analyzers::Tag::from_name(analyzer_name(name)), self.analyzers(slot)) {
                set.disable_tag(tag);
            }
        }
    }
}

/// Raises the events the signatures in `fired` ask for on connection `c`
/// (`signature_match`, or a custom `event name ["msg"]`, each only when a
/// handler takes it) and returns their analyzer requests.
pub(crate) fn raise_fired(
    set: &crate::signatures::RuleSet,
    fired: Vec<Fired>,
    c: &Conn,
    q: &mut EventQueue,
) -> SignatureRequests {
    let mut req = SignatureRequests::default();
    for f in fired {
        let (events, enable, disable) = actions::sort_out(set, &f);
        req.enable.extend(enable);
        req.disable.extend(disable);
        for e in events {
            let want = match e.name {
                None => q.wants(EventKind::SignatureMatch),
                Some(_) => q.wants(EventKind::SignatureEvent),
            };
            if !want {
                continue;
            }
            let state =
                Box::new(SignatureState { sig_id: e.sig_id, conn: c.snapshot(), is_orig: f.is_orig, payload_size: f.payload_size });
            match e.name {
                None => q.push(Event::SignatureMatch { state, msg: e.msg, data: f.data.clone() }),
                Some(name) => q.push(Event::SignatureEvent {
                    name,
                    state,
                    msg: e.has_msg.then_some(e.msg),
                    data: f.data.clone(),
                    end_of_match: f.end_of_match,
                }),
            }
        }
    }
    req
}

/// The analyzer of an `enable` action's name: `http`, or a child such as
/// `pia_tcp:http` names the part after the colon.
pub(crate) fn analyzer_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The facts the conditions read off a connection.
pub(crate) fn facts(c: &Conn) -> ConnFacts {
    let established =
        |s: EndpointState| !matches!(s, EndpointState::Inactive | EndpointState::SynSent | EndpointState::SynAckSent);
    ConnFacts {
        tcp: c.proto == 6,
        udp: c.proto == 17,
        established: match &c.state {
            ProtoState::Tcp(t) => established(t.orig.state) && established(t.resp.state),
            _ => false,
        },
        same_ip: c.orig.0 == c.resp.0,
    }
}
