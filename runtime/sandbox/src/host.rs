//! What handlers import: logs, the reporter, network time; and the store data.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::StoreLimitsBuilder;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, ResourceTable, WasiCtx, WasiCtxView, WasiView};
use weir_engine::events::Event;
use weir_logs::{Column, LogType, LogValue, LogWriter};

use crate::bindings::weir::events::{log as wlog, reporter as wreporter, runtime as wruntime, types as wtypes};
use crate::{convert, SandboxConfig};

/// Reporter severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Level {
    Info,
    Warning,
    Error,
}

/// One open log stream and the handler that created it.
struct StreamEntry {
    writer: LogWriter,
    owner: usize,
    /// The owner's identity, for refusals.
    owner_name: String,
}

/// A log stream name reserved for a standard handler before any handler runs.
struct Reserved {
    name: String,
    owner: usize,
    owner_name: String,
}

/// Longest reporter message a handler may send, in bytes; longer ones are cut.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Longest log stream name, in bytes.
const MAX_LOG_NAME_BYTES: usize = 200;

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

/// A reporter message waiting for the end of the round; repeats only raise `count`.
struct Pending {
    level: Level,
    msg: String,
    location: String,
    quiet: bool,
    count: u64,
}

/// The open log files, shared by every sandbox of a run (one per worker):
/// a stream is found by its path, so each worker's instance of a handler
/// writes into the same file.
pub(crate) struct LogStreams {
    log_dir: std::path::PathBuf,
    format: weir_logs::LogFormat,
    streams: Vec<Option<StreamEntry>>,
    reserved: Vec<Reserved>,
    /// Streams each handler may open.
    max_streams: u32,
}

impl LogStreams {
    pub(crate) fn new(cfg: &SandboxConfig) -> LogStreams {
        LogStreams {
            log_dir: cfg.log_dir.clone(),
            format: cfg.log_format,
            streams: Vec::new(),
            reserved: Vec::new(),
            max_streams: cfg.quota.streams,
        }
    }

    /// Reserves stream `name` for handler `owner` (a standard handler).
    pub(crate) fn reserve(&mut self, name: &str, owner: usize, owner_name: &str) {
        self.reserved.push(Reserved { name: name.to_string(), owner, owner_name: owner_name.to_string() });
    }

    /// Why handler `handler` may not create stream `name`, if it may not. Names
    /// are compared without case: on a case-insensitive file system `CONN`
    /// would be conn.log.
    fn refusal(&self, name: &str, handler: usize) -> Option<String> {
        if let Some(r) = self.reserved.iter().find(|r| r.name.eq_ignore_ascii_case(name) && r.owner != handler) {
            return Some(format!("reserved for the standard handler {}", r.owner_name));
        }
        let owned = self.streams.iter().flatten().find(|s| s.writer.path().eq_ignore_ascii_case(name) && s.owner != handler);
        if let Some(s) = owned {
            return Some(format!("it belongs to handler {}", s.owner_name));
        }
        let mine = self.streams.iter().flatten().filter(|s| s.owner == handler).count();
        let reserved_mine = self.reserved.iter().any(|r| r.owner == handler && r.name.eq_ignore_ascii_case(name));
        if !reserved_mine && mine >= self.max_streams as usize {
            return Some(format!("a handler may open at most {} log streams", self.max_streams));
        }
        None
    }

    /// Writes what every stream has buffered to its file.
    pub(crate) fn flush_all(&mut self) -> anyhow::Result<()> {
        for s in self.streams.iter_mut().flatten() {
            s.writer.flush().map_err(|e| anyhow::anyhow!("writing {}: {e}", s.writer.file().display()))?;
        }
        Ok(())
    }

    /// Closes every stream.
    pub(crate) fn close_all(&mut self) -> anyhow::Result<()> {
        let mut first_err = None;
        for s in self.streams.iter_mut().filter_map(Option::take) {
            let file = s.writer.file().display().to_string();
            if let Err(e) = s.writer.close() {
                first_err.get_or_insert(anyhow::anyhow!("closing {file}: {e}"));
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// State shared by every handler's store in one sandbox: rate windows,
/// network time, caused events, and the run's log files.
pub(crate) struct Shared {
    logs: Arc<Mutex<LogStreams>>,
    rates: Vec<Rate>,
    max_records_per_sec: u64,
    max_messages_per_sec: u64,
    max_log_bytes_per_sec: u64,
    /// Network time of the current drain.
    pub network_time: f64,
    /// Reporter messages of this round, in first-seen order, identical ones collapsed.
    pending: Vec<Pending>,
    pending_index: HashMap<(Level, String, String, bool), usize>,
    /// Reporter events raised since the last `take_caused`.
    caused: Vec<Event>,
}

impl Shared {
    pub(crate) fn new(cfg: &SandboxConfig, logs: Arc<Mutex<LogStreams>>) -> Shared {
        Shared {
            logs,
            rates: Vec::new(),
            max_records_per_sec: cfg.max_records_per_sec,
            max_messages_per_sec: cfg.max_messages_per_sec,
            max_log_bytes_per_sec: cfg.max_log_bytes_per_sec,
            network_time: 0.0,
            pending: Vec::new(),
            pending_index: HashMap::new(),
            caused: Vec::new(),
        }
    }

    /// Queues a reporter message; an identical pending one (same level, text,
    /// location and quietness) only has its count raised. At the end of the round
    /// ([`Shared::take_caused`]) each goes to stderr (tracing) and, unless `quiet`
    /// (raised inside a reporter handler), becomes the matching reporter event.
    pub(crate) fn report(&mut self, level: Level, msg: String, location: &str, quiet: bool) {
        self.collapse(level, msg, location, quiet);
    }

    /// Adds to a pending identical message; true if there was one.
    fn collapse(&mut self, level: Level, msg: String, location: &str, quiet: bool) -> bool {
        let key = (level, msg, location.to_string(), quiet);
        if let Some(&i) = self.pending_index.get(&key) {
            self.pending[i].count += 1;
            return true;
        }
        let (level, msg, location, quiet) = key.clone();
        self.pending_index.insert(key, self.pending.len());
        self.pending.push(Pending { level, msg, location, quiet, count: 1 });
        false
    }

    /// A reporter call from handler `handler`: cut to [`MAX_MESSAGE_BYTES`], collapsed
    /// with an identical pending message, else counted against the handler's
    /// messages-per-second cap (dropped past it).
    pub(crate) fn report_from_handler(&mut self, handler: usize, name: &str, level: Level, msg: String, quiet: bool) {
        let msg = truncate_message(msg);
        let key = (level, msg, name.to_string(), quiet);
        if let Some(&i) = self.pending_index.get(&key) {
            self.pending[i].count += 1;
            return;
        }
        let cap = self.max_messages_per_sec;
        let now = self.network_time;
        let rate = self.rate(handler, name, now);
        if rate.messages >= cap {
            rate.messages_dropped += 1;
            return;
        }
        rate.messages += 1;
        let (level, msg, location, quiet) = key;
        self.collapse(level, msg, &location, quiet);
    }

    /// A line the handler wrote to its stderr (escaped by [`crate::stderr`]): to
    /// weir's stderr with the handler's name in front, counted against the same
    /// messages-per-second cap as its reporter messages (dropped past it).
    pub(crate) fn stderr_line(&mut self, handler: usize, name: &str, line: String) {
        let cap = self.max_messages_per_sec;
        let now = self.network_time;
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

    /// Ends the round: rolls the rate windows, writes the pending reporter messages
    /// to stderr (`… (N times)` for collapsed ones) and returns the reporter events
    /// they raise.
    pub(crate) fn take_caused(&mut self) -> Vec<Event> {
        let now = self.network_time;
        self.roll_rate_windows(now);
        self.pending_index.clear();
        for p in std::mem::take(&mut self.pending) {
            let msg = if p.count > 1 { format!("{} ({} times)", p.msg, p.count) } else { p.msg };
            let location = p.location.as_str();
            // On stderr a message stays on its line: no line breaks, no terminal escapes.
            let shown = escape_controls(&msg);
            match p.level {
                Level::Info => tracing::info!(location, "{shown}"),
                Level::Warning => tracing::warn!(location, "{shown}"),
                Level::Error => tracing::error!(location, "{shown}"),
            }
            if p.quiet {
                continue;
            }
            let t = self.network_time;
            let location = p.location;
            self.caused.push(match p.level {
                Level::Info => Event::ReporterInfo { t, msg, location },
                Level::Warning => Event::ReporterWarning { t, msg, location },
                Level::Error => Event::ReporterError { t, msg, location },
            });
        }
        std::mem::take(&mut self.caused)
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
}

impl HostState {
    /// The handler opened `path` in its granted folder: queues `file_opened`.
    pub(crate) fn file_opened(&mut self, path: String) {
        self.shared.lock().expect("sandbox state").caused.push(Event::FileOpened { path });
    }

    /// A store's data for handler `handler`: no preopens except `grant` (seen by the
    /// guest as `/granted`), no environment, arguments or network; clocks read
    /// network time (`clock`, f64 bits); stderr only so that guest panics are visible.
    pub(crate) fn new(
        shared: Arc<Mutex<Shared>>,
        handler: usize,
        name: &str,
        cfg: &SandboxConfig,
        grant: Option<&Path>,
        clock: Arc<AtomicU64>,
    ) -> wasmtime::Result<HostState> {
        let stderr = crate::stderr::LineSink::new(shared.clone(), handler, name);
        let mut wasi = WasiCtx::builder();
        wasi.stderr(crate::stderr::HandlerStderr(stderr.clone()))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(NetworkClock(clock.clone()))
            .monotonic_clock(NetworkClock(clock));
        if let Some(dir) = grant {
            wasi.preopened_dir(dir, "/granted", FsPerms::ReadWrite)
                .map_err(|e| wasmtime::format_err!("cannot grant {}: {e}", dir.display()))?;
        }
        let q = cfg.quota;
        let limits = crate::trap::Limiter(
            StoreLimitsBuilder::new()
                .memory_size(cfg.memory_bytes)
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
        })
    }

    fn report(&mut self, level: Level, msg: String) {
        self.charge += msg.len() as u64;
        let quiet = self.quiet;
        self.shared.lock().expect("sandbox state").report_from_handler(self.handler, &self.name, level, msg, quiet);
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wtypes::Host for HostState {}

impl wruntime::Host for HostState {
    fn network_time(&mut self) -> f64 {
        self.shared.lock().expect("sandbox state").network_time
    }
}

impl wreporter::Host for HostState {
    fn info(&mut self, msg: String) {
        self.report(Level::Info, msg);
    }
    fn warning(&mut self, msg: String) {
        self.report(Level::Warning, msg);
    }
    fn error(&mut self, msg: String) {
        self.report(Level::Error, msg);
    }
}

fn log_type(t: wlog::LogType) -> LogType {
    match t {
        wlog::LogType::Bool => LogType::Bool,
        wlog::LogType::Count => LogType::Count,
        wlog::LogType::Int => LogType::Int,
        wlog::LogType::Double => LogType::Double,
        wlog::LogType::Time => LogType::Time,
        wlog::LogType::Interval => LogType::Interval,
        wlog::LogType::String => LogType::String,
        wlog::LogType::Addr => LogType::Addr,
        wlog::LogType::Port => LogType::Port,
        wlog::LogType::Enum => LogType::Enum,
        wlog::LogType::SetOfString => LogType::SetOfString,
        wlog::LogType::VectorOfString => LogType::VectorOfString,
    }
}

/// Bytes a log value carries across the boundary (charged as fuel).
fn value_bytes(v: &wlog::LogValue) -> u64 {
    match v {
        wlog::LogValue::String(s) | wlog::LogValue::Enum(s) => s.len() as u64,
        wlog::LogValue::SetOfString(v) | wlog::LogValue::VectorOfString(v) => v.iter().map(|s| s.len() as u64 + 8).sum(),
        _ => 8,
    }
}

/// Fuel a record costs before it is written: [`crate::LOG_VALUE_FUEL`] per value and
/// per set or vector element, plus the bytes it carries; the bytes it writes are
/// charged after.
fn record_cost(values: &[wlog::LogValue]) -> u64 {
    let elements: u64 = values
        .iter()
        .map(|v| match v {
            wlog::LogValue::SetOfString(v) | wlog::LogValue::VectorOfString(v) => 1 + v.len() as u64,
            _ => 1,
        })
        .sum();
    let bytes: u64 = values.iter().map(value_bytes).sum();
    elements.saturating_mul(crate::LOG_VALUE_FUEL).saturating_add(bytes.saturating_mul(crate::HOST_BYTE_FUEL))
}

fn log_value(v: wlog::LogValue) -> LogValue {
    match v {
        wlog::LogValue::Unset => LogValue::Unset,
        wlog::LogValue::Bool(b) => LogValue::Bool(b),
        wlog::LogValue::Count(n) => LogValue::Count(n),
        wlog::LogValue::Int(n) => LogValue::Int(n),
        wlog::LogValue::Double(x) => LogValue::Double(x),
        wlog::LogValue::Time(x) => LogValue::Time(x),
        wlog::LogValue::Interval(x) => LogValue::Interval(x),
        wlog::LogValue::String(s) => LogValue::String(s),
        wlog::LogValue::Addr(a) => LogValue::Addr(convert::ip(&a)),
        wlog::LogValue::Port(p) => LogValue::Port(p.number),
        wlog::LogValue::Enum(s) => LogValue::Enum(s),
        wlog::LogValue::SetOfString(v) => LogValue::SetOfString(v),
        wlog::LogValue::VectorOfString(v) => LogValue::VectorOfString(v),
    }
}

impl wlog::Host for HostState {
    fn create_stream(&mut self, name: String, columns: Vec<wlog::Column>) -> Result<wlog::StreamId, String> {
        self.charge += name.len() as u64 + columns.iter().map(|c| c.name.len() as u64 + 8).sum::<u64>();
        if name.len() > MAX_LOG_NAME_BYTES {
            return Err(format!("log name too long ({} bytes, at most {MAX_LOG_NAME_BYTES})", name.len()));
        }
        let columns: Vec<Column> = columns.into_iter().map(|c| Column { name: c.name, ty: log_type(c.type_) }).collect();
        let handler = self.handler;
        let logs = self.shared.lock().expect("sandbox state").logs.clone();
        let mut shared = logs.lock().expect("log streams");
        if let Some(why) = shared.refusal(&name, handler) {
            drop(shared);
            let msg = format!("handler {}: log {name} refused: {why}", self.name);
            let quiet = self.quiet;
            self.shared.lock().expect("sandbox state").report_from_handler(handler, &self.name, Level::Warning, msg, quiet);
            return Err(format!("log {name} refused: {why}"));
        }
        for (i, s) in shared.streams.iter().enumerate() {
            let Some(s) = s else { continue };
            if s.writer.path() == name {
                if s.writer.columns() != columns.as_slice() {
                    return Err(format!("log {name} already exists with other columns"));
                }
                return Ok(i as u32);
            }
        }
        let reserved = shared.reserved.iter().any(|r| r.owner == handler && r.name.eq_ignore_ascii_case(&name));
        if shared.streams.len() >= 1024 && !reserved {
            return Err("too many log streams".into());
        }
        let writer = LogWriter::create(&shared.log_dir, &name, columns, shared.format).map_err(|e| format!("log {name}: {e}"))?;
        shared.streams.push(Some(StreamEntry { writer, owner: handler, owner_name: self.name.clone() }));
        Ok((shared.streams.len() - 1) as u32)
    }

    fn write(&mut self, id: wlog::StreamId, values: Vec<wlog::LogValue>) {
        // Charged by the work the record causes: every value and element, and every
        // byte in and out; a record the handler cannot pay for is not written.
        let cost = record_cost(&values);
        let carried: u64 = values.iter().map(value_bytes).sum();
        self.charge += cost;
        if cost > self.fuel_left {
            return;
        }
        let handler = self.handler;
        let name = self.name.clone();
        let standard = self.standard;
        let mut shared = self.shared.lock().expect("sandbox state");
        let cap = shared.max_records_per_sec;
        let byte_cap = shared.max_log_bytes_per_sec;
        let now = shared.network_time;
        if !standard {
            // The standard handlers' rows are never held to the caps.
            let rate = shared.rate(handler, &name, now);
            if rate.records >= cap {
                rate.records_dropped += 1;
                return;
            }
            if byte_cap > 0 && rate.log_bytes >= byte_cap {
                rate.log_bytes_dropped += 1;
                return;
            }
            rate.records += 1;
        }
        let values: Vec<LogValue> = values.into_iter().map(log_value).collect();
        let mut written = 0;
        let result = match shared.logs.lock().expect("log streams").streams.get_mut(id as usize).and_then(Option::as_mut) {
            Some(s) if s.owner == handler => s.writer.write(&values).map(|()| written = s.writer.last_record_len() as u64),
            _ => Err(format!("no log stream {id} for this handler")),
        };
        // The bytes carried were paid for up front; a line longer than them costs the rest.
        self.charge += written.saturating_sub(carried) * crate::HOST_BYTE_FUEL;
        shared.rate(handler, &name, now).log_bytes += written;
        if let Err(e) = result {
            let quiet = self.quiet;
            shared.report_from_handler(handler, &name, Level::Warning, format!("handler {name}: {e}"), quiet);
        }
    }
}

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

/// Cuts a message to [`MAX_MESSAGE_BYTES`] (at a character boundary), saying how long it was.
fn truncate_message(msg: String) -> String {
    if msg.len() <= MAX_MESSAGE_BYTES {
        return msg;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... (cut, {} bytes)", &msg[..end], msg.len())
}

/// Clocks that read network time: handlers get no wall clock of their own.
struct NetworkClock(Arc<AtomicU64>);

impl NetworkClock {
    fn now(&self) -> Duration {
        Duration::try_from_secs_f64(f64::from_bits(self.0.load(Ordering::Relaxed))).unwrap_or_default()
    }
}

impl HostWallClock for NetworkClock {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }
    fn now(&self) -> Duration {
        NetworkClock::now(self)
    }
}

impl HostMonotonicClock for NetworkClock {
    fn resolution(&self) -> u64 {
        1_000
    }
    fn now(&self) -> u64 {
        NetworkClock::now(self).as_nanos() as u64
    }
}
