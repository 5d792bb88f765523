//! Port-scan detector (the same in every language of examples/scan/): counts the
//! distinct responder ports (TCP and UDP) each originator reached, over
//! `connection_state_remove`, and writes one scan.log line when an originator
//! reaches `THRESHOLD` ports.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{Connection, Transport};
use weir_guest::{ip, runtime, Handler, Stream};

/// Distinct responder ports at which an originator counts as a scanner.
const THRESHOLD: usize = 20;

static SCAN: Stream = Stream::new(
    "scan",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("scanner", T::Addr),
        ("ports", T::Count),
        ("victim", T::Addr),
        ("port", T::Port),
        ("note", T::Enum),
    ],
);

thread_local! {
    /// Originator → distinct (port, transport) pairs seen.
    static SEEN: RefCell<HashMap<IpAddr, HashSet<(u16, u8)>>> = RefCell::new(HashMap::new());
}

struct Scan;

impl Handler for Scan {
    fn connection_state_remove(c: Connection) {
        let proto = match c.id.resp_p.proto {
            Transport::Tcp => 0,
            Transport::Udp => 1,
            _ => return,
        };
        let ports = SEEN.with(|s| {
            let mut s = s.borrow_mut();
            let set = s.entry(ip(&c.id.orig_h)).or_default();
            set.insert((c.id.resp_p.number, proto));
            set.len()
        });
        if ports == THRESHOLD {
            SCAN.write(&[
                V::Time(runtime::network_time()),
                V::String(c.uid),
                V::Addr(c.id.orig_h),
                V::Count(ports as u64),
                V::Addr(c.id.resp_h),
                V::Port(c.id.resp_p),
                V::Enum("Scan::Port_Scan".into()),
            ]);
        }
    }
}

weir_guest::export_handler!(Scan: connection_state_remove);
