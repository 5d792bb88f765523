//! What handlers import, one file per `weir:events` interface (as
//! wasmtime-wasi does): [`log`], [`reporter`], [`runtime`], [`analyzers`], [`files`], [`anonymize`]; here the data of a
//! handler's store ([`HostState`]) and the state its sandbox's stores share
//! ([`Shared`]).

mod analyzers;
mod anonymize;
mod files;
mod log;
mod reporter;
mod runtime;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use wasmtime::component::Linker;
use wasmtime::StoreLimitsBuilder;
use wasmtime_wasi::p2::bindings::sync::filesystem::types as wasi_fs;
use wasmtime_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxView, WasiView};
use weir_engine::events::Event;

use crate::bindings::weir::events::types as wtypes;
use crate::SandboxConfig;

pub(crate) use log::LogStreams;
pub use analyzers::MAX_REQUESTS;
pub use reporter::MAX_MESSAGE_BYTES;
use reporter::Pending;
use runtime::NetworkClock;
pub(crate) use runtime::NetworkTime;

/// Reporter severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Level {
    Info,
    Warning,
    Error,
}

/// What a handler wrote in the current second of network time, and what was dropped.
#[derive(Default, Clone)]
struct Rate {
    window_start: f64,
    records: u64,
    records_dropped: u64,
    messages: u64,
    messages_dropped: u64,
    /// Stderr lines dropped by the messages cap (stderr lines count as messages).
    stderr_dropped: u64,
    /// Log output bytes written in the window, and records dropped by the byte cap.
    log_bytes: u64,
    log_bytes_dropped: u64,
    name: String,
}

/// State shared by every handler's store in one sandbox: rate windows,
/// network time, caused events, and the run's log files.
pub(crate) struct Shared {
    logs: Arc<Mutex<LogStreams>>,
    rates: Vec<Rate>,
    max_records_per_sec: u64,
    max_messages_per_sec: u64,
    max_log_bytes_per_sec: u64,
    /// The sandbox's network time (see [`NetworkTime`]).
    clock: NetworkTime,
    /// Reporter messages of this round, in first-seen order, identical ones collapsed.
    pending: Vec<Pending>,
    pending_index: HashMap<(Level, String, String, bool), usize>,
    /// Reporter events raised since the last `take_caused`.
    caused: Vec<Event>,
    /// Handlers' analyzer requests since the last `take_requests`, and how many were dropped.
    requests: Vec<weir_engine::analyzers::requests::Request>,
    requests_dropped: u64,
    /// The file handle set since the last `take_file_handle` (`weir:events/files`).
    pub(crate) file_handle: Option<String>,
    /// File analyzers attached or detached since the last `take_file_requests`
    /// (at most [`MAX_REQUESTS`]; more are dropped).
    pub(crate) file_requests: Vec<weir_engine::files::FileRequest>,
}

impl Shared {
    pub(crate) fn new(cfg: &SandboxConfig, logs: Arc<Mutex<LogStreams>>, clock: NetworkTime) -> Shared {
        Shared {
            logs,
            rates: Vec::new(),
            max_records_per_sec: cfg.max_records_per_sec,
            max_messages_per_sec: cfg.max_messages_per_sec,
            max_log_bytes_per_sec: cfg.max_log_bytes_per_sec,
            clock,
            pending: Vec::new(),
            pending_index: HashMap::new(),
            caused: Vec::new(),
            requests: Vec::new(),
            requests_dropped: 0,
            file_handle: None,
            file_requests: Vec::new(),
        }
    }

    /// weir's stderr with the handler's name in front, counted against the same
    /// messages-per-second cap as its reporter messages (dropped past it).
    pub(crate) fn stderr_line(&mut self, handler: usize, name: &str, line: String) {
        let cap = self.max_messages_per_sec;
        let now = self.clock.get();
        let rate = self.rate(handler, name, now);
        if rate.messages >= cap {
            rate.stderr_dropped += 1;
            return;
        }
        rate.messages += 1;
        tracing::warn!("handler {name} stderr: {line}");
    }

    /// The handler's rate window, restarted when a second of network time has passed
    /// and nothing dropped in it awaits its warning.
    fn rate(&mut self, handler: usize, name: &str, now: f64) -> &mut Rate {
        if self.rates.len() <= handler {
            self.rates.resize(handler + 1, Rate::default());
        }
        let r = &mut self.rates[handler];
        if r.name.is_empty() {
            r.name = name.to_string();
        }
        let dropped = r.records_dropped + r.messages_dropped + r.stderr_dropped + r.log_bytes_dropped;
        if now - r.window_start >= 1.0 && dropped == 0 {
            *r = Rate { window_start: now, name: std::mem::take(&mut r.name), ..Rate::default() };
        }
        r
    }

    /// The start of the earliest rate window (+inf with none): until a
    /// second after it, [`Shared::roll_rate_windows`] has nothing to do.
    pub(crate) fn earliest_rate_window(&self) -> f64 {
        self.rates.iter().map(|r| r.window_start).fold(f64::INFINITY, f64::min)
    }

    /// Ends rate windows older than a second at `now`, with one warning per
    /// handler and kind that had something dropped.
    pub(crate) fn roll_rate_windows(&mut self, now: f64) {
        let (record_cap, message_cap) = (self.max_records_per_sec, self.max_messages_per_sec);
        let mut warnings = Vec::new();
        for r in &mut self.rates {
            if now - r.window_start < 1.0 {
                continue;
            }
            if r.records_dropped > 0 {
                warnings.push((
                    format!("handler {}: {} log records dropped (rate limit {record_cap} records/s)", r.name, r.records_dropped),
                    r.name.clone(),
                ));
            }
            if r.stderr_dropped > 0 {
                warnings.push((
                    format!("handler {}: {} stderr lines dropped (rate limit {message_cap} messages/s)", r.name, r.stderr_dropped),
                    r.name.clone(),
                ));
            }
            if r.log_bytes_dropped > 0 {
                warnings.push((
                    format!(
                        "handler {}: {} log records dropped (byte limit {} bytes/s)",
                        r.name, r.log_bytes_dropped, self.max_log_bytes_per_sec
                    ),
                    r.name.clone(),
                ));
            }
            if r.messages_dropped > 0 {
                warnings.push((
                    format!(
                        "handler {}: {} reporter messages dropped (rate limit {message_cap} messages/s)",
                        r.name, r.messages_dropped
                    ),
                    r.name.clone(),
                ));
            }
            let start = if now.is_finite() { now } else { r.window_start };
            *r = Rate { window_start: start, name: std::mem::take(&mut r.name), ..Rate::default() };
        }
        for (msg, name) in warnings {
            self.report(Level::Warning, msg, &name, false);
        }
    }

}

/// The data of one handler's `Store`.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory, instance and table caps.
    pub limits: crate::trap::Limiter,
    shared: Arc<Mutex<Shared>>,
    handler: usize,
    name: String,
    /// Set while a reporter_* event runs: reporter calls go to stderr only.
    pub quiet: bool,
    /// A standard handler: its records are held to neither the rate cap nor the
    /// byte cap (one per connection or weird; dropping them would lose rows silently).
    pub standard: bool,
    /// Fuel owed for the bytes passed in the current host call (see [`crate::HOST_BYTE_FUEL`]).
    pub charge: u64,
    /// Fuel left when the current host call started (`u64::MAX` without metering).
    pub fuel_left: u64,
    /// Longest wall-clock wait of one WASI host call (see [`crate::wasi_shims`]).
    pub wait_limit: std::time::Duration,
    /// The handler's stderr, line by line.
    pub stderr: Arc<Mutex<crate::stderr::LineSink>>,
    /// The sandbox's network time (`runtime.network-time`).
    clock: NetworkTime,
    /// The script options the operator set (`runtime.script-option`).
    options: std::sync::Arc<std::collections::BTreeMap<String, String>>,
}

impl HostState {
    /// The handler opened `path` in its granted folder: queues `file_opened`.
    pub(crate) fn file_opened(&mut self, path: String) {
        self.shared.lock().expect("sandbox state").caused.push(Event::FileOpened { f: Box::new(weir_engine::events::OpenedFile { path }) });
    }

    /// A store's data for handler `handler`: linear memory capped at `memory_bytes`,
    /// no preopens except `grant` (seen by the guest as `/granted`), no environment, arguments or network; clocks read
    /// network time (`clock`); stderr only so that guest panics are visible.
    pub(crate) fn new(
        shared: Arc<Mutex<Shared>>,
        handler: usize,
        name: &str,
        cfg: &SandboxConfig,
        grant: Option<&Path>,
        memory_bytes: usize,
        clock: NetworkTime,
    ) -> wasmtime::Result<HostState> {
        let stderr = crate::stderr::LineSink::new(shared.clone(), handler, name);
        let mut wasi = WasiCtx::builder();
        wasi.stderr(crate::stderr::HandlerStderr(stderr.clone()))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(NetworkClock(clock.clone()))
            .monotonic_clock(NetworkClock(clock.clone()));
        if let Some(dir) = grant {
            wasi.preopened_dir(dir, "/granted", FsPerms::ReadWrite)
                .map_err(|e| wasmtime::format_err!("cannot grant {}: {e}", dir.display()))?;
        }
        let q = cfg.quota;
        let limits = crate::trap::Limiter(
            StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .instances(q.core_instances as usize)
                .tables(q.tables as usize)
                .memories(q.memories as usize)
                .table_elements(100_000)
                .trap_on_grow_failure(true)
                .build(),
        );
        Ok(HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits,
            shared,
            handler,
            name: name.to_string(),
            quiet: false,
            standard: false,
            charge: 0,
            fuel_left: u64::MAX,
            wait_limit: cfg.host_wait_limit,
            stderr,
            clock,
            options: cfg.options.clone(),
        })
    }

}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wtypes::Host for HostState {}

/// A character that can start, rewrite or reorder a line on a terminal:
/// control characters (C0, DEL, C1) and the bidirectional-text marks and overrides.
pub(crate) fn is_terminal_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with control characters (line breaks, carriage returns, terminal
/// escapes, C1 controls) and bidirectional-text overrides written as `\xNN` or
/// `\u{NNNN}`, so that it cannot start a line or rewrite one on a terminal.
pub(crate) fn escape_controls(s: &str) -> String {
    let hidden = is_terminal_control;
    if !s.chars().any(hidden) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !hidden(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
    out
}

/// The linker of every handler: WASI (with weir's shims in front of the calls
/// that could wait or reach the host, see [`crate::wasi_shims`]) and the
/// `weir:events` imports.
pub(crate) fn linker(engine: &wasmtime::Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker: Linker<HostState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| anyhow!("linking WASI: {e}"))?;
    // Opening a file goes through the standard implementation, then raises file_opened.
    linker.allow_shadowing(true);
    linker
        .instance("wasi:filesystem/types@0.2.12")
        .and_then(|mut i| i.func_wrap("[method]descriptor.open-at", open_at))
        .map_err(|e| anyhow!("linking WASI open-at: {e}"))?;
    crate::wasi_shims::add(&mut linker)?;
    linker.allow_shadowing(false);
    crate::bindings::AllEvents::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
        .map_err(|e| anyhow!("linking the weir:events imports: {e}"))?;
    Ok(linker)
}

/// `wasi:filesystem` open-at: WASI's own implementation (which confines paths
/// to the granted folder), then `file_opened` for a file that did open.
#[allow(clippy::type_complexity)]
fn open_at(
    mut cx: wasmtime::StoreContextMut<'_, HostState>,
    (fd, path_flags, path, oflags, flags): (
        wasmtime::component::Resource<wasi_fs::Descriptor>,
        wasi_fs::PathFlags,
        String,
        wasi_fs::OpenFlags,
        wasi_fs::DescriptorFlags,
    ),
) -> wasmtime::Result<(Result<wasmtime::component::Resource<wasi_fs::Descriptor>, wasi_fs::ErrorCode>,)> {
    let state = cx.data_mut();
    let opened = {
        let mut view = wasmtime_wasi::filesystem::WasiFilesystemView::filesystem(state);
        if let Some(refused) = crate::wasi_shims::refuse_special(&mut view, &fd, path_flags, &path) {
            return Ok((Err(refused),));
        }
        wasi_fs::HostDescriptor::open_at(&mut view, fd, path_flags, path.clone(), oflags, flags)
    };
    match opened {
        Ok(d) => {
            state.file_opened(path);
            Ok((Ok(d),))
        }
        Err(e) => Ok((Err(e.downcast()?.into()),)),
    }
}
