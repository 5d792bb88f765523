//! What handlers import: logs, the reporter, network time; and the store data.

use std::sync::{Arc, Mutex};

use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
use weir_engine::events::Event;
use weir_logs::{Column, LogType, LogValue, LogWriter};

use crate::bindings::weir::events::{log as wlog, reporter as wreporter, runtime as wruntime, types as wtypes};
use crate::{convert, SandboxConfig};

/// Reporter severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Info,
    Warning,
    Error,
}

/// One open log stream and the handler that created it.
struct StreamEntry {
    writer: LogWriter,
    owner: usize,
}

/// Per-handler count of records in the current second of network time.
#[derive(Default, Clone)]
struct Rate {
    window_start: f64,
    written: u64,
    dropped: u64,
    name: String,
}

/// State shared by every handler's store: log writers, network time, caused events.
pub(crate) struct Shared {
    log_dir: std::path::PathBuf,
    format: weir_logs::LogFormat,
    streams: Vec<Option<StreamEntry>>,
    rates: Vec<Rate>,
    max_records_per_sec: u64,
    /// Network time of the current drain.
    pub network_time: f64,
    /// Reporter events raised since the last `take`.
    pub caused: Vec<Event>,
}

impl Shared {
    pub(crate) fn new(cfg: &SandboxConfig) -> Shared {
        Shared {
            log_dir: cfg.log_dir.clone(),
            format: cfg.log_format,
            streams: Vec::new(),
            rates: Vec::new(),
            max_records_per_sec: cfg.max_records_per_sec,
            network_time: 0.0,
            caused: Vec::new(),
        }
    }

    /// Logs a reporter message (tracing, i.e. stderr) and, unless `quiet` (inside a
    /// reporter handler), raises the matching reporter event.
    pub(crate) fn report(&mut self, level: Level, msg: String, location: &str, quiet: bool) {
        match level {
            Level::Info => tracing::info!(location, "{msg}"),
            Level::Warning => tracing::warn!(location, "{msg}"),
            Level::Error => tracing::error!(location, "{msg}"),
        }
        if quiet {
            return;
        }
        let t = self.network_time;
        let location = location.to_string();
        self.caused.push(match level {
            Level::Info => Event::ReporterInfo { t, msg, location },
            Level::Warning => Event::ReporterWarning { t, msg, location },
            Level::Error => Event::ReporterError { t, msg, location },
        });
    }

    fn rate(&mut self, handler: usize, name: &str) -> &mut Rate {
        if self.rates.len() <= handler {
            self.rates.resize(handler + 1, Rate::default());
        }
        let r = &mut self.rates[handler];
        if r.name.is_empty() {
            r.name = name.to_string();
        }
        r
    }

    /// Ends rate windows older than a second at `now`, with one warning per
    /// handler that had records dropped.
    pub(crate) fn roll_rate_windows(&mut self, now: f64) {
        let cap = self.max_records_per_sec;
        let mut warnings = Vec::new();
        for r in &mut self.rates {
            if now - r.window_start >= 1.0 {
                if r.dropped > 0 {
                    warnings.push((
                        format!("handler {}: {} log records dropped (rate limit {cap} records/s)", r.name, r.dropped),
                        r.name.clone(),
                    ));
                }
                r.window_start = if now.is_finite() { now } else { r.window_start };
                r.written = 0;
                r.dropped = 0;
            }
        }
        for (msg, name) in warnings {
            self.report(Level::Warning, msg, &name, false);
        }
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

/// The data of one handler's `Store`.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory, instance and table caps.
    pub limits: StoreLimits,
    shared: Arc<Mutex<Shared>>,
    handler: usize,
    name: String,
    /// Set while a reporter_* event runs: reporter calls go to stderr only.
    pub quiet: bool,
}

impl HostState {
    pub(crate) fn new(shared: Arc<Mutex<Shared>>, handler: usize, name: &str, cfg: &SandboxConfig, quiet: bool) -> HostState {
        // No preopens, no environment, no arguments, no network; stderr only so that
        // guest panics are visible.
        let wasi = WasiCtx::builder()
            .inherit_stderr()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(cfg.memory_bytes)
            .instances(32)
            .tables(32)
            .memories(8)
            .table_elements(100_000)
            .trap_on_grow_failure(true)
            .build();
        HostState { wasi, table: ResourceTable::new(), limits, shared, handler, name: name.to_string(), quiet }
    }

    fn report(&mut self, level: Level, msg: String) {
        let quiet = self.quiet;
        let name = self.name.clone();
        self.shared.lock().expect("sandbox state").report(level, msg, &name, quiet);
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
        let columns: Vec<Column> = columns.into_iter().map(|c| Column { name: c.name, ty: log_type(c.type_) }).collect();
        let handler = self.handler;
        let mut shared = self.shared.lock().expect("sandbox state");
        for (i, s) in shared.streams.iter().enumerate() {
            let Some(s) = s else { continue };
            if s.writer.path() == name {
                if s.owner != handler {
                    return Err(format!("log {name} belongs to another handler"));
                }
                if s.writer.columns() != columns.as_slice() {
                    return Err(format!("log {name} already exists with other columns"));
                }
                return Ok(i as u32);
            }
        }
        if shared.streams.len() >= 1024 {
            return Err("too many log streams".into());
        }
        let writer = LogWriter::create(&shared.log_dir, &name, columns, shared.format).map_err(|e| format!("log {name}: {e}"))?;
        shared.streams.push(Some(StreamEntry { writer, owner: handler }));
        Ok((shared.streams.len() - 1) as u32)
    }

    fn write(&mut self, id: wlog::StreamId, values: Vec<wlog::LogValue>) {
        let handler = self.handler;
        let name = self.name.clone();
        let mut shared = self.shared.lock().expect("sandbox state");
        let cap = shared.max_records_per_sec;
        let now = shared.network_time;
        let rate = shared.rate(handler, &name);
        if now - rate.window_start >= 1.0 && rate.dropped == 0 {
            rate.window_start = now;
            rate.written = 0;
        }
        if rate.written >= cap {
            rate.dropped += 1;
            return;
        }
        rate.written += 1;
        let result = match shared.streams.get_mut(id as usize).and_then(Option::as_mut) {
            Some(s) if s.owner == handler => s.writer.write(&values.into_iter().map(log_value).collect::<Vec<_>>()),
            _ => Err(format!("no log stream {id} for this handler")),
        };
        if let Err(e) = result {
            let quiet = self.quiet;
            shared.report(Level::Warning, format!("handler {name}: {e}"), &name, quiet);
        }
    }
}
