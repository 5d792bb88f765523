//! A manager-side view of a weir cluster: one `peers.log` row per peer
//! event (`weir run --cluster FILE --node manager --handler cluster_peers.wasm`),
//! with the peer's name and role and what happened.

use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::EventPeer;
use weir_guest::{runtime, Handler, Stream};

static PEERS: Stream = Stream::new(
    "peers",
    &[("ts", T::Time), ("event", T::String), ("peer", T::String), ("role", T::String), ("id", T::Count), ("detail", T::String)],
);

fn row(event: &str, p: &EventPeer, detail: String) {
    PEERS.write(&[
        V::Time(runtime::network_time()),
        V::String(event.into()),
        V::String(p.descr.clone()),
        V::String(p.class.clone().unwrap_or_default()),
        V::Count(p.id),
        V::String(detail),
    ]);
}

struct Peers;

impl Handler for Peers {
    fn remote_connection_established(p: EventPeer) {
        row("established", &p, String::new());
    }

    fn remote_connection_handshake_done(p: EventPeer) {
        row("handshake_done", &p, String::new());
    }

    fn remote_event_registered(p: EventPeer, name: String) {
        row("event_registered", &p, name);
    }

    fn remote_connection_closed(p: EventPeer) {
        row("closed", &p, String::new());
    }

    fn remote_connection_error(p: EventPeer, reason: String) {
        row("error", &p, reason);
    }

    fn remote_pong(p: EventPeer, seq: u64, d1: f64, d2: f64, d3: f64) {
        row("pong", &p, format!("seq={seq} d1={d1:.6} d2={d2:.6} d3={d3:.6}"));
    }

    fn remote_log_peer(p: EventPeer, level: u64, src: u64, msg: String) {
        row("log", &p, format!("level={level} src={src} {msg}"));
    }
}

weir_guest::export_handler!(
    Peers: remote_connection_established,
    remote_connection_handshake_done,
    remote_event_registered,
    remote_connection_closed,
    remote_connection_error,
    remote_pong,
    remote_log_peer
);
