//! Hostile handler: at `bro_init`, opens log streams `grab-0`, `grab-1`, ...
//! until the host refuses one (at most 2 000), to leave none for the other
//! handlers; reports how many it got.

use weir_guest::log::{create_stream, Column, LogType as T};

/// Streams it asks for at most.
const WANTED: u32 = 2_000;

struct Grab;

impl weir_guest::Handler for Grab {
    fn bro_init() {
        let cols = [Column { name: "n".into(), type_: T::Count }];
        let mut got = 0;
        let mut stop = String::from("none");
        for i in 0..WANTED {
            match create_stream(&format!("grab-{i}"), &cols) {
                Ok(_) => got += 1,
                Err(e) => {
                    stop = e;
                    break;
                }
            }
        }
        weir_guest::reporter::info(&format!("grab-streams: got {got} streams (refusal: {stop})"));
    }
}

weir_guest::export_handler!(Grab: bro_init);
