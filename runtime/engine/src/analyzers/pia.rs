//! A detecting child (Zeek's PIA placed below an analyzer): protocol
//! detection over a stream an analyzer hands on, as HTTP hands on what
//! follows a successful CONNECT or an upgrade. It has its own detection
//! buffer ([`Detector`], the same `dpd_*` limits as a connection's) and its
//! own signature matching state, whose endpoints are set up as Zeek sets
//! them up for such a child: from a made-up IPv4/TCP header carrying the
//! connection's addresses and ports, so that only the rules without header
//! conditions, or whose conditions such a header meets, apply. A fired
//! rule's `enable` attaches that analyzer as a [`Child`] (once per tag, if
//! enabled), replaying the buffered start of the stream; its events are
//! raised like any signature's.

use super::child::Child;
use super::context::Cx;
use super::detect::{Chunk, Detector, State};
use super::registry::Tag;
use crate::sessions::signatures::Collect;
use crate::signatures::{ConnMatch, Fired, PacketView, PatternType};
use std::net::{IpAddr, Ipv4Addr};

/// The detecting child of one analyzer.
#[derive(Clone, Debug)]
pub struct Pia {
    parent_aid: u64,
    detector: Detector,
    /// None when no signature set is loaded.
    sigs: Option<Box<ConnMatch>>,
    children: Vec<Child>,
}

impl Pia {
    /// A detecting child of the analyzer whose context `cx` is; both sides'
    /// matching starts now (Zeek's `FirstPacket` for each side).
    pub fn new(cx: &mut Cx<'_, '_>) -> Pia {
        let mut pia = Pia { parent_aid: cx.aid(), detector: Detector::default(), sigs: None, children: Vec::new() };
        let env = cx.env();
        if let Some(m) = env.matcher.as_deref_mut() {
            let mut cs = Box::<ConnMatch>::default();
            let facts = crate::sessions::signatures::facts(env.conn);
            let mut out = Collect::new(env.conn, env.q);
            for is_orig in [true, false] {
                let (ip, tcp, src, dst) = made_up_header(env.conn, is_orig);
                let view = PacketView { version: 4, ip: &ip, next_proto: 6, src, dst, transport: &tcp };
                m.init_endpoint(&mut cs, is_orig, &view, facts, &mut out);
            }
            let fired = out.fired;
            pia.sigs = Some(cs);
            pia.fired(fired, b"", cx);
        }
        pia
    }

    /// The analyzers detection attached so far, in order.
    pub fn tags(&self) -> Vec<Tag> {
        self.children.iter().map(Child::tag).collect()
    }

    /// The next in-order bytes of one direction: to the attached children,
    /// then to detection while it goes on.
    pub fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        for c in &mut self.children {
            c.stream(is_orig, data, cx);
        }
        if data.is_empty() || !self.detector.matching() {
            return;
        }
        let mut fired = Vec::new();
        let env = cx.env();
        if let (Some(m), Some(cs)) = (env.matcher.as_deref_mut(), self.sigs.as_deref_mut()) {
            let facts = crate::sessions::signatures::facts(env.conn);
            let mut out = Collect::new(env.conn, env.q);
            m.data(cs, is_orig, PatternType::Payload, data, facts, &mut out);
            fired = out.fired;
        }
        // Analyzers attached now get the buffer and this chunk, as Zeek's
        // PIA buffers a chunk before matching it.
        self.fired(fired, data, cx);
        let lim = cx.cfg().dpd;
        self.detector.data(is_orig, data, &lim);
    }

    /// `len` bytes of one direction that never came.
    pub fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        for c in &mut self.children {
            c.gap(is_orig, len, cx);
        }
        let lim = cx.cfg().dpd;
        self.detector.gap(is_orig, len, &lim);
    }

    /// The end of one direction's data.
    pub fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        for c in &mut self.children {
            c.end_of_data(is_orig, cx);
        }
    }

    /// The parent is done: negated dependencies are decided, then the
    /// children are done.
    pub fn done(&mut self, cx: &mut Cx<'_, '_>) {
        let mut fired = Vec::new();
        let env = cx.env();
        if let (Some(m), Some(mut cs)) = (env.matcher.as_deref_mut(), self.sigs.take()) {
            let facts = crate::sessions::signatures::facts(env.conn);
            let mut out = Collect::new(env.conn, env.q);
            m.finish(&mut cs, facts, &mut out);
            fired = out.fired;
        }
        self.fired(fired, b"", cx);
        for c in &mut self.children {
            c.done(cx);
        }
    }

    /// Raises what the fired rules ask for and attaches the analyzers they
    /// enable; `current` is the chunk being matched (not yet buffered).
    fn fired(&mut self, fired: Vec<Fired>, current: &[u8], cx: &mut Cx<'_, '_>) {
        if fired.is_empty() {
            return;
        }
        let env = cx.env();
        let Some(set) = env.matcher.as_deref().map(|m| m.set().clone()) else { return };
        let req = crate::sessions::signatures::raise_fired(&set, fired, env.conn, env.q);
        for (name, is_orig) in req.enable {
            let name = crate::sessions::signatures::analyzer_name(&name);
            match Tag::from_name(name) {
                Some(tag) => self.attach(tag, is_orig, current, cx),
                None => tracing::debug!(analyzer = name, "a signature below an analyzer enables one weir does not have"),
            }
        }
        for name in req.disable {
            if let Some(tag) = Tag::from_name(crate::sessions::signatures::analyzer_name(&name)) {
                self.children.retain(|c| c.tag() != tag);
            }
        }
    }

    /// Attaches `tag` unless it is attached already, disabled, or the
    /// buffer is gone (a late match), and replays the buffer to it, then
    /// `current` (from the side `current_orig`).
    fn attach(&mut self, tag: Tag, current_orig: bool, current: &[u8], cx: &mut Cx<'_, '_>) {
        if self.children.iter().any(|c| c.tag() == tag) {
            return;
        }
        if cx.env().registry.is_some_and(|r| !r.is_enabled(tag)) {
            return;
        }
        let lim = cx.cfg().dpd;
        let buffered = self.detector.state() == State::Buffering;
        let Some(replay) = self.detector.replay(&lim) else { return };
        let replay = replay.to_vec();
        let Some(analyzer) = tag.instantiate(cx.cfg()) else { return };
        let mut child = Child::nth(analyzer, self.parent_aid, self.children.len() as u64);
        tracing::debug!(analyzer = tag.name(), "detected below an analyzer");
        for (is_orig, chunk) in &replay {
            match chunk {
                Chunk::Data(d) => child.stream(*is_orig, d, cx),
                Chunk::Gap(n) => child.gap(*is_orig, *n, cx),
            }
        }
        if buffered && !current.is_empty() {
            child.stream(current_orig, current, cx);
        }
        self.children.push(child);
    }
}

/// The header Zeek makes up for a child's first packet on side `is_orig`:
/// IPv4 and TCP with the connection's addresses (an IPv6 address gives its
/// last four bytes) and ports, the rest zero.
fn made_up_header(c: &crate::sessions::conn::Conn, is_orig: bool) -> ([u8; 20], [u8; 20], IpAddr, IpAddr) {
    let v4 = |a: IpAddr| match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(a) => {
            let o = a.octets();
            Ipv4Addr::new(o[12], o[13], o[14], o[15])
        }
    };
    let (s, d) = if is_orig { (c.orig, c.resp) } else { (c.resp, c.orig) };
    let (src, dst) = (v4(s.0), v4(d.0));
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&40u16.to_be_bytes());
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    let mut tcp = [0u8; 20];
    tcp[0..2].copy_from_slice(&s.1.to_be_bytes());
    tcp[2..4].copy_from_slice(&d.1.to_be_bytes());
    (ip, tcp, IpAddr::V4(src), IpAddr::V4(dst))
}

#[cfg(test)]
mod tests {
    use crate::analyzers::http::Http;
    use crate::analyzers::testing::Harness;
    use crate::events::Event;
    use crate::signatures::{Idents, Matcher, RuleSet};
    use std::sync::Arc;

    fn tls_record(hs_type: u8) -> Vec<u8> {
        // A handshake record whose first message has type `hs_type`: enough
        // for weir's detection rules; the SSL analyzer then parses it.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        if hs_type == 1 {
            body.extend_from_slice(&[0, 2, 0xc0, 0x2f, 1, 0]);
        } else {
            body.extend_from_slice(&[0xc0, 0x2f, 0]);
        }
        body.extend_from_slice(&[0, 0]);
        let mut hs = vec![hs_type, 0, 0, body.len() as u8];
        hs.extend(body);
        let mut rec = vec![22, 3, 3, 0, hs.len() as u8];
        rec.extend(hs);
        rec
    }

    fn confirmed(evs: &[Event]) -> Vec<String> {
        evs.iter()
            .filter_map(|e| match e {
                Event::ProtocolConfirmation { atype, .. } => Some(atype.name.clone()),
                _ => None,
            })
            .collect()
    }

    fn run(with_signatures: bool) -> (Vec<String>, Vec<&'static str>) {
        let mut h = Harness::new(6, 8080);
        if with_signatures {
            let set = RuleSet::load(true, &[], &Idents::new()).expect("weir's dpd.sig loads");
            h.matcher = Some(Matcher::new(Arc::new(set)));
        }
        let mut a = Http::new(&h.cfg);
        let mut seen = Vec::new();
        seen.extend(confirmed(&h.stream(&mut a, true, b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org\r\n\r\n")));
        // The client hello comes in the same segment as the end of the reply.
        let mut reply = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: p\r\n\r\n".to_vec();
        seen.extend(confirmed(&h.stream(&mut a, false, &reply)));
        seen.extend(confirmed(&h.stream(&mut a, true, &tls_record(1))));
        reply = tls_record(2);
        seen.extend(confirmed(&h.stream(&mut a, false, &reply)));
        let service = h.conn.extra.as_ref().map(|x| x.service.clone()).unwrap_or_default();
        (seen, service)
    }

    #[test]
    fn tls_inside_a_connect_tunnel_is_detected_and_analyzed() {
        let (seen, service) = run(true);
        assert_eq!(seen, ["HTTP", "SSL"], "HTTP confirms at the request, SSL at the server hello");
        assert_eq!(service, ["HTTP", "SSL"]);
    }

    #[test]
    fn without_signatures_nothing_is_detected_in_the_tunnel() {
        let (seen, service) = run(false);
        assert_eq!(seen, ["HTTP"]);
        assert_eq!(service, ["HTTP"]);
    }
}
