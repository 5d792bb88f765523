//! Hostile handler: asks WASI for 32 MiB of random bytes at every
//! `new_connection` (about 100 ms of host work). The host charges random bytes
//! as fuel before it makes them, so the call traps with out-of-fuel at once.

mod wasi {
    weir_guest::wit_bindgen::generate!({
        inline: "
            package wasi:random@0.2.0;
            interface random {
                get-random-bytes: func(len: u64) -> list<u8>;
                get-random-u64: func() -> u64;
            }
            world random-only {
                import random;
            }
        ",
        world: "random-only",
        runtime_path: "weir_guest::wit_bindgen::rt",
    });
}

struct Flood;

impl weir_guest::Handler for Flood {
    fn new_connection(_c: weir_guest::types::Connection) {
        let bytes = wasi::wasi::random::random::get_random_bytes(32 << 20);
        weir_guest::reporter::info(&format!("random-flood: got {} random bytes", bytes.len()));
    }
}

weir_guest::export_handler!(Flood: new_connection);
