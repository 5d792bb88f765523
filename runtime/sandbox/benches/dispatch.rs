//! Micro-benchmarks of event dispatch into wasm handlers, each against an
//! empty wasmtime typed call measured in the same run:
//!
//! - an event without arguments into an empty handler: weir's own dispatch
//!   path with nothing to convert or lower;
//! - one `new_connection` into an empty handler, and into one that reads
//!   every field of the connection record, fuel on and off;
//! - the same record passed straight to the empty handler's export with
//!   wasmtime's generated bindings and nothing of weir around it: what the
//!   canonical ABI costs for this record, the floor of any host;
//! - an event nobody subscribed to;
//! - re-instantiation after a trap.
//!
//! `cargo bench -p weir-sandbox --bench dispatch` prints the median of 9
//! batches per figure in nanoseconds per event and the ratio to the empty
//! typed call. A plain program rather than a framework such as criterion:
//! medians and ratios are all that is reported, and the build stays small.

use std::hint::black_box;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use weir_engine::events::values::conn_id;
use weir_engine::events::{Connection, Endpoint, Event, EventQueue};
use weir_sandbox::{Sandbox, SandboxConfig};

const EMPTY: &str = concat!(env!("OUT_DIR"), "/empty.wasm");
const READ_ALL: &str = concat!(env!("OUT_DIR"), "/read_all.wasm");
const LOOP: &str = concat!(env!("OUT_DIR"), "/loop_forever.wasm");
const BATCHES: usize = 9;

#[allow(missing_docs, clippy::all)]
mod bindings {
    wasmtime::component::bindgen!({ world: "all-events", path: "../../wit" });
}

/// Median over `BATCHES` batches of `n` calls of `f`, in ns per call.
fn median_ns(n: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 + 1 {
        f();
    }
    let mut v: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[BATCHES / 2]
}

/// A component engine as the sandbox configures it (fuel, epochs), without
/// its pooling allocator or budgets.
fn bare_engine(fuel: bool) -> Engine {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.consume_fuel(fuel);
    c.epoch_interruption(true);
    Engine::new(&c).unwrap()
}

/// A store with no deadline and (when metering) plenty of fuel.
fn bare_store(engine: &Engine, fuel: bool) -> Store<()> {
    let mut store = Store::new(engine, ());
    store.set_epoch_deadline(u64::MAX / 2);
    if fuel {
        store.set_fuel(u64::MAX / 2).unwrap();
    }
    store
}

/// The floor: a typed call of an empty exported function of a component.
fn empty_typed_call(fuel: bool) -> f64 {
    let engine = bare_engine(fuel);
    let component = Component::new(
        &engine,
        r#"(component
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func (export "f") (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let linker: Linker<()> = Linker::new(&engine);
    let mut store = bare_store(&engine, fuel);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let f = inst.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    median_ns(100_000, || {
        if fuel {
            store.set_fuel(10_000_000).unwrap();
        }
        f.call(&mut store, ()).unwrap();
    })
}

/// The record floor: `new_connection` called on the empty handler through
/// wasmtime's generated bindings with a record converted once up front, in a
/// bare store (imports trap; the empty handler makes none).
fn record_typed_call(fuel: bool) -> f64 {
    use bindings::weir::events::types as w;
    let engine = bare_engine(fuel);
    let component = Component::from_file(&engine, EMPTY).unwrap();
    let mut linker: Linker<()> = Linker::new(&engine);
    linker.define_unknown_imports_as_traps(&component).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    let idx = bindings::exports::weir::events::new_connection::GuestIndices::new(&pre).unwrap();
    let mut store = bare_store(&engine, fuel);
    let inst = pre.instantiate(&mut store).unwrap();
    let guest = idx.load(&mut store, &inst).unwrap();
    let v4 = |a, b, c, d| w::IpAddress::Ipv4((a, b, c, d));
    let port = |number| w::Port { number, proto: w::Transport::Tcp };
    let ep = |size, mac: &str| w::Endpoint {
        size,
        state: 4,
        num_pkts: Some(3),
        num_bytes_ip: Some(300),
        flow_label: 0,
        l2_addr: Some(mac.to_string()),
    };
    let record = w::Connection {
        id: w::ConnId { orig_h: v4(10, 0, 0, 1), orig_p: port(40000), resp_h: v4(192, 0, 2, 1), resp_p: port(80), proto: 6 },
        orig: ep(120, "00:11:22:33:44:55"),
        resp: ep(900, "66:77:88:99:aa:bb"),
        start_time: 1300475167.096535,
        duration: 1.5,
        service: vec!["http".into()],
        history: "ShADadfF".into(),
        uid: "CHhAvVGS1DHFjwGM9".into(),
        tunnel: None,
        vlan: Some(10),
        inner_vlan: None,
    };
    median_ns(20_000, || {
        if fuel {
            store.set_fuel(10_000_000).unwrap();
        }
        guest.call_new_connection(&mut store, &record).unwrap();
    })
}

fn conn() -> Connection {
    let a: IpAddr = "10.0.0.1".parse().unwrap();
    let b: IpAddr = "192.0.2.1".parse().unwrap();
    Connection {
        id: conn_id((a, 40000), (b, 80), 6),
        orig: Endpoint { size: 120, state: 4, num_pkts: Some(3), num_bytes_ip: Some(300), l2_addr: Some(weir_engine::events::MacAddress([0x00, 0x11, 0x22, 0x33, 0x44, 0x55])), ..Endpoint::default() },
        resp: Endpoint { size: 900, state: 4, num_pkts: Some(2), num_bytes_ip: Some(1000), l2_addr: Some(weir_engine::events::MacAddress([0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb])), ..Endpoint::default() },
        start_time: 1300475167.096535,
        duration: 1.5,
        service: vec!["http".into()],
        history: "ShADadfF".into(),
        uid: "CHhAvVGS1DHFjwGM9".into(),
        tunnel: None,
        vlan: Some(10),
        inner_vlan: None,
    }
}

fn sandbox(dir: &Path, fuel: u64, handler: &str) -> Sandbox {
    let cfg = SandboxConfig { fuel, log_dir: dir.to_path_buf(), max_traps: usize::MAX, ..SandboxConfig::default() };
    let mut sb = Sandbox::new(cfg).unwrap();
    sb.load_file(Path::new(handler)).unwrap();
    sb
}

/// ns per `new_connection` dispatched alone (one event per drain, as after a packet).
fn dispatch_ns(dir: &Path, fuel: u64, handler: &str, n: u32) -> f64 {
    let c = conn();
    dispatch_event_ns(dir, fuel, handler, n, || Event::NewConnection { c: Box::new(c.clone()) })
}

/// ns per event made by `event` and dispatched alone.
fn dispatch_event_ns(dir: &Path, fuel: u64, handler: &str, n: u32, event: impl Fn() -> Event) -> f64 {
    let mut sb = sandbox(dir, fuel, handler);
    let mut q = EventQueue::new(sb.subscriptions());
    let ns = median_ns(n, || {
        q.push(event());
        sb.dispatch(&mut q, 1.0);
    });
    sb.finish().unwrap();
    ns
}

fn main() {
    // `cargo bench` passes --bench; any other argument filters nothing here.
    let dir: PathBuf = std::env::temp_dir().join(format!("weir-bench-dispatch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    for fuel in [true, false] {
        let floor = empty_typed_call(fuel);
        let budget = if fuel { 10_000_000 } else { 0 };
        let tag = if fuel { "fuel on" } else { "fuel off" };
        rows.push((format!("empty wasmtime typed call ({tag})"), floor, floor));
        rows.push((format!("same record, bare wasmtime bindings ({tag})"), record_typed_call(fuel), floor));
        rows.push((format!("no-argument event -> empty handler ({tag})"), dispatch_event_ns(&dir, budget, EMPTY, 100_000, || Event::BroInit), floor));
        rows.push((format!("new_connection -> empty handler ({tag})"), dispatch_ns(&dir, budget, EMPTY, 20_000), floor));
        rows.push((format!("new_connection -> read-all handler ({tag})"), dispatch_ns(&dir, budget, READ_ALL, 20_000), floor));
    }
    let floor = rows[0].1;

    // An event nobody takes: the producer's subscription test, then nothing.
    let sb = sandbox(&dir, 10_000_000, EMPTY);
    let mut q = EventQueue::new(sb.subscriptions());
    let c = conn();
    let unsub = median_ns(1_000_000, || {
        if q.wants(weir_engine::events::EventKind::ConnectionStateRemove) {
            q.push(Event::ConnectionStateRemove { c: Box::new(c.clone()) });
        }
        black_box(&q);
    });
    rows.push(("connection_state_remove, not subscribed".into(), unsub, floor));
    drop(sb);

    // A handler that traps at every call (fuel runs out after 1000 units) is
    // instantiated again from its InstancePre at the next call.
    let trap = dispatch_ns(&dir, 1_000, LOOP, 500);
    rows.push(("trap (1000 fuel) + re-instantiation".into(), trap, floor));

    println!("{:<48} {:>10} {:>12}", "figure", "ns/event", "x typed call");
    for (name, ns, fl) in rows {
        println!("{name:<48} {ns:>10.0} {:>12.2}", ns / fl);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
