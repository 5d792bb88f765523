//! Hostile handler: writes one `huge.log` record holding a set of 80 000 empty
//! strings at every `new_connection`: cheap for the guest, megabytes of log line
//! for the host. The host charges every element, so the record costs more fuel
//! than the call has and is not written.

use weir_guest::log::{LogType as T, LogValue as V};

static HUGE: weir_guest::Stream = weir_guest::Stream::new("huge", &[("uid", T::String), ("names", T::SetOfString)]);

/// Elements of the set.
const ELEMENTS: usize = 80_000;

struct Huge;

impl weir_guest::Handler for Huge {
    fn new_connection(c: weir_guest::types::Connection) {
        HUGE.write(&[V::String(c.uid.clone()), V::SetOfString(vec![String::new(); ELEMENTS])]);
        weir_guest::reporter::info("huge-set: record written");
    }
}

weir_guest::export_handler!(Huge: new_connection);
