//! The standard weird.log handler: Zeek's `base/frameworks/notice/weird.zeek`
//! (every weird logged, action `Weird::ACTION_LOG`; peer is `zeek`).

use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{Connection, IpAddress};
use weir_guest::{runtime, Handler, Stream};

static WEIRD: Stream = Stream::new(
    "weird",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("name", T::String),
        ("addl", T::String),
        ("notice", T::Bool),
        ("peer", T::String),
        ("source", T::String),
    ],
);

fn opt(s: String) -> V {
    if s.is_empty() {
        V::Unset
    } else {
        V::String(s)
    }
}

fn write(uid: V, id: [V; 4], name: String, addl: String, source: String) {
    let [oh, op, rh, rp] = id;
    WEIRD.write(&[
        V::Time(runtime::network_time()),
        uid,
        oh,
        op,
        rh,
        rp,
        V::String(name),
        opt(addl),
        V::Bool(false),
        V::String("zeek".into()),
        opt(source),
    ]);
}

struct Weird;

impl Handler for Weird {
    fn conn_weird(name: String, c: Connection, addl: String, source: String) {
        let id = [V::Addr(c.id.orig_h), V::Port(c.id.orig_p), V::Addr(c.id.resp_h), V::Port(c.id.resp_p)];
        write(V::String(c.uid), id, name, addl, source);
    }
    fn flow_weird(name: String, src: IpAddress, dst: IpAddress, addl: String, source: String) {
        write(V::Unset, [V::Addr(src), V::Unset, V::Addr(dst), V::Unset], name, addl, source);
    }
    fn net_weird(name: String, addl: String, source: String) {
        write(V::Unset, [V::Unset, V::Unset, V::Unset, V::Unset], name, addl, source);
    }
}

weir_guest::export_handler!(Weird: conn_weird, flow_weird, net_weird);
