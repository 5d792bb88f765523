//! Arbitrary bytes as both directions of an RDP connection through the RDP
//! parser with every event built; the input layout is
//! `weir_engine::analyzers::rdp::fuzzing`'s. Malformed units must only ever
//! produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::rdp::fuzzing::run(data);
});
