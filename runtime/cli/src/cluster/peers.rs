//! The peers of a node: every node says hello on the cluster's control
//! subject (`weir.<cluster>.control`) when it starts, with its weir version
//! and the events its handlers take; each node that hears it answers in the
//! newcomer's inbox (`weir.<cluster>.node.<name>`). Nodes then send a
//! heartbeat each `heartbeat_secs`, a goodbye when they stop, and the
//! manager pings its peers each `ping_secs`. What a node learns this way
//! becomes the seed's communication events ([`PeerEvent`]).

use super::config::{Cluster, Node};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;
use weir_engine::events::{Event, EventPeer, Port, Transport};

/// The version a peer must run to be taken: this build's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `remote_log`'s level of an informational message.
pub const LOG_INFO: u64 = 1;
/// `remote_log`'s level of an error.
pub const LOG_ERROR: u64 = 2;
/// `remote_log`'s source of the communication layer's own messages (Bro's
/// "parent" process, which did the communication).
pub const SRC_LAYER: u64 = 2;

/// What kind of control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Hello,
    Welcome,
    Heartbeat,
    Goodbye,
    Ping,
    Pong,
}

/// One control message (JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Control {
    kind: Kind,
    cluster: String,
    node: String,
    role: String,
    version: String,
    /// The events the sender's handlers take (hello, welcome).
    #[serde(default)]
    topics: Vec<String>,
    /// Ping and pong: the ping's number.
    #[serde(default)]
    seq: u64,
    /// Ping and pong: the pinger's clock when it sent the ping.
    #[serde(default)]
    sent: f64,
    /// Pong: the answering node's clock when the ping arrived.
    #[serde(default)]
    received: f64,
    /// Pong: the answering node's clock when it answered.
    #[serde(default)]
    answered: f64,
}

/// A peer node as the events name it.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    /// A number for this node's life in the cluster (1, 2, ... in order of hellos).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Its host from the cluster file, when that is an address.
    pub host: Option<IpAddr>,
}

/// What the peers layer tells the node's handlers.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerEvent {
    /// A peer's hello (or its answer to ours) arrived.
    Established(Peer),
    /// The version check passed and the subscriptions are exchanged.
    HandshakeDone(Peer),
    /// The peer takes this event.
    Registered(Peer, String),
    /// The peer said goodbye, or missed its heartbeats.
    Closed(Peer),
    /// The peer was refused (another version or cluster), or the server was lost.
    Error(Peer, String),
    /// The answer to a ping: its number and the three delays.
    Pong(Peer, u64, f64, f64, f64),
    /// The layer's own message, about a peer or not.
    Log(Option<Peer>, u64, String),
}

impl Peer {
    fn event_peer(&self) -> Box<EventPeer> {
        Box::new(EventPeer {
            id: self.id,
            host: self.host.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            p: Port { number: 0, proto: Transport::Tcp },
            is_local: false,
            descr: self.name.clone(),
            class: Some(self.role.clone()),
        })
    }
}

impl PeerEvent {
    /// The engine event this becomes.
    pub fn event(self) -> Event {
        match self {
            PeerEvent::Established(p) => Event::RemoteConnectionEstablished { p: p.event_peer() },
            PeerEvent::HandshakeDone(p) => Event::RemoteConnectionHandshakeDone { p: p.event_peer() },
            PeerEvent::Registered(p, name) => Event::RemoteEventRegistered { p: p.event_peer(), name },
            PeerEvent::Closed(p) => Event::RemoteConnectionClosed { p: p.event_peer() },
            PeerEvent::Error(p, reason) => Event::RemoteConnectionError { p: p.event_peer(), reason },
            PeerEvent::Pong(p, seq, d1, d2, d3) => Event::RemotePong { p: p.event_peer(), seq, d1, d2, d3 },
            PeerEvent::Log(Some(p), level, msg) => Event::RemoteLogPeer { p: p.event_peer(), level, src: SRC_LAYER, msg },
            PeerEvent::Log(None, level, msg) => Event::RemoteLog { level, src: SRC_LAYER, msg },
        }
    }
}

/// Seconds since the epoch on this node's clock.
fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A peer that said hello, and when it was last heard.
struct Known {
    peer: Peer,
    heard: Instant,
}

/// The peers layer of one node.
struct Layer<'a> {
    client: async_nats::Client,
    cluster: &'a Cluster,
    node: &'a Node,
    topics: Vec<String>,
    out: Option<std::sync::mpsc::Sender<PeerEvent>>,
    known: HashMap<String, Known>,
    next_id: u64,
    ping_seq: u64,
}

impl Layer<'_> {
    fn tell(&self, e: PeerEvent) {
        if let Some(out) = &self.out {
            let _ = out.send(e);
        }
    }

    fn message(&self, kind: Kind) -> Control {
        Control {
            kind,
            cluster: self.cluster.name.clone(),
            node: self.node.name.clone(),
            role: self.node.role.name().to_string(),
            version: VERSION.to_string(),
            topics: if matches!(kind, Kind::Hello | Kind::Welcome) { self.topics.clone() } else { Vec::new() },
            seq: 0,
            sent: 0.0,
            received: 0.0,
            answered: 0.0,
        }
    }

    async fn send(&self, subject: String, m: &Control) {
        let body = serde_json::to_vec(m).expect("a control message serializes");
        if let Err(e) = self.client.publish(subject, body.into()).await {
            tracing::warn!("cluster control message: {e}");
        }
    }

    fn inbox(&self, node: &str) -> String {
        self.cluster.subject(&format!("node.{node}"))
    }

    fn peer_of(&mut self, m: &Control) -> Peer {
        if let Some(k) = self.known.get(&m.node) {
            return k.peer.clone();
        }
        self.next_id += 1;
        let host = self.cluster.nodes.iter().find(|n| n.name == m.node).and_then(|n| n.host.parse().ok());
        Peer { id: self.next_id, name: m.node.clone(), role: m.role.clone(), host }
    }

    async fn handle(&mut self, m: Control) {
        if m.node == self.node.name {
            return;
        }
        match m.kind {
            Kind::Hello | Kind::Welcome => {
                let peer = self.peer_of(&m);
                if m.kind == Kind::Hello {
                    // Answered even when refused, so that the newcomer refuses us too.
                    self.send(self.inbox(&m.node), &self.message(Kind::Welcome)).await;
                }
                self.known.remove(&m.node);
                self.tell(PeerEvent::Established(peer.clone()));
                let refusal = if m.cluster != self.cluster.name {
                    Some(format!("node {} belongs to cluster {}, this node to {}", m.node, m.cluster, self.cluster.name))
                } else if m.version != VERSION {
                    Some(format!("node {} runs weir {}, this node {VERSION}", m.node, m.version))
                } else if !self.cluster.nodes.iter().any(|n| n.name == m.node) {
                    Some(format!("node {} is not in the cluster file", m.node))
                } else {
                    None
                };
                if let Some(reason) = refusal {
                    tracing::error!("{reason}: refused");
                    self.tell(PeerEvent::Error(peer, reason));
                    return;
                }
                tracing::info!("peer {} ({}) is up", m.node, m.role);
                self.tell(PeerEvent::HandshakeDone(peer.clone()));
                for t in &m.topics {
                    self.tell(PeerEvent::Registered(peer.clone(), t.clone()));
                }
                self.known.insert(m.node.clone(), Known { peer, heard: Instant::now() });
            }
            Kind::Heartbeat => {
                if let Some(k) = self.known.get_mut(&m.node) {
                    k.heard = Instant::now();
                }
            }
            Kind::Goodbye => {
                if let Some(k) = self.known.remove(&m.node) {
                    tracing::info!("peer {} said goodbye", m.node);
                    self.tell(PeerEvent::Closed(k.peer));
                }
            }
            Kind::Ping => {
                let received = now();
                let mut pong = self.message(Kind::Pong);
                pong.seq = m.seq;
                pong.sent = m.sent;
                pong.received = received;
                pong.answered = now();
                self.send(self.inbox(&m.node), &pong).await;
            }
            Kind::Pong => {
                if let Some(k) = self.known.get_mut(&m.node) {
                    k.heard = Instant::now();
                    let (d1, d2, d3) = (now() - m.sent, m.received - m.sent, m.answered - m.received);
                    let peer = k.peer.clone();
                    self.tell(PeerEvent::Pong(peer, m.seq, d1, d2, d3));
                }
            }
        }
    }

    /// Peers not heard for `missed` heartbeats are closed.
    fn expire(&mut self) {
        let limit = self.cluster.heartbeat() * self.cluster.missed_heartbeats;
        let gone: Vec<String> = self.known.iter().filter(|(_, k)| k.heard.elapsed() > limit).map(|(n, _)| n.clone()).collect();
        for name in gone {
            if let Some(k) = self.known.remove(&name) {
                let msg = format!("peer {name} missed {} heartbeats", self.cluster.missed_heartbeats);
                tracing::warn!("{msg}");
                self.tell(PeerEvent::Log(Some(k.peer.clone()), LOG_ERROR, msg));
                self.tell(PeerEvent::Closed(k.peer));
            }
        }
    }

    async fn ping_all(&mut self) {
        self.ping_seq += 1;
        let mut ping = self.message(Kind::Ping);
        ping.seq = self.ping_seq;
        ping.sent = now();
        let names: Vec<String> = self.known.keys().cloned().collect();
        for n in names {
            self.send(self.inbox(&n), &ping).await;
        }
    }
}

/// The server as a peer, for `remote_connection_error` when it is lost.
fn server_peer(cluster: &Cluster) -> Peer {
    Peer { id: 0, name: format!("NATS server {}", cluster.nats), role: "server".into(), host: None }
}

/// Runs node `node`'s peers layer until `stop` fires, then says goodbye.
/// `topics`: the events its handlers take; `out`: where its events go
/// (none: the node only takes part).
pub async fn run(
    client: async_nats::Client,
    cluster: Cluster,
    node: Node,
    topics: Vec<String>,
    out: Option<std::sync::mpsc::Sender<PeerEvent>>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let control = cluster.subject("control");
    let (mut all, mut mine) = match (client.subscribe(control.clone()).await, client.subscribe(cluster.subject(&format!("node.{}", node.name))).await) {
        (Ok(a), Ok(m)) => (a, m),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!("cluster control subject: {e}");
            return;
        }
    };
    let mut layer = Layer { client: client.clone(), cluster: &cluster, node: &node, topics, out, known: HashMap::new(), next_id: 0, ping_seq: 0 };
    layer.send(control.clone(), &layer.message(Kind::Hello)).await;
    let mut tick = tokio::time::interval(cluster.heartbeat());
    let ping = cluster.ping();
    let mut last_ping = Instant::now();
    let mut connected = true;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(m) = all.next() => match serde_json::from_slice::<Control>(&m.payload) {
                Ok(c) => layer.handle(c).await,
                Err(e) => layer.tell(PeerEvent::Log(None, LOG_ERROR, format!("a control message that is not one: {e}"))),
            },
            Some(m) = mine.next() => match serde_json::from_slice::<Control>(&m.payload) {
                Ok(c) => layer.handle(c).await,
                Err(e) => layer.tell(PeerEvent::Log(None, LOG_ERROR, format!("a control message that is not one: {e}"))),
            },
            _ = tick.tick() => {
                let up = client.connection_state() == async_nats::connection::State::Connected;
                if up != connected {
                    connected = up;
                    let (level, msg) = if up { (LOG_INFO, "reconnected to the NATS server") } else { (LOG_ERROR, "lost the NATS server") };
                    layer.tell(PeerEvent::Log(None, level, msg.to_string()));
                    if !up {
                        layer.tell(PeerEvent::Error(server_peer(&cluster), format!("lost the NATS server at {}", cluster.nats)));
                    } else {
                        // Peers that missed us while the server was away hear us again.
                        layer.send(control.clone(), &layer.message(Kind::Hello)).await;
                    }
                }
                layer.send(control.clone(), &layer.message(Kind::Heartbeat)).await;
                layer.expire();
                if node.role == super::Role::Manager && ping.is_some_and(|p| last_ping.elapsed() >= p) {
                    last_ping = Instant::now();
                    layer.ping_all().await;
                }
            }
        }
    }
    layer.send(control, &layer.message(Kind::Goodbye)).await;
    let _ = client.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_read_back() {
        let m = Control {
            kind: Kind::Hello,
            cluster: "site".into(),
            node: "worker-1".into(),
            role: "worker".into(),
            version: VERSION.into(),
            topics: vec!["connection_state_remove".into()],
            seq: 0,
            sent: 0.0,
            received: 0.0,
            answered: 0.0,
        };
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"kind\":\"hello\""), "{text}");
        let back: Control = serde_json::from_str(&text).unwrap();
        assert_eq!(back.topics, m.topics);
        assert_eq!(back.kind, Kind::Hello);
        // A heartbeat needs no topics nor ping fields.
        let hb: Control = serde_json::from_str(r#"{"kind":"heartbeat","cluster":"c","node":"n","role":"worker","version":"0"}"#).unwrap();
        assert_eq!(hb.kind, Kind::Heartbeat);
    }

    #[test]
    fn peer_events_become_the_seed_events() {
        let p = Peer { id: 3, name: "worker-2".into(), role: "worker".into(), host: Some("10.0.0.9".parse().unwrap()) };
        match PeerEvent::Registered(p.clone(), "new_connection".into()).event() {
            Event::RemoteEventRegistered { p, name } => {
                assert_eq!((p.id, p.descr.as_str(), p.class.as_deref(), name.as_str()), (3, "worker-2", Some("worker"), "new_connection"));
                assert_eq!(p.host, "10.0.0.9".parse::<IpAddr>().unwrap());
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(PeerEvent::Log(None, LOG_ERROR, "x".into()).event(), Event::RemoteLog { level: 2, src: 2, .. }));
    }
}
