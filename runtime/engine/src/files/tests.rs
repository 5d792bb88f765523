//! Tests of the file manager: the order of the events, removal exactly
//! once, the BOF and reassembly bounds, timeouts and the end of the run.

use super::*;
use crate::events::{Drain, Subscriptions};
use crate::sessions::key::ConnKey;
use crate::sessions::uid::UidGen;
use std::sync::Mutex;

/// Handlers in a test: every drained event is kept; `get_file_handle` is
/// answered with `handle` (None: no handle).
struct Recorder {
    seen: Arc<Mutex<Vec<Event>>>,
    handle: Option<String>,
}

impl Drain for Recorder {
    fn drain(&mut self, q: &mut EventQueue, _now: f64) -> Option<String> {
        let mut asked = false;
        for e in q.take() {
            asked |= matches!(e, Event::GetFileHandle { .. });
            self.seen.lock().unwrap().push(e);
        }
        if asked {
            self.handle.clone()
        } else {
            None
        }
    }
}

struct World {
    q: EventQueue,
    seen: Arc<Mutex<Vec<Event>>>,
    m: Manager,
    conns: Vec<Conn>,
}

fn conn(port: u16, seed: u64) -> Conn {
    let a = ("10.0.0.1".parse().unwrap(), port);
    let b = ("10.0.0.2".parse().unwrap(), 80);
    Conn::new(ConnKey::new(a, b, 6, false), a, b, 6, UidGen::new(Some(seed)).next_words(), 1.0, &Default::default(), &[], 0)
}

impl World {
    fn new(settings: Settings, handle: Option<&str>) -> World {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut q = EventQueue::new(Subscriptions::all());
        q.set_drain(Box::new(Recorder { seen: seen.clone(), handle: handle.map(str::to_string) }));
        let magic = Arc::new(Magic::builtin());
        World { q, seen, m: Manager::new(settings, Some(magic)), conns: vec![conn(1234, 1), conn(1235, 2)] }
    }

    fn size(&mut self, i: usize, n: u64, id: Option<&str>) -> Option<String> {
        let o = Origin { tag: Tag::Http, conn: &self.conns[i], is_orig: false };
        self.m.set_size(&mut self.q, 2.0, &o, n, id)
    }

    fn gap(&mut self, i: usize, offset: u64, len: u64, id: Option<&str>) -> Option<String> {
        let o = Origin { tag: Tag::Http, conn: &self.conns[i], is_orig: false };
        self.m.gap(&mut self.q, 2.0, &o, offset, len, id)
    }

    fn end(&mut self, i: usize, id: Option<&str>) {
        let o = Origin { tag: Tag::Http, conn: &self.conns[i], is_orig: false };
        self.m.end_of_file(&mut self.q, 2.0, &o, id)
    }

    fn data(&mut self, i: usize, d: &[u8], offset: Option<u64>, id: Option<&str>) -> Option<String> {
        let o = Origin { tag: Tag::Http, conn: &self.conns[i], is_orig: false };
        self.m.data_in(&mut self.q, 2.0, &o, d, offset, id)
    }

    /// Everything raised so far (drained or still queued), as names,
    /// `file_data` left out.
    fn names(&mut self) -> Vec<String> {
        let rest: Vec<Event> = self.q.take().into_iter().collect();
        let mut seen = self.seen.lock().unwrap();
        seen.extend(rest);
        seen.iter().filter(|e| e.kind() != EventKind::FileData).map(|e| e.kind().name().to_string()).collect()
    }

    fn events(&mut self) -> Vec<Event> {
        self.names();
        self.seen.lock().unwrap().clone()
    }
}

fn sniffed(evs: &[Event]) -> Vec<Option<String>> {
    evs.iter().filter_map(|e| if let Event::FileSniff { meta, .. } = e { Some(meta.mime_type.clone()) } else { None }).collect()
}

#[test]
fn a_sized_file_runs_its_life_cycle_in_order_and_is_removed_once() {
    let mut w = World::new(Settings::default(), Some("h1"));
    let id = w.size(0, 11, None);
    assert_eq!(id.as_deref(), Some(id::file_id("h1").as_str()));
    let id = w.data(0, b"hello", None, id.as_deref());
    assert!(id.is_some(), "not complete yet");
    assert_eq!(w.data(0, b" world", None, id.as_deref()), None, "complete at the announced size");
    w.end(0, id.as_deref());
    w.m.terminate(&mut w.q, 3.0);
    assert_eq!(w.names(), ["get_file_handle", "file_new", "file_over_new_connection", "file_sniff", "file_state_remove"]);
    let evs = w.events();
    assert_eq!(sniffed(&evs), [Some("text/plain".to_string())], "sniffed at the end: the BOF buffer never filled");
    let Some(Event::FileStateRemove { f }) = evs.last() else { panic!() };
    assert_eq!((f.seen_bytes, f.total_bytes, f.missing_bytes, f.source.as_str()), (11, Some(11), 0, "HTTP"));
    assert_eq!(f.conns, [w.conns[0].uid_string()]);
    assert!(w.m.is_empty());
}

#[test]
fn without_a_handle_there_is_no_file() {
    let mut w = World::new(Settings::default(), None);
    assert_eq!(w.data(0, b"abc", None, None), None);
    assert_eq!(w.names(), ["get_file_handle"]);
    assert!(w.m.is_empty());
}

#[test]
fn sniffing_waits_for_a_full_bof_buffer_which_stays_bounded() {
    let mut w = World::new(Settings { bof_buffer_size: 8, ..Settings::default() }, Some("h"));
    let id = w.data(0, b"%PDF", None, None);
    assert!(!w.names().contains(&"file_sniff".to_string()));
    let id = w.data(0, b"-1.4\nmore bytes than the buffer", None, id.as_deref());
    w.data(0, b"and a chunk after it is full", None, id.as_deref());
    let evs = w.events();
    assert_eq!(sniffed(&evs), [Some("application/pdf".to_string())]);
    let Some(Event::FileSniff { f, meta }) = evs.iter().find(|e| matches!(e, Event::FileSniff { .. })) else { panic!() };
    // As Zeek's, the buffer keeps the chunks that filled it, and no more.
    assert_eq!(f.bof_buffer.as_deref(), Some(&b"%PDF-1.4\nmore bytes than the buffer"[..]), "the chunks up to the bof_buffer_size");
    assert!(meta.inferred);
    assert_eq!(meta.mime_types.as_ref().unwrap()[0].mime, "application/pdf");
    w.m.terminate(&mut w.q, 5.0);
    assert_eq!(sniffed(&w.events()).len(), 1, "sniffed once");
}

#[test]
fn a_gap_ends_bof_buffering_and_counts_missing_bytes() {
    let mut w = World::new(Settings::default(), Some("h"));
    let id = w.data(0, b"GIF89a", None, None);
    let id = w.gap(0, 6, 100, id.as_deref());
    w.data(0, b"tail", None, id.as_deref());
    w.end(0, id.as_deref());
    let names = w.names();
    assert_eq!(&names[3..], ["file_sniff", "file_gap", "file_state_remove"]);
    let evs = w.events();
    assert_eq!(sniffed(&evs), [Some("image/gif".to_string())]);
    let Some(Event::FileStateRemove { f }) = evs.last() else { panic!() };
    assert_eq!((f.seen_bytes, f.missing_bytes), (10, 100));
}

#[test]
fn out_of_order_data_is_reassembled_within_its_bound() {
    let mut w = World::new(Settings { reassembly_buffer_size: 10, ..Settings::default() }, Some("h"));
    let id = w.data(0, b"ab", Some(0), None);
    w.data(0, b"ef", Some(4), id.as_deref());
    w.data(0, b"cd", Some(2), id.as_deref());
    assert!(!w.names().contains(&"file_gap".to_string()));
    // Far blocks pile up past the bound: the buffer is flushed with a gap.
    w.data(0, &[b'x'; 8], Some(100), id.as_deref());
    w.data(0, &[b'y'; 8], Some(200), id.as_deref());
    w.data(0, b"z", Some(300), id.as_deref());
    w.end(0, id.as_deref());
    let evs = w.events();
    let names: Vec<_> = evs.iter().map(|e| e.kind().name()).collect();
    assert!(names.contains(&"file_reassembly_overflow"), "{names:?}");
    let Some(Event::FileStateRemove { f }) = evs.last() else { panic!() };
    assert_eq!(f.seen_bytes, 6 + 8 + 8 + 1);
    assert_eq!(f.missing_bytes, 300 + 1 - f.seen_bytes);
    assert_eq!(f.overflow_bytes, 94 + 92, "the holes the overflow flushed over");
    assert_eq!(names.iter().filter(|n| **n == "file_state_remove").count(), 1);
}

#[test]
fn a_second_connection_raises_file_over_new_connection_once() {
    let mut w = World::new(Settings::default(), Some("same"));
    let id = w.data(0, b"a", None, None);
    w.data(1, b"b", None, id.as_deref());
    w.data(1, b"c", None, id.as_deref());
    w.data(0, b"d", None, id.as_deref());
    let names = w.names();
    assert_eq!(names.iter().filter(|n| *n == "file_over_new_connection").count(), 2);
    assert_eq!(names.iter().filter(|n| *n == "file_new").count(), 1);
}

#[test]
fn idle_files_time_out_and_the_end_of_the_run_times_out_the_rest() {
    let mut w = World::new(Settings { timeout_interval: 10.0, ..Settings::default() }, Some("t"));
    w.data(0, b"x", None, None);
    w.m.expire(&mut w.q, 11.0);
    assert_eq!(w.m.len(), 1, "due at 12");
    w.m.expire(&mut w.q, 12.0);
    assert!(w.m.is_empty());
    assert!(w.names().ends_with(&["file_timeout".into(), "file_sniff".into(), "file_state_remove".into()]), "the removal sniffs what the buffer holds");
    // A file with data at 2.0 is not idle at 11 when it got data at 9.
    let mut w = World::new(Settings { timeout_interval: 10.0, ..Settings::default() }, Some("t"));
    let id = w.data(0, b"x", None, None);
    let o = Origin { tag: Tag::Http, conn: &w.conns[0], is_orig: false };
    w.m.data_in(&mut w.q, 9.0, &o, b"y", None, id.as_deref());
    w.m.expire(&mut w.q, 12.5);
    assert_eq!(w.m.len(), 1, "checked again an interval after its last data");
    w.m.expire(&mut w.q, 19.0);
    assert!(w.m.is_empty());
    let mut w = World::new(Settings::default(), Some("t"));
    w.data(0, b"x", None, None);
    w.m.terminate(&mut w.q, 3.0);
    assert!(w.names().ends_with(&["file_timeout".into(), "file_sniff".into(), "file_state_remove".into()]));
}

#[test]
fn a_full_table_times_out_the_idlest_file_first() {
    let mut w = World::new(Settings { max_files: 2, ..Settings::default() }, None);
    for (i, h) in ["a", "b", "c"].iter().enumerate() {
        w.q.set_drain(Box::new(Recorder { seen: w.seen.clone(), handle: Some(h.to_string()) }));
        let o = Origin { tag: Tag::Http, conn: &w.conns[0], is_orig: false };
        w.m.data_in(&mut w.q, 1.0 + i as f64, &o, b"data", None, None);
    }
    assert_eq!(w.m.len(), 2);
    assert_eq!(w.m.evicted(), 1);
    let evs = w.events();
    let first_removed = evs.iter().find_map(|e| if let Event::FileStateRemove { f } = e { Some(f.id.clone()) } else { None });
    assert_eq!(first_removed, Some(id::file_id("a")));
    let names: Vec<_> = evs.iter().map(|e| e.kind().name()).collect();
    let t = names.iter().position(|n| *n == "file_timeout").unwrap();
    assert_eq!(&names[t..t + 3], ["file_timeout", "file_sniff", "file_state_remove"], "timeout, then removal");
}

#[test]
fn a_protocol_supplied_type_is_reported_once_and_not_sniffed() {
    let mut w = World::new(Settings::default(), None);
    let id = id::file_id("cert-1");
    let o = Origin { tag: Tag::Http, conn: &w.conns[0], is_orig: false };
    let got = w.m.set_mime(&mut w.q, 2.0, &o, "application/x-x509-user-cert", Some(&id));
    assert_eq!(got.as_deref(), Some(id.as_str()), "a given id needs no handle");
    w.data(0, b"%PDF-1.4 looks like a pdf", None, Some(&id));
    w.end(0, Some(&id));
    let evs = w.events();
    assert!(!evs.iter().any(|e| matches!(e, Event::GetFileHandle { .. })));
    assert_eq!(sniffed(&evs), [Some("application/x-x509-user-cert".to_string())]);
    let Some(Event::FileSniff { meta, .. }) = evs.iter().find(|e| matches!(e, Event::FileSniff { .. })) else { panic!() };
    assert!(!meta.inferred && meta.mime_types.is_none());
}

/// Handlers that name every file `h` and attach the three hash analyzers
/// at `file_new`, as the files handler does with `Files::hash_all_files`.
struct Hashing(Arc<Mutex<Vec<Event>>>);

impl Drain for Hashing {
    fn drain(&mut self, q: &mut EventQueue, _now: f64) -> Option<String> {
        let mut asked = false;
        for e in q.take() {
            asked |= matches!(e, Event::GetFileHandle { .. });
            if let Event::FileNew { f } = &e {
                let reqs = [FileAnalyzer::Md5, FileAnalyzer::Sha1, FileAnalyzer::Sha256]
                    .map(|a| FileRequest { id: f.id.clone(), op: FileOp::Add(a) });
                q.file_requests(reqs);
            }
            self.0.lock().unwrap().push(e);
        }
        asked.then(|| "h".to_string())
    }
}

#[test]
fn attached_hash_analyzers_report_before_the_file_goes_and_a_gap_ends_them() {
    let hashes = |gap: bool| -> (Vec<String>, Vec<(String, String)>) {
        let mut w = World::new(Settings::default(), Some("h"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        w.q.set_drain(Box::new(Hashing(seen.clone())));
        w.seen = seen;
        // The first chunk comes with file_new: it is hashed too.
        let id = w.data(0, b"a", None, None);
        if gap {
            w.gap(0, 1, 1, id.as_deref());
        }
        w.data(0, b"bc", None, id.as_deref());
        w.end(0, id.as_deref());
        let names = w.names();
        let got = w
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::FileHash { kind, hash, .. } => Some((kind.clone(), hash.clone())),
                _ => None,
            })
            .collect();
        (names, got)
    };
    let (names, got) = hashes(false);
    assert_eq!(
        got,
        [
            ("md5".to_string(), "900150983cd24fb0d6963f7d28e17f72".to_string()),
            ("sha1".to_string(), "a9993e364706816aba3e25717850c26c9cd0d89d".to_string()),
            ("sha256".to_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string()),
        ]
    );
    let last = names.iter().rposition(|n| n == "file_hash").unwrap();
    assert_eq!(names[last + 1..], ["file_state_remove"], "hashes come right before the removal: {names:?}");
    let (_, got) = hashes(true);
    assert!(got.is_empty(), "no hash over a hole");
}

/// Handlers that name every file `h` and, at each event of kind `at`,
/// ask `ops` of its file.
struct Asking {
    seen: Arc<Mutex<Vec<Event>>>,
    at: EventKind,
    ops: Vec<FileOp>,
}

impl Drain for Asking {
    fn drain(&mut self, q: &mut EventQueue, _now: f64) -> Option<String> {
        let mut asked = false;
        for e in q.take() {
            asked |= matches!(e, Event::GetFileHandle { .. });
            if e.kind() == self.at {
                let f = match &e {
                    Event::FileNew { f }
                    | Event::FileSniff { f, .. }
                    | Event::FileOverNewConnection { f, .. }
                    | Event::FileTimeout { f } => f.id.clone(),
                    _ => unreachable!("not a file event"),
                };
                q.file_requests(self.ops.iter().map(|op| FileRequest { id: f.clone(), op: op.clone() }));
            }
            self.seen.lock().unwrap().push(e);
        }
        asked.then(|| "h".to_string())
    }
}

impl World {
    /// A world whose handlers ask `ops` at each `at` event.
    fn asking(settings: Settings, at: EventKind, ops: Vec<FileOp>) -> World {
        let mut w = World::new(settings, Some("h"));
        w.q.set_drain(Box::new(Asking { seen: w.seen.clone(), at, ops }));
        w
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("weir-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn extraction_writes_into_the_granted_folder_up_to_the_limit() {
    let dir = scratch("extract");
    let settings = Settings { extract_dir: Some(dir.clone()), extract_limit: 8, ..Settings::default() };
    let ops = vec![FileOp::Extract { filename: "out.bin".into(), limit: 100 }, FileOp::Extract { filename: "again".into(), limit: 0 }];
    let mut w = World::asking(settings, EventKind::FileNew, ops);
    let id = w.data(0, b"hello", None, None);
    w.gap(0, 5, 2, id.as_deref());
    w.data(0, b"world!!", None, id.as_deref());
    w.end(0, id.as_deref());
    assert_eq!(std::fs::read(dir.join("out.bin")).unwrap(), b"hello\0\0w", "the operator's limit caps the handler's, holes count");
    assert!(!dir.join("again").exists(), "one extraction per file");
    let evs = w.events();
    let limits: Vec<(u64, u64)> =
        evs.iter().filter_map(|e| if let Event::FileExtractionLimit { limit, len, .. } = e { Some((*limit, *len)) } else { None }).collect();
    assert_eq!(limits, [(8, 7)]);
    let names = w.names();
    let at = names.iter().position(|n| n == "file_extraction_limit").unwrap();
    assert!(at < names.iter().position(|n| n == "file_state_remove").unwrap());
    std::fs::remove_dir_all(&dir).unwrap();

    // No grant, or a name with a folder part: nothing is written.
    let dir = scratch("refused");
    for (grant, name) in [(None, "x"), (Some(dir.clone()), "../x"), (Some(dir.clone()), "a/b")] {
        let settings = Settings { extract_dir: grant, ..Settings::default() };
        let mut w = World::asking(settings, EventKind::FileNew, vec![FileOp::Extract { filename: name.into(), limit: 0 }]);
        let id = w.data(0, b"secret", None, None);
        w.end(0, id.as_deref());
    }
    assert!(!dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none(), "nothing extracted");
    assert!(!std::env::temp_dir().join("x").exists() || std::fs::read(std::env::temp_dir().join("x")).unwrap() != b"secret");
}

#[test]
fn file_data_follows_the_stream_and_describe_reaches_later_records() {
    let ops = vec![FileOp::Describe { depth: 3, filename: Some("a.txt".into()) }];
    let mut w = World::asking(Settings::default(), EventKind::FileOverNewConnection, ops);
    let id = w.data(0, b"abc", None, None);
    w.data(0, b"def", Some(5), id.as_deref());
    w.data(0, b"de", Some(3), id.as_deref());
    w.end(0, id.as_deref());
    let evs = w.events();
    let data: Vec<(u64, Vec<u8>)> =
        evs.iter().filter_map(|e| if let Event::FileData { offset, data, .. } = e { Some((*offset, data.clone())) } else { None }).collect();
    assert_eq!(data, [(0, b"abc".to_vec()), (3, b"de".to_vec()), (5, b"def".to_vec())], "stream order, after reassembly");
    let Some(Event::FileStateRemove { f }) = evs.last() else { panic!() };
    assert_eq!((f.depth, f.filename.as_deref()), (3, Some("a.txt")));
    let Some(Event::FileNew { f }) = evs.iter().find(|e| matches!(e, Event::FileNew { .. })) else { panic!() };
    assert_eq!((f.depth, f.filename.as_deref()), (0, None), "not described yet");
}

#[test]
fn an_analyzer_attached_at_file_sniff_catches_up_with_the_bof_buffer() {
    let settings = Settings { bof_buffer_size: 4, ..Settings::default() };
    let mut w = World::asking(settings, EventKind::FileSniff, vec![FileOp::Add(FileAnalyzer::Md5)]);
    let id = w.data(0, b"a", None, None);
    let id = w.data(0, b"bc", None, id.as_deref());
    let id = w.data(0, b"defg", None, id.as_deref());
    w.data(0, b"h", None, id.as_deref());
    w.end(0, id.as_deref());
    let evs = w.events();
    let md5: Vec<String> = evs.iter().filter_map(|e| if let Event::FileHash { hash, .. } = e { Some(hash.clone()) } else { None }).collect();
    // md5("abcdefgh")
    assert_eq!(md5, ["e8dc4081b13434b45189a720b77b6818"]);
}

#[test]
fn a_zip_analyzer_makes_each_member_a_file_of_the_archive() {
    let archive = zip::stored_archive(&[("dir/inner.txt", b"member text")]);
    let mut w = World::asking(Settings::default(), EventKind::FileSniff, vec![FileOp::Zip]);
    let id = w.size(0, archive.len() as u64, None);
    let outer = id.clone().unwrap();
    assert_eq!(w.data(0, &archive, None, id.as_deref()), None, "complete");
    let evs = w.events();
    let removed: Vec<&FaFile> = evs.iter().filter_map(|e| if let Event::FileStateRemove { f } = e { Some(&**f) } else { None }).collect();
    assert_eq!(removed.len(), 2, "the member, then the archive");
    let (member, archive_f) = (removed[0], removed[1]);
    assert_eq!(archive_f.id, outer);
    assert_eq!(member.source, "ZIP");
    assert_eq!(member.parent_id.as_deref(), Some(outer.as_str()));
    assert_eq!(member.filename.as_deref(), Some("dir/inner.txt"));
    assert_eq!((member.seen_bytes, member.total_bytes), (11, Some(11)));
    assert_eq!(member.conns, [w.conns[0].uid_string()], "over the archive's connection");
    let overs = evs.iter().filter(|e| matches!(e, Event::FileOverNewConnection { f, .. } if f.id == member.id)).count();
    assert_eq!(overs, 1);
    assert!(w.m.is_empty());
}

#[test]
fn a_timeout_set_during_file_timeout_postpones_it_but_not_the_end_of_the_run() {
    let mut w = World::asking(Settings::default(), EventKind::FileTimeout, vec![FileOp::SetTimeout(10.0)]);
    let id = w.data(0, b"abc", None, None);
    assert!(id.is_some());
    w.m.expire(&mut w.q, 2.0 + 120.0);
    w.m.expire(&mut w.q, 2.0 + 125.0);
    assert_eq!(w.m.len(), 1, "postponed");
    w.m.expire(&mut w.q, 2.0 + 130.0);
    assert_eq!(w.m.len(), 1, "postponed again, 10 s after the first");
    w.m.terminate(&mut w.q, 200.0);
    assert!(w.m.is_empty());
    let names = w.names();
    let timeouts = names.iter().filter(|n| *n == "file_timeout").count();
    assert_eq!(timeouts, 3, "{names:?}");
    assert_eq!(names.last().map(String::as_str), Some("file_state_remove"));
    assert_eq!(names.iter().filter(|n| *n == "file_state_remove").count(), 1);
    let evs = w.events();
    let Some(Event::FileStateRemove { f }) = evs.last() else { panic!() };
    assert_eq!(f.timeout_interval, 10.0);
}

/// Keeps the names and file ids of the life-cycle events only (a run with
/// 100,000 files).
struct Lean(Arc<Mutex<Vec<(EventKind, String)>>>);

impl Drain for Lean {
    fn drain(&mut self, q: &mut EventQueue, _now: f64) -> Option<String> {
        for e in q.take() {
            let id = match &e {
                Event::FileNew { f } | Event::FileTimeout { f } | Event::FileStateRemove { f } => f.id.clone(),
                _ => continue,
            };
            self.0.lock().unwrap().push((e.kind(), id));
        }
        None
    }
}

#[test]
fn one_hundred_thousand_open_files_stay_within_the_budget_and_eviction_keeps_the_order() {
    // The budget: 1 KiB a file beside its own bytes (BOF buffer), at the
    // default cap of 100,000 open files.
    const FILES: usize = 100_000;
    const BYTES: usize = 64;
    let settings = Settings::default();
    assert_eq!(settings.max_files, FILES);
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut q = EventQueue::new(Subscriptions::all());
    q.set_drain(Box::new(Lean(log.clone())));
    let mut m = Manager::new(settings, None);
    let c = conn(1234, 1);
    let o = Origin { tag: Tag::Http, conn: &c, is_orig: false };
    let data = [b'x'; BYTES];
    for i in 0..FILES {
        let id = format!("F{i:017}");
        m.data_in(&mut q, 1.0 + i as f64 * 1e-6, &o, &data, None, Some(&id));
    }
    assert_eq!(m.len(), FILES);
    let used = m.memory_bytes();
    let budget = FILES * (1024 + BYTES);
    println!("{FILES} open files hold {used} bytes: {} a file (budget {})", used / FILES, budget / FILES);
    assert!(used <= budget, "{used} bytes for {FILES} files is over the budget of {budget}");
    // One more: the file idle longest times out first, its events in order.
    log.lock().unwrap().clear();
    m.data_in(&mut q, 5.0, &o, &data, None, Some("Fnew"));
    assert_eq!(m.len(), FILES);
    assert_eq!(m.evicted(), 1);
    let first = format!("F{:017}", 0);
    let got = log.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            (EventKind::FileTimeout, first.clone()),
            (EventKind::FileStateRemove, first),
            (EventKind::FileNew, "Fnew".to_string()),
        ]
    );
}
