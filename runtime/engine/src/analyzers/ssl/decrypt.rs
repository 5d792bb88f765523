//! TLS 1.2 decryption of application data, as Zeek's SSL analyzer does it
//! with `SSL::secrets` (client random -> 48-byte master secret),
//! `SSL::keys` (client random -> 72 bytes of key material) and
//! `SSL::keylog_file` (NSS key log lines `CLIENT_RANDOM <random> <secret>`,
//! in hex).
//!
//! Only TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 is decrypted (as in Zeek):
//! the key block is the TLS 1.2 PRF over SHA-384 of the master secret
//! ("key expansion", server random then client random), giving the
//! client's and the server's 32-byte write keys and then their 4-byte
//! implicit IVs. Each application-data record is the 8-byte explicit
//! nonce, the ciphertext and the 16-byte tag; its sequence number counts
//! that side's application-data records from 1 (the encrypted finished
//! message was 0). A record that does not decrypt ends decryption for the
//! connection. The plaintext waits in [`Decryption::plaintext`] for the
//! analyzer to hand it down.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha384;
use std::collections::BTreeMap;

/// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, the one suite decrypted.
pub const DECRYPTABLE_SUITE: u32 = 0xc030;
/// Length of the key material: two 32-byte write keys, two 4-byte IVs.
pub const KEY_BLOCK_LEN: usize = 72;
/// Length of a TLS 1.2 master secret.
pub const MASTER_SECRET_LEN: usize = 48;

/// The secrets decryption may use, by client random (the hello's whole 32
/// bytes, or the 28 after its time field, which is what Zeek's
/// `ssl_client_hello` reports as `client_random`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// `SSL::secrets` (and the key log's entries): master secrets.
    pub secrets: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `SSL::keys`: key material.
    pub keys: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Secrets {
    /// Whether there is nothing to decrypt with.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.keys.is_empty()
    }

    /// The value for a connection whose client hello had `random`.
    fn find<'a>(map: &'a BTreeMap<Vec<u8>, Vec<u8>>, random: &[u8]) -> Option<&'a Vec<u8>> {
        map.get(random).or_else(|| random.get(4..).and_then(|r| map.get(r)))
    }

    /// Entries of a setting's value: `RANDOM:VALUE` pairs separated by
    /// commas, both in hex.
    pub fn parse_pairs(value: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String> {
        let mut out = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (r, v) = entry.split_once(':').ok_or_else(|| format!("'{entry}' is not RANDOM:VALUE"))?;
            let (r, v) = (unhex(r.trim()), unhex(v.trim()));
            match (r, v) {
                (Some(r), Some(v)) => out.push((r, v)),
                _ => return Err(format!("'{entry}' is not hex RANDOM:VALUE")),
            }
        }
        Ok(out)
    }

    /// Adds the `CLIENT_RANDOM` lines of an NSS key log; other lines
    /// (other labels, comments) are skipped. Returns how many were added.
    pub fn add_keylog(&mut self, text: &str) -> usize {
        let mut n = 0;
        for line in text.lines() {
            let mut f = line.split_whitespace();
            if f.next() != Some("CLIENT_RANDOM") {
                continue;
            }
            if let (Some(Some(r)), Some(Some(s))) = (f.next().map(unhex), f.next().map(unhex)) {
                self.secrets.insert(r, s);
                n += 1;
            }
        }
        n
    }
}

/// Bytes of a hex string, `None` unless it is whole bytes of hex digits.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

/// The TLS 1.2 PRF over SHA-384 (RFC 5246 section 5): `len` bytes of
/// P_SHA384(secret, label + seed).
pub fn prf_sha384(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mac = |parts: &[&[u8]]| {
        let mut m = <Hmac<Sha384> as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().to_vec()
    };
    let mut out = Vec::with_capacity(len + 48);
    let mut a = mac(&[label, seed]);
    while out.len() < len {
        out.extend(mac(&[&a, label, seed]));
        a = mac(&[&a]);
    }
    out.truncate(len);
    out
}

/// The decryption state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Decryption {
    /// The key material, once derived or given.
    keys: Option<Vec<u8>>,
    /// Application-data records seen, client's and server's.
    seq: [u64; 2],
    /// A record did not decrypt: no more tries (Zeek's `decryption_failed_`).
    failed: bool,
    /// Decrypted data not handed down yet: (from the client, bytes).
    pub plaintext: Vec<(bool, Vec<u8>)>,
}

impl Decryption {
    /// One application-data record's body (`content_type` and
    /// `record_version` as on the wire), sent by the client or the server.
    /// The hellos gave `client_random`, `server_random` and `cipher`.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        secrets: &Secrets,
        client_random: &[u8],
        server_random: &[u8],
        cipher: Option<u32>,
        is_client: bool,
        content_type: u8,
        record_version: u16,
        body: &[u8],
    ) {
        if self.failed || cipher != Some(DECRYPTABLE_SUITE) {
            return;
        }
        if self.keys.is_none() {
            self.keys = if let Some(k) = Secrets::find(&secrets.keys, client_random) {
                Some(k.clone())
            } else if let Some(ms) = Secrets::find(&secrets.secrets, client_random) {
                let seed = [server_random, client_random].concat();
                Some(prf_sha384(ms, b"key expansion", &seed, KEY_BLOCK_LEN))
            } else {
                None
            };
        }
        let Some(keys) = self.keys.as_deref() else {
            self.failed = true;
            return;
        };
        match decrypt(keys, &mut self.seq, is_client, content_type, record_version, body) {
            Some(p) => self.plaintext.push((is_client, p)),
            None => {
                tracing::debug!(is_client, len = body.len(), "TLS record did not decrypt; decryption stops");
                self.failed = true;
            }
        }
    }
}

/// Decrypts one AES-256-GCM record with key material `keys`, counting it
/// in `seq`; `None` when it is too short, the keys are not 72 bytes, or the
/// tag does not match.
fn decrypt(keys: &[u8], seq: &mut [u64; 2], is_client: bool, content_type: u8, version: u16, body: &[u8]) -> Option<Vec<u8>> {
    if keys.len() != KEY_BLOCK_LEN {
        return None;
    }
    let side = usize::from(!is_client);
    seq[side] += 1;
    if body.len() <= 8 + 16 {
        return None;
    }
    let (key, iv) = if is_client { (&keys[..32], &keys[64..68]) } else { (&keys[32..64], &keys[68..72]) };
    let nonce = [iv, &body[..8]].concat();
    let ciphertext = &body[8..];
    let plain_len = (ciphertext.len() - 16) as u16;
    let mut aad = seq[side].to_be_bytes().to_vec();
    aad.push(content_type);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&plain_len.to_be_bytes());
    let cipher = Aes256Gcm::new_from_slice(key).ok()?;
    cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: ciphertext, aad: &aad }).ok()
}

/// An application-data record body of TLS 1.2 as a peer with key
/// material `keys` sends it (record `seq` of its side), for tests.
#[cfg(test)]
pub(crate) fn seal(keys: &[u8], seq: u64, is_client: bool, plain: &[u8]) -> Vec<u8> {
    let (key, iv) = if is_client { (&keys[..32], &keys[64..68]) } else { (&keys[32..64], &keys[68..72]) };
    let explicit = seq.wrapping_mul(0x0101_0101).to_be_bytes();
    let nonce = [iv, &explicit[..]].concat();
    let mut aad = seq.to_be_bytes().to_vec();
    aad.extend_from_slice(&[23, 3, 3]);
    aad.extend_from_slice(&(plain.len() as u16).to_be_bytes());
    let c = Aes256Gcm::new_from_slice(key).expect("a 32-byte key");
    let mut body = explicit.to_vec();
    body.extend(c.encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: &aad }).expect("AES-GCM seals"));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(keys: &[u8], seq: u64, is_client: bool, plain: &[u8]) -> Vec<u8> {
        seal(keys, seq, is_client, plain)
    }

    #[test]
    fn the_prf_gives_rfc_5246_test_vector_output() {
        // The TLS 1.2 PRF test vector for SHA-384 (published with the IETF TLS WG's test vectors).
        let secret = unhex("b80b733d6ceefcdc71566ea48e5567df").unwrap();
        let seed = unhex("cd665cf6a8447dd6ff8b27555edb7465").unwrap();
        let out = prf_sha384(&secret, b"test label", &seed, 148);
        assert_eq!(
            &out[..16],
            &unhex("7b0c18e9ced410ed1804f2cfa34a336a").unwrap()[..],
            "first bytes of the SHA-384 PRF vector"
        );
        assert_eq!(out.len(), 148);
    }

    #[test]
    fn records_decrypt_in_sequence_and_a_bad_one_stops_decryption() {
        let random = [0x42u8; 32];
        let (server_random, ms) = ([0x24u8; 32], [0x11u8; 48]);
        let mut secrets = Secrets::default();
        // Keyed by the 28 bytes Zeek's event reports.
        secrets.secrets.insert(random[4..].to_vec(), ms.to_vec());
        let keys = prf_sha384(&ms, b"key expansion", &[&server_random[..], &random[..]].concat(), KEY_BLOCK_LEN);
        let mut d = Decryption::default();
        let rec = |seq, client, text: &[u8]| encrypt(&keys, seq, client, text);
        let run = |d: &mut Decryption, client, body: &[u8]| {
            d.record(&secrets, &random, &server_random, Some(DECRYPTABLE_SUITE), client, 23, 0x0303, body)
        };
        run(&mut d, true, &rec(1, true, b"GET / HTTP/1.1\r\n"));
        run(&mut d, false, &rec(1, false, b"HTTP/1.1 200 OK\r\n"));
        run(&mut d, true, &rec(2, true, b"\r\n"));
        let got: Vec<(bool, &[u8])> = d.plaintext.iter().map(|(c, p)| (*c, &p[..])).collect();
        assert_eq!(got, [(true, &b"GET / HTTP/1.1\r\n"[..]), (false, b"HTTP/1.1 200 OK\r\n"), (true, b"\r\n")]);
        // A record with the wrong sequence number fails, and nothing after it is tried.
        run(&mut d, false, &rec(9, false, b"x"));
        run(&mut d, false, &rec(3, false, b"y"));
        assert_eq!(d.plaintext.len(), 3);

        let mut other = Decryption::default();
        other.record(&secrets, &random, &server_random, Some(0xc02f), true, 23, 0x0303, &rec(1, true, b"z"));
        assert!(other.plaintext.is_empty(), "other suites are not decrypted");
    }

    #[test]
    fn settings_and_key_logs_parse() {
        let p = Secrets::parse_pairs("00ff:0102, abcd:ef").unwrap();
        assert_eq!(p, [(vec![0, 255], vec![1, 2]), (vec![0xab, 0xcd], vec![0xef])]);
        assert!(Secrets::parse_pairs("00ff").is_err());
        assert!(Secrets::parse_pairs("0g:00").is_err());
        let mut s = Secrets::default();
        let n = s.add_keylog("# comment\nCLIENT_RANDOM 0a0b 0c0d\nCLIENT_TRAFFIC_SECRET_0 01 02\nCLIENT_RANDOM zz 00\n");
        assert_eq!(n, 1);
        assert_eq!(s.secrets.get(&vec![10, 11]), Some(&vec![12, 13]));
    }
}
