//! `weir:events/files`: the handle a handler sets during `get-file-handle`
//! ([`Sandbox::take_file_handle`](crate::Sandbox::take_file_handle) hands
//! it to file analysis after the forced drain). The last call wins.

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
}
