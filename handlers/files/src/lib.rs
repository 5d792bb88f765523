//! The standard files.log handler: Zeek's `base/frameworks/files/main.zeek`.
//!
//! - **Handles.** A protocol whose standard handler names its files
//!   (HTTP: the http handler, as Zeek's `HTTP::get_file_handle`) is left to
//!   that handler. For any other analyzer this handler sets Zeek's fallback
//!   handle, `<tag>-fallback-<uid>-<is_orig>-<network time>`, and warns once
//!   per analyzer that its protocol has no handle of its own.
//! - **Records.** A file's record (`Files::Info`) starts at `file_new` with
//!   the time of its first data; every file event refreshes its counters
//!   (`set_info`); `file_sniff` sets `mime_type`, `file_timeout` sets
//!   `timedout`. `local_orig` says whether the sending side's address is in
//!   `Site::local_nets` (which holds `Site::private_address_space` unless
//!   `Site::private_address_space_is_local` is F), unset when that is empty.
//! - **Writing.** At `file_state_remove` one record per connection that
//!   carried the file (its uid and conn id), or one without when none did.
//!
//! At most [`MAX_TRACKED`] files are tracked at once (the engine keeps no
//! more than 100,000 open by default).

use std::cell::RefCell;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{AnalyzerTag, ConnId, Connection, FaFile, FaMetadata};
use weir_guest::{files, reporter, runtime, ConnStates, Handler, Stream};

/// files.log's columns; with hashing on (`Files::hash_all_files`) those of
/// [`HASH_COLUMNS`] follow, as Zeek's `base/files/hash` adds them, and with
/// extraction on (`Files::extract_all_files`) those of [`EXTRACT_COLUMNS`]
/// (`base/files/extract`).
const COLUMNS: &[(&str, T)] = &[
        ("ts", T::Time),
        ("fuid", T::String),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("source", T::String),
        ("depth", T::Count),
        ("analyzers", T::SetOfString),
        ("mime_type", T::String),
        ("filename", T::String),
        ("duration", T::Interval),
        ("local_orig", T::Bool),
        ("is_orig", T::Bool),
        ("seen_bytes", T::Count),
        ("total_bytes", T::Count),
        ("missing_bytes", T::Count),
        ("overflow_bytes", T::Count),
        ("timedout", T::Bool),
        ("parent_fuid", T::String),
];

/// The hash analyzers' columns.
const HASH_COLUMNS: &[(&str, T)] = &[("md5", T::String), ("sha1", T::String), ("sha256", T::String)];

/// The extraction analyzer's columns.
const EXTRACT_COLUMNS: &[(&str, T)] = &[("extracted", T::String), ("extracted_cutoff", T::Bool), ("extracted_size", T::Count)];

/// files.log, with the columns the options ask for (made once).
fn stream() -> &'static Stream {
    static FILES: std::sync::OnceLock<Stream> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let mut cols = COLUMNS.to_vec();
        if hash_all_files() {
            cols.extend_from_slice(HASH_COLUMNS);
        }
        if extract_all_files() {
            cols.extend_from_slice(EXTRACT_COLUMNS);
        }
        Stream::new("files", Vec::leak(cols))
    })
}

/// Files tracked at once; past it a further file is not logged (a reporter
/// warning says so once).
const MAX_TRACKED: usize = 200_000;

/// Analyzers whose standard handler sets their file handles (Zeek's
/// `Files::register_protocol` callers among weir's handlers).
const REGISTERED: &[&str] = &["HTTP", "FTP_DATA", "SMTP"];

/// One file's `Files::Info`, and the connections that carried it.
#[derive(Default)]
struct Info {
    ts: f64,
    source: String,
    mime_type: Option<String>,
    duration: f64,
    local_orig: Option<bool>,
    is_orig: Option<bool>,
    seen_bytes: u64,
    total_bytes: Option<u64>,
    missing_bytes: u64,
    overflow_bytes: u64,
    timedout: bool,
    parent_fuid: Option<String>,
    conns: Vec<(String, ConnId)>,
    /// File analyzers attached (files.log's `analyzers`).
    analyzers: Vec<String>,
    /// `file_hash` results: md5, sha1, sha256.
    hashes: [Option<String>; 3],
    /// files.log's `depth` and `filename`, as the protocol's handler described the file.
    depth: u64,
    filename: Option<String>,
    /// The extracted file's name, whether it was cut at the limit, and then its size.
    extracted: Option<String>,
    extracted_cutoff: Option<bool>,
    extracted_size: Option<u64>,
}

impl Info {
    /// `Files::set_info`: what the file record says now.
    fn update(&mut self, f: &FaFile) {
        if let Some(p) = &f.parent_id {
            self.parent_fuid = Some(p.clone());
        }
        self.source = f.source.clone();
        self.duration = f.last_active - self.ts;
        self.seen_bytes = f.seen_bytes;
        if f.total_bytes.is_some() {
            self.total_bytes = f.total_bytes;
        }
        self.missing_bytes = f.missing_bytes;
        self.overflow_bytes = f.overflow_bytes;
        if f.is_orig.is_some() {
            self.is_orig = f.is_orig;
        }
        self.depth = f.depth;
        if f.filename.is_some() {
            self.filename = f.filename.clone();
        }
    }
}

thread_local! {
    static FILES_OPEN: RefCell<ConnStates<Info>> = const {
        RefCell::new(ConnStates::new(MAX_TRACKED, "files", "files open at once; further ones are not logged"))
    };
    static WARNED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Runs `g` on the record of `f`, made at its first event.
fn with_info(f: &FaFile, g: impl FnOnce(&mut Info)) {
    let init = || Info { ts: f.last_active, ..Info::default() };
    FILES_OPEN.with(|s| s.borrow_mut().with(&f.id, init, |i| {
        i.update(f);
        g(i)
    }));
}


/// `Files::hash_all_files` (weir's name for Zeek's policy script
/// frameworks/files/hash-all-files), read once.
fn hash_all_files() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| weir_guest::options::flag("Files::hash_all_files"))
}

/// `Files::extract_all_files` (Zeek's policy script
/// frameworks/files/extract-all-files), read once.
fn extract_all_files() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| weir_guest::options::flag("Files::extract_all_files"))
}

/// `ZIP::analyze_archives` (Zeek's policy script files/zip/register:
/// `application/zip` files get the ZIP analyzer), read once.
fn analyze_zip() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| weir_guest::options::flag("ZIP::analyze_archives"))
}

/// Zeek's name for an extracted file (`FileExtract::on_add`):
/// `extract-<last active>-<source>-<id>`.
fn extract_name(f: &FaFile) -> String {
    format!("extract-{:.6}-{}-{}", f.last_active, f.source, f.id)
}

fn write(fuid: &str, i: &Info) {
    let row = |uid: V, id: Option<&ConnId>| {
        let mut values = vec![
            V::Time(i.ts),
            V::String(fuid.to_string()),
            uid,
            id.map_or(V::Unset, |id| V::Addr(id.orig_h)),
            id.map_or(V::Unset, |id| V::Port(id.orig_p)),
            id.map_or(V::Unset, |id| V::Addr(id.resp_h)),
            id.map_or(V::Unset, |id| V::Port(id.resp_p)),
            V::String(i.source.clone()),
            V::Count(i.depth),
            V::SetOfString(i.analyzers.clone()),
            i.mime_type.clone().map_or(V::Unset, V::String),
            i.filename.clone().map_or(V::Unset, V::String),
            V::Interval(i.duration),
            i.local_orig.map_or(V::Unset, V::Bool),
            i.is_orig.map_or(V::Unset, V::Bool),
            V::Count(i.seen_bytes),
            i.total_bytes.map_or(V::Unset, V::Count),
            V::Count(i.missing_bytes),
            V::Count(i.overflow_bytes),
            V::Bool(i.timedout),
            i.parent_fuid.clone().map_or(V::Unset, V::String),
        ];
        if hash_all_files() {
            values.extend(i.hashes.iter().map(|h| h.clone().map_or(V::Unset, V::String)));
        }
        if extract_all_files() {
            values.push(i.extracted.clone().map_or(V::Unset, V::String));
            values.push(i.extracted_cutoff.map_or(V::Unset, V::Bool));
            values.push(i.extracted_size.map_or(V::Unset, V::Count));
        }
        stream().write(&values);
    };
    if i.conns.is_empty() {
        row(V::Unset, None);
    }
    for (uid, id) in &i.conns {
        row(V::String(uid.clone()), Some(id));
    }
}

struct Files;

impl Handler for Files {
    fn get_file_handle(tag: AnalyzerTag, c: Connection, is_orig: bool) {
        if REGISTERED.contains(&tag.name.as_str()) {
            return;
        }
        let first = WARNED.with(|w| {
            let mut w = w.borrow_mut();
            let first = !w.contains(&tag.name);
            if first {
                w.push(tag.name.clone());
            }
            first
        });
        if first {
            reporter::warning(&format!("get_file_handle() handler missing for Analyzer::ANALYZER_{}", tag.name));
        }
        let t = if is_orig { "T" } else { "F" };
        files::set_file_handle(&format!("Analyzer::ANALYZER_{}-fallback-{}-{t}-{:.6}", tag.name, c.uid, runtime::network_time()));
    }

    fn file_new(f: FaFile) {
        with_info(&f, |i| {
            if hash_all_files() {
                for a in ["MD5", "SHA1", "SHA256"] {
                    files::add_analyzer(&f.id, a);
                    i.analyzers.push(a.to_string());
                }
            }
            if extract_all_files() {
                let name = extract_name(&f);
                files::extract(&f.id, &name, 0);
                i.analyzers.push("EXTRACT".to_string());
                i.extracted = Some(name);
                i.extracted_cutoff = Some(false);
            }
        });
    }

    fn file_extraction_limit(f: FaFile, limit: u64, _len: u64) {
        with_info(&f, |i| {
            i.extracted_cutoff = Some(true);
            i.extracted_size = Some(limit);
        });
    }

    fn file_hash(f: FaFile, kind: String, hash: String) {
        with_info(&f, |i| {
            let slot = ["md5", "sha1", "sha256"].iter().position(|k| *k == kind);
            if let Some(n) = slot {
                i.hashes[n] = Some(hash);
            }
        });
    }

    fn file_over_new_connection(f: FaFile, c: Connection, _is_orig: bool) {
        with_info(&f, |i| {
            let sender = if i.is_orig.unwrap_or(false) { &c.id.orig_h } else { &c.id.resp_h };
            i.local_orig = weir_guest::site::local(weir_guest::ip(sender));
            if !i.conns.iter().any(|(u, _)| *u == c.uid) {
                i.conns.push((c.uid.clone(), c.id));
            }
        });
    }

    fn file_sniff(f: FaFile, meta: FaMetadata) {
        with_info(&f, |i| {
            if let Some(m) = meta.mime_type {
                // Files::register_for_mime_type(Files::ANALYZER_ZIP, "application/zip").
                if m == "application/zip" && analyze_zip() {
                    files::add_analyzer(&f.id, "ZIP");
                    i.analyzers.push("ZIP".to_string());
                }
                i.mime_type = Some(m);
            }
        });
    }

    fn file_gap(f: FaFile, _offset: u64, _len: u64) {
        with_info(&f, |_| {});
    }

    fn file_timeout(f: FaFile) {
        with_info(&f, |i| i.timedout = true);
    }

    fn file_state_remove(f: FaFile) {
        with_info(&f, |_| {});
        if let Some(i) = FILES_OPEN.with(|s| s.borrow_mut().remove(&f.id)) {
            write(&f.id, &i);
        }
    }
}

weir_guest::export_handler!(
    Files: get_file_handle,
    file_new,
    file_over_new_connection,
    file_extraction_limit,
    file_sniff,
    file_gap,
    file_timeout,
    file_hash,
    file_state_remove
);
