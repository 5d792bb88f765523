//! The DNS analyzer on a connection: whole datagrams over UDP, messages
//! framed by [`tcp::Framer`] over TCP, each parsed by [`message::parse`]
//! with the connection's [`Cx`] as the [`Sink`]. The first message may flip
//! the roles; a partial TCP message is parsed when a direction ends.

use super::message::{self, ConnFacts, Direction, Parser};
use super::{tcp, DnsConfig, Sink, NETBIOS_PORT};
use crate::analyzers::analyzer::Analyzer;
use crate::analyzers::context::Cx;
use crate::analyzers::registry::Tag;
use weir_events::{Connection, Event, EventKind};

/// DNS analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Dns {
    cfg: DnsConfig,
    /// Either port was 137 when the analyzer first saw data.
    netbios: Option<bool>,
    first: bool,
    orig: tcp::Framer,
    resp: tcp::Framer,
}

impl Dns {
    /// A new analyzer with the engine's DNS settings.
    pub fn new(cfg: DnsConfig) -> Dns {
        Dns { cfg, first: true, ..Dns::default() }
    }

    fn parse(cfg: &DnsConfig, netbios: &mut Option<bool>, first: &mut bool, data: &[u8], dir: Direction, cx: &mut Cx<'_, '_>) {
        let c = cx.conn();
        let is_netbios = *netbios.get_or_insert(c.orig.1 == NETBIOS_PORT || c.resp.1 == NETBIOS_PORT);
        let conn = ConnFacts {
            is_netbios,
            resp_port_netbios: c.resp.1 == NETBIOS_PORT,
            resp_multicast: c.resp.0.is_multicast(),
            udp: c.proto == 17,
        };
        let mut sink = CxSink(cx);
        message::parse(&mut Parser { sink: &mut sink, cfg, conn }, data, dir, first);
    }
}

impl Analyzer for Dns {
    fn tag(&self) -> Tag {
        Tag::Dns
    }

    fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        Dns::parse(&self.cfg, &mut self.netbios, &mut self.first, data, u8::from(is_orig), cx);
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let Dns { cfg, netbios, first, orig, resp } = self;
        let framer = if is_orig { orig } else { resp };
        framer.feed(data, |m| Dns::parse(cfg, netbios, first, m, u8::from(is_orig), cx));
    }

    /// A direction closed: both directions' partial messages are parsed, direction unknown.
    fn end_of_data(&mut self, _is_orig: bool, cx: &mut Cx<'_, '_>) {
        for is_orig in [true, false] {
            let framer = if is_orig { &mut self.orig } else { &mut self.resp };
            if let Some(m) = framer.flush() {
                Dns::parse(&self.cfg, &mut self.netbios, &mut self.first, &m, 2, cx);
            }
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The connection's context as the parser's sink.
struct CxSink<'c, 'e, 'a>(&'c mut Cx<'e, 'a>);

impl Sink for CxSink<'_, '_, '_> {
    fn wants(&self, kind: EventKind) -> bool {
        self.0.wants(kind)
    }
    fn raise<F: FnOnce(Box<Connection>) -> Event>(&mut self, build: F) {
        self.0.raise(build);
    }
    fn weird(&mut self, name: &'static str, addl: String) {
        self.0.weird(name, addl);
    }
    fn limit(&mut self, name: &'static str, addl: String) {
        self.0.limit(name, addl);
    }
    fn confirm(&mut self) {
        self.0.confirm();
    }
    fn violate(&mut self, reason: &'static str) {
        self.0.violate(reason, None);
    }
    fn flip_roles(&mut self) {
        self.0.flip_roles();
    }
}
