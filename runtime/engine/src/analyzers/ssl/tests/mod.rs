//! The SSL analyzer on hand-built TLS conversations: a TLS 1.2 handshake
//! with SNI, ALPN, a certificate and an ECDHE key exchange, records split
//! and joined, TLS 1.3, SSLv2 hellos, flips and violations.

use super::{fuzzing, x509, Ssl};
use crate::analyzers::testing::{summary, Harness};
use weir_events::Event;

const CERT: &[u8] = include_bytes!("../testdata/ec-selfsigned.der");

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 3, 3, (body.len() >> 8) as u8, body.len() as u8];
    v.extend_from_slice(body);
    v
}

fn hs(t: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut v = vec![t, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(body);
    v
}

fn ext(code: u16, val: &[u8]) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend_from_slice(&(val.len() as u16).to_be_bytes());
    v.extend_from_slice(val);
    v
}

fn with_len16(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

fn client_hello(exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[0x5e; 32]);
    b.push(0); // no session id
    b.extend_from_slice(&with_len16(&[0xc0, 0x2f, 0x00, 0x2f]));
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&with_len16(&exts.concat()));
    hs(1, &b)
}

fn server_hello(version: u16, cipher: u16, exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x11; 32]);
    b.push(0);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&with_len16(&exts.concat()));
    hs(2, &b)
}

fn sni(name: &str) -> Vec<u8> {
    let mut entry = vec![0];
    entry.extend_from_slice(&with_len16(name.as_bytes()));
    ext(0, &with_len16(&entry))
}

fn alpn(protos: &[&str]) -> Vec<u8> {
    let mut l = Vec::new();
    for p in protos {
        l.push(p.len() as u8);
        l.extend_from_slice(p.as_bytes());
    }
    ext(16, &with_len16(&l))
}

fn certificate(certs: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        let n = c.len();
        list.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        list.extend_from_slice(c);
    }
    let n = list.len();
    let mut b = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
    b.extend_from_slice(&list);
    hs(11, &b)
}

fn names(evs: &[Event]) -> Vec<String> {
    summary(evs).into_iter().filter(|n| n != "ssl_plaintext_data" && n != "ssl_extension").collect()
}

#[test]
fn a_tls12_handshake_raises_zeeks_events_and_establishes() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    let ch = record(22, &client_hello(&[sni("www.example.org"), alpn(&["h2", "http/1.1"])]));
    // The client hello arrives in two segments.
    assert!(names(&h.stream(&mut a, true, &ch[..7])).is_empty());
    let evs = h.stream(&mut a, true, &ch[7..]);
    assert_eq!(
        names(&evs),
        [
            "ssl_extension_server_name",
            "ssl_extension_application_layer_protocol_negotiation",
            "protocol_confirmation",
            "ssl_client_hello",
            "ssl_handshake_message"
        ]
    );
    assert!(evs.iter().any(|e| matches!(e, Event::SslExtensionServerName { is_client: true, names, .. } if names == &["www.example.org"])));
    let session = evs.iter().find_map(|e| match e {
        Event::SslClientHello { session_id, ciphers, .. } => Some((session_id.clone(), ciphers.clone())),
        _ => None,
    });
    assert_eq!(session, Some((vec![0; 32], vec![0xc02f, 0x2f])), "the session id is padded to 32 bytes");

    // Server hello, certificate and key exchange in one record, the server hello done in the next.
    let mut ske = vec![3, 0, 23, 4];
    ske.extend_from_slice(&[9, 9, 9, 9]);
    let flight = [server_hello(0x0303, 0xc02f, &[alpn(&["h2"])]), certificate(&[CERT]), hs(12, &ske)].concat();
    let mut bytes = record(22, &flight);
    bytes.extend(record(22, &hs(14, &[])));
    let evs = h.stream(&mut a, false, &bytes);
    let n = names(&evs);
    assert_eq!(
        n,
        [
            "ssl_extension_application_layer_protocol_negotiation",
            "ssl_server_hello",
            "ssl_handshake_message",
            "x509_certificate",
            "x509_ext_basic_constraints",
            "x509_ext_subject_alternative_name",
            "ssl_handshake_message",
            "ssl_ecdh_server_params",
            "ssl_handshake_message",
            "ssl_handshake_message"
        ]
    );
    assert!(evs.iter().any(|e| matches!(e, Event::SslEcdhServerParams { curve: 23, point, .. } if point == &[9, 9, 9, 9])));
    let fp = evs.iter().find_map(|e| match e {
        Event::X509Certificate { cert_ref, f, .. } => Some((cert_ref.sha256.clone(), cert_ref.index, f.is_orig, f.source.clone())),
        _ => None,
    });
    assert_eq!(fp, Some((x509::fingerprint(CERT), 0, Some(false), "SSL".to_string())));

    // Client key exchange and change cipher spec, then its encrypted finished.
    let mut c2 = record(22, &hs(16, &[0; 33]));
    c2.extend(record(20, &[1]));
    c2.extend(record(22, &[0xaa; 40]));
    let n = names(&h.stream(&mut a, true, &c2));
    assert_eq!(n, ["ssl_handshake_message", "ssl_change_cipher_spec", "ssl_encrypted_data"], "one side alone is not established");
    // The server's change cipher spec and encrypted finished establish it.
    let mut s2 = record(20, &[1]);
    s2.extend(record(22, &[0xbb; 40]));
    let n = names(&h.stream(&mut a, false, &s2));
    assert_eq!(n, ["ssl_change_cipher_spec", "ssl_established", "ssl_encrypted_data"]);
    assert!(h.status.disabled, "SSL::disable_analyzer_after_detection");
    assert_eq!(h.conn.extra.as_ref().map(|x| x.service.clone()), Some(vec!["SSL"]));
}

#[test]
fn tls13_picks_the_version_from_supported_versions_and_encrypts_application_data() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    let mut ks = vec![0, 0x1d, 0, 2, 7, 7];
    ks = with_len16(&ks);
    let ch = client_hello(&[ext(43, &[4, 3, 4, 3, 3]), ext(51, &ks)]);
    let evs = h.stream(&mut a, true, &record(22, &ch));
    assert!(evs.iter().any(|e| matches!(e, Event::SslExtensionSupportedVersions { is_client: true, versions, .. } if versions == &[0x0304, 0x0303])));
    assert!(evs.iter().any(|e| matches!(e, Event::SslExtensionKeyShare { is_client: true, curves, .. } if curves == &[0x1d])));
    // A TLS 1.3 server hello: legacy version 1.2, no session id field handling differs only for 1.3 in the version field.
    let sh = server_hello(0x0303, 0x1301, &[ext(43, &[3, 4]), ext(51, &[0, 0x1d, 0, 2, 8, 8])]);
    let mut s = record(22, &sh);
    s.extend(record(20, &[1]));
    s.extend(record(23, &[0xcc; 30]));
    let evs = h.stream(&mut a, false, &s);
    let n = names(&evs);
    assert!(n.contains(&"ssl_probable_encrypted_handshake_message".to_string()), "{n:?}");
    assert!(!n.contains(&"ssl_established".to_string()), "the client has not encrypted yet");
    let mut c = record(20, &[1]);
    c.extend(record(23, &[0xdd; 30]));
    let n = names(&h.stream(&mut a, true, &c));
    assert_eq!(n, ["ssl_change_cipher_spec", "ssl_probable_encrypted_handshake_message", "ssl_established", "ssl_encrypted_data"]);
}

#[test]
fn an_sslv2_client_hello_confirms() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    // Length 9 + 3 + 16 challenge: type 1, version 3.1, 3 cipher bytes, no session, 16-byte challenge.
    let mut body = vec![0, 3, 0, 0, 0, 16, 0x00, 0x00, 0x04];
    body.extend_from_slice(&[0x42; 16]);
    let len = body.len() + 3;
    let mut m = vec![0x80 | (len >> 8) as u8, len as u8, 1, 3, 1];
    m.extend_from_slice(&body);
    let evs = h.stream(&mut a, true, &m);
    let hello = evs.iter().find_map(|e| match e {
        Event::SslClientHello { version, record_version, ciphers, client_random, .. } => Some((*version, *record_version, ciphers.clone(), client_random.len())),
        _ => None,
    });
    assert_eq!(hello, Some((0x0301, 0, vec![4], 16)));
    assert!(h.status.confirmed);
}

#[test]
fn a_client_hello_from_the_responder_flips() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    let evs = h.stream(&mut a, false, &record(22, &client_hello(&[])));
    assert_eq!(names(&evs)[0], "ssl_connection_flipped");
    assert!(evs.iter().any(|e| matches!(e, Event::SslHandshakeMessage { is_client: true, msg_type: 1, .. })));
}

#[test]
fn bad_records_are_violations_and_stop_parsing() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    let evs = h.stream(&mut a, true, b"GET / HTTP/1.1\r\n\r\n");
    let reason = evs.iter().find_map(|e| match e {
        Event::ProtocolViolation { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(reason.as_deref(), Some("Invalid version in TLS connection. Version: 17748"));
    assert!(h.stream(&mut a, true, &record(22, &client_hello(&[]))).is_empty(), "nothing after a violation");
    // A record type outside 20..30 with a good version.
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    assert!(summary(&h.stream(&mut a, true, &record(40, &[1]))).contains(&"protocol_violation".to_string()));
    // Unknown types inside the range are reported but parsing goes on.
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    let mut b = record(22, &client_hello(&[]));
    b.extend(record(29, &[0]));
    let n = summary(&h.stream(&mut a, true, &b));
    assert!(n.contains(&"ssl_client_hello".to_string()) && n.contains(&"protocol_violation".to_string()), "{n:?}");
}

#[test]
fn alerts_are_capped_per_record() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    let evs = h.stream(&mut a, false, &record(21, &[2, 40].repeat(12)));
    let n = summary(&evs);
    assert_eq!(n.iter().filter(|x| *x == "ssl_alert").count(), 10);
    assert!(n.contains(&"weird:SSL_excessive_alerts_in_record 12".to_string()), "{n:?}");
}

#[test]
fn a_gap_stops_the_analyzer() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    h.gap(&mut a, true, 10);
    assert!(h.stream(&mut a, true, &record(22, &client_hello(&[]))).is_empty());
}

#[test]
fn certificates_are_parsed_as_openssl_prints_them() {
    let (cert, san, bc) = x509::parse(CERT).expect("parsed");
    assert_eq!(cert.version, 3);
    assert_eq!(cert.serial, "ABCDEF");
    assert_eq!(cert.subject, "CN=test.example.org,O=Weir Test\\, Inc.,C=US");
    assert_eq!(cert.issuer, cert.subject);
    assert_eq!(cert.cn.as_deref(), Some("test.example.org"));
    assert_eq!((cert.not_valid_before, cert.not_valid_after), (1796144832.0, 2111504832.0));
    assert_eq!(cert.key_alg, "id-ecPublicKey");
    assert_eq!(cert.sig_alg, "ecdsa-with-SHA256");
    assert_eq!((cert.key_type.as_deref(), cert.key_length, cert.curve.as_deref()), (Some("ecdsa"), Some(256), Some("prime256v1")));
    assert_eq!(cert.exponent, None);
    let san = san.expect("a SAN");
    assert_eq!(san.dns, Some(vec!["test.example.org".to_string(), "*.example.org".to_string()]));
    assert_eq!(san.ip, Some(vec!["192.0.2.1".parse().unwrap()]));
    assert_eq!((san.uri, san.email, san.other_fields), (None, None, false));
    let bc = bc.expect("basic constraints");
    assert!(!bc.ca && bc.path_len.is_none());
    assert_eq!(x509::fingerprint(CERT), "fdfe775aad62c93a5cd144ddb2818311a78a1de2f462e09cb055b3625fb83e89");
    assert!(x509::parse(&CERT[..100]).is_none());
}

#[test]
fn fuzz_inputs_of_every_shape_run() {
    let mut input = vec![3u8];
    input.extend(record(22, &client_hello(&[sni("a")])));
    input.extend_from_slice(&[0xff, 0xfe]);
    input.extend(record(22, &[server_hello(0x0303, 0xc02f, &[]), certificate(&[CERT, &CERT[..50]])].concat()));
    assert!(fuzzing::run(&input) > 5);
    let mut dtls = vec![16u8];
    dtls.extend(dtls_record(&dtls_fragment(1, 0, &[0xfe, 0xfd, 1, 2, 3], 0, 5)));
    assert!(fuzzing::run(&dtls) > 0, "a DTLS datagram is parsed");
    assert_eq!(fuzzing::run(&[]), 0);
}

fn dtls_record(body: &[u8]) -> Vec<u8> {
    let mut v = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, (body.len() >> 8) as u8, body.len() as u8];
    v.extend_from_slice(body);
    v
}

fn dtls_fragment(t: u8, seq: u16, msg: &[u8], off: usize, len: usize) -> Vec<u8> {
    let n = msg.len();
    let mut v = vec![t, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&[(off >> 16) as u8, (off >> 8) as u8, off as u8, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    v.extend_from_slice(&msg[off..off + len]);
    v
}

#[test]
fn dtls_handshake_fragments_are_put_together() {
    let (mut h, mut a) = (Harness::new(17, 443), super::dtls::Dtls::new(Default::default()));
    // A DTLS 1.2 client hello: version, random, empty session id, empty cookie, suites, compression.
    let mut ch = vec![0xfe, 0xfd];
    ch.extend_from_slice(&[7; 32]);
    ch.extend_from_slice(&[0, 0]);
    ch.extend_from_slice(&with_len16(&[0xc0, 0x2f]));
    ch.extend_from_slice(&[1, 0]);
    let first = dtls_record(&dtls_fragment(1, 0, &ch, 0, 10));
    assert!(names(&h.datagram(&mut a, true, &first)).is_empty(), "half a message");
    let second = dtls_record(&dtls_fragment(1, 0, &ch, 10, ch.len() - 10));
    let evs = h.datagram(&mut a, true, &second);
    assert_eq!(names(&evs), ["protocol_confirmation", "ssl_client_hello", "ssl_handshake_message"]);
    assert!(evs.iter().any(|e| matches!(e, Event::SslClientHello { version: 0xfefd, ciphers, .. } if ciphers == &[0xc02f])));
    let evs = h.datagram(&mut a, false, b"\x16\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    assert!(summary(&evs).contains(&"protocol_violation".to_string()), "a TLS version in a DTLS record");
}

#[test]
fn a_certificate_request_names_its_authorities() {
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(Default::default()));
    h.stream(&mut a, true, &record(22, &client_hello(&[])));
    // O=SomeOrg,C=US as DER: SEQUENCE { SET { SEQ { C, "US" } }, SET { SEQ { O, "SomeOrg" } } }.
    let dn: &[u8] = &[
        0x30, 0x1f, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, b'U', b'S', 0x31, 0x10, 0x30, 0x0e, 0x06,
        0x03, 0x55, 0x04, 0x0a, 0x0c, 0x07, b'S', b'o', b'm', b'e', b'O', b'r', b'g',
    ];
    let mut req = vec![2, 1, 64]; // rsa_sign, ecdsa_sign
    req.extend_from_slice(&with_len16(&[4, 1, 4, 3]));
    req.extend_from_slice(&with_len16(&with_len16(dn)));
    let flight = [server_hello(0x0303, 0xc02f, &[]), hs(13, &req), hs(14, &[])].concat();
    let evs = h.stream(&mut a, false, &record(22, &flight));
    let got = evs.iter().find_map(|e| match e {
        Event::SslCertificateRequest { is_client, certificate_types, supported_signature_algorithms, certificate_authorities, .. } => {
            Some((*is_client, certificate_types.clone(), supported_signature_algorithms.len(), certificate_authorities.clone()))
        }
        _ => None,
    });
    assert_eq!(got, Some((false, vec![1, 64], 2, vec![dn.to_vec()])));
    assert_eq!(x509::name_from_der(dn).as_deref(), Some("O=SomeOrg,C=US"));
    assert_eq!(x509::name_from_der(&dn[..10]), None, "a cut name does not parse");
}

#[test]
fn application_data_decrypted_with_a_master_secret_goes_to_http() {
    use super::decrypt::{prf_sha384, seal, Secrets, KEY_BLOCK_LEN};
    let ms = [0x33u8; 48];
    let mut secrets = Secrets::default();
    secrets.secrets.insert(vec![0x5e; 28], ms.to_vec());
    let cfg = super::SslConfig {
        disable_analyzer_after_detection: false,
        secrets: std::sync::Arc::new(secrets),
        ..Default::default()
    };
    let (mut h, mut a) = (Harness::new(6, 443), Ssl::new(cfg));
    // Detection below SSL finds HTTP with weir's own rules.
    let dpd = crate::signatures::RuleSet::load(true, &[], &crate::signatures::Idents::new()).expect("dpd.sig loads");
    h.matcher = Some(crate::signatures::Matcher::new(std::sync::Arc::new(dpd)));
    let keys = prf_sha384(&ms, b"key expansion", &[[0x11u8; 32], [0x5e; 32]].concat(), KEY_BLOCK_LEN);
    h.stream(&mut a, true, &record(22, &client_hello(&[])));
    h.stream(&mut a, false, &record(22, &[server_hello(0x0303, 0xc030, &[]), hs(14, &[])].concat()));
    let mut c = record(20, &[1]);
    c.extend(record(22, &[0xaa; 40]));
    h.stream(&mut a, true, &c);
    let mut s = record(20, &[1]);
    s.extend(record(22, &[0xbb; 40]));
    h.stream(&mut a, false, &s);
    let req = record(23, &seal(&keys, 1, true, b"GET /secret HTTP/1.1\r\nHost: example.org\r\n\r\n"));
    let mut evs = h.stream(&mut a, true, &req);
    let reply = record(23, &seal(&keys, 1, false, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    // HTTP is attached once the reply matches too; the request is replayed to it.
    evs.extend(h.stream(&mut a, false, &reply));
    let uri = evs.iter().find_map(|e| match e {
        Event::HttpRequest { original_uri, .. } => Some(original_uri.clone()),
        _ => None,
    });
    assert_eq!(uri.as_deref(), Some("/secret"), "{:?}", summary(&evs));
    assert!(evs.iter().any(|e| matches!(e, Event::HttpReply { code: 200, .. })), "{:?}", summary(&evs));
    // A record sealed with the wrong keys stops decryption.
    let bad = record(23, &seal(&[0u8; 72], 2, true, b"GET /x HTTP/1.1\r\n\r\n"));
    assert!(!summary(&h.stream(&mut a, true, &bad)).iter().any(|n| n.starts_with("http_")));
}
