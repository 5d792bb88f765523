//! Arbitrary bytes as a whole trace file, read by the file source (the
//! direct pcap reader and libpcap) into the engine; the input layout is
//! `weir_engine::fuzzing::run_trace_file`'s. A damaged file must only ever
//! end the read with an error, never a panic or a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::fuzzing::run_trace_file(data);
});
