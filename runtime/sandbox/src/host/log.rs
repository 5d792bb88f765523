//! `weir:events/log`: the log streams handlers create and write, and the
//! run's open log files they go to.

use weir_logs::{Column, LogValue, LogWriter};

use crate::convert::FromWit;

use super::{HostState, Level};
use crate::bindings::weir::events::log as wlog;
use crate::SandboxConfig;

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

/// Longest log stream name, in bytes.
const MAX_LOG_NAME_BYTES: usize = 200;

/// The open log files, shared by every sandbox of a run (one per worker):
/// a stream is found by its path, so each worker's instance of a handler
/// writes into the same file.
pub(crate) struct LogStreams {
    log_dir: std::path::PathBuf,
    format: weir_logs::LogFormat,
    options: weir_logs::WriterOptions,
    /// Where rows go instead of files (a cluster worker's loggers).
    forward: Option<weir_logs::RecordForward>,
    streams: Vec<Option<StreamEntry>>,
    reserved: Vec<Reserved>,
    /// Streams each handler may open.
    max_streams: u32,
    /// The run's address anonymizer: the `anonymize` host calls, and every
    /// `addr` field written under `log_addr_anonymization`.
    pub(crate) anon: weir_engine::anon::Anonymizer,
}

impl LogStreams {
    pub(crate) fn new(cfg: &SandboxConfig) -> LogStreams {
        LogStreams {
            log_dir: cfg.log_dir.clone(),
            format: cfg.log_format,
            options: cfg.log_options.clone(),
            forward: cfg.log_forward.clone(),
            streams: Vec::new(),
            reserved: Vec::new(),
            max_streams: cfg.quota.streams,
            anon: weir_engine::anon::Anonymizer::new(cfg.anonymization.clone()),
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

impl wlog::Host for HostState {
    fn create_stream(&mut self, name: String, columns: Vec<wlog::Column>) -> Result<wlog::StreamId, String> {
        self.charge += name.len() as u64 + columns.iter().map(|c| c.name.len() as u64 + 8).sum::<u64>();
        if name.len() > MAX_LOG_NAME_BYTES {
            return Err(format!("log name too long ({} bytes, at most {MAX_LOG_NAME_BYTES})", name.len()));
        }
        let columns: Vec<Column> = columns.into_iter().map(Column::from_wit).collect();
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
        let writer = match &shared.forward {
            Some(f) => LogWriter::forward(&name, columns, shared.format, &shared.options, f.clone()),
            None => LogWriter::create_with(&shared.log_dir, &name, columns, shared.format, &shared.options),
        }
        .map_err(|e| format!("log {name}: {e}"))?;
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
        let now = shared.clock.get();
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
        let mut values: Vec<LogValue> = values.into_iter().map(LogValue::from_wit).collect();
        let mut written = 0;
        let mut logs = shared.logs.lock().expect("log streams");
        if logs.anon.anonymizes_logs() {
            for v in &mut values {
                if let LogValue::Addr(a) = v {
                    *a = logs.anon.for_log(*a);
                }
            }
        }
        let result = match logs.streams.get_mut(id as usize).and_then(Option::as_mut) {
            Some(s) if s.owner == handler => s.writer.write(&values).map(|()| written = s.writer.last_record_len() as u64),
            _ => Err(format!("no log stream {id} for this handler")),
        };
        drop(logs);
        // The bytes carried were paid for up front; a line longer than them costs the rest.
        self.charge += written.saturating_sub(carried) * crate::HOST_BYTE_FUEL;
        shared.rate(handler, &name, now).log_bytes += written;
        if let Err(e) = result {
            let quiet = self.quiet;
            shared.report_from_handler(handler, &name, Level::Warning, format!("handler {name}: {e}"), quiet);
        }
    }
}
