//! Hostile handler: traps on every 3rd `new_connection` its instance sees. The
//! counter lives in the instance, so it starts again after each replacement.

use std::sync::atomic::{AtomicU64, Ordering};

/// Calls seen by this instance.
static CALLS: AtomicU64 = AtomicU64::new(0);

struct EveryNth;

impl weir_guest::Handler for EveryNth {
    fn new_connection(_c: weir_guest::types::Connection) {
        if CALLS.fetch_add(1, Ordering::Relaxed) % 3 == 2 {
            panic!("trap-every-nth: third call");
        }
    }
}

weir_guest::export_handler!(EveryNth: new_connection);
