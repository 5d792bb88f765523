//! Log streams and their writers: Zeek TSV (default) and JSON lines.
//!
//! A [`LogWriter`] owns one file (`<path>.log`). TSV output matches Zeek's
//! ASCII writer: the `#separator`…`#types` header, one row per record with
//! `-` for unset and `(empty)` for empty sets, and a `#close` line at the end.
//! JSON output writes one object per record with the same field names;
//! unset fields are left out.

#![deny(missing_docs)]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Output format of every log of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum LogFormat {
    /// Zeek's tab-separated format with `#` header lines.
    #[default]
    Tsv,
    /// One JSON object per line.
    Json,
}

pub use weir_events::{Column, LogType, LogValue};

/// How JSON logs write `time` values: Zeek's `LogAscii::json_timestamps`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JsonTimestamps {
    /// `JSON::TS_EPOCH`: seconds since the epoch, a number (the default).
    #[default]
    Epoch,
    /// `JSON::TS_MILLIS`: milliseconds since the epoch, an integer.
    Millis,
    /// `JSON::TS_MILLIS_UNSIGNED`: the same as an unsigned integer.
    MillisUnsigned,
    /// `JSON::TS_ISO8601`: `2009-11-18T08:00:21.486539Z`, a string.
    Iso8601,
}

/// Zeek's settings of its ASCII log writer that weir's writers take, as
/// `--set NAME=VALUE` names them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterOptions {
    /// `LogAscii::json_timestamps`.
    pub json_timestamps: JsonTimestamps,
    /// `LogAscii::json_include_unset_fields`: unset fields are written as
    /// `null` instead of left out.
    pub json_include_unset_fields: bool,
    /// `LogAscii::gzip_level`: 1-9 writes gzip files named `NAME.log.gz`;
    /// 0 (the default) plain files.
    pub gzip_level: u32,
}

/// One writer setting: its Zeek name, default and what it changes (the
/// rows of docs/options.md).
pub struct WriterOption {
    /// Zeek's name.
    pub name: &'static str,
    /// Its default, as Zeek writes it.
    pub default: &'static str,
    /// What it changes.
    pub doc: &'static str,
}

/// The writer settings weir takes.
pub const WRITER_OPTIONS: &[WriterOption] = &[
    WriterOption {
        name: "LogAscii::json_timestamps",
        default: "JSON::TS_EPOCH",
        doc: "How JSON logs write times: `JSON::TS_EPOCH` seconds as a number, `JSON::TS_MILLIS` milliseconds as an integer (`JSON::TS_MILLIS_UNSIGNED` likewise), `JSON::TS_ISO8601` a string `2009-11-18T08:00:21.486539Z`.",
    },
    WriterOption {
        name: "LogAscii::json_include_unset_fields",
        default: "F",
        doc: "JSON logs write unset fields as `null` instead of leaving them out.",
    },
    WriterOption {
        name: "LogAscii::gzip_level",
        default: "0",
        doc: "1 to 9: every log is written gzip-compressed at that level, named `NAME.log.gz`; 0 writes plain files.",
    },
];

impl WriterOptions {
    /// Sets the writer setting `name` (a Zeek name of [`WRITER_OPTIONS`]) to
    /// `value`; `None` when `name` is no writer setting.
    pub fn set(&mut self, name: &str, value: &str) -> Option<Result<(), String>> {
        let v = value.trim();
        let r = match name.trim() {
            "LogAscii::json_timestamps" => {
                let bare = v.strip_prefix("JSON::").unwrap_or(v);
                match bare {
                    "TS_EPOCH" => Ok(JsonTimestamps::Epoch),
                    "TS_MILLIS" => Ok(JsonTimestamps::Millis),
                    "TS_MILLIS_UNSIGNED" => Ok(JsonTimestamps::MillisUnsigned),
                    "TS_ISO8601" => Ok(JsonTimestamps::Iso8601),
                    _ => Err(format!("'{v}' is not JSON::TS_EPOCH, JSON::TS_MILLIS, JSON::TS_MILLIS_UNSIGNED or JSON::TS_ISO8601")),
                }
                .map(|t| self.json_timestamps = t)
            }
            "LogAscii::json_include_unset_fields" => match v {
                "T" | "true" => Ok(self.json_include_unset_fields = true),
                "F" | "false" => Ok(self.json_include_unset_fields = false),
                _ => Err(format!("'{v}' is not a bool (T or F)")),
            },
            "LogAscii::gzip_level" => match v.parse::<u32>() {
                Ok(n) if n <= 9 => Ok(self.gzip_level = n),
                _ => Err(format!("'{v}' is not a gzip level (0 to 9)")),
            },
            _ => return None,
        };
        Some(r)
    }
}

/// A log file's bytes: plain, or through a gzip encoder.
enum Sink {
    Plain(BufWriter<File>),
    Gzip(BufWriter<flate2::write::GzEncoder<File>>),
    /// Rows handed to another process's writer (a cluster's loggers).
    Forward(RecordForward),
}

/// Where a writer that writes no file of its own sends its rows: a
/// cluster worker's link to the loggers.
pub trait RecordSink: Send + Sync {
    /// One rendered row (newline included) of stream `path`, whose columns are `columns`.
    fn record(&self, path: &str, columns: &[Column], format: LogFormat, line: &str);
}

/// A shared [`RecordSink`], as the sandbox settings carry it.
#[derive(Clone)]
pub struct RecordForward(pub std::sync::Arc<dyn RecordSink>);

impl std::fmt::Debug for RecordForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordForward")
    }
}

impl Sink {
    fn out(&mut self) -> &mut dyn Write {
        match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w,
            Sink::Forward(_) => unreachable!("a forwarding writer has no file"),
        }
    }

    /// Flushes and, for gzip, writes the stream's end.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(w) => w.into_inner().map_err(|e| e.into_error())?.finish().map(drop),
            Sink::Forward(_) => Ok(()),
        }
    }
}

/// The column type Zeek's `#types` line names `name`, the inverse of [`zeek_type_name`].
pub fn zeek_type_from_name(name: &str) -> Option<LogType> {
    ALL_TYPES.into_iter().find(|t| zeek_type_name(*t) == name)
}

const ALL_TYPES: [LogType; 12] = [
    LogType::Bool,
    LogType::Count,
    LogType::Int,
    LogType::Double,
    LogType::Time,
    LogType::Interval,
    LogType::String,
    LogType::Addr,
    LogType::Port,
    LogType::Enum,
    LogType::SetOfString,
    LogType::VectorOfString,
];

/// The name Zeek writes for `ty` in the `#types` line.
pub fn zeek_type_name(ty: LogType) -> &'static str {
    match ty {
        LogType::Bool => "bool",
        LogType::Count => "count",
        LogType::Int => "int",
        LogType::Double => "double",
        LogType::Time => "time",
        LogType::Interval => "interval",
        LogType::String => "string",
        LogType::Addr => "addr",
        LogType::Port => "port",
        LogType::Enum => "enum",
        LogType::SetOfString => "set[string]",
        LogType::VectorOfString => "vector[string]",
    }
}

/// Whether `v` may be written in a column of type `ty` (unset always may).
pub fn fits(v: &LogValue, ty: LogType) -> bool {
    matches!(
        (v, ty),
        (LogValue::Unset, _)
            | (LogValue::Bool(_), LogType::Bool)
            | (LogValue::Count(_), LogType::Count)
            | (LogValue::Int(_), LogType::Int)
            | (LogValue::Double(_), LogType::Double)
            | (LogValue::Time(_), LogType::Time)
            | (LogValue::Interval(_), LogType::Interval)
            | (LogValue::String(_), LogType::String)
            | (LogValue::Addr(_), LogType::Addr)
            | (LogValue::Port(_), LogType::Port)
            | (LogValue::Enum(_), LogType::Enum)
            | (LogValue::SetOfString(_), LogType::SetOfString)
            | (LogValue::VectorOfString(_), LogType::VectorOfString)
    )
}

/// Writes one log file.
pub struct LogWriter {
    path: String,
    columns: Vec<Column>,
    format: LogFormat,
    options: WriterOptions,
    out: Sink,
    file: PathBuf,
    line: String,
}

impl LogWriter {
    /// Creates `<dir>/<path>.log` and writes the TSV header (TSV format only).
    /// The stream name must pass [`validate_path`] and the columns
    /// [`validate_columns`]; otherwise nothing is created and the reason is
    /// returned (`InvalidInput`).
    pub fn create(dir: &Path, path: &str, columns: Vec<Column>, format: LogFormat) -> std::io::Result<LogWriter> {
        Self::create_with(dir, path, columns, format, &WriterOptions::default())
    }

    /// [`LogWriter::create`] with Zeek's writer settings: with a gzip level
    /// the file is `<dir>/<path>.log.gz`.
    pub fn create_with(dir: &Path, path: &str, columns: Vec<Column>, format: LogFormat, options: &WriterOptions) -> std::io::Result<LogWriter> {
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        validate_path(path).map_err(invalid)?;
        validate_columns(&columns).map_err(invalid)?;
        let (file, out) = if options.gzip_level > 0 {
            let file = dir.join(format!("{path}.log.gz"));
            let gz = flate2::write::GzEncoder::new(File::create(&file)?, flate2::Compression::new(options.gzip_level.min(9)));
            (file, Sink::Gzip(BufWriter::with_capacity(64 * 1024, gz)))
        } else {
            let file = dir.join(format!("{path}.log"));
            (file.clone(), Sink::Plain(BufWriter::with_capacity(64 * 1024, File::create(&file)?)))
        };
        let options = options.clone();
        let mut w = LogWriter { path: path.to_string(), columns, format, options, out, file, line: String::new() };
        if format == LogFormat::Tsv {
            w.write_header()?;
        }
        Ok(w)
    }

    /// A writer of stream `path` that renders its rows as [`LogWriter::create_with`]
    /// would and hands them to `sink` instead of writing a file (a cluster
    /// worker's logs go to the loggers).
    pub fn forward(path: &str, columns: Vec<Column>, format: LogFormat, options: &WriterOptions, sink: RecordForward) -> std::io::Result<LogWriter> {
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        validate_path(path).map_err(invalid)?;
        validate_columns(&columns).map_err(invalid)?;
        let file = PathBuf::from(format!("{path} (forwarded)"));
        Ok(LogWriter { path: path.to_string(), columns, format, options: options.clone(), out: Sink::Forward(sink), file, line: String::new() })
    }

    /// Writes a row another writer rendered (a cluster logger writes its
    /// workers' rows); it must end with a newline.
    pub fn write_rendered(&mut self, line: &str) -> Result<(), String> {
        if !line.ends_with('\n') || line[..line.len() - 1].contains('\n') {
            return Err(format!("log {}: a rendered row is one line ending with a newline", self.path));
        }
        if self.format == LogFormat::Tsv && line.starts_with('#') {
            return Err(format!("log {}: a rendered row may not read as a header line", self.path));
        }
        match &mut self.out {
            Sink::Forward(f) => {
                f.0.record(&self.path, &self.columns, self.format, line);
                Ok(())
            }
            out => out.out().write_all(line.as_bytes()).map_err(|e| format!("log {}: {e}", self.path)),
        }
    }

    /// The stream's name (`conn`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file written.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The format its rows are in.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn write_header(&mut self) -> std::io::Result<()> {
        let mut h = String::new();
        h.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n");
        let _ = writeln!(h, "#path\t{}", self.path);
        let _ = writeln!(h, "#open\t{}", zeek_timestamp(SystemTime::now()));
        h.push_str("#fields");
        for c in &self.columns {
            h.push('\t');
            h.push_str(&c.name);
        }
        h.push_str("\n#types");
        for c in &self.columns {
            h.push('\t');
            h.push_str(zeek_type_name(c.type_));
        }
        h.push('\n');
        self.out.out().write_all(h.as_bytes())
    }

    /// Writes one record. `values` must have one value per column, each fitting
    /// the column's type; otherwise nothing is written and the reason is returned.
    pub fn write(&mut self, values: &[LogValue]) -> Result<(), String> {
        if values.len() != self.columns.len() {
            return Err(format!("log {}: {} values for {} columns", self.path, values.len(), self.columns.len()));
        }
        for (v, c) in values.iter().zip(&self.columns) {
            if !fits(v, c.type_) {
                return Err(format!("log {}: value {:?} does not fit column {} ({})", self.path, v, c.name, zeek_type_name(c.type_)));
            }
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        match self.format {
            LogFormat::Tsv => {
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        line.push('\t');
                    }
                    tsv_value(&mut line, v);
                }
            }
            LogFormat::Json => {
                line.push('{');
                let mut first = true;
                for (v, c) in values.iter().zip(&self.columns) {
                    if *v == LogValue::Unset && !self.options.json_include_unset_fields {
                        continue;
                    }
                    if !first {
                        line.push(',');
                    }
                    first = false;
                    json_string(&mut line, &c.name);
                    line.push(':');
                    match v {
                        LogValue::Time(t) => json_time(&mut line, *t, self.options.json_timestamps),
                        v => json_value(&mut line, v),
                    }
                }
                line.push('}');
            }
        }
        line.push('\n');
        if self.format == LogFormat::Tsv && line.starts_with('#') {
            // A row must never read as a header line: Zeek escapes its first byte.
            line.replace_range(..1, "\\x23");
        }
        let r = match &mut self.out {
            Sink::Forward(f) => {
                f.0.record(&self.path, &self.columns, self.format, &line);
                Ok(())
            }
            out => out.out().write_all(line.as_bytes()).map_err(|e| format!("log {}: {e}", self.path)),
        };
        self.line = line;
        r
    }

    /// Writes the `#close` line (TSV) and flushes.
    pub fn close(mut self) -> std::io::Result<()> {
        if self.format == LogFormat::Tsv && !matches!(self.out, Sink::Forward(_)) {
            let close = format!("#close\t{}\n", zeek_timestamp(SystemTime::now()));
            self.out.out().write_all(close.as_bytes())?;
        }
        self.out.finish()
    }

    /// Flushes buffered records (a gzip file gets a sync flush: what is
    /// written so far can be read).
    pub fn flush(&mut self) -> std::io::Result<()> {
        if matches!(self.out, Sink::Forward(_)) {
            return Ok(());
        }
        self.out.out().flush()
    }

    /// Bytes of the last record written (its line, newline included).
    pub fn last_record_len(&self) -> usize {
        self.line.len()
    }
}

/// `YYYY-MM-DD-HH-MM-SS` (UTC) as in Zeek's `#open`/`#close` lines.
pub fn zeek_timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// Longest stream name, in bytes.
pub const MAX_PATH_BYTES: usize = 200;

/// Longest column name, in bytes.
pub const MAX_COLUMN_NAME_BYTES: usize = 200;

/// Checks a stream name (`conn`, `known_hosts`, `conn-summary`): 1 to
/// [`MAX_PATH_BYTES`] ASCII letters, digits, `_`, `-` and `.`, starting with
/// a letter, digit or `_`. So a name is always one plain file name inside the
/// log folder: never empty, never a path (`a/b`, `../x`), never hidden, never
/// mistaken for a command-line option (`-rf`, `--help`), never carrying
/// control characters or a separator into the `#path` header line.
pub fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty log name".into());
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(format!("log name too long ({} bytes, at most {MAX_PATH_BYTES})", path.len()));
    }
    let first_ok = path.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !first_ok || !rest_ok {
        return Err(format!(
            "invalid log name {:?} (ASCII letters, digits, '_', '-', '.' only, starting with a letter, digit or '_')",
            path
        ));
    }
    Ok(())
}

/// Checks one column name as Zeek forms log field names: record field
/// identifiers (`[A-Za-z_][A-Za-z0-9_]*`, Zeek's identifier rule) joined by
/// `.` for nested records (`id.orig_h`), at most [`MAX_COLUMN_NAME_BYTES`].
pub fn validate_column_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty column name".into());
    }
    if name.len() > MAX_COLUMN_NAME_BYTES {
        return Err(format!("column name too long ({} bytes, at most {MAX_COLUMN_NAME_BYTES})", name.len()));
    }
    let component_ok = |p: &str| {
        p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !name.split('.').all(component_ok) {
        return Err(format!(
            "invalid column name {:?} (identifiers of ASCII letters, digits and '_', not starting with a digit, joined by '.')",
            name
        ));
    }
    Ok(())
}

/// Checks every column name ([`validate_column_name`]) and that no name
/// repeats (a TSV header or JSON object with two identical keys is ambiguous).
pub fn validate_columns(columns: &[Column]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::with_capacity(columns.len());
    for c in columns {
        validate_column_name(&c.name)?;
        if !seen.insert(c.name.as_str()) {
            return Err(format!("duplicate column name {:?}", c.name));
        }
    }
    Ok(())
}

/// Whether Zeek's UTF-8 check (`check_ok_utf8`) lets a character through
/// unescaped: not a C0/C1 control or DEL, not in the Private Use Area
/// (U+E000-U+F8FF), not a specials character (U+FFF0-U+FFFF).
/// A raw byte from the wire ([`weir_events::text`]) never passes.
fn zeek_utf8_ok(c: char) -> bool {
    let u = c as u32;
    weir_events::text::raw_byte(c).is_none()
        && !(u <= 0x1f || u == 0x7f || (0x80..=0x9f).contains(&u) || (0xe000..=0xf8ff).contains(&u) || (0xfff0..=0xffff).contains(&u))
}

/// Appends `s` escaped as Zeek's `escape_utf8` does: printable ASCII as is;
/// `\b \f \n \r \t` as is unless `escape_printable_controls`; every other
/// character kept if it passes [`zeek_utf8_ok`]. Once one character does not,
/// the whole of `s` is written with every non-ASCII byte and control as
/// `\xNN` (Zeek falls back to its fully escaped copy of the string).
pub fn escape_utf8(out: &mut String, s: &str, escape_printable_controls: bool) {
    let keep_raw = |c: char| (' '..='~').contains(&c) || (!escape_printable_controls && matches!(c, '\u{8}' | '\u{c}' | '\n' | '\r' | '\t'));
    if s.chars().all(|c| keep_raw(c) || zeek_utf8_ok(c)) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if keep_raw(c) {
            out.push(c);
        } else if let Some(b) = weir_events::text::raw_byte(c) {
            let _ = write!(out, "\\x{b:02x}");
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// Appends the bytes of one string as Zeek's ASCII writer does (its `ODesc`
/// with escaping and UTF-8 on): a backslash becomes `\\`, the separator (tab)
/// and, inside a set or vector, the set separator `,` become `\xNN`, and each
/// stretch between them goes through [`escape_utf8`] with every control escaped.
fn tsv_escape(out: &mut String, s: &str, in_set: bool) {
    let mut rest = s;
    while let Some(i) = rest.find(|c: char| c == '\\' || c == '\t' || (in_set && c == ',')) {
        escape_utf8(out, &rest[..i], true);
        match rest.as_bytes()[i] {
            b'\\' => out.push_str("\\\\"),
            b => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        rest = &rest[i + 1..];
    }
    escape_utf8(out, rest, true);
}

/// A string value (or one set element) in TSV: `(empty)` when empty; a value
/// equal to the unset (`-`) or empty (`(empty)`) marker gets its first
/// character hex-escaped so it cannot be read as the marker.
fn tsv_string(out: &mut String, s: &str, in_set: bool) {
    if s.is_empty() {
        out.push_str(EMPTY_FIELD);
    } else if s == UNSET_FIELD || s == EMPTY_FIELD {
        let _ = write!(out, "\\x{:02x}", s.as_bytes()[0]);
        tsv_escape(out, &s[1..], in_set);
    } else {
        tsv_escape(out, s, in_set);
    }
}

/// Zeek's `Log::unset_field`.
const UNSET_FIELD: &str = "-";
/// Zeek's `Log::empty_field`.
const EMPTY_FIELD: &str = "(empty)";

fn tsv_value(out: &mut String, v: &LogValue) {
    match v {
        LogValue::Unset => out.push('-'),
        LogValue::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        LogValue::Count(n) => {
            let _ = write!(out, "{n}");
        }
        LogValue::Int(n) => {
            let _ = write!(out, "{n}");
        }
        LogValue::Double(x) | LogValue::Time(x) | LogValue::Interval(x) => {
            let _ = write!(out, "{x:.6}");
        }
        LogValue::String(s) | LogValue::Enum(s) => tsv_string(out, s, false),
        LogValue::Addr(a) => {
            let _ = write!(out, "{a}");
        }
        LogValue::Port(p) => {
            let _ = write!(out, "{}", p.number);
        }
        LogValue::SetOfString(items) | LogValue::VectorOfString(items) => {
            if items.is_empty() {
                out.push_str("(empty)");
            }
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                tsv_string(out, s, true);
            }
        }
    }
}

/// A JSON string; keys and values alike (names are validated, so escaping
/// leaves them unchanged).
fn json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// A string value in JSON as Zeek's JSON formatter writes it (its default
/// `STRING_ESCAPE_POLICY_HEX`): [`escape_utf8`] with the printable controls
/// kept, then JSON's own escaping of quotes, backslashes and controls.
fn json_text(out: &mut String, s: &str) {
    let mut escaped = String::with_capacity(s.len());
    escape_utf8(&mut escaped, s, false);
    json_string(out, &escaped);
}

fn json_number(out: &mut String, x: f64) {
    if x.is_finite() {
        let _ = write!(out, "{x:.6}");
        // Trim to Zeek's JSON style: no trailing zeros beyond the point.
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.push('0');
        }
    } else {
        out.push_str("null");
    }
}

/// A `time` value in JSON as `LogAscii::json_timestamps` says (Zeek's JSON
/// formatter: ISO 8601 from the whole seconds, then the fraction's
/// microseconds rounded; milliseconds truncated toward zero).
fn json_time(out: &mut String, t: f64, form: JsonTimestamps) {
    match form {
        JsonTimestamps::Epoch => json_number(out, t),
        JsonTimestamps::Millis => {
            let _ = write!(out, "{}", (t * 1000.0) as i64);
        }
        JsonTimestamps::MillisUnsigned => {
            let _ = write!(out, "{}", (t * 1000.0) as i64 as u64);
        }
        JsonTimestamps::Iso8601 => {
            let secs = t.floor();
            let frac = t - secs;
            let (days, rem) = ((secs as i64).div_euclid(86_400), (secs as i64).rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            let _ = write!(
                out,
                "\"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06.0}Z\"",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60,
                frac * 1_000_000.0
            );
        }
    }
}

fn json_value(out: &mut String, v: &LogValue) {
    match v {
        LogValue::Unset => out.push_str("null"),
        LogValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        LogValue::Count(n) => {
            let _ = write!(out, "{n}");
        }
        LogValue::Int(n) => {
            let _ = write!(out, "{n}");
        }
        LogValue::Double(x) | LogValue::Time(x) | LogValue::Interval(x) => json_number(out, *x),
        LogValue::String(s) | LogValue::Enum(s) => json_text(out, s),
        LogValue::Addr(a) => json_string(out, &a.to_string()),
        LogValue::Port(p) => {
            let _ = write!(out, "{}", p.number);
        }
        LogValue::SetOfString(items) | LogValue::VectorOfString(items) => {
            out.push('[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_text(out, s);
            }
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_line(options: &WriterOptions, values: Vec<LogValue>, columns: Vec<Column>) -> String {
        let dir = std::env::temp_dir().join(format!("weir-logs-json-{}-{:?}", std::process::id(), std::thread::current().id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = LogWriter::create_with(&dir, "t", columns, LogFormat::Json, options).unwrap();
        w.write(&values).unwrap();
        let file = w.file().to_path_buf();
        w.close().unwrap();
        std::fs::read_to_string(file).unwrap()
    }

    #[test]
    fn json_timestamps_as_zeek_writes_them() {
        let cols = vec![Column { name: "ts".into(), type_: LogType::Time }, Column { name: "d".into(), type_: LogType::Interval }];
        let row = || vec![LogValue::Time(1258531221.486539), LogValue::Interval(1.5)];
        let with = |t| WriterOptions { json_timestamps: t, ..WriterOptions::default() };
        assert_eq!(json_line(&with(JsonTimestamps::Epoch), row(), cols.clone()), "{\"ts\":1258531221.486539,\"d\":1.5}\n");
        assert_eq!(json_line(&with(JsonTimestamps::Millis), row(), cols.clone()), "{\"ts\":1258531221486,\"d\":1.5}\n");
        // Zeek's testing/btest/Baseline/scripts.base.frameworks.logging.ascii-json-iso-timestamps has this form.
        assert_eq!(json_line(&with(JsonTimestamps::Iso8601), row(), cols.clone()), "{\"ts\":\"2009-11-18T08:00:21.486539Z\",\"d\":1.5}\n");
        // Before the epoch: the fraction counts up from the whole second below.
        let before = vec![LogValue::Time(-0.25), LogValue::Interval(0.0)];
        assert_eq!(json_line(&with(JsonTimestamps::Iso8601), before, cols.clone()), "{\"ts\":\"1969-12-31T23:59:59.750000Z\",\"d\":0.0}\n");
        let mut o = WriterOptions::default();
        assert_eq!(o.set("LogAscii::json_timestamps", "JSON::TS_ISO8601"), Some(Ok(())));
        assert_eq!(o.json_timestamps, JsonTimestamps::Iso8601);
        assert!(o.set("LogAscii::json_timestamps", "JSON::TS_NANOS").unwrap().is_err());
        assert!(o.set("LogAscii::gzip_level", "10").unwrap().is_err());
        assert!(o.set("tcp_inactivity_timeout", "10").is_none());
    }

    #[test]
    fn unset_fields_are_null_on_request() {
        let cols = vec![Column { name: "a".into(), type_: LogType::Count }, Column { name: "b".into(), type_: LogType::String }];
        let row = || vec![LogValue::Count(1), LogValue::Unset];
        assert_eq!(json_line(&WriterOptions::default(), row(), cols.clone()), "{\"a\":1}\n");
        let o = WriterOptions { json_include_unset_fields: true, ..WriterOptions::default() };
        assert_eq!(json_line(&o, row(), cols), "{\"a\":1,\"b\":null}\n");
    }

    #[test]
    fn gzip_logs_are_named_log_gz_and_decompress_to_the_plain_log() {
        use std::io::Read;
        let dir = std::env::temp_dir().join(format!("weir-logs-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = LogWriter::create_with(&dir, "conn", cols(), LogFormat::Tsv, &WriterOptions { gzip_level: 6, ..Default::default() }).unwrap();
        assert_eq!(w.file(), dir.join("conn.log.gz"));
        for _ in 0..100 {
            w.write(&row()).unwrap();
        }
        w.close().unwrap();
        let bytes = std::fs::read(dir.join("conn.log.gz")).unwrap();
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip file");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).unwrap();
        assert!(text.starts_with("#separator"), "{text}");
        assert!(text.ends_with('\n') && text.lines().last().unwrap().starts_with("#close"), "{text}");
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 100);
        assert!(bytes.len() < text.len() / 4, "compressed: {} of {} bytes", bytes.len(), text.len());
    }

    #[test]
    fn every_writer_option_is_documented_in_docs_options_md() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/options.md")).unwrap();
        for o in WRITER_OPTIONS {
            let row = format!("| `{}` | {} | {} |", o.name, o.default, o.doc);
            assert!(doc.contains(&row), "docs/options.md lacks the row {row}");
            let mut w = WriterOptions::default();
            assert_eq!(w.set(o.name, o.default), Some(Ok(())), "{} takes its default", o.name);
            assert_eq!(w, WriterOptions::default(), "{}'s default is the default", o.name);
        }
    }

    fn cols() -> Vec<Column> {
        vec![
            Column { name: "ts".into(), type_: LogType::Time },
            Column { name: "id.orig_h".into(), type_: LogType::Addr },
            Column { name: "id.orig_p".into(), type_: LogType::Port },
            Column { name: "service".into(), type_: LogType::SetOfString },
            Column { name: "duration".into(), type_: LogType::Interval },
            Column { name: "msg".into(), type_: LogType::String },
            Column { name: "local_orig".into(), type_: LogType::Bool },
        ]
    }

    fn row() -> Vec<LogValue> {
        vec![
            LogValue::Time(1300475167.096535),
            LogValue::Addr("10.0.0.1".parse().unwrap()),
            LogValue::Port(weir_events::Port { number: 80, proto: weir_events::Transport::Tcp }),
            LogValue::SetOfString(vec![]),
            LogValue::Unset,
            LogValue::String("a\tb\\c\u{1}".into()),
            LogValue::Bool(true),
        ]
    }

    #[test]
    fn tsv_header_rows_and_close() {
        let dir = std::env::temp_dir().join(format!("weir-logs-tsv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = LogWriter::create(&dir, "conn", cols(), LogFormat::Tsv).unwrap();
        w.write(&row()).unwrap();
        assert!(w.write(&row()[..3]).is_err());
        let mut bad = row();
        bad[0] = LogValue::Count(1);
        assert!(w.write(&bad).is_err());
        w.close().unwrap();
        let text = std::fs::read_to_string(dir.join("conn.log")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#separator \\x09");
        assert_eq!(lines[1], "#set_separator\t,");
        assert_eq!(lines[2], "#empty_field\t(empty)");
        assert_eq!(lines[3], "#unset_field\t-");
        assert_eq!(lines[4], "#path\tconn");
        assert!(lines[5].starts_with("#open\t2"), "{}", lines[5]);
        assert_eq!(lines[6], "#fields\tts\tid.orig_h\tid.orig_p\tservice\tduration\tmsg\tlocal_orig");
        assert_eq!(lines[7], "#types\ttime\taddr\tport\tset[string]\tinterval\tstring\tbool");
        assert_eq!(lines[8], "1300475167.096535\t10.0.0.1\t80\t(empty)\t-\ta\\x09b\\\\c\\x01\tT");
        assert_eq!(lines.len(), 10);
        assert!(lines[9].starts_with("#close\t"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn json_leaves_out_unset() {
        let dir = std::env::temp_dir().join(format!("weir-logs-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = LogWriter::create(&dir, "conn", cols(), LogFormat::Json).unwrap();
        w.write(&row()).unwrap();
        w.close().unwrap();
        let text = std::fs::read_to_string(dir.join("conn.log")).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(v["id.orig_h"], "10.0.0.1");
        assert_eq!(v["id.orig_p"], 80);
        assert_eq!(v["ts"].as_f64().unwrap(), 1300475167.096535);
        assert!(v.get("duration").is_none());
        assert_eq!(v["msg"], "a\tb\\c\\x01");
        assert_eq!(text.lines().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_names_are_refused() {
        let dir = std::env::temp_dir();
        assert!(LogWriter::create(&dir, "../x", cols(), LogFormat::Tsv).is_err());
        assert!(LogWriter::create(&dir, "", cols(), LogFormat::Tsv).is_err());
    }


    fn tsv(v: LogValue) -> String {
        let mut out = String::new();
        tsv_value(&mut out, &v);
        out
    }

    fn json(v: LogValue) -> serde_json::Value {
        let mut out = String::new();
        json_value(&mut out, &v);
        serde_json::from_str(&out).unwrap()
    }

    fn s(x: &str) -> LogValue {
        LogValue::String(x.into())
    }

    fn set(xs: &[&str]) -> LogValue {
        LogValue::SetOfString(xs.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn tsv_escapes_as_zeek() {
        // Separator, backslash, controls, newline.
        assert_eq!(tsv(s("a\tb")), "a\\x09b");
        assert_eq!(tsv(s("a\\b")), "a\\\\b");
        assert_eq!(tsv(s("line\n#fields\tx")), "line\\x0a#fields\\x09x");
        assert_eq!(tsv(s("cr\rbell\u{7}del\u{7f}")), "cr\\x0dbell\\x07del\\x7f");
        assert_eq!(tsv(s("\u{1b}[2J")), "\\x1b[2J");
        // Empty and the markers.
        assert_eq!(tsv(s("")), "(empty)");
        assert_eq!(tsv(s("-")), "\\x2d");
        assert_eq!(tsv(s("(empty)")), "\\x28empty)");
        assert_eq!(tsv(s("--")), "--");
        assert_eq!(tsv(LogValue::Unset), "-");
        // UTF-8 is kept; C1 controls, private-use and specials are not, and one
        // of them makes every non-ASCII byte of its stretch escaped (as in Zeek).
        assert_eq!(tsv(s("grüße")), "grüße");
        assert_eq!(tsv(s("ü\u{85}")), "\\xc3\\xbc\\xc2\\x85");
        assert_eq!(tsv(s("\u{e000}")), "\\xee\\x80\\x80");
        assert_eq!(tsv(s("\u{fffd}x")), "\\xef\\xbf\\xbdx");
        assert_eq!(tsv(s("ü\tü\u{1}")), "ü\\x09\\xc3\\xbc\\x01");
        // Bytes of the wire that are not UTF-8 come back as themselves.
        let wire = weir_events::text::from_bytes(b"met/\xd9ccIOST \xc3\xa9");
        assert_eq!(tsv(s(&wire)), "met/\\xd9ccIOST \\xc3\\xa9");
        assert_eq!(json(s(&wire)), "met/\\xd9ccIOST \\xc3\\xa9");
        // Comma is the set separator only inside sets and vectors.
        assert_eq!(tsv(s("a,b")), "a,b");
        assert_eq!(tsv(set(&["a,b", "", "-", "(empty)", "c\\"])), "a\\x2cb,(empty),\\x2d,\\x28empty),c\\\\");
        assert_eq!(tsv(set(&[])), "(empty)");
        assert_eq!(tsv(LogValue::VectorOfString(vec!["x\ty".into()])), "x\\x09y");
        assert_eq!(tsv(LogValue::Enum("E\n".into())), "E\\x0a");
    }

    #[test]
    fn json_escapes_as_zeek() {
        // Printable controls stay (JSON escapes them), others become \xNN text.
        assert_eq!(json(s("a\tb\nc")), "a\tb\nc");
        assert_eq!(json(s("\u{1b}[2J\u{7f}")), "\\x1b[2J\\x7f");
        assert_eq!(json(s("q\"\\")), "q\"\\");
        assert_eq!(json(s("grüße")), "grüße");
        assert_eq!(json(s("ü\u{85}")), "\\xc3\\xbc\\xc2\\x85");
        assert_eq!(json(set(&["a,b", "\u{0}"])), serde_json::json!(["a,b", "\\x00"]));
        let mut out = String::new();
        json_value(&mut out, &s("\u{1}\u{7}"));
        assert!(!out.chars().any(|c| c.is_control()), "{out:?}");
    }

    #[test]
    fn rows_never_start_with_the_header_prefix() {
        let dir = std::env::temp_dir().join(format!("weir-logs-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cols = vec![Column { name: "msg".into(), type_: LogType::String }, Column { name: "n".into(), type_: LogType::Count }];
        let mut w = LogWriter::create(&dir, "forge", cols.clone(), LogFormat::Tsv).unwrap();
        w.write(&[s("#fields\tts"), LogValue::Count(1)]).unwrap();
        w.write(&[s("a#b"), LogValue::Count(2)]).unwrap();
        w.close().unwrap();
        let text = std::fs::read_to_string(dir.join("forge.log")).unwrap();
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rows, ["\\x23fields\\x09ts\t1", "a#b\t2"]);
        assert_eq!(text.lines().filter(|l| l.starts_with("#fields")).count(), 1);
        let mut w = LogWriter::create(&dir, "forge", cols, LogFormat::Json).unwrap();
        w.write(&[s("#x"), LogValue::Count(1)]).unwrap();
        w.close().unwrap();
        let text = std::fs::read_to_string(dir.join("forge.log")).unwrap();
        assert_eq!(text, "{\"msg\":\"#x\",\"n\":1}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A sink that keeps what it is handed.
    #[derive(Default)]
    struct Kept(std::sync::Mutex<Vec<(String, usize, String)>>);

    impl RecordSink for Kept {
        fn record(&self, path: &str, columns: &[Column], _: LogFormat, line: &str) {
            self.0.lock().unwrap().push((path.to_string(), columns.len(), line.to_string()));
        }
    }

    #[test]
    fn forwarded_rows_are_the_rows_a_file_gets() {
        let dir = std::env::temp_dir().join(format!("weir-logs-forward-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cols = vec![Column { name: "msg".into(), type_: LogType::String }, Column { name: "n".into(), type_: LogType::Count }];
        let rows = [[s("#fields"), LogValue::Count(1)], [s("a\tb"), LogValue::Unset]];
        let kept = std::sync::Arc::new(Kept::default());
        let mut fwd = LogWriter::forward("x", cols.clone(), LogFormat::Tsv, &WriterOptions::default(), RecordForward(kept.clone())).unwrap();
        let mut file = LogWriter::create(&dir, "x", cols.clone(), LogFormat::Tsv).unwrap();
        for r in &rows {
            fwd.write(r).unwrap();
            file.write(r).unwrap();
        }
        fwd.close().unwrap();
        file.close().unwrap();
        let text = std::fs::read_to_string(dir.join("x.log")).unwrap();
        let from_file: Vec<String> = text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        let forwarded: Vec<String> = kept.0.lock().unwrap().iter().map(|(p, n, l)| {
            assert_eq!((p.as_str(), *n), ("x", 2));
            l.clone()
        }).collect();
        assert_eq!(forwarded, from_file);
        // A logger writes them as they came; a row that is not one line, or
        // reads as a header, is refused.
        let mut again = LogWriter::create(&dir, "y", cols, LogFormat::Tsv).unwrap();
        for l in &forwarded {
            again.write_rendered(l).unwrap();
        }
        assert!(again.write_rendered("a\nb\n").is_err());
        assert!(again.write_rendered("no newline").is_err());
        assert!(again.write_rendered("#close\tforged\n").is_err());
        again.close().unwrap();
        let copy = std::fs::read_to_string(dir.join("y.log")).unwrap();
        let rows_of = |t: &str| t.lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect::<Vec<_>>();
        assert_eq!(rows_of(&copy), rows_of(&text));
        assert_eq!(zeek_type_from_name("set[string]"), Some(LogType::SetOfString));
        assert_eq!(zeek_type_from_name("table"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stream_names() {
        for ok in ["conn", "known_hosts", "conn-summary", "dns.2", "_x", "1x"] {
            assert!(validate_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-rf", "--help", "../x", "a/b", "/etc/passwd", ".hidden", "a\nb", "a\tb", "a b", "ü", "a\\b", "a\u{0}"] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
            assert!(LogWriter::create(&std::env::temp_dir(), bad, cols(), LogFormat::Tsv).is_err(), "{bad:?}");
        }
        assert!(validate_path(&"a".repeat(MAX_PATH_BYTES)).is_ok());
        assert!(validate_path(&"a".repeat(MAX_PATH_BYTES + 1)).is_err());
    }

    #[test]
    fn column_names() {
        for ok in ["ts", "id.orig_h", "_x", "a.b.c", "X9"] {
            assert!(validate_column_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a\nb", "a\tb", "#fields", "a b", "9a", "a..b", ".a", "a.", "a-b", "ü", "a::b", "a\"b"] {
            assert!(validate_column_name(bad).is_err(), "{bad:?}");
        }
        let dir = std::env::temp_dir().join(format!("weir-logs-cols-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let col = |n: &str| Column { name: n.into(), type_: LogType::String };
        let e = LogWriter::create(&dir, "dup", vec![col("a"), col("b"), col("a")], LogFormat::Json).err().unwrap();
        assert!(e.to_string().contains("duplicate column name \"a\""), "{e}");
        assert!(LogWriter::create(&dir, "nl", vec![col("a\n#fields")], LogFormat::Tsv).is_err());
        assert!(!dir.join("dup.log").exists() && !dir.join("nl.log").exists(), "a refused stream creates no file");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }
}
