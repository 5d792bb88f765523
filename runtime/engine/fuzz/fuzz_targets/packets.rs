//! Arbitrary bytes as captured packets through the whole engine; the input
//! layout is `weir_engine::fuzzing`'s. Malformed input must only ever
//! produce weirds, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::fuzzing::run(data);
});
