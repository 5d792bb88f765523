//! Arbitrary bytes as both directions of a DCE/RPC connection through the
//! PDU reader, NTLMSSP verifiers through the NTLM reader; the input layout
//! is `weir_engine::analyzers::dce_rpc::fuzzing`'s. Malformed input must
//! only ever produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::dce_rpc::fuzzing::run(data);
});
