//! Arbitrary bytes as the two directions of a TLS connection through the
//! SSL parser (records, handshake messages, certificates) with every event
//! built; the input layout is `weir_engine::analyzers::ssl::fuzzing`'s.
//! Malformed input must only ever produce weirds and violations, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::ssl::fuzzing::run(data);
});
