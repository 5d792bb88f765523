//! Arbitrary bytes as both directions of Kerberos datagrams and TCP records through the Kerberos reader; the input layout is
//! `weir_engine::analyzers::krb::fuzzing`'s. Malformed input must only ever
//! produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::krb::fuzzing::run(data);
});
