//! Certificates: DER parsed with x509-parser into Zeek's `X509::Certificate`,
//! `X509::SubjectAlternativeName` and `X509::BasicConstraints` records, and
//! the `x509_*` events raised for each, with the SHA-256 fingerprint. Names
//! are written as OpenSSL's RFC 2253 printing does (last RDN first, short
//! attribute names, `\`-escapes, UTF-8 kept), algorithms under OpenSSL's
//! names.

use super::Sink;
use sha2::{Digest, Sha256};
use std::net::{Ipv4Addr, Ipv6Addr};
use weir_events::{Event, EventKind, FaFile, X509BasicConstraints, X509Cert, X509Handle, X509SubjectAlternativeName};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

/// Lower-case hex of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The SHA-256 fingerprint of DER bytes, as x509.log shows it.
pub fn fingerprint(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

/// OpenSSL's name of an algorithm or curve OID (dotted text when unknown).
fn oid_name(oid: &str) -> String {
    let n = match oid {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10040.4.1" => "dsaEncryption",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "1.3.14.3.2.29" => "sha1WithRSA",
        _ => return oid.to_string(),
    };
    n.to_string()
}

/// A named curve's OpenSSL short name and its order's size in bits.
fn curve(oid: &str) -> Option<(&'static str, u64)> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => ("prime256v1", 256),
        "1.2.840.10045.3.1.1" => ("prime192v1", 192),
        "1.3.132.0.33" => ("secp224r1", 224),
        "1.3.132.0.34" => ("secp384r1", 384),
        "1.3.132.0.35" => ("secp521r1", 521),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        _ => return None,
    })
}

/// OpenSSL's short name of a name attribute.
fn attr_name(oid: &str) -> String {
    let n = match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return oid.to_string(),
    };
    n.to_string()
}

/// An attribute value's text, escaped as RFC 2253 asks (bytes past ASCII
/// kept).
fn attr_value(a: &AttributeTypeAndValue<'_>) -> String {
    let any = a.attr_value();
    let raw = any.data;
    let bytes: Vec<u8> = match any.tag() {
        Tag::BmpString => {
            let units: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units).into_bytes()
        }
        Tag::UniversalString => raw
            .chunks_exact(4)
            .filter_map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect::<String>()
            .into_bytes(),
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::NumericString | Tag::T61String | Tag::VisibleString => {
            raw.to_vec()
        }
        _ => return format!("#{}", hex(any.as_bytes()).to_uppercase()),
    };
    let mut out = String::new();
    let last = bytes.len().saturating_sub(1);
    let mut i = 0;
    let s = String::from_utf8_lossy(&bytes).into_owned();
    for ch in s.chars() {
        let first_or_last_space = ch == ' ' && (i == 0 || i == last);
        if matches!(ch, ',' | '+' | '"' | '\\' | '<' | '>' | ';') || (ch == '#' && i == 0) || first_or_last_space {
            out.push('\\');
            out.push(ch);
        } else if (ch as u32) < 0x20 || ch as u32 == 0x7f {
            out.push_str(&format!("\\{:02X}", ch as u32));
        } else {
            out.push(ch);
        }
        i += ch.len_utf8();
    }
    out
}

/// A name as OpenSSL's RFC 2253 printing writes it: every attribute in reverse order,
/// those of one multi-valued RDN too.
pub fn name(n: &X509Name<'_>) -> String {
    let rdns: Vec<String> = n
        .iter_rdn()
        .map(|rdn| {
            let attrs: Vec<String> =
                rdn.iter().map(|a| format!("{}={}", attr_name(&a.attr_type().to_id_string()), attr_value(a))).collect();
            attrs.into_iter().rev().collect::<Vec<_>>().join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// A DER-encoded distinguished name, written as [`name`] writes it; `None`
/// when it does not parse or has bytes after it.
pub fn name_from_der(der: &[u8]) -> Option<String> {
    match X509Name::from_der(der) {
        Ok((rest, n)) if rest.is_empty() => Some(name(&n)),
        _ => None,
    }
}

/// Bits of a big-endian unsigned integer.
fn bits(b: &[u8]) -> u64 {
    let b = strip_zeros(b);
    match b.first() {
        None | Some(0) => 0,
        Some(&f) => (b.len() as u64 - 1) * 8 + u64::from(8 - f.leading_zeros()),
    }
}

fn strip_zeros(mut b: &[u8]) -> &[u8] {
    while b.len() > 1 && b[0] == 0 {
        b = &b[1..];
    }
    b
}

/// The certificate's records: Zeek's certificate, its SAN and basic
/// constraints when present.
pub fn parse(der: &[u8]) -> Option<(X509Cert, Option<X509SubjectAlternativeName>, Option<X509BasicConstraints>)> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let spki = tbs.subject_pki.clone();
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let (mut key_type, mut key_length, mut exponent, mut curve_name) = (None, None, None, None);
    // A key named by an RSA signature algorithm (md5WithRSAEncryption, as
    // some RDP servers' certificates have) is an RSA key to OpenSSL too.
    let rsa_family = (key_oid.starts_with("1.2.840.113549.1.1.") && key_oid != "1.2.840.113549.1.1.1").then(|| {
        let mut s = spki.clone();
        s.algorithm.algorithm = x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
        s
    });
    match rsa_family.as_ref().unwrap_or(&spki).parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            key_type = Some("rsa".to_string());
            key_length = Some(bits(rsa.modulus));
            exponent = Some(match rsa.try_exponent() {
                Ok(e) => e.to_string(),
                Err(_) => hex(strip_zeros(rsa.exponent)),
            });
        }
        Ok(x509_parser::public_key::PublicKey::EC(_)) => {
            key_type = Some("ecdsa".to_string());
            let params = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
            if let Some((n, b)) = params.as_deref().and_then(curve) {
                curve_name = Some(n.to_string());
                key_length = Some(b);
            }
        }
        Ok(x509_parser::public_key::PublicKey::DSA(y)) => {
            key_type = Some("dsa".to_string());
            key_length = Some(bits(y));
        }
        _ => {}
    }
    let not_valid_before = tbs.validity.not_before.timestamp() as f64;
    let not_valid_after = tbs.validity.not_after.timestamp() as f64;
    let cn = tbs.subject.iter_common_name().last().map(attr_value);
    let rec = X509Cert {
        version: u64::from(tbs.version.0) + 1,
        serial: hex(strip_zeros(tbs.raw_serial())).to_uppercase(),
        subject: name(&tbs.subject),
        issuer: name(&tbs.issuer),
        cn,
        not_valid_before,
        not_valid_after,
        key_alg: oid_name(&key_oid),
        sig_alg: oid_name(&cert.signature_algorithm.algorithm.to_id_string()),
        key_type,
        key_length,
        exponent,
        curve: curve_name,
        tbs_sig_alg: oid_name(&tbs.signature.algorithm.to_id_string()),
    };
    let mut san = None;
    let mut bc = None;
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(s) => {
                let mut r = X509SubjectAlternativeName { dns: None, uri: None, email: None, ip: None, other_fields: false };
                for g in &s.general_names {
                    match g {
                        GeneralName::DNSName(d) => r.dns.get_or_insert_with(Vec::new).push(d.to_string()),
                        GeneralName::URI(u) => r.uri.get_or_insert_with(Vec::new).push(u.to_string()),
                        GeneralName::RFC822Name(e) => r.email.get_or_insert_with(Vec::new).push(e.to_string()),
                        GeneralName::IPAddress(b) => {
                            let ip = match b.len() {
                                4 => Some(std::net::IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
                                16 => <[u8; 16]>::try_from(*b).ok().map(|a| std::net::IpAddr::V6(Ipv6Addr::from(a))),
                                _ => None,
                            };
                            if let Some(ip) = ip {
                                r.ip.get_or_insert_with(Vec::new).push(ip.into());
                            }
                        }
                        _ => r.other_fields = true,
                    }
                }
                san = Some(r);
            }
            ParsedExtension::BasicConstraints(b) => {
                bc = Some(X509BasicConstraints { ca: b.ca, path_len: b.path_len_constraint.map(u64::from) });
            }
            _ => {}
        }
    }
    Some((rec, san, bc))
}

/// A file id for certificate `index` sent by one side of connection `uid`.
fn file_id(uid: &str, client: bool, index: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let h = Sha256::digest(format!("SSL{uid}{}{index}", if client { "T" } else { "F" }).as_bytes());
    let mut n = u128::from_be_bytes(h[..16].try_into().unwrap_or([0; 16]));
    let mut s = String::from("F");
    for _ in 0..17 {
        s.push(ALPHABET[(n % 62) as usize] as char);
        n /= 62;
    }
    s
}

/// Raises the `x509_*` events of one certificate sent by the client
/// (`client`) or the server, at `index` in its list.
pub fn raise<S: Sink>(sink: &mut S, client: bool, index: usize, der: &[u8]) {
    let wanted = [EventKind::X509Certificate, EventKind::X509ExtSubjectAlternativeName, EventKind::X509ExtBasicConstraints];
    if !wanted.iter().any(|&k| sink.wants(k)) {
        return;
    }
    let Some((cert, san, bc)) = parse(der) else {
        tracing::debug!(len = der.len(), "SSL: certificate not parsed");
        sink.weird("x509_certificate_parse_error", String::new());
        return;
    };
    let now = sink.now();
    let size = der.len() as u64;
    let file = move |uid: &str| FaFile {
        id: file_id(uid, client, index),
        parent_id: None,
        source: "SSL".to_string(),
        is_orig: Some(client),
        conns: vec![uid.to_string()],
        last_active: now,
        seen_bytes: size,
        total_bytes: Some(size),
        missing_bytes: 0,
        overflow_bytes: 0,
        timeout_interval: 120.0,
        bof_buffer_size: 4096,
        bof_buffer: None,
        depth: 0,
        filename: None,
    };
    if sink.wants(EventKind::X509Certificate) {
        let handle = X509Handle { sha256: fingerprint(der), index: index as u32 };
        sink.raise(|c| Event::X509Certificate { f: Box::new(file(&c.uid)), cert_ref: Box::new(handle), cert: Box::new(cert) });
    }
    if let Some(bc) = bc {
        if sink.wants(EventKind::X509ExtBasicConstraints) {
            sink.raise(|c| Event::X509ExtBasicConstraints { f: Box::new(file(&c.uid)), ext: Box::new(bc) });
        }
    }
    if let Some(san) = san {
        if sink.wants(EventKind::X509ExtSubjectAlternativeName) {
            sink.raise(|c| Event::X509ExtSubjectAlternativeName { f: Box::new(file(&c.uid)), ext: Box::new(san) });
        }
    }
}
