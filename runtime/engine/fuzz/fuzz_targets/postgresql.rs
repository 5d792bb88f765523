//! Arbitrary bytes as both directions of a PostgreSQL connection through the
//! PostgreSQL parser with every event built; the input layout is
//! `weir_engine::analyzers::postgresql::fuzzing`'s. Malformed messages must
//! only ever produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::postgresql::fuzzing::run(data);
});
