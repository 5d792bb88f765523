//! `weir:events/files`: the handle a handler sets during `get-file-handle`
//! ([`Sandbox::take_file_handle`](crate::Sandbox::take_file_handle) hands
//! it to file analysis after the forced drain; the last call wins), and
//! the file analyzers handlers attach and detach, the extractions they
//! start and the files.log facts they describe
//! ([`Sandbox::take_file_requests`](crate::Sandbox::take_file_requests)).

use super::HostState;
use crate::bindings::weir::events::files as wfiles;
use weir_engine::files::{FileAnalyzer, FileOp};

/// The longest handle kept; longer ones are cut (they are only hashed).
pub const MAX_HANDLE_BYTES: usize = 4096;

impl wfiles::Host for HostState {
    fn set_file_handle(&mut self, handle: String) {
        self.charge += handle.len() as u64;
        let mut handle = handle;
        cut(&mut handle, MAX_HANDLE_BYTES);
        self.shared.lock().expect("sandbox state").file_handle = Some(handle);
    }

    fn add_analyzer(&mut self, fid: String, analyzer: String) {
        self.charge += analyzer.len() as u64;
        if is_named(&analyzer, "ZIP") {
            self.file_request(fid, FileOp::Zip);
        } else if let Some(a) = FileAnalyzer::from_name(&analyzer) {
            self.file_request(fid, FileOp::Add(a));
        }
    }

    fn remove_analyzer(&mut self, fid: String, analyzer: String) {
        self.charge += analyzer.len() as u64;
        if is_named(&analyzer, "EXTRACT") {
            self.file_request(fid, FileOp::StopExtract);
        } else if let Some(a) = FileAnalyzer::from_name(&analyzer) {
            self.file_request(fid, FileOp::Remove(a));
        }
    }

    fn extract(&mut self, fid: String, filename: String, limit: u64) {
        self.charge += filename.len() as u64;
        self.file_request(fid, FileOp::Extract { filename, limit });
    }

    fn set_timeout_interval(&mut self, fid: String, seconds: f64) {
        self.file_request(fid, FileOp::SetTimeout(seconds));
    }

    fn describe(&mut self, fid: String, depth: u64, filename: Option<String>) {
        self.charge += filename.as_ref().map_or(0, |n| n.len() as u64);
        let filename = filename.map(|mut n| {
            cut(&mut n, MAX_HANDLE_BYTES);
            n
        });
        self.file_request(fid, FileOp::Describe { depth, filename });
    }
}

/// Whether `name` is Zeek's file analyzer `zeek` (`EXTRACT`, `Files::ANALYZER_EXTRACT`, any case).
fn is_named(name: &str, zeek: &str) -> bool {
    name.rsplit("ANALYZER_").next().unwrap_or(name).eq_ignore_ascii_case(zeek)
}

/// Cuts `s` to at most `max` bytes, at a character boundary.
fn cut(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

impl HostState {
    fn file_request(&mut self, id: String, op: FileOp) {
        self.charge += id.len() as u64;
        let mut shared = self.shared.lock().expect("sandbox state");
        if shared.file_requests.len() < super::MAX_REQUESTS {
            shared.file_requests.push(weir_engine::files::FileRequest { id, op });
        }
    }
}
