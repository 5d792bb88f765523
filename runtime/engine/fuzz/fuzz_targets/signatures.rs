//! Arbitrary bytes as a signature file and packets through the engine with
//! it loaded; the input layout is `weir_engine::fuzzing::run_signatures`'s.
//! A bad file must only fail to load, bad traffic only not match: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::fuzzing::run_signatures(data);
});
