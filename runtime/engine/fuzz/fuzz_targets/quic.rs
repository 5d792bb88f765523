//! Arbitrary bytes as the datagrams of one QUIC connection through the QUIC
//! parser (headers, Initial decryption, frames, CRYPTO reassembly); the
//! input layout is `weir_engine::analyzers::quic::fuzzing`'s. Malformed
//! input must only ever produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::quic::fuzzing::datagrams(data);
});
