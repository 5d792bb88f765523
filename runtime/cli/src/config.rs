//! `weir run --config FILE` and `weir config check FILE`: a TOML file holding
//! what the run flags hold. Each value of the file is checked on its own, so
//! that one pass reports every error with its line; the file's values then
//! fill the [`RunArgs`] the command line left at their defaults (lists add:
//! the file's first, so that a `--set` flag wins over the file's setting).
//! Relative paths are taken from the file's folder.

use crate::RunArgs;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// One error of a configuration file: its line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Line of the file the error is on.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

/// Every error of one file, printed one per line as `FILE:LINE: message`.
#[derive(Debug)]
pub struct ConfigErrors {
    /// The file.
    pub file: PathBuf,
    /// Its errors, by line.
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: {}", self.file.display(), e.line, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A value of the file with its place: the value as a `T`, or why it is not one.
/// Deserializing it never fails, so one bad value does not hide the others.
struct Item<T> {
    span: Range<usize>,
    value: Result<T, String>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Spanned::<toml::Value>::deserialize(d)?;
        let span = v.span();
        let value = T::deserialize(v.into_inner()).map_err(|e| e.message().trim().to_string());
        Ok(Item { span, value })
    }
}

/// `[capture]`: where packets come from and how they are tracked.
#[derive(Deserialize, Default)]
struct Capture {
    read: Option<Item<PathBuf>>,
    interface: Option<Item<String>>,
    filter: Option<Item<String>>,
    ignore_checksums: Option<Item<bool>>,
    workers: Option<Item<usize>>,
    max_connections: Option<Item<usize>>,
    seed: Option<Item<u64>>,
    likely_server_ports: Option<Item<Vec<String>>>,
}

/// `[logs]`: where the logs go and in what format.
#[derive(Deserialize, Default)]
struct Logs {
    dir: Option<Item<PathBuf>>,
    format: Option<Item<String>>,
}

/// `[handlers]`: what every handler gets, and the standard handlers.
#[derive(Deserialize, Default)]
struct Handlers {
    standard: Option<Item<bool>>,
    fuel: Option<Item<u64>>,
    memory_mb: Option<Item<u64>>,
    standard_fuel: Option<BTreeMap<String, Item<u64>>>,
    max_log_records: Option<Item<u64>>,
    max_reporter_messages: Option<Item<u64>>,
    max_log_streams: Option<Item<u32>>,
    max_log_bytes: Option<Item<u64>>,
    cpu_budget: Option<Item<u64>>,
    host_wait_ms: Option<Item<u64>>,
    max_handler_mb: Option<Item<u64>>,
    max_compile_secs: Option<Item<u64>>,
    compile_cache: Option<Item<bool>>,
}

/// One `[[handler]]`: a component and what it is granted.
#[derive(Deserialize)]
struct Handler {
    path: Option<Item<PathBuf>>,
    fuel: Option<Item<u64>>,
    memory_mb: Option<Item<u64>>,
    grant_dir: Option<Item<PathBuf>>,
}

/// `[signatures]`: signature and MIME signature files.
#[derive(Deserialize, Default)]
struct Signatures {
    files: Option<Item<Vec<PathBuf>>>,
    dpd: Option<Item<bool>>,
    idents: Option<BTreeMap<String, Item<toml::Value>>>,
    magic: Option<Item<Vec<PathBuf>>>,
}

/// The whole file.
#[derive(Deserialize, Default)]
struct File {
    capture: Option<Capture>,
    logs: Option<Logs>,
    /// Zeek settings by name, as `--set NAME=VALUE`.
    settings: Option<BTreeMap<String, Item<toml::Value>>>,
    handlers: Option<Handlers>,
    handler: Option<Vec<Spanned<Handler>>>,
    signatures: Option<Signatures>,
}

/// The keys each section takes (`settings`, `handlers.standard_fuel` and
/// `signatures.idents` take any name); a unit test checks every one reaches
/// its field.
const KEYS: &[(&str, &[&str])] = &[
    ("capture", &["read", "interface", "filter", "ignore_checksums", "workers", "max_connections", "seed", "likely_server_ports"]),
    ("logs", &["dir", "format"]),
    ("settings", &[]),
    (
        "handlers",
        &[
            "standard", "fuel", "memory_mb", "standard_fuel", "max_log_records", "max_reporter_messages", "max_log_streams",
            "max_log_bytes", "cpu_budget", "host_wait_ms", "max_handler_mb", "max_compile_secs", "compile_cache",
        ],
    ),
    ("handler", &["path", "fuel", "memory_mb", "grant_dir"]),
    ("signatures", &["files", "dpd", "idents", "magic"]),
];

/// The keys of `text` no section takes, with the span of each.
fn unknown_keys(text: &str) -> Vec<(String, Range<usize>)> {
    let Ok(root) = toml::de::DeTable::parse(text) else { return Vec::new() };
    let mut out = Vec::new();
    let check = |name: &str, t: &toml::de::DeTable<'_>, keys: &[&str], out: &mut Vec<(String, Range<usize>)>| {
        for (k, _) in t.iter() {
            if !keys.contains(&k.get_ref().as_ref()) {
                out.push((format!("{name}.{}", k.get_ref()), k.span()));
            }
        }
    };
    for (k, v) in root.get_ref().iter() {
        let key = k.get_ref().as_ref();
        let Some((_, keys)) = KEYS.iter().find(|(s, _)| *s == key) else {
            out.push((key.to_string(), k.span()));
            continue;
        };
        if key == "settings" {
            continue;
        }
        match v.get_ref() {
            toml::de::DeValue::Table(t) => check(key, t, keys, &mut out),
            toml::de::DeValue::Array(a) => {
                for e in a.iter() {
                    if let toml::de::DeValue::Table(t) = e.get_ref() {
                        check(key, t, keys, &mut out);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Line (1-based) of byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// A TOML value as a Zeek value in `--set` form: strings as written, bools
/// `T`/`F`, numbers as numbers, arrays joined by `,`.
fn zeek_value(v: &toml::Value) -> Result<String, String> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => if *b { "T" } else { "F" }.to_string(),
        toml::Value::Array(a) => {
            let parts = a.iter().map(|e| match e {
                toml::Value::Array(_) | toml::Value::Table(_) => Err("an array of a setting holds strings, numbers or bools".to_string()),
                e => zeek_value(e),
            });
            parts.collect::<Result<Vec<_>, _>>()?.join(",")
        }
        _ => return Err(format!("a setting is a string, number, bool or array, not a {}", v.type_str())),
    })
}

/// Which run flags the command line gave (they win over the file).
pub trait Given {
    /// Whether the flag of argument `id` (clap's id: the field name) was given.
    fn given(&self, id: &str) -> bool;
}

impl Given for clap::ArgMatches {
    fn given(&self, id: &str) -> bool {
        matches!(self.value_source(id), Some(clap::parser::ValueSource::CommandLine))
    }
}

/// No flag given (`weir config check`).
pub struct NoFlags;

impl Given for NoFlags {
    fn given(&self, _: &str) -> bool {
        false
    }
}

/// Collects errors and applies the file's values.
struct Loader<'a> {
    text: &'a str,
    base: PathBuf,
    errors: Vec<ConfigError>,
    given: &'a dyn Given,
}

impl Loader<'_> {
    fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let line = line_of(self.text, span.start);
        self.errors.push(ConfigError { line, message: message.into() });
    }

    /// The value of `item`, after `check`; an error (and `None`) otherwise.
    fn value<T>(&mut self, name: &str, item: Option<Item<T>>, check: impl FnOnce(&T) -> Result<(), String>) -> Option<T> {
        let item = item?;
        match item.value {
            Ok(v) => match check(&v) {
                Ok(()) => Some(v),
                Err(e) => {
                    self.error(&item.span, format!("{name}: {e}"));
                    None
                }
            },
            Err(e) => {
                self.error(&item.span, format!("{name}: {e}"));
                None
            }
        }
    }

    /// Sets `target` from `item` unless the flag `id` was given.
    fn set<T>(&mut self, id: &str, name: &str, item: Option<Item<T>>, target: &mut T) {
        self.set_checked(id, name, item, target, |_| Ok(()));
    }

    fn set_checked<T>(&mut self, id: &str, name: &str, item: Option<Item<T>>, target: &mut T, check: impl FnOnce(&T) -> Result<(), String>) {
        if let Some(v) = self.value(name, item, check) {
            if !self.given.given(id) {
                *target = v;
            }
        }
    }

    /// A path of the file, from the file's folder.
    fn path(&self, p: PathBuf) -> PathBuf {
        if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        }
    }

}

fn positive(n: &usize) -> Result<(), String> {
    if (1..=64).contains(n) {
        Ok(())
    } else {
        Err(format!("{n} is not in 1..=64"))
    }
}

/// Reads `file` into `args`: every value the command line did not give
/// (`given`) is taken from the file. Returns every error of the file.
pub fn load(file: &Path, args: &mut RunArgs, given: &dyn Given) -> Result<(), anyhow::Error> {
    let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read configuration file {}: {e}", file.display()))?;
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let errors = apply(&text, &base, args, given);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors { file: file.to_path_buf(), errors }.into())
    }
}

/// [`load`] on a text: the errors, by line.
pub fn apply(text: &str, base: &Path, args: &mut RunArgs, given: &dyn Given) -> Vec<ConfigError> {
    let mut ld = Loader { text, base: base.to_path_buf(), errors: Vec::new(), given };
    let de = match toml::de::Deserializer::parse(text) {
        Ok(de) => de,
        Err(e) => {
            // Syntax errors: all of them, from the recovering parser.
            let (_, errs) = toml::de::DeTable::parse_recoverable(text);
            let errs = if errs.is_empty() { vec![e] } else { errs };
            for e in errs {
                let line = e.span().map_or(1, |s| line_of(text, s.start));
                ld.errors.push(ConfigError { line, message: e.message().trim().to_string() });
            }
            return ld.errors;
        }
    };
    for (name, span) in unknown_keys(text) {
        ld.error(&span, format!("unknown key {name}"));
    }
    let file = match File::deserialize(de) {
        Ok(f) => f,
        Err(e) => {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            ld.errors.push(ConfigError { line, message: e.message().trim().to_string() });
            ld.errors.sort_by_key(|e| e.line);
            return ld.errors;
        }
    };

    let c = file.capture.unwrap_or_default();
    let interface_span = c.interface.as_ref().map(|i| i.span.clone()).unwrap_or(0..0);
    let read = ld.value("capture.read", c.read, |_| Ok(()));
    let interface = ld.value("capture.interface", c.interface, |_| Ok(()));
    if !ld.given.given("read") && !ld.given.given("interface") {
        match (read, interface) {
            (Some(_), Some(_)) => ld.error(&interface_span, "capture.interface: give read or interface, not both"),
            (Some(r), None) => args.read = Some(ld.path(r)),
            (None, Some(i)) => args.interface = Some(i),
            (None, None) => {}
        }
    }
    if let Some(f) = ld.value("capture.filter", c.filter, |_| Ok(())) {
        if !ld.given.given("filter") {
            args.filter = Some(f);
        }
    }
    ld.set("ignore_checksums", "capture.ignore_checksums", c.ignore_checksums, &mut args.ignore_checksums);
    ld.set_checked("workers", "capture.workers", c.workers, &mut args.workers, positive);
    ld.set("max_connections", "capture.max_connections", c.max_connections, &mut args.max_connections);
    if let Some(seed) = ld.value("capture.seed", c.seed, |_| Ok(())) {
        if !ld.given.given("seed") {
            args.seed = Some(seed);
        }
    }
    let ports = ld.value("capture.likely_server_ports", c.likely_server_ports, |ports| {
        weir_engine::config::parse_port_list(&ports.join(",")).map(|_| ())
    });
    if let Some(ports) = ports {
        if !ld.given.given("likely_server_ports") {
            args.likely_server_ports = Some(ports);
        }
    }

    let l = file.logs.unwrap_or_default();
    if let Some(dir) = ld.value("logs.dir", l.dir, |_| Ok(())) {
        if !ld.given.given("logdir") {
            args.logdir = ld.path(dir);
        }
    }
    let format = ld.value("logs.format", l.format, |f| {
        <weir_logs::LogFormat as clap::ValueEnum>::from_str(f, true).map(|_| ()).map_err(|_| format!("'{f}' is not tsv or json"))
    });
    if let Some(f) = format {
        if !ld.given.given("log_format") {
            args.log_format = <weir_logs::LogFormat as clap::ValueEnum>::from_str(&f, true).unwrap_or_default();
        }
    }

    // Settings go before the flags' own, so that a flag's setting wins.
    let mut settings = Vec::new();
    for (name, item) in file.settings.unwrap_or_default() {
        let label = format!("settings.{name}");
        let value = ld.value(&label, Some(item_map(item, |v| zeek_value(&v))), |v| check_setting(&format!("{name}={v}")));
        if let Some(v) = value {
            settings.push(format!("{name}={v}"));
        }
    }
    settings.append(&mut args.set);
    args.set = settings;

    let h = file.handlers.unwrap_or_default();
    if let Some(standard) = ld.value("handlers.standard", h.standard, |_| Ok(())) {
        if !ld.given.given("no_default_handlers") {
            args.no_default_handlers = !standard;
        }
    }
    opt(&mut ld, "fuel", "handlers.fuel", h.fuel, &mut args.fuel);
    opt(&mut ld, "memory_mb", "handlers.memory_mb", h.memory_mb, &mut args.memory_mb);
    opt(&mut ld, "max_log_records", "handlers.max_log_records", h.max_log_records, &mut args.max_log_records);
    opt(&mut ld, "max_reporter_messages", "handlers.max_reporter_messages", h.max_reporter_messages, &mut args.max_reporter_messages);
    opt(&mut ld, "max_log_streams", "handlers.max_log_streams", h.max_log_streams, &mut args.max_log_streams);
    opt(&mut ld, "max_log_bytes", "handlers.max_log_bytes", h.max_log_bytes, &mut args.max_log_bytes);
    opt(&mut ld, "cpu_budget", "handlers.cpu_budget", h.cpu_budget, &mut args.cpu_budget);
    ld.set("host_wait_ms", "handlers.host_wait_ms", h.host_wait_ms, &mut args.host_wait_ms);
    ld.set("max_handler_mb", "handlers.max_handler_mb", h.max_handler_mb, &mut args.limits.max_handler_mb);
    ld.set("max_compile_secs", "handlers.max_compile_secs", h.max_compile_secs, &mut args.limits.max_compile_secs);
    if let Some(cache) = ld.value("handlers.compile_cache", h.compile_cache, |_| Ok(())) {
        if !ld.given.given("no_compile_cache") {
            args.no_compile_cache = !cache;
        }
    }
    let mut fuel = Vec::new();
    for (name, item) in h.standard_fuel.unwrap_or_default() {
        let label = format!("handlers.standard_fuel.{name}");
        let known = weir_sandbox::standard::HANDLERS.iter().any(|s| s.name == name);
        if let Some(n) = ld.value(&label, Some(item), |_| if known { Ok(()) } else { Err(format!("no standard handler is named {name}")) }) {
            fuel.push(format!("{name}={n}"));
        }
    }

    // Handlers of the file, then those of the flags.
    let (mut handlers, mut grants, mut memory) = (Vec::new(), Vec::new(), Vec::new());
    for entry in file.handler.unwrap_or_default() {
        let span = entry.span();
        let entry = entry.into_inner();
        if entry.path.is_none() {
            ld.error(&span, "handler: no path");
        }
        let path = ld.value("handler.path", entry.path, |p| ld_file(base, p)).map(|p| ld.path(p));
        // The other fields are checked even when the path is wrong.
        let name = path.as_deref().map(crate::run::handler_name).unwrap_or_default();
        let entry_fuel = ld.value("handler.fuel", entry.fuel, |_| Ok(()));
        let entry_memory = ld.value("handler.memory_mb", entry.memory_mb, |_| Ok(()));
        let grant = ld.value("handler.grant_dir", entry.grant_dir, |d| {
            let d = if d.is_absolute() { d.clone() } else { base.join(d) };
            if d.is_dir() {
                Ok(())
            } else {
                Err(format!("{} is not a folder", d.display()))
            }
        });
        let Some(path) = path else { continue };
        if let Some(n) = entry_fuel {
            fuel.push(format!("{name}={n}"));
        }
        if let Some(n) = entry_memory {
            memory.push(format!("{name}={n}"));
        }
        if let Some(d) = grant {
            grants.push(format!("{name}={}", ld.path(d).display()));
        }
        handlers.push(path);
    }
    prepend(&mut args.handlers, handlers);
    prepend(&mut args.handler_fuel, fuel);
    prepend(&mut args.grant_dir, grants);
    prepend(&mut args.handler_memory, memory);

    let s = file.signatures.unwrap_or_default();
    let files = ld.value("signatures.files", s.files, |fs| fs.iter().try_for_each(|f| ld_file(base, f)));
    prepend(&mut args.signatures, files.unwrap_or_default().into_iter().map(|f| ld.path(f)).collect());
    let magic = ld.value("signatures.magic", s.magic, |fs| fs.iter().try_for_each(|f| ld_file(base, f)));
    prepend(&mut args.magic, magic.unwrap_or_default().into_iter().map(|f| ld.path(f)).collect());
    if let Some(dpd) = ld.value("signatures.dpd", s.dpd, |_| Ok(())) {
        if !ld.given.given("no_dpd_signatures") {
            args.no_dpd_signatures = !dpd;
        }
    }
    let mut idents = Vec::new();
    for (name, item) in s.idents.unwrap_or_default() {
        let label = format!("signatures.idents.{name}");
        let value = ld.value(&label, Some(item_map(item, |v| ident_value(&v))), |v| {
            weir_engine::signatures::parse_ident(&format!("{name}={v}")).map(|_| ())
        });
        if let Some(v) = value {
            idents.push(format!("{name}={v}"));
        }
    }
    prepend(&mut args.signature_idents, idents);
    ld.errors.sort_by_key(|e| e.line);
    ld.errors
}

/// The `weir config check` test of a file path (relative to the file's folder).
fn ld_file(base: &Path, p: &Path) -> Result<(), String> {
    let full = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    if full.is_file() {
        Ok(())
    } else {
        Err(format!("{} is not a file", full.display()))
    }
}

/// A signature identifier's value in `--signature-ident` form: numbers and
/// arrays of them as `1,2`, strings quoted unless they are a `{...}` set.
fn ident_value(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) if s.trim_start().starts_with('{') => Ok(s.clone()),
        toml::Value::String(s) => Ok(format!("\"{s}\"")),
        toml::Value::Integer(_) | toml::Value::Array(_) => zeek_value(v),
        _ => Err(format!("an identifier is a string, a number or an array of numbers, not a {}", v.type_str())),
    }
}

fn item_map<T, U>(item: Item<T>, f: impl FnOnce(T) -> Result<U, String>) -> Item<U> {
    Item { span: item.span, value: item.value.and_then(f) }
}

/// Sets an optional flag's value from the file unless the flag was given.
fn opt<T: DeserializeOwned>(ld: &mut Loader<'_>, id: &str, name: &str, item: Option<Item<T>>, target: &mut Option<T>) {
    if let Some(v) = ld.value(name, item, |_| Ok(())) {
        if !ld.given.given(id) {
            *target = Some(v);
        }
    }
}

/// `list` becomes `first` followed by what it held.
fn prepend<T>(list: &mut Vec<T>, mut first: Vec<T>) {
    first.append(list);
    *list = first;
}

/// Whether `NAME=VALUE` is a setting weir takes, with a value of its type.
fn check_setting(assignment: &str) -> Result<(), String> {
    if crate::run::writer_option(assignment).is_some() {
        return crate::run::writer_options(&[assignment.to_string()]).map(drop);
    }
    if crate::run::handler_option(assignment).is_some() {
        let mut args_set = std::collections::BTreeMap::new();
        return crate::run::check_script_option(assignment, &mut args_set);
    }
    weir_engine::config::Config::default().set_assignment(assignment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_offsets() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }

    #[test]
    fn every_listed_key_reaches_its_field() {
        // A table where each key wants a scalar: every listed key must then be
        // an error of its own field, and none an unknown key.
        let mut text = String::new();
        for (section, keys) in KEYS {
            if keys.is_empty() {
                continue;
            }
            text += &if *section == "handler" { format!("[[{section}]]\n") } else { format!("[{section}]\n") };
            for k in *keys {
                text += &format!("{k} = {{ x = [] }}\n");
            }
        }
        let mut args = crate::default_run_args();
        let errors = apply(&text, Path::new("."), &mut args, &NoFlags);
        for (section, keys) in KEYS {
            for k in *keys {
                let field = format!("{section}.{k}");
                assert!(
                    errors.iter().any(|e| e.message.starts_with(&field) && !e.message.contains("unknown")),
                    "{field} is not read: {errors:?}"
                );
            }
        }
    }

    #[test]
    fn unknown_keys_have_lines() {
        let text = "[capture]\nreed = 1\n[logs]\ndir = \"x\"\n[bogus]\n";
        let mut args = crate::default_run_args();
        let errors = apply(text, Path::new("."), &mut args, &NoFlags);
        assert_eq!(
            errors,
            [
                ConfigError { line: 2, message: "unknown key capture.reed".into() },
                ConfigError { line: 5, message: "unknown key bogus".into() },
            ]
        );
    }

    #[test]
    fn zeek_values_of_toml_values() {
        assert_eq!(zeek_value(&toml::Value::Boolean(true)).unwrap(), "T");
        assert_eq!(zeek_value(&toml::Value::Integer(60)).unwrap(), "60");
        let a = toml::Value::Array(vec!["USER".into(), "PASS".into()]);
        assert_eq!(zeek_value(&a).unwrap(), "USER,PASS");
        assert!(zeek_value(&toml::Value::Table(Default::default())).is_err());
    }
}
