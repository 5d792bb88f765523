//! Arbitrary bytes as both directions of an FTP control connection through
//! the FTP line parser with every event built; the input layout is
//! `weir_engine::analyzers::ftp::fuzzing`'s. Malformed lines must only ever
//! produce weirds and violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::ftp::fuzzing::run(data);
});
