//! The standard tunnel.log handler: Zeek's `base/frameworks/tunnels/main.zeek`.
//! `Tunnel::DISCOVER` when a tunnel first appears in a connection's
//! encapsulation (at `new_connection` or `tunnel_changed`), `Tunnel::CLOSE`
//! when the tunnel's own connection is removed.

use std::cell::RefCell;
use std::collections::HashSet;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{Connection, EncapsulatingConn, TunnelType};
use weir_guest::{runtime, Handler, Stream};

static TUNNEL: Stream = Stream::new(
    "tunnel",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("tunnel_type", T::Enum),
        ("action", T::Enum),
    ],
);

thread_local! {
    /// Tunnels discovered and not yet closed, by uid.
    static ACTIVE: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

fn type_name(t: TunnelType) -> &'static str {
    match t {
        TunnelType::None => "Tunnel::NONE",
        TunnelType::Ip => "Tunnel::IP",
        TunnelType::Ayiya => "Tunnel::AYIYA",
        TunnelType::Teredo => "Tunnel::TEREDO",
        TunnelType::Socks => "Tunnel::SOCKS",
        TunnelType::Gtpv1 => "Tunnel::GTPv1",
        TunnelType::Http => "Tunnel::HTTP",
        TunnelType::Gre => "Tunnel::GRE",
        TunnelType::Vxlan => "Tunnel::VXLAN",
        TunnelType::Geneve => "Tunnel::GENEVE",
    }
}

fn write(e: &EncapsulatingConn, uid: &str, action: &str) {
    TUNNEL.write(&[
        V::Time(runtime::network_time()),
        V::String(uid.to_string()),
        V::Addr(e.cid.orig_h),
        V::Port(e.cid.orig_p),
        V::Addr(e.cid.resp_h),
        V::Port(e.cid.resp_p),
        V::Enum(type_name(e.tunnel_type).to_string()),
        V::Enum(action.to_string()),
    ]);
}

fn discover(stack: &[EncapsulatingConn]) {
    for e in stack {
        let Some(uid) = &e.uid else { continue };
        if ACTIVE.with(|a| a.borrow_mut().insert(uid.clone())) {
            write(e, uid, "Tunnel::DISCOVER");
        }
    }
}

/// Remembered endpoints of active tunnels, for the CLOSE line.
thread_local! {
    static SEEN: RefCell<Vec<EncapsulatingConn>> = const { RefCell::new(Vec::new()) };
}

fn remember(stack: &[EncapsulatingConn]) {
    SEEN.with(|s| {
        let mut s = s.borrow_mut();
        for e in stack {
            if !s.iter().any(|x| x.uid == e.uid) {
                s.push(e.clone());
            }
        }
    });
}

struct Tunnel;

impl Handler for Tunnel {
    fn new_connection(c: Connection) {
        if let Some(t) = &c.tunnel {
            remember(t);
            discover(t);
        }
    }

    fn tunnel_changed(_c: Connection, e: Vec<EncapsulatingConn>) {
        remember(&e);
        discover(&e);
    }

    fn connection_state_remove(c: Connection) {
        if !ACTIVE.with(|a| a.borrow_mut().remove(&c.uid)) {
            return;
        }
        let e = SEEN.with(|s| {
            let mut s = s.borrow_mut();
            let at = s.iter().position(|x| x.uid.as_deref() == Some(c.uid.as_str()))?;
            Some(s.swap_remove(at))
        });
        if let Some(e) = e {
            write(&e, &c.uid, "Tunnel::CLOSE");
        }
    }
}

weir_guest::export_handler!(Tunnel: new_connection, tunnel_changed, connection_state_remove);
