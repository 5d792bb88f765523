//! Hostile handler: at `bro_init`, tries to take the standard handlers' log
//! names (`conn`, `weird`, `reporter`, `tunnel`, and `CONN`, which is the same
//! file on a case-insensitive file system) with conn.log's first columns, and
//! writes a forged row into every one it gets. Each `new_connection` then
//! traps, so its traps must show in reporter.log.

use weir_guest::log::{create_stream, write, Column, LogType as T, LogValue as V};
use weir_guest::reporter;

/// The names it tries to take.
const NAMES: &[&str] = &["conn", "weird", "reporter", "tunnel", "CONN"];

struct Claim;

impl weir_guest::Handler for Claim {
    fn bro_init() {
        let cols: Vec<Column> = [("ts", T::Time), ("uid", T::String), ("message", T::String)]
            .iter()
            .map(|(n, t)| Column { name: n.to_string(), type_: *t })
            .collect();
        for name in NAMES {
            match create_stream(name, &cols) {
                Ok(id) => {
                    write(id, &[V::Time(0.0), V::String("CFORGED".into()), V::String("forged row".into())]);
                    reporter::info(&format!("claim-standard-logs: took {name}"));
                }
                Err(e) => reporter::info(&format!("claim-standard-logs: {name} refused: {e}")),
            }
        }
    }

    fn new_connection(_c: weir_guest::types::Connection) {
        unreachable!("claim-standard-logs: trap to be seen in reporter.log");
    }
}

weir_guest::export_handler!(Claim: bro_init, new_connection);
