//! Arbitrary bytes as both directions of an IRC connection through the IRC
//! parser with every event built; the input layout is
//! `weir_engine::analyzers::irc::fuzzing`'s. Malformed lines must only ever
//! produce weirds and violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::irc::fuzzing::run(data);
});
