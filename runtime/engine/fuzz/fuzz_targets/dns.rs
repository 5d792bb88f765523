//! Arbitrary bytes as DNS messages (UDP datagrams or a TCP stream) through
//! the DNS parser with every event built; the input layout is
//! `weir_engine::analyzers::dns::fuzzing`'s. Malformed messages must only
//! ever produce weirds and violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::dns::fuzzing::run(data);
});
