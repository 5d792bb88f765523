//! The standard conn.log handler: Zeek's `base/protocols/conn/main.zeek`.
//! One record per connection, written at `connection_state_remove`.
//!
//! Most connections need no state between events: the record at removal has
//! everything but `missed_bytes` (summed from `content_gap`) and the tunnel
//! parents added by `tunnel_changed` (the creation encapsulation is in the
//! record). Only connections with one of those events are tracked, in a
//! B-tree (no rehash of the whole table inside one call, so no call costs
//! more than a few thousand fuel however many connections are open), at most
//! [`MAX_TRACKED`] at once.

use std::cell::RefCell;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{Connection, EncapsulatingConn, Transport};
use std::net::IpAddr;
use weir_guest::{ip, is_private, ConnStates, Handler, Stream};

/// `Site::local_nets` and `Site::private_address_space_is_local`, read once.
struct Site {
    nets: Vec<(IpAddr, u8)>,
    private_is_local: bool,
}

fn site() -> &'static Site {
    static SITE: std::sync::OnceLock<Site> = std::sync::OnceLock::new();
    SITE.get_or_init(|| Site {
        // The host checked each one (ADDR/LENGTH) before the run.
        nets: weir_guest::options::set("Site::local_nets").iter().filter_map(|n| parse_subnet(n)).collect(),
        private_is_local: weir_guest::options::flag("Site::private_address_space_is_local"),
    })
}

fn parse_subnet(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = s.split_once('/').unwrap_or((s, ""));
    let a: IpAddr = a.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let max = if a.is_ipv4() { 32 } else { 128 };
    Some((a, if l.is_empty() { max } else { l.parse().ok()? }))
}

/// Whether `a` is in the subnet `net/len`.
fn in_subnet(a: IpAddr, (net, len): (IpAddr, u8)) -> bool {
    let (a, net, bits) = match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = bits - u32::from(len.min(bits as u8));
    shift >= bits || (a >> shift) == (net >> shift)
}

/// conn.log's `local_orig`/`local_resp` for `a`, as Zeek's conn script sets
/// them: unset when the site has no local networks at all.
fn local(a: IpAddr) -> V {
    let s = site();
    if s.nets.is_empty() && !s.private_is_local {
        return V::Unset;
    }
    V::Bool((s.private_is_local && is_private(a)) || s.nets.iter().any(|&n| in_subnet(a, n)))
}

static CONN: Stream = Stream::new(
    "conn",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("proto", T::Enum),
        ("service", T::String),
        ("duration", T::Interval),
        ("orig_bytes", T::Count),
        ("resp_bytes", T::Count),
        ("conn_state", T::String),
        ("local_orig", T::Bool),
        ("local_resp", T::Bool),
        ("missed_bytes", T::Count),
        ("history", T::String),
        ("orig_pkts", T::Count),
        ("orig_ip_bytes", T::Count),
        ("resp_pkts", T::Count),
        ("resp_ip_bytes", T::Count),
        ("tunnel_parents", T::SetOfString),
        ("ip_proto", T::Count),
    ],
);

/// Per-connection state the script keeps between events.
#[derive(Default)]
struct State {
    missed_bytes: u64,
    tunnel_parents: Vec<String>,
}

/// Connections tracked at once (about 100 bytes each); past it a gap or tunnel
/// change of a further connection is not counted, and a reporter warning says so once.
const MAX_TRACKED: usize = 200_000;

thread_local! {
    static STATES: RefCell<ConnStates<State>> = const {
        RefCell::new(ConnStates::new(
            MAX_TRACKED,
            "conn",
            "connections with gaps or tunnel changes open at once; missed_bytes and tunnel_parents of further ones are not tracked",
        ))
    };
}

/// Runs `f` on the state of `c`, tracking it from now on (seeded with its
/// creation encapsulation) unless the table is full.
fn with_state(c: &Connection, f: impl FnOnce(&mut State)) {
    STATES.with(|s| s.borrow_mut().with(&c.uid, || initial_state(c), f));
}

/// A connection's state before any event changed it: the record's own.
fn initial_state(c: &Connection) -> State {
    let mut st = State::default();
    if let Some(t) = &c.tunnel {
        add_parent(&mut st.tunnel_parents, t);
    }
    st
}

// TCP endpoint states (init-bare.zeek).
const TCP_INACTIVE: u8 = 0;
const TCP_SYN_SENT: u8 = 1;
const TCP_SYN_ACK_SENT: u8 = 2;
const TCP_PARTIAL: u8 = 3;
const TCP_ESTABLISHED: u8 = 4;
const TCP_CLOSED: u8 = 5;
const TCP_RESET: u8 = 6;

/// `^\^?S[^HAFGIQ]*R`
fn rstos0_history(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else { return false };
    for ch in rest.chars() {
        match ch {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

/// Zeek's `conn_state` (its `conn/main.zeek`), from the final endpoint states:
/// TCP by the first rule that holds (an endpoint in INACTIVE or PARTIAL counts
/// as inactive); UDP `SF`, `S0`, `SHR` or `OTH` by which sides were active;
/// ICMP and other protocols always `OTH`.
fn conn_state(c: &Connection) -> &'static str {
    let (os, rs) = (c.orig.state, c.resp.state);
    match c.id.resp_p.proto {
        Transport::Tcp => {
            let o_inactive = os == TCP_INACTIVE || os == TCP_PARTIAL;
            let r_inactive = rs == TCP_INACTIVE || rs == TCP_PARTIAL;
            if rs == TCP_RESET {
                if os == TCP_SYN_SENT
                    || os == TCP_SYN_ACK_SENT
                    || (os == TCP_RESET && c.orig.size == 0 && c.resp.size == 0)
                {
                    "REJ"
                } else if o_inactive {
                    "RSTRH"
                } else {
                    "RSTR"
                }
            } else if os == TCP_RESET {
                if r_inactive {
                    if rstos0_history(&c.history) {
                        "RSTOS0"
                    } else {
                        "OTH"
                    }
                } else {
                    "RSTO"
                }
            } else if rs == TCP_CLOSED && os == TCP_CLOSED {
                "SF"
            } else if os == TCP_CLOSED {
                if r_inactive {
                    "SH"
                } else {
                    "S2"
                }
            } else if rs == TCP_CLOSED {
                if o_inactive {
                    "SHR"
                } else {
                    "S3"
                }
            } else if os == TCP_SYN_SENT && rs == TCP_INACTIVE {
                "S0"
            } else if os == TCP_ESTABLISHED && rs == TCP_ESTABLISHED {
                "S1"
            } else {
                "OTH"
            }
        }
        Transport::Udp => match (os != 0, rs != 0) {
            (true, true) => "SF",
            (true, false) => "S0",
            (false, true) => "SHR",
            (false, false) => "OTH",
        },
        _ => "OTH",
    }
}

fn proto_name(t: Transport) -> &'static str {
    match t {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
        Transport::Icmp => "icmp",
        Transport::Unknown => "unknown_transport",
    }
}

fn add_parent(list: &mut Vec<String>, e: &[EncapsulatingConn]) {
    if let Some(uid) = e.last().and_then(|inner| inner.uid.clone()) {
        if !list.contains(&uid) {
            list.push(uid);
        }
    }
}

fn count_or_unset(v: Option<u64>) -> V {
    v.map_or(V::Unset, V::Count)
}

struct Conn;

impl Handler for Conn {
    fn tunnel_changed(c: Connection, e: Vec<EncapsulatingConn>) {
        with_state(&c, |st| add_parent(&mut st.tunnel_parents, &e));
    }

    fn content_gap(c: Connection, _is_orig: bool, _seq: u64, length: u64) {
        with_state(&c, |st| st.missed_bytes += length);
    }

    fn connection_state_remove(c: Connection) {
        // Nothing tracked (no gap, no tunnel change): the record has it all.
        let st = STATES.with(|s| s.borrow_mut().remove(&c.uid)).unwrap_or_else(|| initial_state(&c));
        let with_duration = c.duration > 0.0;
        let service = if c.service.is_empty() {
            V::Unset
        } else {
            V::String(c.service.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>().join(","))
        };
        let history = if c.history.is_empty() { V::Unset } else { V::String(c.history.clone()) };
        let (orig_h, resp_h) = (ip(&c.id.orig_h), ip(&c.id.resp_h));
        CONN.write_conn(c.start_time, &c.uid, &c.id, &[
            V::Enum(proto_name(c.id.resp_p.proto).to_string()),
            service,
            if with_duration { V::Interval(c.duration) } else { V::Unset },
            if with_duration { V::Count(c.orig.size) } else { V::Unset },
            if with_duration { V::Count(c.resp.size) } else { V::Unset },
            V::String(conn_state(&c).to_string()),
            local(orig_h),
            local(resp_h),
            V::Count(st.missed_bytes),
            history,
            count_or_unset(c.orig.num_pkts),
            count_or_unset(c.orig.num_bytes_ip),
            count_or_unset(c.resp.num_pkts),
            count_or_unset(c.resp.num_bytes_ip),
            if st.tunnel_parents.is_empty() { V::Unset } else { V::SetOfString(st.tunnel_parents) },
            V::Count(c.id.proto as u64),
        ]);
    }
}

weir_guest::export_handler!(Conn: tunnel_changed, content_gap, connection_state_remove);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let net = |s| parse_subnet(s).unwrap();
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_subnet(a("10.0.0.2"), net("10.0.0.0/24")));
        assert!(!in_subnet(a("10.0.1.2"), net("10.0.0.0/24")));
        assert!(in_subnet(a("10.0.1.2"), net("0.0.0.0/0")));
        assert!(in_subnet(a("2001:db8::7"), net("2001:db8::7")));
        assert!(!in_subnet(a("2001:db8::8"), net("2001:db8::7/128")));
        assert!(in_subnet(a("2001:db8::8"), net("::/0")));
        assert!(!in_subnet(a("10.0.0.2"), net("::/0")), "families do not mix");
    }
}
