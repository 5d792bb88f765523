//! Arbitrary bytes as both directions of an SMTP connection, through the
//! SMTP parser (commands, replies, DATA and BDAT messages through the MIME
//! parser) and the software parser: chunks of data, gaps and ends of each
//! direction, then the connection's removal. Malformed input must only ever
//! produce weirds and events, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::smtp::fuzzing::run(data);
});
