//! Hostile handler: per new connection, 1 000 identical reporter warnings (collapsed
//! by the host into one with a count) and 1 000 distinct infos (held back by the
//! per-handler reporter rate cap).

struct Flood;

/// Messages of each kind per `new_connection`.
const PER_CONNECTION: u32 = 1_000;

impl weir_guest::Handler for Flood {
    fn new_connection(c: weir_guest::types::Connection) {
        for _ in 0..PER_CONNECTION {
            weir_guest::reporter::warning("flood-reporter: same warning");
        }
        for n in 0..PER_CONNECTION {
            weir_guest::reporter::info(&format!("flood-reporter: {} #{n}", c.uid));
        }
    }
}

weir_guest::export_handler!(Flood: new_connection);
