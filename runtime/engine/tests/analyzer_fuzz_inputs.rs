//! The fuzz inputs of the LDAP, Kerberos, Modbus, SOCKS, RDP-UDP and DCE/RPC targets
//! (`fuzz/fuzz_targets/`) on machines without cargo-fuzz: a fixed set of
//! pseudo-random inputs and byte mutations of well-formed messages through
//! each target's `fuzzing::run`; none may panic. The number of runs per
//! target is printed.

use weir_engine::analyzers::{dce_rpc, krb, ldap, modbus, rdpeudp, socks};

/// xorshift64*, seeded per target so runs are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Well-formed starts the mutations work from, with delivery separators
/// (`ff fe`) between the two directions.
fn seeds() -> Vec<Vec<u8>> {
    vec![
        // An LDAP SASL bind with an SPNEGO token around an NTLMSSP one, and its answer.
        [
            &b"\x30\x3a\x02\x01\x01\x60\x35\x02\x01\x03\x04\x00\xa3\x2e\x04\x0aGSS-SPNEGO\x04\x20NTLMSSP\x00\x01\x00\x00\x00"[..],
            &[0u8; 20][..],
            b"\xff\xfe\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00",
        ]
        .concat(),
        // A Kerberos TCP record holding an AS-REQ shape.
        b"\x00\x00\x00\x0e\x6a\x0c\x30\x0a\xa1\x03\x02\x01\x05\xa2\x03\x02\x01\x0a".to_vec(),
        // A Modbus request and response.
        b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x02\xff\xfe\x00\x01\x00\x00\x00\x07\x01\x03\x04\x00\x01\x00\x02".to_vec(),
        // SOCKS 5 without authentication.
        b"\x05\x01\x00\xff\xfe\x05\x00\xff\xfe\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x16\xff\xfe\x05\x00\x00\x01\x0a\x00\x00\x01\x00\x16".to_vec(),
        // A DCE/RPC bind with an NTLMSSP challenge verifier announcing AV pairs.
        [
            &b"\x05\x00\x0b\x03\x10\x00\x00\x00\x4c\x00\x38\x00\x02\x00\x00\x00\x0a\x02\x00\x00\x00\x00\x00\x00NTLMSSP\x00\x02\x00\x00\x00"[..],
            &[0u8; 8][..],
            b"\x05\x82\x89\x20",
            &[0u8; 16][..],
            b"\x08\x00\x08\x00\x30\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00",
        ]
        .concat(),
        // An RDP-UDP SYN and SYN-ACK with SYNEX version 3.
        [
            &b"\xff\xff\xff\xff\x00\x40\x10\x01\x00\x00\x00\x01\x04\xc0\x04\xc0\x00\x01\x01\x01"[..],
            &[0xaa; 32][..],
            b"\xff\xfe\x00\x00\x00\x01\x00\x40\x10\x05\x00\x00\x00\x01\x04\xc0\x04\xc0\x00\x01\x01\x01",
        ]
        .concat(),
    ]
}

/// Runs `target` over `n` inputs: random bytes, and mutations (bytes
/// replaced, cut, doubled) of every seed.
fn exercise(name: &str, seed: u64, n: usize, target: fn(&[u8]) -> usize) {
    let mut rng = Rng(seed);
    let seeds = seeds();
    let mut findings = 0usize;
    for i in 0..n {
        let input = if i % 4 == 0 {
            (0..rng.next() % 96).map(|_| rng.next() as u8).collect::<Vec<u8>>()
        } else {
            let mut v = seeds[(rng.next() % seeds.len() as u64) as usize].clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() % v.len() as u64) as usize;
                match rng.next() % 4 {
                    0 => v[at] = rng.next() as u8,
                    1 => v.truncate(at),
                    2 => v.splice(at..at, v.clone()).for_each(drop),
                    _ => v[at] ^= 0x80,
                }
                if v.is_empty() {
                    v.push(0x30);
                }
            }
            v
        };
        findings += target(&input);
    }
    println!("{name}: {n} inputs, {findings} findings, 0 panics");
}

#[test]
fn new_analyzer_fuzz_inputs_do_not_panic() {
    exercise("ldap", 1, 100_000, ldap::fuzzing::run);
    exercise("krb", 2, 100_000, krb::fuzzing::run);
    exercise("modbus", 3, 100_000, modbus::fuzzing::run);
    exercise("socks", 4, 100_000, socks::fuzzing::run);
    exercise("rdpeudp", 5, 100_000, rdpeudp::fuzzing::run);
    exercise("dce_rpc", 6, 100_000, dce_rpc::fuzzing::run);
}
