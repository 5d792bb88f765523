//! The sandbox host: handler components under wasmtime with fuel, memory and rate limits.
//!
//! Each handler is a WebAssembly component targeting `weir:events@0.1.0` (see
//! [`WIT_TEXT`]). It exports one interface per event it takes; the host finds
//! them at load and calls only those. Every handler instance has its own
//! `Store` with a fuel budget per call, an epoch deadline as backstop and a
//! memory cap. A trap kills the store: it is dropped, the handler is
//! instantiated again from its `InstancePre` at its next event, and a
//! `reporter_error` is raised; too many traps in a window disable the handler.
//!
//! One concept per file: `config.rs` (what a sandbox is configured with and
//! the defaults), `loading.rs` (reading, compiling and validating a handler,
//! once for loading and `weir check`), `dispatch.rs` (draining a queue into
//! the handlers, one call, a failed call), `limits.rs` and `budget.rs` (fuel,
//! epoch deadline, trap window, CPU budget), `trap.rs` (what a failed call is
//! called in reporter.log), `exports.rs` (the per-event tables), `host/` (one
//! file per imported `weir:events` interface, and the stores' state),
//! [`wasi_shims`], [`stderr`] and [`compile_cache`].

#![deny(missing_docs)]

mod budget;
pub mod compile_cache;
mod config;
mod convert;
mod dispatch;
mod eval;
mod exports;
mod host;
mod limits;
mod loading;
pub mod options;
pub mod stderr;
mod trap;
pub mod wasi_shims;
mod typecheck;

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail};
use wasmtime::component::{InstancePre, Linker};
use wasmtime::Engine;

use weir_engine::events::{Event, EventKind, EventQueue, Subscriptions};
pub use weir_logs::LogFormat;

use dispatch::Live;
use exports::ExportIndices;
use host::{HostState, LogStreams, NetworkTime, Shared};
pub use host::{MAX_MESSAGE_BYTES, MAX_REQUESTS};
pub use limits::{HOST_BYTE_FUEL, HOST_CALL_FUEL, LOG_VALUE_FUEL};
use limits::Ticker;
pub use config::{
    HandlerOptions, HandlerQuota, SandboxConfig, DEFAULT_CPU_BUDGET, DEFAULT_MAX_COMPILE_TIME, DEFAULT_MAX_COMPONENT_BYTES,
    DEFAULT_MAX_LOG_BYTES_PER_SEC, MAX_HANDLERS,
};

/// The WIT package handlers are written against, as one text (`weir wit` prints it).
pub use weir_events::{WIT_FILES, WIT_PACKAGE, WIT_TEXT};

#[allow(missing_docs, clippy::all)]
mod bindings {
    wasmtime::component::bindgen!({
        world: "all-events",
        path: "../../wit",
    });
}

/// The standard handlers' components, built from `handlers/` by `build.rs`.
pub mod standard {
    /// conn.log.
    pub const CONN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/conn.wasm"));
    /// weird.log.
    pub const WEIRD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/weird.wasm"));
    /// reporter.log.
    pub const REPORTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/reporter.wasm"));
    /// tunnel.log.
    pub const TUNNEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tunnel.wasm"));
    /// analyzer.log.
    pub const ANALYZER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/analyzer.wasm"));
    /// dns.log.
    pub const DNS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dns.wasm"));
    /// http.log.
    pub const HTTP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/http.wasm"));
    /// signatures.log and signature_matches.log.
    pub const SIGNATURES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/signatures.wasm"));
    /// smtp.log.
    pub const SMTP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/smtp.wasm"));
    /// software.log.
    pub const SOFTWARE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/software.wasm"));
    /// ssh.log.
    pub const SSH: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ssh.wasm"));
    /// ftp.log.
    pub const FTP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ftp.wasm"));
    /// files.log, and the fallback file handles.
    pub const FILES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/files.wasm"));

    /// One standard handler: its identity and the log streams it owns.
    pub struct Standard {
        /// The handler's identity in messages, reporter.log, `--handler-fuel` and
        /// stats (`conn`); a handler loaded from a file cannot take it.
        pub name: &'static str,
        /// The component.
        pub bytes: &'static [u8],
        /// Log streams reserved for it before any handler runs: no other
        /// handler may create them, whatever the order of events.
        pub streams: &'static [&'static str],
    }

    /// ssl.log.
    pub const SSL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ssl.wasm"));
    /// x509.log.
    pub const X509: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/x509.wasm"));
    /// irc.log.
    pub const IRC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/irc.wasm"));
    /// quic.log.
    pub const QUIC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/quic.wasm"));

    /// Every standard handler, in load order. A new standard handler declares
    /// its streams here, which reserves them.
    pub const HANDLERS: &[Standard] = &[
        Standard { name: "conn", bytes: CONN, streams: &["conn"] },
        Standard { name: "weird", bytes: WEIRD, streams: &["weird"] },
        Standard { name: "reporter", bytes: REPORTER, streams: &["reporter"] },
        Standard { name: "tunnel", bytes: TUNNEL, streams: &["tunnel"] },
        Standard { name: "analyzer", bytes: ANALYZER, streams: &["analyzer"] },
        Standard { name: "dns", bytes: DNS, streams: &["dns"] },
        Standard { name: "http", bytes: HTTP, streams: &["http"] },
        Standard { name: "signatures", bytes: SIGNATURES, streams: &["signatures", "signature_matches"] },
        Standard { name: "smtp", bytes: SMTP, streams: &["smtp"] },
        Standard { name: "software", bytes: SOFTWARE, streams: &["software"] },
        Standard { name: "ssh", bytes: SSH, streams: &["ssh"] },
        Standard { name: "ftp", bytes: FTP, streams: &["ftp"] },
        Standard { name: "files", bytes: FILES, streams: &["files"] },
        Standard { name: "ssl", bytes: SSL, streams: &["ssl"] },
        Standard { name: "x509", bytes: X509, streams: &["x509"] },
        Standard { name: "irc", bytes: IRC, streams: &["irc"] },
        Standard { name: "quic", bytes: QUIC, streams: &["quic"] },
    ];
}

/// The hostile handlers of `examples/hostile/`, built by `build.rs`, for tests
/// (by file name: `loop_forever.wasm`, ...). Only with the `testing` feature.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing {
    include!(concat!(env!("OUT_DIR"), "/testing.rs"));

    /// The example handler named `name` (`packet_census.wasm`).
    pub fn example(name: &str) -> &'static [u8] {
        EXAMPLES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).unwrap_or_else(|| panic!("no example handler {name}"))
    }

    /// The hostile handler named `name` (`loop_forever.wasm`).
    pub fn hostile(name: &str) -> &'static [u8] {
        HOSTILE.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).unwrap_or_else(|| panic!("no hostile handler {name}"))
    }
}

/// One loaded handler component.
struct Handler {
    /// Identity used in messages, reporter.log and stats: the file name
    /// (`loop.wasm`, control characters escaped) or a standard handler's name
    /// (`conn`); unique within a sandbox.
    name: String,
    /// One of [`standard::HANDLERS`]: set up first, its streams reserved, never
    /// disabled, held to neither the log caps nor the CPU budget, and still
    /// called after a second stop signal.
    standard: bool,
    /// Path reported in `bro_script_loaded`.
    path: String,
    pre: InstancePre<HostState>,
    exports: ExportIndices,
    kinds: Vec<EventKind>,
    /// `kinds` as a bit set: the dispatcher's test for every event.
    takes: Subscriptions,
    live: Option<Live>,
    traps: VecDeque<f64>,
    disabled: bool,
    /// Fuel per call.
    fuel: u64,
    /// Folder preopened as `/granted`.
    grant_dir: Option<PathBuf>,
    /// Linear-memory cap of its instances, in bytes.
    memory_bytes: usize,
    /// What the handler has cost so far.
    stats: HandlerStats,
    /// Fuel spent in the current second of network time.
    budget: budget::Budget,
    /// Its `signature-eval` export, if any.
    eval: Option<eval::Indices>,
    /// The `eval` names it answers for (asked at load).
    eval_functions: Vec<String>,
}

/// What one handler has cost so far: for benchmarks and for choosing fuel budgets.
#[derive(Clone, Debug, Default)]
pub struct HandlerStats {
    /// Identity of the handler (`scan.wasm`, `conn`).
    pub name: String,
    /// Event calls made (including those that trapped).
    pub calls: u64,
    /// Fuel those calls consumed (0 when fuel metering is off).
    pub fuel: u64,
    /// Largest fuel a single call consumed.
    pub max_fuel: u64,
    /// Instances created (the first, then one after every trap).
    pub instantiations: u64,
    /// Time spent creating those instances.
    pub instantiate_time: Duration,
    /// Most fuel spent in one second of network time.
    pub max_fuel_per_sec: u64,
}

/// What `weir check` reports about a component.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// Events the component takes, by Zeek name (`new_connection`).
    pub events: Vec<String>,
    /// Interfaces it imports (`weir:events/log@0.1.0`, `wasi:cli/stderr@0.2.x`, …).
    pub imports: Vec<String>,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "events: {}", self.events.join(", "))?;
        write!(f, "imports: {}", self.imports.join(", "))
    }
}

/// The host: loaded handlers, their budgets, and the logs they write.
pub struct Sandbox {
    cfg: SandboxConfig,
    engine: Engine,
    linker: Linker<HostState>,
    handlers: Vec<Handler>,
    shared: Arc<Mutex<Shared>>,
    /// The run's log files, shared with sibling sandboxes.
    logs: Arc<Mutex<LogStreams>>,
    /// The sandbox's network time, the one its handlers, reporter events, rate
    /// windows and budgets read; set by [`Sandbox::dispatch`] only.
    clock: NetworkTime,
    /// The start of the earliest rate window when the last drain ended, or
    /// -inf after a handler call since: a drain with nothing queued may be
    /// skipped while no window is due to end (see [`Sandbox::dispatch`]).
    idle_window_start: f64,
    /// The epoch ticker; it stops when the last sandbox sharing it is dropped.
    _ticker: Arc<Ticker>,
    /// Stop signals received (see [`Sandbox::watch_signals`]).
    signals: Option<Arc<AtomicUsize>>,
    /// Handler calls skipped after a second stop signal.
    signal_skips: u64,
    /// The compile cache, when [`SandboxConfig::compile_cache`] is set and usable.
    cache: Option<Arc<compile_cache::CompileCache>>,
}

impl Sandbox {
    /// A sandbox with no handlers yet; starts the epoch ticker.
    pub fn new(cfg: SandboxConfig) -> anyhow::Result<Sandbox> {
        let engine = limits::engine(&cfg)?;
        let linker = host::linker(&engine)?;
        let logs = Arc::new(Mutex::new(LogStreams::new(&cfg)));
        let clock = NetworkTime::default();
        let shared = Arc::new(Mutex::new(Shared::new(&cfg, logs.clone(), clock.clone())));
        let ticker = Arc::new(Ticker::start(&engine, cfg.epoch_tick)?);
        let cache = loading::open_compile_cache(&cfg);
        Ok(Sandbox {
            cfg,
            engine,
            linker,
            handlers: Vec::new(),
            shared,
            logs,
            clock,
            idle_window_start: f64::NEG_INFINITY,
            _ticker: ticker,
            signals: None,
            signal_skips: 0,
            cache,
        })
    }

    /// A sandbox for another worker thread: the same handlers (compiled once,
    /// instantiated afresh in their own stores), budgets and log files, with
    /// rate windows, reporter rounds and network time of its own. Load every
    /// handler before making siblings; close the logs once, after every
    /// sibling's [`Sandbox::finish_handlers`].
    pub fn sibling(&self) -> Sandbox {
        let clock = NetworkTime::default();
        let handlers = self
            .handlers
            .iter()
            .map(|h| Handler {
                name: h.name.clone(),
                standard: h.standard,
                path: h.path.clone(),
                pre: h.pre.clone(),
                exports: h.exports.clone(),
                kinds: h.kinds.clone(),
                takes: h.takes,
                live: None,
                traps: VecDeque::new(),
                disabled: false,
                fuel: h.fuel,
                grant_dir: h.grant_dir.clone(),
                memory_bytes: h.memory_bytes,
                stats: HandlerStats { name: h.name.clone(), ..HandlerStats::default() },
                budget: budget::Budget::default(),
                eval: h.eval.clone(),
                eval_functions: h.eval_functions.clone(),
            })
            .collect();
        Sandbox {
            cfg: self.cfg.clone(),
            engine: self.engine.clone(),
            linker: self.linker.clone(),
            handlers,
            shared: Arc::new(Mutex::new(Shared::new(&self.cfg, self.logs.clone(), clock.clone()))),
            logs: self.logs.clone(),
            clock,
            idle_window_start: f64::NEG_INFINITY,
            _ticker: self._ticker.clone(),
            signals: self.signals.clone(),
            signal_skips: 0,
            cache: self.cache.clone(),
        }
    }

    /// Loads the embedded standard handlers ([`standard::HANDLERS`]) and reserves
    /// their log streams. Call it before loading any other handler.
    pub fn load_standard_handlers(&mut self) -> anyhow::Result<()> {
        for std in standard::HANDLERS {
            let name = std.name;
            let component = self.compile(std.bytes).map_err(|e| anyhow!("standard handler {name}: {e:#}"))?;
            self.add(name.to_string(), format!("<standard>/{name}.wasm"), &component, HandlerOptions::default())?;
            let i = self.handlers.len() - 1;
            self.handlers[i].standard = true;
            let mut logs = self.logs.lock().expect("log streams");
            for stream in std.streams {
                logs.reserve(stream, i, name);
            }
        }
        Ok(())
    }

    /// Sets the fuel per call of the loaded handler named `name` (a file name,
    /// or a standard handler's name such as `conn`).
    pub fn set_handler_fuel(&mut self, name: &str, fuel: u64) -> anyhow::Result<()> {
        let h = self.handlers.iter_mut().find(|h| h.name == name).ok_or_else(|| anyhow!("no handler named {name}"))?;
        h.fuel = fuel;
        Ok(())
    }

    /// Names of the loaded handlers, in load order.
    pub fn handler_names(&self) -> Vec<String> {
        self.handlers.iter().map(|h| h.name.clone()).collect()
    }

    /// Loads a handler component from a file. Errors are one line: not a
    /// component, another WIT version, imports the host does not provide.
    pub fn load_file(&mut self, path: &Path) -> anyhow::Result<()> {
        self.load_file_with(path, HandlerOptions::default())
    }

    /// [`Sandbox::load_file`] with a fuel override and grants for this handler.
    pub fn load_file_with(&mut self, path: &Path, options: HandlerOptions) -> anyhow::Result<()> {
        let mut options = options;
        if let Some(dir) = &options.grant_dir {
            options.grant_dir = Some(loading::resolve_grant(dir).map_err(|e| anyhow!("{}: {e}", path.display()))?);
        }
        let bytes = loading::read_component_bytes(path, self.cfg.max_component_bytes)?;
        let component = self.compile(&bytes).map_err(|e| {
            let text = format!("{e:#}");
            if text.contains("in the pooling allocator") {
                anyhow!("{}: more than a handler's share of the instance pool: {}", path.display(), text.lines().next().unwrap_or(""))
            } else {
                anyhow!("{}: {e}", path.display())
            }
        })?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        let name = host::escape_controls(&name);
        let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
        if let Some(other) = self.handlers.iter().find(|h| h.name == name) {
            if other.path == full {
                bail!("{}: loaded twice", path.display());
            }
            bail!("{}: another handler is named {name} ({}); handler names (file names) must be unique", path.display(), other.path);
        }
        self.add(name, full, &component, options).map_err(|e| anyhow!("{}: {e}", path.display()))
    }

    /// The events at least one loaded (and not disabled) handler takes.
    pub fn subscriptions(&self) -> Subscriptions {
        let mut s = Subscriptions::default();
        for h in self.handlers.iter().filter(|h| !h.disabled) {
            for k in &h.kinds {
                s.insert(*k);
            }
        }
        s
    }

    /// One `bro_script_loaded(path, 0)` per loaded handler, in load order (queue them after `bro_init`).
    pub fn script_loaded_events(&self) -> Vec<Event> {
        self.handlers.iter().map(|h| Event::BroScriptLoaded { path: h.path.clone(), level: 0 }).collect()
    }

    /// Drains `queue`: appends `event_queue_flush_point`, runs every queued event,
    /// then one more round of the events those caused (e.g. reporter events from
    /// traps); events caused in that second round are pushed back onto `queue`.
    ///
    /// `network_time` becomes the sandbox's network time: this is the one place
    /// it is set (the run loop passes the engine's). Handlers' clocks and
    /// `runtime.network-time`, reporter events, rate windows, budgets and the
    /// trap window all read that value until the next drain.
    ///
    /// Most packets queue no event: then, when nothing is left over from
    /// the last drain (no handler ran since) and no rate window ends at
    /// this time, nothing can run or be caused, and the drain is only
    /// counted, without taking a lock. Returns whether it ran the drain (so
    /// that the caller knows whether handlers may have made requests).
    pub fn dispatch(&mut self, queue: &mut EventQueue, network_time: f64) -> bool {
        self.clock.set(network_time);
        if queue.is_empty()
            && network_time - self.idle_window_start < 1.0
            && !queue.wants(weir_engine::events::EventKind::EventQueueFlushPoint)
        {
            queue.count_empty_drain();
            return false;
        }
        self.drain(queue);
        true
    }

    /// The handlers' analyzer requests (`weir:events/analyzers`) since the last
    /// call, in the order they were made, for the engine to carry out after
    /// the drain.
    pub fn take_requests(&mut self) -> Vec<weir_engine::analyzers::requests::Request> {
        self.shared.lock().expect("sandbox state").take_requests()
    }

    /// The file handle a handler set (`weir:events/files`) since the last
    /// call: file analysis takes it after the drain that ran `get-file-handle`.
    pub fn take_file_handle(&mut self) -> Option<String> {
        self.shared.lock().expect("sandbox state").file_handle.take()
    }

    /// The file analyzers handlers attached or detached since the last
    /// call (`weir:events/files`), for file analysis.
    pub fn take_file_requests(&mut self) -> Vec<weir_engine::files::FileRequest> {
        std::mem::take(&mut self.shared.lock().expect("sandbox state").file_requests)
    }

    /// Closes every log (TSV: writes the `#close` line) and reports pending rate-limit drops.
    /// Last rate-limit warnings are delivered to the reporter handlers first.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        self.finish_handlers();
        self.close_logs()
    }

    /// Delivers the last rate-limit warnings to the reporter handlers and drops
    /// every instance; the logs stay open (for sibling sandboxes still running).
    pub fn finish_handlers(&mut self) {
        if self.signal_skips > 0 {
            tracing::warn!("{} handler calls skipped after a second stop signal", self.signal_skips);
        }
        for i in 0..self.handlers.len() {
            self.roll_budget(i, true);
        }
        self.shared.lock().expect("sandbox state").roll_rate_windows(f64::INFINITY);
        for _round in 0..2 {
            for ev in self.take_caused() {
                self.dispatch_one(&ev);
            }
        }
        self.take_caused();
        for h in &mut self.handlers {
            h.live = None;
            let st = &h.stats;
            tracing::info!(handler = %h.name, calls = st.calls, fuel = st.fuel, max_fuel = st.max_fuel, max_fuel_per_sec = st.max_fuel_per_sec, instantiations = st.instantiations, "handler cost");
        }
    }

    /// Writes what the run's logs have buffered to their files (as Zeek's
    /// writers do every second), so that `tail -f conn.log` follows a live run.
    pub fn flush_logs(&self) -> anyhow::Result<()> {
        self.logs.lock().expect("log streams").flush_all()
    }

    /// Closes every log file of the run (shared with sibling sandboxes).
    pub fn close_logs(&self) -> anyhow::Result<()> {
        self.logs.lock().expect("log streams").close_all()
    }

    /// Validates a component for `weir check`: the events it takes and what it imports.
    pub fn check(path: &Path) -> anyhow::Result<CheckReport> {
        Sandbox::check_with(path, DEFAULT_MAX_COMPONENT_BYTES, DEFAULT_MAX_COMPILE_TIME)
    }

    /// [`Sandbox::check`] with other size and compile-time limits.
    pub fn check_with(path: &Path, max_bytes: u64, max_compile_time: Duration) -> anyhow::Result<CheckReport> {
        let cfg = SandboxConfig {
            max_instances: 4,
            max_component_bytes: max_bytes,
            max_compile_time,
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::new(cfg)?;
        let bytes = loading::read_component_bytes(path, max_bytes)?;
        let component = sandbox.compile(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let display = path.display().to_string();
        let loading::Validated { export_names, imports, .. } =
            loading::validate(&sandbox.engine, &sandbox.linker, &component).map_err(|e| anyhow!("{display}: {e}"))?;
        let events = export_names.iter().filter_map(|n| loading::event_name_of_interface(n)).map(String::from).collect();
        Ok(CheckReport { events, imports })
    }

    /// What each loaded handler has cost so far, in load order.
    pub fn handler_stats(&self) -> Vec<HandlerStats> {
        self.handlers.iter().map(|h| h.stats.clone()).collect()
    }

    /// The loaded handlers' names and whether each is still enabled.
    pub fn handler_status(&self) -> Vec<(String, bool)> {
        self.handlers.iter().map(|h| (h.name.clone(), !h.disabled)).collect()
    }
}

impl Sandbox {
    /// Counts the run's stop signals in `count` (SIGINT, SIGTERM). From the second
    /// on, only the standard handlers are called: the events still to come (the
    /// connections removed at the end, `bro_done`) reach the log writers only, so
    /// the run ends as soon as they are written. Siblings made afterwards share it.
    pub fn watch_signals(&mut self, count: Arc<AtomicUsize>) {
        self.signals = Some(count);
    }
}
