//! Address anonymization (Bro's `anonymize_addr`): each of the three address
//! classes (`ORIG_ADDR`, `RESP_ADDR`, `OTHER_ADDR`) has a method set by
//! `orig_addr_anonymization`, `resp_addr_anonymization` and
//! `other_addr_anonymization`, and a set of addresses kept as they are
//! (`preserve_orig_addr`, ...). The keyed methods use the operator's 32-byte
//! `anonymization_key`, so the same key gives the same mapping in every run;
//! without one a random key is drawn per run.
//!
//! Methods, as in Bro's `Anon.cc` (IPv6 is weir's extension of each to 128 bits):
//! - `KEEP_ORIG_ADDR`: the address itself.
//! - `SEQUENTIALLY_NUMBERED`: the n-th new address maps to the number n+1
//!   (`0.0.0.2` first, as Bro's counter starts at 1 and is raised before use).
//! - `RANDOM_MD5`, `RANDOM_SHA256`: the first bytes of the keyed hash (HMAC) of
//!   the address: random per address, no prefix kept.
//! - `PREFIX_PRESERVING_MD5`, `PREFIX_PRESERVING_SHA256`: Xu et al.'s scheme:
//!   bit i is flipped by the low bit of the keyed hash of the first i bits
//!   (padded with a 1 bit and zeros) and their length.
//! - `PREFIX_PRESERVING_CRYPTOPAN`: Crypto-PAn (Fan, Xu, Ammar, Moon 2002):
//!   bit i is flipped by the top bit of AES-128 (the key's first 16 bytes) of
//!   the first i bits followed by the encrypted pad (its last 16 bytes); two
//!   addresses sharing a k-bit prefix map to addresses sharing exactly a
//!   k-bit prefix. It gives the outputs of the reference implementation.
//!
//! Bro's `PREFIX_PRESERVING_A50` (a random tree built as addresses come, so no
//! two runs agree) is not offered.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};

/// `IPAddrAnonymization`: how a class of addresses is anonymized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// `KEEP_ORIG_ADDR`.
    #[default]
    Keep,
    /// `SEQUENTIALLY_NUMBERED`.
    Sequential,
    /// `RANDOM_MD5`.
    RandomMd5,
    /// `PREFIX_PRESERVING_MD5`.
    PrefixMd5,
    /// `RANDOM_SHA256`.
    RandomSha256,
    /// `PREFIX_PRESERVING_SHA256`.
    PrefixSha256,
    /// `PREFIX_PRESERVING_CRYPTOPAN` (weir's).
    CryptoPan,
}

impl Method {
    /// The method Zeek names `name` (with or without a module prefix).
    pub fn from_name(name: &str) -> Option<Method> {
        let n = name.trim();
        let n = n.rsplit("::").next().unwrap_or(n);
        Some(match n {
            "KEEP_ORIG_ADDR" => Method::Keep,
            "SEQUENTIALLY_NUMBERED" => Method::Sequential,
            "RANDOM_MD5" => Method::RandomMd5,
            "PREFIX_PRESERVING_MD5" => Method::PrefixMd5,
            "RANDOM_SHA256" => Method::RandomSha256,
            "PREFIX_PRESERVING_SHA256" => Method::PrefixSha256,
            "PREFIX_PRESERVING_CRYPTOPAN" => Method::CryptoPan,
            _ => return None,
        })
    }

    /// Parses a setting's value, with one error line naming the choices.
    pub fn parse(value: &str) -> Result<Method, String> {
        Method::from_name(value).ok_or_else(|| {
            format!(
                "'{value}' is not an anonymization method (KEEP_ORIG_ADDR, SEQUENTIALLY_NUMBERED, RANDOM_MD5, \
                 PREFIX_PRESERVING_MD5, RANDOM_SHA256, PREFIX_PRESERVING_SHA256, PREFIX_PRESERVING_CRYPTOPAN)"
            )
        })
    }
}

/// `IPAddrAnonymizationClass`: what role an address plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrClass {
    /// `ORIG_ADDR`: a client's address.
    Orig,
    /// `RESP_ADDR`: a server's address.
    Resp,
    /// `OTHER_ADDR`: anything else.
    Other,
}

/// The anonymization settings.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `orig_addr_anonymization`.
    pub orig: Method,
    /// `resp_addr_anonymization`.
    pub resp: Method,
    /// `other_addr_anonymization`.
    pub other: Method,
    /// `preserve_orig_addr`: originator addresses left as they are.
    pub preserve_orig: HashSet<IpAddr>,
    /// `preserve_resp_addr`.
    pub preserve_resp: HashSet<IpAddr>,
    /// `preserve_other_addr`.
    pub preserve_other: HashSet<IpAddr>,
    /// `anonymization_key`: AES key (16 bytes) then Crypto-PAn's pad (16 bytes);
    /// also the HMAC key of the hash methods. `None`: a random key per run.
    pub key: Option<[u8; 32]>,
    /// `log_addr_anonymization`: every `addr` field of every log is written
    /// anonymized with this method (`KEEP_ORIG_ADDR`: as it is).
    pub logs: Method,
}

/// Parses `anonymization_key`: 64 hex digits.
pub fn parse_key(value: &str) -> Result<[u8; 32], String> {
    let v = value.trim();
    let v = v.strip_prefix("0x").unwrap_or(v);
    if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("anonymization_key must be 64 hex digits (32 bytes), not '{value}'"));
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&v[2 * i..2 * i + 2], 16).expect("hex checked");
    }
    Ok(key)
}

/// Parses a `set[addr]` value: `10.0.0.1,10.0.0.2` or `{ 10.0.0.1, ::1 }`.
pub fn parse_addr_set(value: &str) -> Result<HashSet<IpAddr>, String> {
    let inner = value.trim().trim_start_matches('{').trim_end_matches('}');
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| format!("'{s}' is not an address")))
        .collect()
}

/// Crypto-PAn keyed by 32 bytes: the AES-128 key and the pad.
#[derive(Clone)]
pub struct CryptoPan {
    cipher: aes::Aes128,
    /// The pad encrypted under the key: the bits after the prefix of each block.
    pad: u128,
}

impl CryptoPan {
    /// Crypto-PAn with `key` (AES key, then the pad).
    pub fn new(key: &[u8; 32]) -> CryptoPan {
        let cipher = aes::Aes128::new(GenericArray::from_slice(&key[..16]));
        let mut block = GenericArray::clone_from_slice(&key[16..]);
        cipher.encrypt_block(&mut block);
        CryptoPan { cipher, pad: u128::from_be_bytes(block.into()) }
    }

    /// The top `bits` bits of `addr` (the rest zero) anonymized: bit i of the
    /// result is bit i of the input flipped by the top bit of AES(first i input
    /// bits, then the pad's bits from i on).
    fn bits(&self, addr: u128, bits: u32) -> u128 {
        let mut flips = 0u128;
        for i in 0..bits {
            let keep = if i == 0 { 0 } else { u128::MAX << (128 - i) };
            let block = (addr & keep) | (self.pad & !keep);
            let mut b = GenericArray::from(block.to_be_bytes());
            self.cipher.encrypt_block(&mut b);
            flips |= u128::from(b[0] >> 7) << (127 - i);
        }
        addr ^ flips
    }

    /// An IPv4 address anonymized.
    pub fn v4(&self, a: Ipv4Addr) -> Ipv4Addr {
        Ipv4Addr::from((self.bits(u128::from(u32::from(a)) << 96, 32) >> 96) as u32)
    }

    /// An IPv6 address anonymized (the same scheme over 128 bits).
    pub fn v6(&self, a: Ipv6Addr) -> Ipv6Addr {
        Ipv6Addr::from(self.bits(u128::from(a), 128))
    }

    /// Either family.
    pub fn anonymize(&self, a: IpAddr) -> IpAddr {
        match a {
            IpAddr::V4(v4) => IpAddr::V4(self.v4(v4)),
            IpAddr::V6(v6) => IpAddr::V6(self.v6(v6)),
        }
    }
}

/// The keyed hash of the hash methods.
#[derive(Clone, Copy)]
enum Digest {
    Md5,
    Sha256,
}

fn keyed_hash(d: Digest, key: &[u8], data: &[u8]) -> Vec<u8> {
    match d {
        Digest::Md5 => {
            let mut m = <Hmac<md5::Md5> as Mac>::new_from_slice(key).expect("HMAC takes any key");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Digest::Sha256 => {
            let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// The address as a number with its width in bits.
fn number(a: IpAddr) -> (u128, u32) {
    match a {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn address(n: u128, width: u32) -> IpAddr {
    if width == 32 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

/// Xu et al.'s prefix-preserving scheme with a keyed hash: bit i is flipped by
/// the low bit of the first byte of hash(length i+1, the first i bits then a 1 bit).
fn prefix_hash(d: Digest, key: &[u8], a: IpAddr) -> IpAddr {
    let (n, width) = number(a);
    let mut out = n;
    for i in 0..width {
        let keep = if i == 0 { 0 } else { (u128::MAX << (width - i)) & (u128::MAX >> (128 - width)) };
        let padded = (n & keep) | (1u128 << (width - 1 - i));
        let mut data = (i + 1).to_be_bytes().to_vec();
        if width == 32 {
            data.extend_from_slice(&(padded as u32).to_be_bytes());
        } else {
            data.extend_from_slice(&padded.to_be_bytes());
        }
        let h = keyed_hash(d, key, &data);
        out ^= u128::from(h[0] & 1) << (width - 1 - i);
    }
    address(out, width)
}

/// The first bytes of the keyed hash of the address.
fn random_hash(d: Digest, key: &[u8], a: IpAddr) -> IpAddr {
    let bytes = match a {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let h = keyed_hash(d, key, &bytes);
    match a {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(h[0], h[1], h[2], h[3])),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&h[..16]).expect("16 bytes"))),
    }
}

/// Anonymizes addresses under [`Settings`], remembering each mapping (so a
/// sequential number, once given, stays the address's).
pub struct Anonymizer {
    settings: Settings,
    key: [u8; 32],
    cpan: CryptoPan,
    /// The last sequential number given, per family (Bro starts at 1).
    seq_v4: u32,
    seq_v6: u128,
    mappings: HashMap<(Method, IpAddr), IpAddr>,
}

/// Most mappings remembered per run; past it the keyed methods recompute
/// (they give the same answer) and the sequential one is forgotten.
const MAX_MAPPINGS: usize = 1 << 20;

impl Anonymizer {
    /// An anonymizer for `settings` (a random key when none is given).
    pub fn new(settings: Settings) -> Anonymizer {
        let key = settings.key.unwrap_or_else(random_key);
        Anonymizer { cpan: CryptoPan::new(&key), key, settings, seq_v4: 1, seq_v6: 1, mappings: HashMap::new() }
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Bro's `anonymize_addr(a, cl)`: the class's preserved addresses are kept,
    /// the others go through the class's method.
    pub fn anonymize_addr(&mut self, a: IpAddr, class: AddrClass) -> IpAddr {
        let (method, preserve) = match class {
            AddrClass::Orig => (self.settings.orig, &self.settings.preserve_orig),
            AddrClass::Resp => (self.settings.resp, &self.settings.preserve_resp),
            AddrClass::Other => (self.settings.other, &self.settings.preserve_other),
        };
        if preserve.contains(&a) {
            return a;
        }
        self.with_method(a, method)
    }

    /// An address as logs are written under `log_addr_anonymization`.
    pub fn for_log(&mut self, a: IpAddr) -> IpAddr {
        let m = self.settings.logs;
        self.with_method(a, m)
    }

    /// Whether logs are written anonymized.
    pub fn anonymizes_logs(&self) -> bool {
        self.settings.logs != Method::Keep
    }

    /// `a` under `method`.
    pub fn with_method(&mut self, a: IpAddr, method: Method) -> IpAddr {
        if method == Method::Keep {
            return a;
        }
        if let Some(m) = self.mappings.get(&(method, a)) {
            return *m;
        }
        let mapped = match method {
            Method::Keep => a,
            Method::Sequential => match a {
                IpAddr::V4(_) => {
                    self.seq_v4 = self.seq_v4.wrapping_add(1);
                    IpAddr::V4(Ipv4Addr::from(self.seq_v4))
                }
                IpAddr::V6(_) => {
                    self.seq_v6 = self.seq_v6.wrapping_add(1);
                    IpAddr::V6(Ipv6Addr::from(self.seq_v6))
                }
            },
            Method::RandomMd5 => random_hash(Digest::Md5, &self.key, a),
            Method::RandomSha256 => random_hash(Digest::Sha256, &self.key, a),
            Method::PrefixMd5 => prefix_hash(Digest::Md5, &self.key, a),
            Method::PrefixSha256 => prefix_hash(Digest::Sha256, &self.key, a),
            Method::CryptoPan => self.cpan.anonymize(a),
        };
        if self.mappings.len() >= MAX_MAPPINGS {
            self.mappings.clear();
        }
        self.mappings.insert((method, a), mapped);
        mapped
    }
}

/// 32 random bytes from the system (time and process id if it has none).
fn random_key() -> [u8; 32] {
    use std::io::Read;
    let mut key = [0u8; 32];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key)).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let seed = t ^ (u128::from(std::process::id()) << 64);
        key[..16].copy_from_slice(&seed.to_be_bytes());
        key[16..].copy_from_slice(&seed.rotate_left(64).to_be_bytes());
    }
    tracing::info!("no anonymization_key given: addresses are anonymized with a random key for this run");
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of the Crypto-PAn reference distribution's sample.
    const SAMPLE_KEY: [u8; 32] = [
        21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131, 121, 121, 101, 39, 98,
        87, 76, 45, 42, 132, 34, 2,
    ];

    #[test]
    fn cryptopan_gives_the_reference_samples() {
        // Pairs of the reference distribution's sample_trace_raw / _sanitized
        // (as quoted by github.com/Yawning/cryptopan's tests).
        let pairs = [
            ("128.11.68.132", "135.242.180.132"),
            ("129.118.74.4", "134.136.186.123"),
            ("130.132.252.244", "133.68.164.234"),
            ("141.223.7.43", "141.167.8.160"),
            ("141.233.145.108", "141.129.237.235"),
            ("152.163.225.39", "151.140.114.167"),
            ("156.29.3.236", "147.225.12.42"),
            ("165.247.96.84", "162.9.99.234"),
            ("192.102.249.13", "252.138.62.131"),
            ("195.205.63.100", "255.186.223.5"),
            ("207.33.151.131", "241.1.233.131"),
            ("216.35.217.178", "235.195.157.81"),
            ("24.0.250.221", "100.15.198.226"),
            ("4.3.88.225", "124.60.155.63"),
            ("63.195.241.44", "95.179.238.44"),
            ("64.14.118.196", "0.255.183.58"),
            ("64.39.15.238", "0.219.7.41"),
        ];
        let c = CryptoPan::new(&SAMPLE_KEY);
        for (raw, sanitized) in pairs {
            assert_eq!(c.v4(raw.parse().unwrap()).to_string(), sanitized, "{raw}");
        }
        // The 128-bit extension, as the same tests give it.
        for (raw, sanitized) in [("::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"), ("2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e")] {
            assert_eq!(c.v6(raw.parse().unwrap()).to_string(), sanitized, "{raw}");
        }
    }

    /// A small deterministic generator for the property tests.
    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    fn common_prefix(a: IpAddr, b: IpAddr) -> u32 {
        let ((x, w), (y, _)) = (number(a), number(b));
        ((x ^ y) << (128 - w)).leading_zeros().min(w)
    }

    #[test]
    fn prefix_methods_keep_the_shared_prefix_length() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        for method in [Method::CryptoPan, Method::PrefixMd5, Method::PrefixSha256] {
            let mut an = Anonymizer::new(Settings { key: Some(SAMPLE_KEY), ..Settings::default() });
            for _ in 0..500 {
                let a = xorshift(&mut s) as u32;
                // A partner sharing a random prefix length with it.
                let k = (xorshift(&mut s) % 33) as u32;
                let low = if k >= 31 { 0 } else { u32::MAX >> (k + 1) };
                let b = if k == 32 { a } else { a ^ (1u32 << (31 - k)) ^ (xorshift(&mut s) as u32 & low) };
                let (a, b) = (IpAddr::V4(a.into()), IpAddr::V4(b.into()));
                let (ma, mb) = (an.with_method(a, method), an.with_method(b, method));
                assert_eq!(common_prefix(a, b), common_prefix(ma, mb), "{method:?} {a} {b} -> {ma} {mb}");
                let hi = xorshift(&mut s) as u128;
                let x = IpAddr::V6(Ipv6Addr::from(hi << 64 | xorshift(&mut s) as u128));
                let y = IpAddr::V6(Ipv6Addr::from((hi ^ (xorshift(&mut s) as u128 & 0xff)) << 64 | xorshift(&mut s) as u128));
                let (mx, my) = (an.with_method(x, method), an.with_method(y, method));
                assert_eq!(common_prefix(x, y), common_prefix(mx, my), "{method:?} {x} {y}");
            }
        }
    }

    #[test]
    fn same_key_same_mapping_other_key_other_mapping() {
        let a: IpAddr = "192.0.2.77".parse().unwrap();
        for m in [Method::CryptoPan, Method::PrefixMd5, Method::PrefixSha256, Method::RandomMd5, Method::RandomSha256] {
            let one = Anonymizer::new(Settings { key: Some(SAMPLE_KEY), ..Settings::default() }).with_method(a, m);
            let two = Anonymizer::new(Settings { key: Some(SAMPLE_KEY), ..Settings::default() }).with_method(a, m);
            assert_eq!(one, two, "{m:?}");
            let mut other = SAMPLE_KEY;
            other[0] ^= 1;
            other[20] ^= 1;
            let three = Anonymizer::new(Settings { key: Some(other), ..Settings::default() }).with_method(a, m);
            assert_ne!(one, three, "{m:?}");
        }
    }

    #[test]
    fn classes_methods_preserve_sets_and_sequence() {
        let a: IpAddr = "10.1.2.3".parse().unwrap();
        let b: IpAddr = "10.1.2.4".parse().unwrap();
        let mut an = Anonymizer::new(Settings {
            orig: Method::Sequential,
            resp: Method::RandomMd5,
            preserve_resp: [b].into_iter().collect(),
            key: Some(SAMPLE_KEY),
            ..Settings::default()
        });
        assert_eq!(an.anonymize_addr(a, AddrClass::Orig).to_string(), "0.0.0.2");
        assert_eq!(an.anonymize_addr(b, AddrClass::Orig).to_string(), "0.0.0.3");
        assert_eq!(an.anonymize_addr(a, AddrClass::Orig).to_string(), "0.0.0.2", "a number stays the address's");
        assert_eq!(an.anonymize_addr(b, AddrClass::Resp), b, "preserved");
        let r = an.anonymize_addr(a, AddrClass::Resp);
        assert_ne!(r, a);
        assert_eq!(an.anonymize_addr(a, AddrClass::Other), a, "KEEP_ORIG_ADDR");
        assert_eq!(Method::parse("IPAddrAnonymization::RANDOM_SHA256"), Ok(Method::RandomSha256));
        assert!(Method::parse("PREFIX_PRESERVING_A50").is_err());
        assert!(parse_key("00").is_err());
        assert_eq!(parse_key(&"0f".repeat(32)).unwrap(), [15u8; 32]);
        assert_eq!(parse_addr_set("{ 10.0.0.1, [::1] }").unwrap().len(), 2);
    }
}
