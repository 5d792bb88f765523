//! Arbitrary bytes as both directions of a SOCKS connection through the SOCKS parser; the input layout is
//! `weir_engine::analyzers::socks::fuzzing`'s. Malformed input must only ever
//! produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::socks::fuzzing::run(data);
});
