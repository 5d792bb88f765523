//! `weir:events/files`: the handle a handler sets during `get-file-handle`
//! ([`Sandbox::take_file_handle`](crate::Sandbox::take_file_handle) hands
//! it to file analysis after the forced drain; the last call wins), and
//! the file analyzers handlers attach and detach
//! ([`Sandbox::take_file_requests`](crate::Sandbox::take_file_requests)).

use super::HostState;
use crate::bindings::weir::events::files as wfiles;

/// The longest handle kept; longer ones are cut (they are only hashed).
pub const MAX_HANDLE_BYTES: usize = 4096;

impl wfiles::Host for HostState {
    fn set_file_handle(&mut self, handle: String) {
        self.charge += handle.len() as u64;
        let mut handle = handle;
        if handle.len() > MAX_HANDLE_BYTES {
            let mut cut = MAX_HANDLE_BYTES;
            while !handle.is_char_boundary(cut) {
                cut -= 1;
            }
            handle.truncate(cut);
        }
        self.shared.lock().expect("sandbox state").file_handle = Some(handle);
    }

    fn add_analyzer(&mut self, fid: String, analyzer: String) {
        self.file_request(fid, analyzer, true);
    }

    fn remove_analyzer(&mut self, fid: String, analyzer: String) {
        self.file_request(fid, analyzer, false);
    }
}

impl HostState {
    fn file_request(&mut self, id: String, analyzer: String, add: bool) {
        self.charge += (id.len() + analyzer.len()) as u64;
        let Some(analyzer) = weir_engine::files::FileAnalyzer::from_name(&analyzer) else { return };
        let mut shared = self.shared.lock().expect("sandbox state");
        if shared.file_requests.len() < super::MAX_REQUESTS {
            shared.file_requests.push(weir_engine::files::FileRequest { id, analyzer, add });
        }
    }
}
