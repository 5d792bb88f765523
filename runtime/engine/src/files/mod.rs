//! File analysis, after Zeek's `file_analysis::Manager` and `File`:
//! protocol analyzers hand the bytes of the files they carry (an HTTP body,
//! a MIME part) to the [`Manager`] with (analyzer, connection, direction),
//! through their context (`Cx::file_data_in`, `file_missing`, `file_size`,
//! `file_end`). The life cycle of one file:
//!
//! 1. Data without a file id raises `get_file_handle`, and the queue is
//!    drained at once ([`EventQueue::drain_now`]): the handle a handler set
//!    becomes the file id ([`id::file_id`]); no handle, no file (the data is
//!    dropped).
//! 2. A new id raises `file_new`, then `file_over_new_connection` (both
//!    drained at once); a file met again on another connection raises the
//!    latter once per connection.
//! 3. In-order data streams on; data at a later offset goes to a
//!    reassembler holding at most `Files::reassembly_buffer_size` bytes
//!    (past it the buffer is flushed: `file_reassembly_overflow`, and a gap).
//!    The first `default_file_bof_buffer_size` bytes are kept; once they are
//!    all there (or at a gap, or at the end) `file_sniff` reports the MIME
//!    types the [`Magic`] signatures find in them, once per file.
//! 4. Gaps raise `file_gap` and count as missing bytes.
//! 5. A file ends when the announced size is reached, when its analyzer
//!    says so, after `default_file_timeout_interval` without data
//!    (`file_timeout`), or at the end of the run (`file_timeout` for every
//!    file still open): `file_state_remove` is its last event, once.
//!
//! Handlers attach file analyzers ([`FileOp`]): the hashes
//! ([`hash`]), extraction into the operator's folder ([`extract`]); and
//! describe a file for files.log (`depth`, `filename`). A handler that
//! takes `file_data` gets the bytes in stream order.
//!
//! Memory per file is bounded by the BOF buffer and the reassembly buffer.

pub mod extract;
pub mod hash;
pub mod zip;
pub mod id;
pub mod magic;
mod reassembly;

use crate::analyzers::Tag;
use crate::events::{AnalyzerTag, Event, EventKind, EventQueue, FaFile, FaMetadata, MimeMatch};
use crate::sessions::conn::Conn;
use crate::signatures::patterns::GroupCache;
use extract::{Extractor, Step};
pub use hash::FileAnalyzer;
use hash::Hasher;
pub use magic::Magic;
use reassembly::{Piece, Reassembler};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// The largest `file_data` chunk.
pub const FILE_DATA_CHUNK: usize = 65_536;

/// What a handler asked of an open file.
#[derive(Clone, Debug, PartialEq)]
pub enum FileOp {
    /// Attach a hash analyzer (`Files::add_analyzer`).
    Add(FileAnalyzer),
    /// Detach it (`Files::remove_analyzer`).
    Remove(FileAnalyzer),
    /// Attach the extraction analyzer, writing `filename` in the extraction
    /// folder, at most `limit` bytes (0: the operator's default limit).
    Extract {
        /// The file's name in the folder.
        filename: String,
        /// Bytes at most.
        limit: u64,
    },
    /// Detach the extraction analyzer.
    StopExtract,
    /// Attach the ZIP analyzer: the archive's members become files.
    Zip,
    /// `Files::set_timeout_interval`: the file's inactivity limit, in
    /// seconds; a positive one also postpones a timeout being raised.
    SetTimeout(f64),
    /// files.log's `depth` and `filename` (None keeps the current name).
    Describe {
        /// The protocol's nesting depth.
        depth: u64,
        /// The protocol's name of the file.
        filename: Option<String>,
    },
}

/// What a handler asked of one file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRequest {
    /// The file id.
    pub id: String,
    /// The request.
    pub op: FileOp,
}

/// Zeek's file analysis settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `default_file_bof_buffer_size` (4096): bytes kept for MIME sniffing.
    pub bof_buffer_size: u64,
    /// `default_file_timeout_interval` (2 min): inactivity limit.
    pub timeout_interval: f64,
    /// `Files::enable_reassembler` (T): out-of-order data is reassembled.
    pub enable_reassembler: bool,
    /// `Files::reassembly_buffer_size` (524,288): bytes the reassembler holds.
    pub reassembly_buffer_size: u64,
    /// Most files open at once (0: no cap); past it the file idle longest
    /// times out early, with its events in order.
    pub max_files: usize,
    /// The extraction folder the operator granted (`FileExtract::prefix`,
    /// resolved against the log folder); None: no file is extracted.
    pub extract_dir: Option<PathBuf>,
    /// `FileExtract::default_limit` (100 MiB; 0: none): the most bytes an
    /// extraction writes, and the cap of any limit a handler asks for.
    pub extract_limit: u64,
    /// `FileExtract::default_limit_includes_missing` (T): holes count
    /// towards the limit.
    pub extract_limit_includes_missing: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bof_buffer_size: 4096,
            timeout_interval: 120.0,
            enable_reassembler: true,
            reassembly_buffer_size: 524_288,
            max_files: 100_000,
            extract_dir: None,
            extract_limit: 104_857_600,
            extract_limit_includes_missing: true,
        }
    }
}

/// Where a protocol analyzer's file data comes from.
pub struct Origin<'a> {
    /// The analyzer.
    pub tag: Tag,
    /// Its connection.
    pub conn: &'a Conn,
    /// The direction the file travels.
    pub is_orig: bool,
}

/// One file being analysed (Zeek's `File`).
#[derive(Debug)]
struct File {
    id: String,
    source: &'static str,
    is_orig: bool,
    conns: Vec<String>,
    last_active: f64,
    seen_bytes: u64,
    missing_bytes: u64,
    overflow_bytes: u64,
    total_bytes: Option<u64>,
    timeout_interval: f64,
    bof_size: u64,
    bof: Vec<u8>,
    bof_full: bool,
    sniffed: bool,
    stream_offset: u64,
    reassembler: Option<Reassembler>,
    done: bool,
    /// Hash analyzers attached by handlers, in attachment order.
    hashers: Vec<Hasher>,
    /// The extraction running, if any.
    extractor: Option<Extractor>,
    /// Whether an extraction was ever attached (once per file).
    extracted: bool,
    /// files.log's `depth`, as a handler described the file.
    depth: u64,
    /// files.log's `filename`.
    filename: Option<String>,
    /// The file this one was found in (a ZIP archive's member).
    parent: Option<String>,
    /// The ZIP analyzer, and the member file it is filling.
    zip: Option<Box<zip::Zip>>,
    zip_member: Option<String>,
    /// Members found so far (for their ids).
    zip_members: u64,
    /// A handler set a positive timeout interval (`postpone_timeout`).
    postpone: bool,
}

impl File {
    fn record(&self) -> Box<FaFile> {
        Box::new(FaFile {
            id: self.id.clone(),
            parent_id: self.parent.clone(),
            source: self.source.to_string(),
            is_orig: Some(self.is_orig),
            conns: self.conns.clone(),
            last_active: self.last_active,
            seen_bytes: self.seen_bytes,
            total_bytes: self.total_bytes,
            missing_bytes: self.missing_bytes,
            overflow_bytes: self.overflow_bytes,
            timeout_interval: self.timeout_interval,
            bof_buffer_size: self.bof_size,
            bof_buffer: (self.bof_full && !self.bof.is_empty()).then(|| self.bof.clone()),
            depth: self.depth,
            filename: self.filename.clone(),
        })
    }

    /// `IsComplete`: the announced size has been streamed.
    fn complete(&self) -> bool {
        self.total_bytes.is_some_and(|t| self.stream_offset >= t)
    }
}

/// Events a file operation raised, handed back so that the manager can
/// raise them (and drain when Zeek does) without holding the file.
enum Note {
    Sniff(Box<FaMetadata>),
    Gap(u64, u64),
    Overflow(u64, u64),
    /// `file_extraction_limit(limit, len)`.
    ExtractLimit(u64, u64),
    /// `file_data(offset, data)`.
    Data(u64, Vec<u8>),
}

/// The files of one worker.
pub struct Manager {
    settings: Settings,
    files: HashMap<String, File>,
    /// Inactivity checks in due order: (due time, file id).
    timers: BinaryHeap<Reverse<(Due, String)>>,
    magic: Option<(Arc<Magic>, GroupCache)>,
    /// Files timed out early by `max_files`.
    evicted: u64,
    /// Whether a handler takes `file_data` (read at each operation).
    want_data: bool,
    /// What ZIP analyzers found and file analysis has yet to act on:
    /// (archive id, finding).
    zip_found: Vec<(String, zip::ZipOut)>,
}

/// A timer's due time, ordered.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
struct Due(f64);
impl Eq for Due {}
impl Ord for Due {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl Manager {
    /// A manager with `settings`, sniffing MIME types with `magic`.
    pub fn new(settings: Settings, magic: Option<Arc<Magic>>) -> Manager {
        let magic = magic.map(|m| {
            let c = m.cache();
            (m, c)
        });
        Manager { settings, files: HashMap::new(), timers: BinaryHeap::new(), magic, evicted: 0, want_data: false, zip_found: Vec::new() }
    }

    /// Files open now.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is open.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Files timed out early because `max_files` were open.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The memory file analysis holds, in bytes: the file table and timer
    /// heap at their capacities, and each file's id, connection uids, name,
    /// BOF buffer and reassembly buffer (the ZIP and hash analyzers' small
    /// fixed state is in the file's own size).
    pub fn memory_bytes(&self) -> usize {
        let table = self.files.capacity() * (std::mem::size_of::<(String, File)>() + 1);
        let timers = self.timers.capacity() * std::mem::size_of::<Reverse<(Due, String)>>()
            + self.timers.iter().map(|Reverse((_, id))| id.capacity()).sum::<usize>();
        let files: usize = self
            .files
            .iter()
            .map(|(k, f)| {
                k.capacity()
                    + f.id.capacity()
                    + f.conns.capacity() * std::mem::size_of::<String>()
                    + f.conns.iter().map(String::capacity).sum::<usize>()
                    + f.bof.capacity()
                    + f.filename.as_ref().map_or(0, String::capacity)
                    + f.reassembler.as_ref().map_or(0, |r| r.total_size() as usize)
                    + f.hashers.capacity() * std::mem::size_of::<Hasher>()
                    + f.zip.as_ref().map_or(0, |z| std::mem::size_of::<zip::Zip>() + z.buffered_bytes())
            })
            .sum();
        table + timers + files
    }

    /// Whether anything would come of file analysis: some handler takes
    /// `get_file_handle` (without a handle there are no files).
    pub fn active(q: &EventQueue) -> bool {
        Manager::wanted(&q.subs)
    }

    /// Whether handlers of `subs` can name files (a reason to run the
    /// analyzers that carry files).
    pub fn wanted(subs: &crate::events::Subscriptions) -> bool {
        subs.wants(EventKind::GetFileHandle)
    }

    /// `GetFileID`: raises `get_file_handle` and drains at once; the id of
    /// the handle a handler set.
    fn file_id(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>) -> Option<String> {
        if !Manager::active(q) {
            return None;
        }
        let tag = Box::new(AnalyzerTag { name: o.tag.name().to_string() });
        q.push(Event::GetFileHandle { tag, c: Box::new(o.conn.snapshot()), is_orig: o.is_orig });
        let handle = q.drain_now(now)?;
        (!handle.is_empty()).then(|| id::file_id(&handle))
    }

    /// The id to use: `id` when the analyzer has one, else a new one.
    fn resolve(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, id: Option<&str>) -> Option<String> {
        match id {
            Some(id) if !id.is_empty() => Some(id.to_string()),
            _ => self.file_id(q, now, o),
        }
    }

    /// Raises `build`'s event with the file's record, draining after it when
    /// `drain` (Zeek's immediate feedback for some file events).
    fn raise(&mut self, q: &mut EventQueue, now: f64, id: &str, kind: EventKind, drain: bool, build: impl FnOnce(Box<FaFile>) -> Event) {
        if !q.wants(kind) {
            return;
        }
        let Some(f) = self.files.get(id) else { return };
        q.push(build(f.record()));
        if drain {
            q.drain_now(now);
            self.apply_requests(q);
        }
    }

    /// Carries out what handlers asked of open files since the last call
    /// (requests for files not open are ignored).
    pub fn apply_requests(&mut self, q: &mut EventQueue) {
        self.want_data = q.wants(EventKind::FileData);
        for r in q.take_file_requests() {
            let s = &self.settings;
            let Some(f) = self.files.get_mut(&r.id) else { continue };
            // An analyzer attached while everything so far is in the BOF
            // buffer catches up with it, as Zeek's do.
            let replay = f.missing_bytes == 0 && f.stream_offset == f.bof.len() as u64;
            let bof: &[u8] = if replay { &f.bof } else { &[] };
            match r.op {
                FileOp::Add(a) => {
                    if !f.done && !f.hashers.iter().any(|h| h.analyzer() == a) {
                        let mut h = Hasher::new(a);
                        h.update(bof);
                        f.hashers.push(h);
                    }
                }
                FileOp::Zip => {
                    if !f.done && f.zip.is_none() {
                        let mut z = Box::new(zip::Zip::new());
                        found_by(&mut self.zip_found, &f.id, |out| z.data(bof, out));
                        f.zip = Some(z);
                    }
                }
                FileOp::Remove(a) => f.hashers.retain(|h| h.analyzer() != a),
                FileOp::Extract { filename, limit } => {
                    let Some(dir) = s.extract_dir.as_ref() else { continue };
                    if f.done || f.extracted || !extract::valid_name(&filename) {
                        continue;
                    }
                    let limit = match (limit, s.extract_limit) {
                        (0, cap) => cap,
                        (l, 0) => l,
                        (l, cap) => l.min(cap),
                    };
                    match Extractor::create(dir, &filename, limit, s.extract_limit_includes_missing) {
                        Ok(mut e) => {
                            f.extracted = true;
                            if e.data(bof) == Step::Going {
                                f.extractor = Some(e);
                            }
                        }
                        Err(e) => tracing::warn!("cannot extract file {} to {}: {e}", f.id, dir.join(&filename).display()),
                    }
                }
                FileOp::StopExtract => f.extractor = None,
                FileOp::SetTimeout(t) => {
                    if t.is_finite() && t >= 0.0 {
                        f.postpone |= t > 0.0;
                        f.timeout_interval = t;
                    }
                }
                FileOp::Describe { depth, filename } => {
                    f.depth = depth;
                    if filename.is_some() {
                        f.filename = filename;
                    }
                }
            }
        }
    }

    /// Sets the name of the open file `id` (an engine file analyzer names
    /// the files it finds: a ZIP member's path).
    pub fn set_filename(&mut self, id: &str, name: &str) {
        if let Some(f) = self.files.get_mut(id) {
            f.filename = Some(name.to_string());
        }
    }

    /// `GetFile`: the file `id`, made (`file_new`, `file_over_new_connection`)
    /// when new; a known file seen on another connection raises
    /// `file_over_new_connection`. False when the file is gone after the
    /// handlers ran.
    fn get_file(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, id: &str) -> bool {
        if let Some(f) = self.files.get_mut(id) {
            f.last_active = now;
        } else {
            self.new_file(q, now, id, o.tag.name(), o.is_orig, Vec::new());
        }
        self.over_connection(q, now, o, id);
        self.files.contains_key(id)
    }

    /// A new file (`file_new`, drained), with the connections `conns`.
    fn new_file(&mut self, q: &mut EventQueue, now: f64, id: &str, source: &'static str, is_orig: bool, conns: Vec<String>) {
        if self.settings.max_files > 0 && self.files.len() >= self.settings.max_files {
            self.evict_one(q, now);
        }
        let s = &self.settings;
        let f = File {
            id: id.to_string(),
            source,
            is_orig,
            conns,
            last_active: now,
            seen_bytes: 0,
            missing_bytes: 0,
            overflow_bytes: 0,
            total_bytes: None,
            timeout_interval: s.timeout_interval,
            bof_size: s.bof_buffer_size,
            bof: Vec::new(),
            bof_full: false,
            sniffed: false,
            stream_offset: 0,
            reassembler: None,
            done: false,
            hashers: Vec::new(),
            extractor: None,
            extracted: false,
            depth: 0,
            filename: None,
            parent: None,
            zip: None,
            zip_member: None,
            zip_members: 0,
            postpone: false,
        };
        self.files.insert(id.to_string(), f);
        self.timers.push(Reverse((Due(now + s.timeout_interval), id.to_string())));
        self.raise(q, now, id, EventKind::FileNew, true, |f| Event::FileNew { f });
    }

    /// The file `id` meets `o`'s connection: the first time,
    /// `file_over_new_connection` (drained).
    fn over_connection(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, id: &str) {
        let uid = o.conn.uid_string();
        let Some(f) = self.files.get_mut(id) else { return };
        if f.conns.contains(&uid) {
            return;
        }
        f.conns.push(uid);
        if q.wants(EventKind::FileOverNewConnection) {
            q.push(Event::FileOverNewConnection { f: f.record(), c: Box::new(o.conn.snapshot()), is_orig: o.is_orig });
            q.drain_now(now);
            self.apply_requests(q);
        }
    }

    /// `DataIn`: `data` of the file the analyzer sends in `o`'s direction,
    /// at `offset` (None: right after what came before). `id` is what an
    /// earlier call returned. Returns the id for the next call (None: no
    /// file takes the data, or the file is complete).
    pub fn data_in(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, data: &[u8], offset: Option<u64>, id: Option<&str>) -> Option<String> {
        self.apply_requests(q);
        let id = self.resolve(q, now, o, id)?;
        if !self.get_file(q, now, o, &id) {
            return None;
        }
        let mut notes = Vec::new();
        let f = self.files.get_mut(&id)?;
        let offset = offset.unwrap_or(f.stream_offset);
        self.deliver_chunk(&id, data, offset, &mut notes);
        self.raise_notes(q, now, &id, notes);
        self.zip_members(q, now, Some(o));
        if self.files.get(&id).is_some_and(File::complete) {
            self.remove_with(q, now, &id, Some(o));
            return None;
        }
        Some(id)
    }

    /// Acts on what ZIP analyzers found: a member becomes a file of its
    /// own (source `ZIP`, the archive its parent, over the archive's
    /// connection `o` when there is one), fed its bytes and ended.
    fn zip_members(&mut self, q: &mut EventQueue, now: f64, o: Option<&Origin<'_>>) {
        while !self.zip_found.is_empty() {
            for (parent, found) in std::mem::take(&mut self.zip_found) {
                match found {
                    zip::ZipOut::Begin { name, size } => {
                        let Some(p) = self.files.get_mut(&parent) else { continue };
                        p.zip_members += 1;
                        let id = id::file_id(&format!("{parent}-ZIP-{}", p.zip_members));
                        let (is_orig, conns) = (p.is_orig, if o.is_some() { Vec::new() } else { p.conns.clone() });
                        p.zip_member = Some(id.clone());
                        self.new_file(q, now, &id, "ZIP", is_orig, conns);
                        if let Some(f) = self.files.get_mut(&id) {
                            f.parent = Some(parent.clone());
                            f.filename = Some(name);
                            if size > 0 {
                                f.total_bytes = Some(size);
                            }
                        }
                        if let Some(o) = o {
                            self.over_connection(q, now, o, &id);
                        }
                    }
                    zip::ZipOut::Data(data) => {
                        let Some(id) = self.files.get(&parent).and_then(|p| p.zip_member.clone()) else { continue };
                        let Some(offset) = self.files.get(&id).map(|f| f.stream_offset) else { continue };
                        let mut notes = Vec::new();
                        self.deliver_chunk(&id, &data, offset, &mut notes);
                        self.raise_notes(q, now, &id, notes);
                        if self.files.get(&id).is_some_and(File::complete) {
                            self.remove(q, now, &id);
                        }
                    }
                    zip::ZipOut::End => {
                        let Some(id) = self.files.get_mut(&parent).and_then(|p| p.zip_member.take()) else { continue };
                        self.remove(q, now, &id);
                    }
                }
            }
        }
    }

    /// `Gap`: `len` bytes of the file at `offset` will never come.
    pub fn gap(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, offset: u64, len: u64, id: Option<&str>) -> Option<String> {
        let id = self.resolve(q, now, o, id)?;
        if !self.get_file(q, now, o, &id) {
            return None;
        }
        let mut notes = Vec::new();
        self.file_gap(&id, offset, len, &mut notes);
        self.raise_notes(q, now, &id, notes);
        self.zip_members(q, now, Some(o));
        Some(id)
    }

    /// `SetSize`: the protocol announced the file's size.
    pub fn set_size(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, size: u64, id: Option<&str>) -> Option<String> {
        let id = self.resolve(q, now, o, id)?;
        if !self.get_file(q, now, o, &id) {
            return None;
        }
        let f = self.files.get_mut(&id)?;
        f.total_bytes = Some(size);
        if f.complete() {
            self.remove_with(q, now, &id, Some(o));
            return None;
        }
        Some(id)
    }

    /// `SetMime`: the protocol knows the file's MIME type (a TLS
    /// certificate, say). Before any data only, and once: `file_sniff`
    /// reports it with `inferred` false, and no sniffing follows.
    pub fn set_mime(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, mime: &str, id: Option<&str>) -> Option<String> {
        let id = self.resolve(q, now, o, id)?;
        if !self.get_file(q, now, o, &id) {
            return None;
        }
        let f = self.files.get_mut(&id)?;
        if mime.is_empty() || !f.bof.is_empty() || f.sniffed {
            return Some(id);
        }
        f.sniffed = true;
        f.bof_full = true;
        let meta = Box::new(FaMetadata { mime_type: Some(mime.to_string()), mime_types: None, inferred: false });
        self.raise_notes(q, now, &id, vec![Note::Sniff(meta)]);
        Some(id)
    }

    /// `EndOfFile`: the analyzer has sent all of the file (`id`, or the one
    /// handlers name for `o` when None).
    pub fn end_of_file(&mut self, q: &mut EventQueue, now: f64, o: &Origin<'_>, id: Option<&str>) {
        if let Some(id) = self.resolve(q, now, o, id) {
            self.remove_with(q, now, &id, Some(o));
        }
    }

    /// Stream and chunk delivery (`File::DeliverChunk`).
    fn deliver_chunk(&mut self, id: &str, data: &[u8], offset: u64, notes: &mut Vec<Note>) {
        let max = self.settings.reassembly_buffer_size;
        let enabled = self.settings.enable_reassembler;
        let Some(f) = self.files.get_mut(id) else { return };
        let len = (data.len() as u64).min(u64::MAX - offset);
        let data = &data[..len as usize];
        let pieces = if let Some(r) = f.reassembler.as_mut() {
            let mut pieces = Vec::new();
            if max > 0 && max < r.total_size() {
                let at = f.stream_offset;
                let flushed = r.flush();
                let skipped: u64 = flushed.iter().map(|p| if let Piece::Gap(_, l) = p { *l } else { 0 }).sum();
                pieces.extend(flushed);
                pieces.push(Piece::Overflow(at, skipped));
            }
            pieces.extend(r.insert(offset, data));
            pieces
        } else if f.stream_offset == offset {
            vec![Piece::Data(data.to_vec())]
        } else if enabled {
            let mut r = Reassembler::new(f.stream_offset);
            let pieces = r.insert(offset, data);
            f.reassembler = Some(r);
            pieces
        } else {
            f.overflow_bytes += len;
            Vec::new()
        };
        for p in pieces {
            match p {
                Piece::Data(d) => self.deliver_stream(id, &d, notes),
                Piece::Gap(at, l) => self.file_gap_now(id, at, l, notes),
                Piece::Overflow(at, skipped) => {
                    if let Some(f) = self.files.get_mut(id) {
                        f.overflow_bytes += skipped;
                    }
                    notes.push(Note::Overflow(at, skipped));
                }
            }
        }
    }

    /// In-order bytes (`File::DeliverStream`): the BOF buffer fills, and
    /// sniffing runs once it is full.
    fn deliver_stream(&mut self, id: &str, data: &[u8], notes: &mut Vec<Note>) {
        let Some(f) = self.files.get_mut(id) else { return };
        if !f.bof_full {
            // Whole chunks, as Zeek's BOF buffer keeps them (sniffing reads
            // the first `bof_size` bytes of it).
            f.bof.extend_from_slice(data);
            f.bof_full = f.bof.len() as u64 >= f.bof_size;
        }
        if !f.sniffed && f.bof_full && f.missing_bytes == 0 {
            self.sniff(id, notes);
        }
        if let Some(f) = self.files.get_mut(id) {
            for h in &mut f.hashers {
                h.update(data);
            }
            if let Some(Step::Limit { limit, len }) = f.extractor.as_mut().map(|e| e.data(data)) {
                f.extractor = None;
                notes.push(Note::ExtractLimit(limit, len));
            }
            if let Some(z) = f.zip.as_mut() {
                found_by(&mut self.zip_found, id, |out| z.data(data, out));
            }
            if self.want_data {
                for (i, chunk) in data.chunks(FILE_DATA_CHUNK).enumerate() {
                    notes.push(Note::Data(f.stream_offset + (i * FILE_DATA_CHUNK) as u64, chunk.to_vec()));
                }
            }
            f.stream_offset += data.len() as u64;
            f.seen_bytes += data.len() as u64;
        }
    }

    /// `InferMetadata`: MIME detection over the BOF buffer.
    fn sniff(&mut self, id: &str, notes: &mut Vec<Note>) {
        let Some(f) = self.files.get_mut(id) else { return };
        f.sniffed = true;
        if f.bof.is_empty() {
            return;
        }
        let head = &f.bof[..f.bof.len().min(f.bof_size as usize)];
        let matches = match self.magic.as_mut() {
            Some((m, cache)) => m.detect(cache, head),
            None => Vec::new(),
        };
        let meta = FaMetadata {
            mime_type: matches.first().map(|m| m.1.clone()),
            mime_types: (!matches.is_empty())
                .then(|| matches.into_iter().map(|(strength, mime)| MimeMatch { strength, mime }).collect()),
            inferred: true,
        };
        notes.push(Note::Sniff(Box::new(meta)));
    }

    /// `File::Gap`, through the reassembler when there is one.
    fn file_gap(&mut self, id: &str, offset: u64, len: u64, notes: &mut Vec<Note>) {
        let Some(f) = self.files.get_mut(id) else { return };
        if let Some(r) = f.reassembler.as_mut() {
            let pieces = r.flush_to(offset.saturating_add(len));
            for p in pieces {
                match p {
                    Piece::Data(d) => self.deliver_stream(id, &d, notes),
                    Piece::Gap(at, l) => self.file_gap_now(id, at, l, notes),
                    Piece::Overflow(..) => {}
                }
            }
            return;
        }
        self.file_gap_now(id, offset, len, notes);
    }

    /// A gap the stream has reached: BOF buffering ends (sniffing what it
    /// has), `file_gap`, the bytes count as missing.
    fn file_gap_now(&mut self, id: &str, offset: u64, len: u64, notes: &mut Vec<Note>) {
        let Some(f) = self.files.get_mut(id) else { return };
        if !f.bof_full {
            f.bof_full = true;
            if !f.sniffed && f.missing_bytes == 0 {
                self.sniff(id, notes);
            }
        }
        notes.push(Note::Gap(offset, len));
        if let Some(f) = self.files.get_mut(id) {
            // A hash over a hole means nothing: its analyzer stops.
            f.hashers.clear();
            if let Some(Step::Limit { limit, len }) = f.extractor.as_mut().map(|e| e.hole(len)) {
                f.extractor = None;
                notes.push(Note::ExtractLimit(limit, len));
            }
            if let Some(mut z) = f.zip.take() {
                found_by(&mut self.zip_found, id, |out| z.gap(out));
            }
            f.stream_offset += len;
            f.missing_bytes += len;
        }
    }

    /// Raises what a file operation found, in order. The record of each
    /// event shows the counters after the whole operation (Zeek refreshes
    /// them when it raises the event).
    fn raise_notes(&mut self, q: &mut EventQueue, now: f64, id: &str, notes: Vec<Note>) {
        for n in notes {
            match n {
                Note::Sniff(meta) => self.raise(q, now, id, EventKind::FileSniff, true, |f| Event::FileSniff { f, meta }),
                Note::Gap(offset, len) => {
                    self.raise(q, now, id, EventKind::FileGap, false, |f| Event::FileGap { f, offset, len })
                }
                Note::Overflow(offset, skipped) => self.raise(q, now, id, EventKind::FileReassemblyOverflow, false, |f| {
                    Event::FileReassemblyOverflow { f, offset, skipped }
                }),
                Note::ExtractLimit(limit, len) => self.raise(q, now, id, EventKind::FileExtractionLimit, true, |f| {
                    Event::FileExtractionLimit { f, limit, len }
                }),
                Note::Data(offset, data) => {
                    self.raise(q, now, id, EventKind::FileData, false, |f| Event::FileData { f, offset, data })
                }
            }
        }
    }

    /// `RemoveFile` → `File::EndOfFile`: the reassembler is flushed, a BOF
    /// buffer not yet full is sniffed, `file_state_remove`, and the file is
    /// forgotten. Nothing for an unknown id.
    fn remove(&mut self, q: &mut EventQueue, now: f64, id: &str) {
        self.remove_with(q, now, id, None)
    }

    /// [`remove`](Manager::remove), over `o`'s connection when known (the
    /// members a ZIP analyzer finds at the end join it).
    fn remove_with(&mut self, q: &mut EventQueue, now: f64, id: &str, o: Option<&Origin<'_>>) {
        let Some(f) = self.files.get_mut(id) else { return };
        if f.done {
            return;
        }
        let mut notes = Vec::new();
        if let Some(mut r) = f.reassembler.take() {
            for p in r.flush() {
                match p {
                    Piece::Data(d) => self.deliver_stream(id, &d, &mut notes),
                    Piece::Gap(at, l) => self.file_gap_now(id, at, l, &mut notes),
                    Piece::Overflow(..) => {}
                }
            }
        }
        if let Some(f) = self.files.get_mut(id) {
            if !f.bof_full {
                f.bof_full = true;
                if !f.sniffed && f.missing_bytes == 0 {
                    self.sniff(id, &mut notes);
                }
            }
        }
        self.raise_notes(q, now, id, notes);
        self.apply_requests(q);
        let Some(f) = self.files.get_mut(id) else { return };
        f.done = true;
        f.extractor = None;
        if f.zip.is_some() || !self.zip_found.is_empty() {
            if let Some(mut z) = f.zip.take() {
                found_by(&mut self.zip_found, id, |out| z.end(out));
            }
            // The archive's members while it is still there.
            self.zip_members(q, now, o);
        }
        let Some(f) = self.files.get_mut(id) else { return };
        for h in std::mem::take(&mut f.hashers) {
            let (kind, hash) = (h.analyzer().kind().to_string(), h.finish());
            self.raise(q, now, id, EventKind::FileHash, false, |f| Event::FileHash { f, kind, hash });
        }
        self.raise(q, now, id, EventKind::FileStateRemove, false, |f| Event::FileStateRemove { f });
        self.files.remove(id);
    }

    /// `Manager::Timeout`: `file_timeout` (drained), then the file goes,
    /// unless a handler set a timeout interval during the event (and the
    /// run is not ending, nor the table full): then it is checked again
    /// that long from now.
    fn timeout(&mut self, q: &mut EventQueue, now: f64, id: &str, terminating: bool) {
        if let Some(f) = self.files.get_mut(id) {
            f.postpone = false;
        }
        self.raise(q, now, id, EventKind::FileTimeout, true, |f| Event::FileTimeout { f });
        if let Some(f) = self.files.get_mut(id).filter(|f| f.postpone && !terminating) {
            f.last_active = now;
            let due = now + f.timeout_interval;
            self.timers.push(Reverse((Due(due), id.to_string())));
            return;
        }
        self.remove(q, now, id);
    }

    /// Times out the file idle longest (the table is full).
    fn evict_one(&mut self, q: &mut EventQueue, now: f64) {
        let Some(id) = self.files.values().min_by(|a, b| a.last_active.total_cmp(&b.last_active)).map(|f| f.id.clone()) else {
            return;
        };
        self.evicted += 1;
        tracing::debug!("file table full: {id} times out early");
        self.timeout(q, now, &id, true);
    }

    /// Runs the inactivity checks due by `now` (`FileTimer`): a file idle
    /// for its timeout interval times out; a busier one is checked again
    /// an interval after its last data.
    pub fn expire(&mut self, q: &mut EventQueue, now: f64) {
        while let Some(Reverse((Due(t), _))) = self.timers.peek() {
            if *t > now {
                break;
            }
            let Some(Reverse((_, id))) = self.timers.pop() else { break };
            let Some(f) = self.files.get(&id) else { continue };
            let idle = (now - f.last_active).max(0.0);
            if idle >= f.timeout_interval {
                self.timeout(q, now, &id, false);
            } else {
                let due = f.last_active + f.timeout_interval;
                self.timers.push(Reverse((Due(due), id)));
            }
        }
    }

    /// The end of the run (`Manager::Terminate`): every open file times out.
    pub fn terminate(&mut self, q: &mut EventQueue, now: f64) {
        let mut ids: Vec<(f64, String)> = self.files.values().map(|f| (f.last_active, f.id.clone())).collect();
        ids.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        for (_, id) in ids {
            self.timeout(q, now, &id, true);
        }
        self.timers.clear();
    }
}

/// Runs a ZIP analyzer step of the archive `archive`, queueing what it
/// found for [`Manager::zip_members`].
fn found_by(queue: &mut Vec<(String, zip::ZipOut)>, archive: &str, run: impl FnOnce(&mut Vec<zip::ZipOut>)) {
    let mut found = Vec::new();
    run(&mut found);
    queue.extend(found.into_iter().map(|o| (archive.to_string(), o)));
}

#[cfg(test)]
mod tests;
