//! The standard tunnel.log handler: Zeek's `base/frameworks/tunnels/main.zeek`.
//! `Tunnel::DISCOVER` when a tunnel first appears in a connection's
//! encapsulation (at `new_connection` or `tunnel_changed`), `Tunnel::CLOSE`
//! when the tunnel's own connection is removed.
//!
//! Active tunnels are kept in one B-tree by uid (a lookup per encapsulation
//! level, never a scan), at most [`MAX_ACTIVE`] at once.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
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

/// Tunnels tracked at once; a further one is logged at discovery without a
/// CLOSE line, and a reporter warning says so once.
const MAX_ACTIVE: usize = 200_000;

thread_local! {
    /// Tunnels discovered and not yet closed, by uid, with their endpoints for the CLOSE line.
    static ACTIVE: RefCell<BTreeMap<String, EncapsulatingConn>> = const { RefCell::new(BTreeMap::new()) };
    static FULL_REPORTED: Cell<bool> = const { Cell::new(false) };
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

/// Logs DISCOVER for every tunnel of `stack` not active yet, and tracks it.
fn discover(stack: &[EncapsulatingConn]) {
    for e in stack {
        let Some(uid) = &e.uid else { continue };
        let new = ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            if a.contains_key(uid) {
                return false;
            }
            if a.len() >= MAX_ACTIVE {
                if !FULL_REPORTED.with(|r| r.replace(true)) {
                    weir_guest::reporter::warning(&format!(
                        "tunnel: {MAX_ACTIVE} tunnels active at once; further ones get no Tunnel::CLOSE line"
                    ));
                }
            } else {
                a.insert(uid.clone(), e.clone());
            }
            true
        });
        if new {
            write(e, uid, "Tunnel::DISCOVER");
        }
    }
}

struct Tunnel;

impl Handler for Tunnel {
    fn new_connection(c: Connection) {
        if let Some(t) = &c.tunnel {
            discover(t);
        }
    }

    fn tunnel_changed(_c: Connection, e: Vec<EncapsulatingConn>) {
        discover(&e);
    }

    fn connection_state_remove(c: Connection) {
        if let Some(e) = ACTIVE.with(|a| a.borrow_mut().remove(&c.uid)) {
            write(&e, &c.uid, "Tunnel::CLOSE");
        }
    }
}

weir_guest::export_handler!(Tunnel: new_connection, tunnel_changed, connection_state_remove);
