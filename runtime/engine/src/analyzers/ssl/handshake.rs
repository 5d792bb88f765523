//! The handshake layer: messages collected per direction across records
//! (a message may span records, a record may hold several), then parsed:
//! client and server hellos with their extensions (SNI, ALPN,
//! supported_versions, key_share, supported_groups, ec_point_formats,
//! signature_algorithms, and every extension raw), certificates, the
//! server's ECDHE key exchange, session tickets. The side that sends the
//! client hello is the client: when that is the responder the connection
//! is flipped (`ssl_connection_flipped`) and `is_client` follows.

use super::{is_tls13, version_ok, Sink};
use weir_events::{Event, EventKind, SslSignatureAndHashAlgorithm};

/// Client hello.
pub const CLIENT_HELLO: u8 = 1;
/// Server hello.
pub const SERVER_HELLO: u8 = 2;
/// New session ticket.
pub const SESSION_TICKET: u8 = 4;
/// Certificate.
pub const CERTIFICATE: u8 = 11;
/// Server key exchange.
pub const SERVER_KEY_EXCHANGE: u8 = 12;
/// Certificate request.
pub const CERTIFICATE_REQUEST: u8 = 13;

/// Longest handshake message collected (Zeek's binpac buffer has no
/// smaller bound for certificates chains); past it the direction's
/// handshake bytes are dropped.
const MAX_MESSAGE: usize = 1 << 24;

/// Handshake state of a connection.
#[derive(Clone, Debug, Default)]
pub struct Handshake {
    /// The version the server chose (its supported_versions extension, or
    /// the server hello's), 0 until a server hello came.
    pub chosen_version: u16,
    /// The cipher suite the server chose.
    pub chosen_cipher: Option<u32>,
    /// The client hello came from the responder.
    pub flipped: bool,
    /// The client hello's random (32 bytes; empty before it).
    pub client_random: Vec<u8>,
    /// The server hello's random.
    pub server_random: Vec<u8>,
    already_alerted: bool,
    /// Unparsed handshake bytes, per side (originator first).
    buf: [Vec<u8>; 2],
}

/// Zeek's session id argument: the id zero-padded to 32 bytes, or 32 zero
/// bytes when it is longer.
pub fn session_id(id: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; 32];
    if id.len() <= 32 {
        v[..id.len()].copy_from_slice(id);
    }
    v
}

/// A cursor over a message body; reads past the end give `None`.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3).map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Whether the cipher suite's key exchange is ECDHE or anonymous ECDH
/// (their server key exchange starts with a curve type and named curve).
pub fn ecdhe_cipher(c: u32) -> bool {
    matches!(c,
        0xc006..=0xc00a | 0xc010..=0xc019 | 0xc023 | 0xc024 | 0xc027 | 0xc028 | 0xc02b | 0xc02c | 0xc02f | 0xc030
        | 0xc033..=0xc03b | 0xc048 | 0xc049 | 0xc04c | 0xc04d | 0xc05c | 0xc05d | 0xc060 | 0xc061 | 0xc070 | 0xc071
        | 0xc072 | 0xc073 | 0xc076 | 0xc077 | 0xc086 | 0xc087 | 0xc08a | 0xc08b | 0xc09a | 0xc09b | 0xc0ac..=0xc0af
        | 0xcca8 | 0xcca9 | 0xccac | 0xd001..=0xd005)
}

/// Raises the `x509_*` events for a certificate list sent by the client
/// (`client`) or the server: the first is the host's certificate, the rest
/// its chain.
pub fn certificates<S: Sink>(sink: &mut S, client: bool, certs: &[&[u8]]) {
    for (i, der) in certs.iter().enumerate() {
        if der.is_empty() {
            sink.weird("zero_length_certificate", String::new());
            continue;
        }
        super::x509::raise(sink, client, i, der);
    }
}

impl Handshake {
    /// Handshake record bytes of one direction, with the record's version.
    pub fn feed<S: Sink>(&mut self, sink: &mut S, is_orig: bool, record_version: u16, data: &[u8]) {
        let side = usize::from(!is_orig);
        self.buf[side].extend_from_slice(data);
        loop {
            let b = &self.buf[side];
            if b.len() < 4 {
                return;
            }
            let len = (usize::from(b[1]) << 16) | (usize::from(b[2]) << 8) | usize::from(b[3]);
            if len > MAX_MESSAGE {
                self.buf[side].clear();
                return;
            }
            if b.len() < 4 + len {
                return;
            }
            let msg: Vec<u8> = self.buf[side].drain(..4 + len).collect();
            self.message(sink, is_orig, record_version, msg[0], &msg[4..]);
        }
    }

    /// Zeek's `check_flipped`: a message that only `desired` (originator
    /// for true) should send came from `is_orig`.
    fn check_flipped<S: Sink>(&mut self, sink: &mut S, desired: bool, is_orig: bool) {
        if self.flipped {
            if desired == is_orig {
                self.flipped = false;
                if sink.wants(EventKind::SslConnectionFlipped) {
                    sink.raise(|c| Event::SslConnectionFlipped { c });
                }
                if !self.already_alerted {
                    self.already_alerted = true;
                    sink.weird("SSL_unclear_connection_direction", String::new());
                }
            }
        } else if desired != is_orig {
            self.flipped = true;
            if sink.wants(EventKind::SslConnectionFlipped) {
                sink.raise(|c| Event::SslConnectionFlipped { c });
            }
        }
    }

    fn message<S: Sink>(&mut self, sink: &mut S, is_orig: bool, record_version: u16, msg_type: u8, body: &[u8]) {
        match msg_type {
            0 => self.check_flipped(sink, false, is_orig),
            CLIENT_HELLO => {
                self.check_flipped(sink, true, is_orig);
                self.client_hello(sink, is_orig, record_version, body);
            }
            SERVER_HELLO => {
                self.check_flipped(sink, false, is_orig);
                self.server_hello(sink, is_orig, record_version, body);
            }
            SESSION_TICKET => {
                let mut r = Rd(body);
                if let (Some(hint), Some(ticket)) = (r.u32(), r.vec16()) {
                    if sink.wants(EventKind::SslSessionTicketHandshake) {
                        let ticket = ticket.to_vec();
                        sink.raise(|c| Event::SslSessionTicketHandshake { c, ticket_lifetime_hint: hint, ticket });
                    }
                }
            }
            CERTIFICATE => self.certificate(sink, is_orig, body),
            SERVER_KEY_EXCHANGE => self.server_key_exchange(sink, body),
            CERTIFICATE_REQUEST => self.certificate_request(sink, is_orig, body),
            3 | 14..=16 | 20..=22 => {}
            _ => sink.violate(format!("unknown handshake message ({msg_type}) from {}", super::record::orig_label(is_orig))),
        }
        if sink.wants(EventKind::SslHandshakeMessage) {
            let (is_client, length) = (is_orig ^ self.flipped, body.len() as u32);
            sink.raise(|c| Event::SslHandshakeMessage { c, is_client, msg_type, length });
        }
    }

    fn client_hello<S: Sink>(&mut self, sink: &mut S, is_orig: bool, record_version: u16, body: &[u8]) {
        let mut r = Rd(body);
        let Some(version) = r.u16() else { return };
        let Some(random) = r.take(32) else { return };
        let Some(sid) = r.vec8() else { return };
        if matches!(version, 0xfeff | 0xfefd) && r.vec8().is_none() {
            return;
        }
        let Some(suites) = r.vec16() else { return };
        let Some(comps) = r.vec8() else { return };
        self.client_random = random.to_vec();
        self.extensions(sink, is_orig, r.rest());
        if !version_ok(version) {
            sink.violate(format!("unsupported client SSL version 0x{version:04x}"));
        } else {
            sink.confirm();
        }
        if sink.wants(EventKind::SslClientHello) {
            let possible_ts = f64::from(u32::from_be_bytes([random[0], random[1], random[2], random[3]]));
            let ciphers = u16s(suites).into_iter().map(u32::from).collect();
            let (client_random, session_id, comp_methods) = (random.to_vec(), session_id(sid), comps.to_vec());
            sink.raise(|c| Event::SslClientHello { c, version, record_version, possible_ts, client_random, session_id, ciphers, comp_methods });
        }
    }

    fn server_hello<S: Sink>(&mut self, sink: &mut S, is_orig: bool, record_version: u16, body: &[u8]) {
        let mut r = Rd(body);
        let Some(version) = r.u16() else { return };
        let Some(random) = r.take(32) else { return };
        let (sid, cipher, comp) = if is_tls13(version) {
            let Some(cipher) = r.u16() else { return };
            (None, cipher, 0)
        } else {
            let Some(sid) = r.vec8() else { return };
            let (Some(cipher), Some(comp)) = (r.u16(), r.u8()) else { return };
            (Some(sid), cipher, comp)
        };
        self.chosen_cipher = Some(u32::from(cipher));
        self.server_random = random.to_vec();
        self.extensions(sink, is_orig, r.rest());
        if self.chosen_version == 0 {
            self.chosen_version = version;
        }
        if !version_ok(version) {
            sink.violate(format!("unsupported server SSL version 0x{version:04x}"));
        }
        if sink.wants(EventKind::SslServerHello) {
            let possible_ts = f64::from(u32::from_be_bytes([random[0], random[1], random[2], random[3]]));
            let (server_random, session_id) = (random.to_vec(), session_id(sid.unwrap_or_default()));
            let cipher = u32::from(cipher);
            sink.raise(|c| Event::SslServerHello { c, version, record_version, possible_ts, server_random, session_id, cipher, comp_method: comp });
        }
    }

    /// A hello's extension block (its two-byte length, then the extensions).
    fn extensions<S: Sink>(&mut self, sink: &mut S, is_orig: bool, block: &[u8]) {
        let mut r = Rd(block);
        if r.u16().is_none() {
            return;
        }
        while !r.0.is_empty() {
            let (Some(code), Some(val)) = (r.u16(), r.vec16()) else { return };
            let client = is_orig ^ self.flipped;
            self.extension(sink, client, code, val);
            if sink.wants(EventKind::SslExtension) {
                let val = val.to_vec();
                sink.raise(|c| Event::SslExtension { c, is_client: client, code, val });
            }
        }
    }

    fn extension<S: Sink>(&mut self, sink: &mut S, client: bool, code: u16, val: &[u8]) {
        let mut r = Rd(val);
        match code {
            0 => {
                let mut names = Vec::new();
                if let Some(list) = r.vec16() {
                    let mut l = Rd(list);
                    while let (Some(kind), Some(name)) = (l.u8(), l.vec16()) {
                        if kind == 0 {
                            names.push(text(name));
                        }
                    }
                }
                if sink.wants(EventKind::SslExtensionServerName) {
                    sink.raise(|c| Event::SslExtensionServerName { c, is_client: client, names });
                }
            }
            16 => {
                let mut protocols = Vec::new();
                if let Some(list) = r.vec16() {
                    let mut l = Rd(list);
                    while let Some(p) = l.vec8() {
                        protocols.push(text(p));
                    }
                }
                if sink.wants(EventKind::SslExtensionApplicationLayerProtocolNegotiation) {
                    sink.raise(|c| Event::SslExtensionApplicationLayerProtocolNegotiation { c, is_client: client, protocols });
                }
            }
            43 => {
                let versions = if client { r.vec8().map(u16s).unwrap_or_default() } else { r.u16().into_iter().collect() };
                if !client && versions.len() == 1 && self.chosen_version == 0 {
                    self.chosen_version = versions[0];
                }
                if sink.wants(EventKind::SslExtensionSupportedVersions) {
                    sink.raise(|c| Event::SslExtensionSupportedVersions { c, is_client: client, versions });
                }
            }
            // key_share (40 before TLS 1.3 draft 23).
            40 | 51 => {
                let mut curves = Vec::new();
                if client {
                    if let Some(list) = r.vec16() {
                        let mut l = Rd(list);
                        while let (Some(g), Some(_)) = (l.u16(), l.vec16()) {
                            curves.push(g);
                        }
                    }
                } else if let Some(g) = r.u16() {
                    curves.push(g);
                }
                if sink.wants(EventKind::SslExtensionKeyShare) {
                    sink.raise(|c| Event::SslExtensionKeyShare { c, is_client: client, curves });
                }
            }
            10 => {
                let curves = r.vec16().map(u16s).unwrap_or_default();
                if sink.wants(EventKind::SslExtensionEllipticCurves) {
                    sink.raise(|c| Event::SslExtensionEllipticCurves { c, is_client: client, curves });
                }
            }
            11 => {
                let point_formats = r.vec8().unwrap_or_default().to_vec();
                if sink.wants(EventKind::SslExtensionEcPointFormats) {
                    sink.raise(|c| Event::SslExtensionEcPointFormats { c, is_client: client, point_formats });
                }
            }
            13 => {
                let list = r.vec16().unwrap_or_default();
                let signature_algorithms = list
                    .chunks_exact(2)
                    .map(|p| SslSignatureAndHashAlgorithm { hash_algorithm: p[0], signature_algorithm: p[1] })
                    .collect();
                if sink.wants(EventKind::SslExtensionSignatureAlgorithm) {
                    sink.raise(|c| Event::SslExtensionSignatureAlgorithm { c, is_client: client, signature_algorithms });
                }
            }
            _ => {}
        }
    }

    fn certificate<S: Sink>(&mut self, sink: &mut S, is_orig: bool, body: &[u8]) {
        let mut r = Rd(body);
        let tls13 = is_tls13(self.chosen_version);
        if tls13 && r.vec8().is_none() {
            return;
        }
        let Some(total) = r.u24() else { return };
        let Some(list) = r.take(total).or_else(|| Some(r.rest())) else { return };
        let mut l = Rd(list);
        let mut certs = Vec::new();
        while let Some(n) = l.u24() {
            let Some(der) = l.take(n) else { break };
            certs.push(der);
            if tls13 && l.vec16().is_none() {
                break;
            }
        }
        certificates(sink, is_orig ^ self.flipped, &certs);
    }

    fn server_key_exchange<S: Sink>(&mut self, sink: &mut S, body: &[u8]) {
        if !self.chosen_cipher.is_some_and(ecdhe_cipher) {
            return;
        }
        let mut r = Rd(body);
        let (Some(3), Some(curve), Some(point)) = (r.u8(), r.u16(), r.vec8()) else { return };
        if sink.wants(EventKind::SslEcdhServerParams) {
            let point = point.to_vec();
            sink.raise(|c| Event::SslEcdhServerParams { c, curve, point });
        }
    }

    /// A certificate request (TLS 1.0 to 1.2; TLS 1.3 sends it encrypted):
    /// certificate types, the signature algorithms (TLS 1.2 and DTLS 1.2),
    /// then the CAs' distinguished names.
    fn certificate_request<S: Sink>(&mut self, sink: &mut S, is_orig: bool, body: &[u8]) {
        if !sink.wants(EventKind::SslCertificateRequest) {
            return;
        }
        let mut r = Rd(body);
        let Some(types) = r.vec8() else { return };
        let signature_algorithms = if matches!(self.chosen_version, super::TLSV12 | 0xfefd) {
            let Some(list) = r.vec16() else { return };
            list.chunks_exact(2).map(|p| SslSignatureAndHashAlgorithm { hash_algorithm: p[0], signature_algorithm: p[1] }).collect()
        } else {
            Vec::new()
        };
        let mut authorities = Vec::new();
        if let Some(list) = r.vec16() {
            let mut l = Rd(list);
            while let Some(dn) = l.vec16() {
                authorities.push(dn.to_vec());
            }
        }
        let (is_client, certificate_types) = (is_orig ^ self.flipped, types.to_vec());
        sink.raise(|c| Event::SslCertificateRequest {
            c,
            is_client,
            certificate_types,
            supported_signature_algorithms: signature_algorithms,
            certificate_authorities: authorities,
        });
    }
}
