//! The record layer: five-byte TLS record headers (or SSLv2's two-byte
//! length with the message type after it), collected per direction, with
//! Zeek's checks: the first header fixes the record layer's version, later
//! headers must carry SSLv3 to TLS 1.2, anything else is a violation and
//! parsing stops. A record is plaintext until its side sent a
//! change-cipher-spec, or, on a TLS 1.3 connection, an application-data
//! record; the first encrypted record after both sides switched establishes
//! the connection.

use super::handshake::Handshake;
use super::{is_tls13, version_ok, Sink, SslConfig, SSLV2, SSLV3, TLSV10, TLSV11, TLSV12};
use weir_events::{Event, EventKind};

/// Change cipher spec.
pub const CHANGE_CIPHER_SPEC: u16 = 20;
/// Alert.
pub const ALERT: u16 = 21;
/// Handshake.
pub const HANDSHAKE: u16 = 22;
/// Application data.
pub const APPLICATION_DATA: u16 = 23;
/// Heartbeat.
pub const HEARTBEAT: u16 = 24;
/// SSLv2 error (message type + 300).
const V2_ERROR: u16 = 300;
/// SSLv2 client hello.
const V2_CLIENT_HELLO: u16 = 301;
/// SSLv2 client master key.
const V2_CLIENT_MASTER_KEY: u16 = 302;
/// SSLv2 server hello.
const V2_SERVER_HELLO: u16 = 304;

/// Most bytes collected for one record (a TLS record is at most 2^14 plus
/// expansion; SSLv2 at most 2^15): past it the stream is not TLS.
const MAX_RECORD: usize = 1 << 16;

/// `originator` or `responder`, as Zeek's reasons say.
pub fn orig_label(is_orig: bool) -> &'static str {
    if is_orig {
        "originator"
    } else {
        "responder"
    }
}

/// The whole connection's SSL state.
#[derive(Clone, Debug, Default)]
pub struct Parser {
    /// Settings.
    pub cfg: SslConfig,
    /// The record layer version fixed by the first records (None: not yet).
    record_layer: Option<u16>,
    /// Each side (by originator = 0) switched to encrypted records.
    encrypted: [bool; 2],
    /// `ssl_established` was raised.
    pub established: bool,
    /// A violation stopped parsing (Zeek's `SetSkip`).
    pub skip: bool,
    /// Bytes of an unfinished record, per side.
    buf: [Vec<u8>; 2],
    /// The handshake layer.
    pub hs: Handshake,
    /// DTLS: handshake messages come with DTLS's fragment headers.
    pub dtls: Option<super::dtls::Reassembly>,
    /// TLS 1.2 decryption (with `SSL::secrets` or `SSL::keys` only).
    pub decryption: super::decrypt::Decryption,
}

impl Parser {
    /// A parser with these settings.
    pub fn new(cfg: SslConfig) -> Parser {
        Parser { cfg, ..Parser::default() }
    }

    /// Whether the negotiated version is TLS 1.3 (or a draft).
    fn tls13(&self) -> bool {
        is_tls13(self.hs.chosen_version)
    }

    /// Stops parsing after a violation.
    pub fn fail<S: Sink>(&mut self, sink: &mut S, reason: String) {
        sink.violate(reason);
        self.skip = true;
    }

    /// The next bytes of one direction.
    pub fn feed<S: Sink>(&mut self, sink: &mut S, is_orig: bool, mut data: &[u8]) {
        let side = usize::from(!is_orig);
        while !data.is_empty() && !self.skip {
            let buf = &mut self.buf[side];
            if buf.len() < 5 {
                let n = (5 - buf.len()).min(data.len());
                buf.extend_from_slice(&data[..n]);
                data = &data[n..];
                if buf.len() < 5 {
                    return;
                }
            }
            let head = [buf[0], buf[1], buf[2], buf[3], buf[4]];
            let Some((version, content_type, length)) = self.header(sink, head, is_orig) else { return };
            let want = 5 + length;
            let buf = &mut self.buf[side];
            let n = (want - buf.len()).min(data.len());
            buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if buf.len() < want {
                return;
            }
            let rec = std::mem::take(buf);
            self.record(sink, is_orig, head, version, content_type, &rec[5..]);
        }
    }

    /// Reads a record header: the raw record version (0 for SSLv2), the
    /// content type (SSLv2's message type + 300) and the body length; None
    /// after a violation.
    fn header<S: Sink>(&mut self, sink: &mut S, h: [u8; 5], is_orig: bool) -> Option<(u16, u16, usize)> {
        let layer = self.record_layer(sink, h, is_orig)?;
        if layer == SSLV2 {
            let len = ((usize::from(h[0] & 0x7f) << 8) | usize::from(h[1])).checked_sub(3);
            let Some(len) = len else {
                self.fail(sink, format!("Invalid SSLv2 record length {}", (usize::from(h[0] & 0x7f) << 8) | usize::from(h[1])));
                return None;
            };
            return Some((0, u16::from(h[2]) + 300, len));
        }
        let len = (usize::from(h[3]) << 8) | usize::from(h[4]);
        if len > MAX_RECORD {
            self.fail(sink, format!("SSL record too long: {len}"));
            return None;
        }
        Some(((u16::from(h[1]) << 8) | u16::from(h[2]), u16::from(h[0]), len))
    }

    /// Zeek's `determine_ssl_record_layer`.
    fn record_layer<S: Sink>(&mut self, sink: &mut S, h: [u8; 5], is_orig: bool) -> Option<u16> {
        let classic = |v: u16| matches!(v, SSLV3 | TLSV10 | TLSV11 | TLSV12);
        let version = (u16::from(h[1]) << 8) | u16::from(h[2]);
        if let Some(layer) = self.record_layer {
            if layer != SSLV2 && !classic(version) {
                self.fail(sink, format!("Invalid version late in TLS connection. Packet reported version: {version}"));
                return None;
            }
            return Some(layer);
        }
        if h[0] & 0x80 != 0 {
            if h[2] == 0x01 && is_orig {
                let v = (u16::from(h[3]) << 8) | u16::from(h[4]);
                if v != SSLV2 && !classic(v) {
                    self.fail(sink, format!("Invalid version in SSL client hello. Version: {v}"));
                    return None;
                }
                return Some(SSLV2);
            }
            if h[2] == 0x04 && h[4] < 2 && !is_orig {
                self.record_layer = Some(SSLV2);
                return Some(SSLV2);
            }
            self.fail(sink, format!("Invalid headers in SSL connection. Head1: {}, head2: {}, head3: {}", h[1], h[2], h[3]));
            return None;
        }
        if !classic(version) {
            self.fail(sink, format!("Invalid version in TLS connection. Version: {version}"));
            return None;
        }
        if (20..=30).contains(&h[0]) {
            self.record_layer = Some(version);
            return Some(version);
        }
        self.fail(sink, format!("Invalid type in TLS connection. Version: {version}, Type: {}", h[0]));
        None
    }

    /// Zeek's `determine_state`: whether the record is encrypted.
    fn encrypted_now(&mut self, is_orig: bool, content_type: u16) -> bool {
        let side = usize::from(!is_orig);
        if self.encrypted[side] || content_type != APPLICATION_DATA {
            return self.encrypted[side];
        }
        let v = self.hs.chosen_version;
        if !matches!(v, SSLV2 | SSLV3 | TLSV10 | TLSV11 | TLSV12) {
            self.encrypted[side] = true;
        }
        self.encrypted[side]
    }

    /// One whole record (`head` matters for SSLv2 only).
    pub(super) fn record<S: Sink>(&mut self, sink: &mut S, is_orig: bool, head: [u8; 5], version: u16, ct: u16, body: &[u8]) {
        let client = is_orig ^ self.hs.flipped;
        let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
        if self.encrypted_now(is_orig, ct) {
            if !self.established && self.tls13() && sink.wants(EventKind::SslProbableEncryptedHandshakeMessage) {
                sink.raise(|c| Event::SslProbableEncryptedHandshakeMessage { c, is_client: is_orig, length: len });
            }
            if self.encrypted == [true, true] && !self.established {
                self.established = true;
                if sink.wants(EventKind::SslEstablished) {
                    sink.raise(|c| Event::SslEstablished { c });
                }
            }
            if sink.wants(EventKind::SslEncryptedData) {
                let ct = ct as u8;
                sink.raise(|c| Event::SslEncryptedData { c, is_client: client, record_version: version, content_type: ct, length: len });
            }
            if ct == APPLICATION_DATA {
                self.application_data(client, version, body);
            }
            return;
        }
        match ct {
            CHANGE_CIPHER_SPEC => {
                if !self.tls13() {
                    self.encrypted[usize::from(!is_orig)] = true;
                }
                if sink.wants(EventKind::SslChangeCipherSpec) {
                    sink.raise(|c| Event::SslChangeCipherSpec { c, is_client: client });
                }
            }
            ALERT => {
                let max = if self.tls13() { 2 } else { self.cfg.max_alerts_per_record.saturating_mul(2) };
                let mut n = body.len();
                if n as u64 > max {
                    sink.weird("SSL_excessive_alerts_in_record", format!("{}", n / 2));
                    n = max as usize;
                }
                for a in body[..n].chunks_exact(2) {
                    if sink.wants(EventKind::SslAlert) {
                        let (level, desc) = (a[0], a[1]);
                        sink.raise(|c| Event::SslAlert { c, is_client: client, level, desc });
                    }
                }
            }
            HANDSHAKE => match self.dtls.as_mut() {
                Some(r) => {
                    for msg in r.fragments(is_orig, body) {
                        self.hs.feed(sink, is_orig, version, &msg);
                    }
                }
                None => self.hs.feed(sink, is_orig, version, body),
            },
            APPLICATION_DATA => {}
            HEARTBEAT => {
                if body.len() >= 3 && sink.wants(EventKind::SslHeartbeat) {
                    let (heartbeat_type, payload_length) = (body[0], u16::from_be_bytes([body[1], body[2]]));
                    let payload = body[3..].to_vec();
                    sink.raise(|c| Event::SslHeartbeat { c, is_client: client, length: len, heartbeat_type, payload_length, payload });
                }
            }
            V2_ERROR => {
                if sink.wants(EventKind::SslAlert) {
                    // SSLv2 errors carry no level; Zeek's -1 shows as 255 here.
                    let desc = head[4];
                    sink.raise(|c| Event::SslAlert { c, is_client: client, level: u8::MAX, desc });
                }
            }
            V2_CLIENT_HELLO => self.v2_client_hello(sink, head, body),
            V2_SERVER_HELLO => self.v2_server_hello(sink, is_orig, head, body),
            V2_CLIENT_MASTER_KEY => {
                self.encrypted = [true, true];
                if sink.wants(EventKind::SslEstablished) {
                    sink.raise(|c| Event::SslEstablished { c });
                }
            }
            _ if ct >= 300 => {}
            _ => {
                let reason = format!("unknown SSL record type ({ct}) from {}", orig_label(is_orig));
                sink.violate(reason);
            }
        }
        if ct < 300 && sink.wants(EventKind::SslPlaintextData) {
            let ct = ct as u8;
            sink.raise(|c| Event::SslPlaintextData { c, is_client: client, record_version: version, content_type: ct, length: len });
        }
    }

    /// An encrypted application-data record: decrypted when a secret or
    /// keys for the connection's client random are configured.
    fn application_data(&mut self, is_client: bool, version: u16, body: &[u8]) {
        if self.cfg.secrets.is_empty() || self.dtls.is_some() {
            return;
        }
        let hs = &self.hs;
        self.decryption.record(
            &self.cfg.secrets,
            &hs.client_random,
            &hs.server_random,
            hs.chosen_cipher,
            is_client,
            APPLICATION_DATA as u8,
            version,
            body,
        );
    }

    fn v2_client_hello<S: Sink>(&mut self, sink: &mut S, head: [u8; 5], b: &[u8]) {
        if b.len() < 6 {
            return;
        }
        let u16_at = |i: usize| usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
        let (cl, sl, chl) = (u16_at(0), u16_at(2), u16_at(4));
        let Some(rest) = b.get(6..6 + cl + sl + chl) else { return };
        let version = u16::from_be_bytes([head[3], head[4]]);
        if !version_ok(version) {
            self.fail(sink, format!("unsupported client SSL version 0x{version:04x}"));
        } else {
            sink.confirm();
        }
        if sink.wants(EventKind::SslClientHello) {
            let ciphers = rest[..cl - cl % 3].chunks_exact(3).map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]])).collect();
            let session_id = super::handshake::session_id(&rest[cl..cl + sl]);
            let client_random = rest[cl + sl..].to_vec();
            sink.raise(|c| Event::SslClientHello {
                c,
                version,
                record_version: 0,
                possible_ts: 0.0,
                client_random,
                session_id,
                ciphers,
                comp_methods: Vec::new(),
            });
        }
    }

    fn v2_server_hello<S: Sink>(&mut self, sink: &mut S, is_orig: bool, head: [u8; 5], b: &[u8]) {
        let _ = head;
        if b.len() < 8 {
            return;
        }
        let u16_at = |i: usize| usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
        let version = u16_at(0) as u16;
        let (certl, cl, idl) = (u16_at(2), u16_at(4), u16_at(6));
        let Some(rest) = b.get(8..8 + certl + cl + idl) else { return };
        if version != SSLV2 {
            self.fail(sink, format!("Invalid version in SSL server hello. Version: {version}"));
            return;
        }
        let cert = &rest[..certl];
        if !cert.is_empty() {
            let client = is_orig ^ self.hs.flipped;
            super::handshake::certificates(sink, client, &[cert]);
        }
        if sink.wants(EventKind::SslServerHello) {
            let ciphers = &rest[certl..certl + cl];
            let cipher = if ciphers.len() >= 3 { u32::from_be_bytes([0, ciphers[0], ciphers[1], ciphers[2]]) } else { 0 };
            let server_random = rest[certl + cl..].to_vec();
            sink.raise(|c| Event::SslServerHello {
                c,
                version,
                record_version: 0,
                possible_ts: 0.0,
                server_random,
                session_id: vec![0; 32],
                cipher,
                comp_method: 0,
            });
        }
        if self.hs.chosen_version == 0 {
            self.hs.chosen_version = version;
        }
    }
}
