//! Hostile handler: writes 2 000 records to `flood.log` per new connection
//! (held back by the per-handler log rate cap).

use weir_guest::log::{LogType as T, LogValue as V};

static FLOOD: weir_guest::Stream = weir_guest::Stream::new("flood", &[("uid", T::String), ("n", T::Count)]);

/// Records written per `new_connection`.
const PER_CONNECTION: u64 = 2_000;

struct Flood;

impl weir_guest::Handler for Flood {
    fn new_connection(c: weir_guest::types::Connection) {
        for n in 0..PER_CONNECTION {
            FLOOD.write(&[V::String(c.uid.clone()), V::Count(n)]);
        }
    }
}

weir_guest::export_handler!(Flood: new_connection);
