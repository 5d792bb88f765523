//! Arbitrary bytes as both directions of an SSH connection through the SSH
//! parser with every event built; the input layout is
//! `weir_engine::analyzers::ssh::fuzzing`'s. Malformed packets must only ever
//! produce weirds and violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::ssh::fuzzing::run(data);
});
