//! Arbitrary bytes as both directions of a Modbus/TCP connection through the PDU reader; the input layout is
//! `weir_engine::analyzers::modbus::fuzzing`'s. Malformed input must only ever
//! produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::modbus::fuzzing::run(data);
});
