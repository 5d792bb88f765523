//! Arbitrary bytes as both directions of RDP-UDP datagrams through the handshake reader; the input layout is
//! `weir_engine::analyzers::rdpeudp::fuzzing`'s. Malformed input must only ever
//! produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::rdpeudp::fuzzing::run(data);
});
