//! Arbitrary bytes as both directions of an LDAP connection through the
//! LDAP parser, and what it hands on through the GSSAPI, NTLM and Kerberos
//! readers; the input layout is `weir_engine::analyzers::ldap::fuzzing`'s. Malformed input must only ever
//! produce violations, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    weir_engine::analyzers::ldap::fuzzing::run(data);
});
