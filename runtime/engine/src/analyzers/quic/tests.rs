//! QUIC: RFC 9001 and RFC 9369 key vectors, header protection, and whole
//! Initial packets protected here and read back by the parser.

use super::crypto::{decrypt_initial, Keys, VERSION_1, VERSION_2};
use super::parse::{Found, Out, State};
use aes::cipher::KeyInit;
use aes_gcm::aead::{AeadInPlace, Nonce};
use aes_gcm::Aes128Gcm;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// RFC 9001 Appendix A's Destination Connection ID.
const DCID: &str = "8394c8f03e515708";

#[test]
fn rfc9001_initial_keys() {
    let c = Keys::initial(VERSION_1, &hex(DCID), true).unwrap();
    assert_eq!(c.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
    assert_eq!(c.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
    assert_eq!(c.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    let s = Keys::initial(VERSION_1, &hex(DCID), false).unwrap();
    assert_eq!(s.key.to_vec(), hex("cf3a5331653c364c88f0f379b6067e37"));
    assert_eq!(s.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
    assert_eq!(s.hp.to_vec(), hex("c206b8d9b9f0f37644430b490eeaa314"));
    assert!(Keys::initial(0x1234_5678, &hex(DCID), true).is_none(), "no salt for an unknown version");
}

#[test]
fn rfc9001_client_header_protection_mask() {
    let c = Keys::initial(VERSION_1, &hex(DCID), true).unwrap();
    let sample: [u8; 16] = hex("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().unwrap();
    assert_eq!(c.mask(&sample)[..5].to_vec(), hex("437b9aec36"));
}

#[test]
fn rfc9369_initial_keys() {
    let c = Keys::initial(VERSION_2, &hex(DCID), true).unwrap();
    assert_eq!(c.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
    assert_eq!(c.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
    assert_eq!(c.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    let s = Keys::initial(VERSION_2, &hex(DCID), false).unwrap();
    assert_eq!(s.key.to_vec(), hex("82db637861d55e1d011f19ea71d5d2a7"));
    assert_eq!(s.iv.to_vec(), hex("dd13c276499c0249d3310652"));
    assert_eq!(s.hp.to_vec(), hex("edf6d05c83121201b436e16877593c3a"));
}

/// A protected Initial packet of `version` from the client (`client`) or
/// server carrying `frames`, with packet number `pn` in 2 bytes.
fn protect(version: u32, client: bool, dcid: &[u8], scid: &[u8], pn: u16, frames: &[u8]) -> Vec<u8> {
    protect_for(&hex(DCID), version, client, dcid, scid, pn, frames)
}

/// [`protect`] with the keys of the client's first DCID `key_dcid`.
fn protect_for(key_dcid: &[u8], version: u32, client: bool, dcid: &[u8], scid: &[u8], pn: u16, frames: &[u8]) -> Vec<u8> {
    let keys = Keys::initial(version, key_dcid, client).unwrap();
    let type_bits = if version == VERSION_2 { 0x10 } else { 0x00 };
    let mut p = vec![0xc0 | type_bits | 0x01];
    p.extend_from_slice(&version.to_be_bytes());
    p.push(dcid.len() as u8);
    p.extend_from_slice(dcid);
    p.push(scid.len() as u8);
    p.extend_from_slice(scid);
    p.push(0); // no token
    let length = 2 + frames.len() + 16;
    p.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    let pn_offset = p.len();
    p.extend_from_slice(&pn.to_be_bytes());
    let mut nonce = keys.iv;
    nonce[10] ^= (pn >> 8) as u8;
    nonce[11] ^= pn as u8;
    let mut body = frames.to_vec();
    let cipher = Aes128Gcm::new(&keys.key.into());
    let tag = cipher.encrypt_in_place_detached(Nonce::<Aes128Gcm>::from_slice(&nonce), &p, &mut body).unwrap();
    p.extend_from_slice(&body);
    p.extend_from_slice(&tag);
    let sample: [u8; 16] = p[pn_offset + 4..pn_offset + 20].try_into().unwrap();
    let mask = keys.mask(&sample);
    p[0] ^= mask[0] & 0x0f;
    p[pn_offset] ^= mask[1];
    p[pn_offset + 1] ^= mask[2];
    p
}

fn crypto_frame(offset: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06, offset, 0x40 | (data.len() >> 8) as u8, data.len() as u8];
    f.extend_from_slice(data);
    f
}

#[derive(Default)]
struct Rec {
    events: Vec<Found>,
    confirmed: usize,
    violations: Vec<String>,
    ssl: [Vec<u8>; 2],
    closed: usize,
}

impl Out for Rec {
    fn event(&mut self, ev: Found) {
        self.events.push(ev);
    }
    fn confirm(&mut self) {
        self.confirmed += 1;
    }
    fn violate(&mut self, reason: String) {
        self.violations.push(reason);
    }
    fn ssl(&mut self, is_orig: bool, data: &[u8]) {
        self.ssl[usize::from(!is_orig)].extend_from_slice(data);
    }
    fn ssl_close(&mut self) {
        self.closed += 1;
    }
}

/// A fake handshake message: type 1 and a 24-bit length, then `n` bytes.
fn message(n: usize) -> Vec<u8> {
    let mut m = vec![1, 0, (n >> 8) as u8, n as u8];
    m.extend((0..n).map(|i| i as u8));
    m
}

#[test]
fn initial_packets_decrypt_and_their_crypto_frames_reassemble_by_offset() {
    for version in [VERSION_1, VERSION_2] {
        let msg = message(60);
        // Second half first, then padding; the first half in the next packet.
        let mut f1 = crypto_frame(30, &msg[30..]);
        f1.extend_from_slice(&[0; 20]);
        let f2 = [vec![0x01], crypto_frame(0, &msg[..30])].concat();
        let (dcid, scid) = (hex(DCID), hex("aabb"));
        let p1 = protect(version, true, &dcid, &scid, 0, &f1);
        let p2 = protect(version, true, &dcid, &scid, 1, &f2);
        let mut st = State::default();
        let mut out = Rec::default();
        st.datagram(&mut out, true, &p1);
        assert!(out.ssl[0].is_empty(), "nothing in order yet");
        st.datagram(&mut out, true, &p2);
        assert_eq!(out.violations, Vec::<String>::new());
        assert_eq!(out.confirmed, 2);
        let mut want = vec![22, 3, 3, 0, 64];
        want.extend_from_slice(&msg);
        assert_eq!(out.ssl[0], want, "one TLS record holding the message");
        assert!(st.crypto[0].finished);
        assert!(matches!(&out.events[0], Found::Initial(h) if h.version == version && h.dcid == dcid && h.scid == scid));
        // The side is done: a later Initial is not decrypted (a broken one is no violation).
        let mut p3 = protect(version, true, &dcid, &scid, 2, &f2);
        let n = p3.len();
        p3[n - 1] ^= 1;
        st.datagram(&mut out, true, &p3);
        assert_eq!((out.confirmed, out.violations.len()), (2, 0));
        // The server's Initial uses the client's first DCID's keys.
        let server = protect(version, false, &scid, &hex("ccdd"), 0, &crypto_frame(0, &message(10)));
        st.datagram(&mut out, false, &server);
        assert_eq!(out.ssl[1].len(), 5 + 14);
    }
}

#[test]
fn a_packet_that_does_not_decrypt_is_a_violation() {
    let dcid = hex(DCID);
    let mut p = protect(VERSION_1, true, &dcid, &[], 0, &crypto_frame(0, &message(30)));
    let n = p.len();
    p[n - 3] ^= 0x80;
    let (mut st, mut out) = (State::default(), Rec::default());
    st.datagram(&mut out, true, &p);
    assert_eq!(out.violations, ["decryption failed"]);
    assert_eq!(out.confirmed, 0);
    // A server Initial before any client Initial is not decrypted.
    let (mut st, mut out) = (State::default(), Rec::default());
    st.datagram(&mut out, false, &protect(VERSION_1, false, &dcid, &[], 0, &crypto_frame(0, &message(30))));
    assert_eq!((out.confirmed, out.violations.len(), out.events.len()), (0, 0, 1));
}

#[test]
fn unknown_frames_versions_and_too_much_crypto_are_violations() {
    let dcid = hex(DCID);
    let (mut st, mut out) = (State::default(), Rec::default());
    st.datagram(&mut out, true, &protect(VERSION_1, true, &dcid, &[], 0, &[0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(out.violations, ["unhandled frame type 8"]);
    let (mut st, mut out) = (State::default(), Rec::default());
    let msg = message(20);
    let mut frames = crypto_frame(0, &msg);
    frames.extend(crypto_frame(24, &[1, 2, 3]));
    st.datagram(&mut out, true, &protect(VERSION_1, true, &dcid, &[], 0, &frames));
    assert_eq!(out.violations, ["too much crypto data received 27 > 24"]);
    let (mut st, mut out) = (State::default(), Rec::default());
    st.datagram(&mut out, true, &[0xc3, 0x0a, 0x0a, 0x0a, 0x0a, 1, 9, 0, 0, 0, 0]);
    assert_eq!(out.violations, ["unhandled QUIC version 0xa0a0a0a"]);
    assert!(matches!(&out.events[..], [Found::UnhandledVersion(h)] if h.dcid == [9]));
}

#[test]
fn connection_close_short_headers_and_discarded_packets() {
    let dcid = hex(DCID);
    let (mut st, mut out) = (State::new(100), Rec::default());
    let close = [0x1c, 0x0a, 0x00, 0x03, b'b', b'y', b'e', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut d = protect(VERSION_1, true, &dcid, &[7], 0, &close);
    d.extend_from_slice(&[0x40, 7, 0xff]);
    st.datagram(&mut out, true, &d);
    assert_eq!(out.violations, Vec::<String>::new());
    assert!(out.events.contains(&Found::ConnectionClose(super::parse::LongHeader { is_orig: true, version: 1, dcid: dcid.clone(), scid: vec![7] }, 10, b"bye".to_vec())));
    for _ in 0..4 {
        st.datagram(&mut out, true, &[0x40, 7, 1, 2]);
    }
    let crossed: Vec<u64> = out.events.iter().filter_map(|e| if let Found::ShortThreshold(true, n) = e { Some(*n) } else { None }).collect();
    assert_eq!(crossed, [1, 2, 4]);
    st.datagram(&mut out, false, &[0x00, 1, 2]);
    assert_eq!(out.events.last(), Some(&Found::Discarded(false, 1)));
}

#[test]
fn a_retry_starts_the_handshake_over() {
    let dcid = hex(DCID);
    let (mut st, mut out) = (State::default(), Rec::default());
    st.datagram(&mut out, true, &protect(VERSION_1, true, &dcid, &[], 0, &crypto_frame(0, &message(30))));
    let mut retry = vec![0xf0, 0, 0, 0, 1, 0, 1, 5];
    retry.extend_from_slice(b"token");
    retry.extend_from_slice(&[0xee; 16]);
    st.datagram(&mut out, false, &retry);
    assert_eq!(out.closed, 1);
    assert!(st.initial_dcid.is_none() && !st.crypto[0].finished);
    assert!(matches!(out.events.last(), Some(Found::Retry(_, t, tag)) if t == b"token" && tag == &[0xee; 16]));
    let new = hex("0102030405060708");
    st.datagram(&mut out, true, &protect_for(&new, VERSION_1, true, &new, &[], 1, &crypto_frame(0, &message(30))));
    assert_eq!(st.initial_dcid.as_deref(), Some(&new[..]));
    assert_eq!(out.confirmed, 2, "decrypted with the new DCID's keys");
    assert_eq!(out.violations, Vec::<String>::new());
}

#[test]
fn garbage_never_panics() {
    for seed in 0u32..2000 {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        let data: Vec<u8> = (0..(seed % 97))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        super::fuzzing::datagrams(&data);
    }
    assert!(decrypt_initial(VERSION_1, &[], true, &[0xc0; 30], 25, 20).is_err());
}

/// A TLS 1.3-style client hello naming `host`.
fn client_hello(host: &str) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let name = host.as_bytes();
    let sni_list = [&[0u8][..], &(name.len() as u16).to_be_bytes(), name].concat();
    let sni = [&(sni_list.len() as u16).to_be_bytes()[..], &sni_list].concat();
    let ext = [&[0u8, 0][..], &(sni.len() as u16).to_be_bytes(), &sni].concat();
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    let mut m = vec![1, 0, (b.len() >> 8) as u8, b.len() as u8];
    m.extend_from_slice(&b);
    m
}

#[test]
fn the_analyzer_confirms_quic_then_its_ssl_child_reads_the_client_hello() {
    use crate::analyzers::testing::Harness;
    use crate::analyzers::Analyzer;
    use weir_events::Event;
    let mut h = Harness::new(17, 443);
    let mut a = super::Quic::new(100);
    let mut frames = crypto_frame(0, &client_hello("example.com"));
    frames.extend_from_slice(&[0; 40]);
    let evs = h.datagram(&mut a, true, &protect(VERSION_1, true, &hex(DCID), &[1, 2], 0, &frames));
    let confirmed: Vec<String> = evs.iter().filter_map(|e| if let Event::ProtocolConfirmation { atype, .. } = e { Some(atype.name.clone()) } else { None }).collect();
    assert_eq!(confirmed, ["QUIC", "SSL"], "QUIC first, then SSL's client hello");
    assert!(evs.iter().any(|e| matches!(e, Event::QuicInitialPacket { is_orig: true, version: 1, scid, .. } if scid == &[1, 2])));
    assert!(evs.iter().any(|e| matches!(e, Event::SslExtensionServerName { is_client: true, names, .. } if names == &["example.com"])));
    assert!(evs.iter().all(|e| !matches!(e, Event::ProtocolViolation { .. })));
    // Garbage later is a QUIC violation; QUIC leaves the service, SSL stays.
    let evs = h.datagram(&mut a, true, &[0xc0, 0, 0, 0, 1, 200]);
    assert!(evs.iter().any(|e| matches!(e, Event::ProtocolViolation { atype, .. } if atype.name == "QUIC")));
    assert_eq!(h.conn.extra.as_ref().unwrap().service, ["SSL"]);
    assert_eq!(a.tag(), crate::analyzers::Tag::Quic);
}
