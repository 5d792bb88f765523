//! Log streams and their writers: Zeek TSV (default) and JSON lines.
//!
//! A [`LogWriter`] owns one file (`<path>.log`). TSV output matches Zeek's
//! ASCII writer: the `#separator`…`#types` header, one row per record with
//! `-` for unset and `(empty)` for empty sets, and a `#close` line at the end.
//! JSON output writes one object per record with the same field names;
//! unset fields are left out.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Output format of every log of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Zeek's tab-separated format with `#` header lines.
    #[default]
    Tsv,
    /// One JSON object per line.
    Json,
}

/// Zeek type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogType {
    /// `bool` (`T`/`F`).
    Bool,
    /// `count` (unsigned 64-bit).
    Count,
    /// `int` (signed 64-bit).
    Int,
    /// `double`.
    Double,
    /// `time` (seconds since the epoch).
    Time,
    /// `interval` (seconds).
    Interval,
    /// `string`.
    String,
    /// `addr`.
    Addr,
    /// `port` (number only in the log).
    Port,
    /// `enum`.
    Enum,
    /// `set[string]`.
    SetOfString,
    /// `vector of string`.
    VectorOfString,
}

impl LogType {
    /// The name Zeek writes in the `#types` line.
    pub fn zeek_name(self) -> &'static str {
        match self {
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
}

/// One field value of a record.
#[derive(Clone, Debug, PartialEq)]
pub enum LogValue {
    /// Not set (`-` in TSV, absent in JSON).
    Unset,
    /// A bool.
    Bool(bool),
    /// A count.
    Count(u64),
    /// An int.
    Int(i64),
    /// A double.
    Double(f64),
    /// A time.
    Time(f64),
    /// An interval.
    Interval(f64),
    /// A string.
    String(String),
    /// An address.
    Addr(IpAddr),
    /// A port number.
    Port(u16),
    /// An enum value name.
    Enum(String),
    /// A set of strings.
    SetOfString(Vec<String>),
    /// A vector of strings.
    VectorOfString(Vec<String>),
}

impl LogValue {
    /// Whether this value may be written in a column of type `ty` (unset always may).
    pub fn fits(&self, ty: LogType) -> bool {
        matches!(
            (self, ty),
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
}

/// A column: its name (e.g. `id.orig_h`) and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Field name as logged.
    pub name: String,
    /// Zeek type.
    pub ty: LogType,
}

/// Writes one log file.
pub struct LogWriter {
    path: String,
    columns: Vec<Column>,
    format: LogFormat,
    out: BufWriter<File>,
    file: PathBuf,
    line: String,
}

impl LogWriter {
    /// Creates `<dir>/<path>.log` and writes the TSV header (TSV format only).
    pub fn create(dir: &Path, path: &str, columns: Vec<Column>, format: LogFormat) -> std::io::Result<LogWriter> {
        let valid = !path.is_empty()
            && path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            && !path.starts_with('.');
        if !valid {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("invalid log name {path:?} (letters, digits, '_', '-', '.' only)"),
            ));
        }
        let file = dir.join(format!("{path}.log"));
        let out = BufWriter::with_capacity(64 * 1024, File::create(&file)?);
        let mut w = LogWriter { path: path.to_string(), columns, format, out, file, line: String::new() };
        if format == LogFormat::Tsv {
            w.write_header()?;
        }
        Ok(w)
    }

    /// The stream's name (`conn`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file written.
    pub fn file(&self) -> &Path {
        &self.file
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
            h.push_str(c.ty.zeek_name());
        }
        h.push('\n');
        self.out.write_all(h.as_bytes())
    }

    /// Writes one record. `values` must have one value per column, each fitting
    /// the column's type; otherwise nothing is written and the reason is returned.
    pub fn write(&mut self, values: &[LogValue]) -> Result<(), String> {
        if values.len() != self.columns.len() {
            return Err(format!("log {}: {} values for {} columns", self.path, values.len(), self.columns.len()));
        }
        for (v, c) in values.iter().zip(&self.columns) {
            if !v.fits(c.ty) {
                return Err(format!("log {}: value {:?} does not fit column {} ({})", self.path, v, c.name, c.ty.zeek_name()));
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
                    if *v == LogValue::Unset {
                        continue;
                    }
                    if !first {
                        line.push(',');
                    }
                    first = false;
                    json_string(&mut line, &c.name);
                    line.push(':');
                    json_value(&mut line, v);
                }
                line.push('}');
            }
        }
        line.push('\n');
        let r = self.out.write_all(line.as_bytes()).map_err(|e| format!("log {}: {e}", self.path));
        self.line = line;
        r
    }

    /// Writes the `#close` line (TSV) and flushes.
    pub fn close(mut self) -> std::io::Result<()> {
        if self.format == LogFormat::Tsv {
            let close = format!("#close\t{}\n", zeek_timestamp(SystemTime::now()));
            self.out.write_all(close.as_bytes())?;
        }
        self.out.flush()
    }

    /// Flushes buffered records.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
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

/// Appends `s` escaped as Zeek's ASCII writer does: `\\`, tab and other control
/// characters as `\xNN`; valid UTF-8 is kept. `sep` is an extra character to
/// escape (the set separator `,` inside set elements).
fn tsv_escape(out: &mut String, s: &str, sep: Option<char>) {
    for c in s.chars() {
        if c == '\\' || c.is_control() || Some(c) == sep {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            out.push(c);
        }
    }
}

fn tsv_string(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push_str("(empty)");
    } else if s == "-" {
        out.push_str("\\x2d");
    } else {
        tsv_escape(out, s, None);
    }
}

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
        LogValue::String(s) | LogValue::Enum(s) => tsv_string(out, s),
        LogValue::Addr(a) => {
            let _ = write!(out, "{a}");
        }
        LogValue::Port(p) => {
            let _ = write!(out, "{p}");
        }
        LogValue::SetOfString(items) | LogValue::VectorOfString(items) => {
            if items.is_empty() {
                out.push_str("(empty)");
            }
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if s.is_empty() {
                    out.push_str("(empty)");
                } else {
                    tsv_escape(out, s, Some(','));
                }
            }
        }
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
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
        LogValue::String(s) | LogValue::Enum(s) => json_string(out, s),
        LogValue::Addr(a) => json_string(out, &a.to_string()),
        LogValue::Port(p) => {
            let _ = write!(out, "{p}");
        }
        LogValue::SetOfString(items) | LogValue::VectorOfString(items) => {
            out.push('[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, s);
            }
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<Column> {
        vec![
            Column { name: "ts".into(), ty: LogType::Time },
            Column { name: "id.orig_h".into(), ty: LogType::Addr },
            Column { name: "id.orig_p".into(), ty: LogType::Port },
            Column { name: "service".into(), ty: LogType::SetOfString },
            Column { name: "duration".into(), ty: LogType::Interval },
            Column { name: "msg".into(), ty: LogType::String },
            Column { name: "local_orig".into(), ty: LogType::Bool },
        ]
    }

    fn row() -> Vec<LogValue> {
        vec![
            LogValue::Time(1300475167.096535),
            LogValue::Addr("10.0.0.1".parse().unwrap()),
            LogValue::Port(80),
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
        assert_eq!(lines[8], "1300475167.096535\t10.0.0.1\t80\t(empty)\t-\ta\\x09b\\x5cc\\x01\tT");
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
        assert_eq!(v["msg"], "a\tb\\c\u{1}");
        assert_eq!(text.lines().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_names_are_refused() {
        let dir = std::env::temp_dir();
        assert!(LogWriter::create(&dir, "../x", cols(), LogFormat::Tsv).is_err());
        assert!(LogWriter::create(&dir, "", cols(), LogFormat::Tsv).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }
}
