//! The X.224 layer of RDP (MS-RDPBCGR 2.2.1.1 and 2.2.1.2): TPKT frames
//! (version, reserved byte, big-endian length counting the header), each
//! holding a COTP unit (its length byte, the PDU type). The client's
//! connection request (0xe0) may carry a `Cookie: mstshash=` line and an
//! RDP negotiation request; the server's connection confirm (0xd0) an RDP
//! negotiation response (the security protocol chosen) or failure. Of the
//! data units (0xf0) only the server's MCS connect response is read: its
//! GCC conference create response (the result, which confirms the
//! protocol) and, of its data blocks, the server security data (encryption
//! method and level, the server's certificate: proprietary, or a chain of
//! X.509 certificates). Once the server chose a protocol other than
//! standard RDP security, both directions are TLS and go out as
//! [`Out::Tls`] unread; once it turned on standard RDP encryption, only the
//! sizes of the deliveries are reported.

/// The cookie's start in a connection request.
const COOKIE: &[u8] = b"Cookie: mstshash=";
/// The H.221 key of the server's GCC user data.
const SERVER_KEY: &[u8] = b"McDn";
/// Longest certificate (and most certificates) taken (Zeek's limits).
const MAX_DATA_LENGTH: usize = 262_144;
const MAX_CERTS: u32 = 1000;

/// One thing the parser found, in the order Zeek raises it.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    ConnectRequest { cookie: Vec<u8>, flags: u64 },
    NegotiationResponse { security_protocol: u64, flags: u64 },
    NegotiationFailure { failure_code: u64, flags: u64 },
    BeginEncryption(u64),
    GccServerCreateResponse(u64),
    ServerSecurity { encryption_method: u64, encryption_level: u64 },
    ServerCertificate { cert_type: u64, permanently_issued: bool },
    /// One X.509 certificate of the server's chain (DER), at its index.
    X509 { index: usize, der: Vec<u8> },
    NativeEncryptedData { is_orig: bool, len: u64 },
    /// The protocol is confirmed.
    Confirm,
    /// The data breaks the protocol.
    Violate(String),
    /// Bytes of one direction after the switch to TLS.
    Tls { is_orig: bool, data: Vec<u8> },
}

/// The parser of one connection.
#[derive(Clone, Debug, Default)]
pub struct Parser {
    /// Unparsed bytes of the client, of the server.
    buf: [Vec<u8>; 2],
    /// The security protocol chose TLS: everything after is TLS.
    pub tls: bool,
    /// A violation or a gap: nothing more is read.
    pub dead: bool,
    /// Standard RDP encryption is on: nothing more is parsed.
    native: bool,
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl Parser {
    /// Takes the next in-order bytes of one direction.
    pub fn feed(&mut self, is_orig: bool, data: &[u8], out: &mut Vec<Out>) {
        if self.dead {
            return;
        }
        if self.tls {
            if !data.is_empty() {
                out.push(Out::Tls { is_orig, data: data.to_vec() });
            }
            return;
        }
        if self.native {
            out.push(Out::NativeEncryptedData { is_orig, len: data.len() as u64 });
            return;
        }
        let side = usize::from(!is_orig);
        self.buf[side].extend_from_slice(data);
        while !self.dead && !self.tls && !self.native {
            let b = &self.buf[side];
            if b.len() < 4 {
                return;
            }
            let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
            if len < 6 {
                return self.violate(format!("Binpac exception: TPKT length {len} too short"), out);
            }
            if b.len() < len {
                return;
            }
            let frame: Vec<u8> = self.buf[side].drain(..len).collect();
            self.cotp(is_orig, &frame[4..], out);
        }
        if self.tls {
            // What followed the confirm (either side's) is TLS too.
            for (side, is_orig) in [(side, is_orig), (1 - side, !is_orig)] {
                let rest = std::mem::take(&mut self.buf[side]);
                if !rest.is_empty() {
                    out.push(Out::Tls { is_orig, data: rest });
                }
            }
        }
    }

    fn violate(&mut self, reason: String, out: &mut Vec<Out>) {
        out.push(Out::Violate(reason));
        self.dead = true;
        self.buf = [Vec::new(), Vec::new()];
    }

    /// One COTP unit (the TPKT frame's payload).
    fn cotp(&mut self, is_orig: bool, unit: &[u8], out: &mut Vec<Out>) {
        let (cotp_len, pdu) = (usize::from(unit[0]), unit[1]);
        let body = &unit[2..];
        match pdu {
            0xe0 => self.connect_request(cotp_len, body, out),
            0xd0 => self.connect_confirm(cotp_len, body, out),
            // A data unit: its number, then an MCS PDU; BER's application
            // tag 102 (0x7f 0x66) is the connect response.
            0xf0 if !is_orig && body.get(1..3) == Some(&[0x7f, 0x66][..]) => self.connect_response(&body[3..], out),
            _ => {}
        }
    }

    /// The MCS connect response after its application tag: BER fields up
    /// to the GCC conference create response, found by its H.221 key
    /// (`McDn`), then the server's data blocks.
    fn connect_response(&mut self, body: &[u8], out: &mut Vec<Out>) {
        let Some(key) = body.windows(SERVER_KEY.len()).position(|w| w == SERVER_KEY) else {
            return self.violate("Binpac exception: no GCC conference create response".into(), out);
        };
        // The result is four bytes before the key (result, number of user
        // data sets, value present, key length); a 16-bit length follows it.
        if key < 4 {
            return self.violate("Binpac exception: short GCC conference create response".into(), out);
        }
        out.push(Out::Confirm);
        out.push(Out::GccServerCreateResponse(u64::from(body[key - 4])));
        let mut blocks = body.get(key + SERVER_KEY.len() + 2..).unwrap_or(b"");
        while blocks.len() >= 4 {
            let (typ, len) = (le16(blocks), usize::from(le16(&blocks[2..])));
            if len < 4 || len > blocks.len() {
                return self.violate("Binpac exception: bad server data block".into(), out);
            }
            if typ == 0x0c02 {
                self.server_security(&blocks[4..len], out);
                if self.dead {
                    return;
                }
            }
            blocks = &blocks[len..];
        }
    }

    /// The server security data block (MS-RDPBCGR 2.2.1.4.3).
    fn server_security(&mut self, b: &[u8], out: &mut Vec<Out>) {
        if b.len() < 16 {
            return self.violate("Binpac exception: short server security data".into(), out);
        }
        let (method, level, random_len, cert_len) = (le32(b), le32(&b[4..]), le32(&b[8..]) as usize, le32(&b[12..]) as usize);
        if !((level == 0 && method == 0 && random_len == 0) || random_len == 0x20) || random_len > MAX_DATA_LENGTH {
            return self.violate("Binpac exception: bad server random length".into(), out);
        }
        let Some(cert) = b.get(16 + random_len..16 + random_len + cert_len) else {
            return self.violate("Binpac exception: short server certificate".into(), out);
        };
        if cert.len() >= 4 {
            let version = le32(cert);
            let cert_type = version & 0x7fff_ffff;
            if cert_type == 2 {
                self.x509_chain(&cert[4..], out);
                if self.dead {
                    return;
                }
            }
            out.push(Out::ServerCertificate { cert_type: u64::from(cert_type), permanently_issued: version & 0x8000_0000 == 0 });
        }
        if method > 0 && level > 0 {
            out.push(Out::BeginEncryption(0));
            self.native = true;
        }
        out.push(Out::ServerSecurity { encryption_method: u64::from(method), encryption_level: u64::from(level) });
    }

    /// An X.509 certificate chain: a count, then each certificate's length
    /// and DER.
    fn x509_chain(&mut self, b: &[u8], out: &mut Vec<Out>) {
        let Some(n) = b.get(..4).map(le32).filter(|&n| n <= MAX_CERTS) else {
            return self.violate("Binpac exception: bad certificate count".into(), out);
        };
        let mut rest = &b[4..];
        for index in 0..n as usize {
            let len = rest.get(..4).map(|l| le32(l) as usize);
            match len.filter(|&l| l <= MAX_DATA_LENGTH).and_then(|l| rest.get(4..4 + l)) {
                Some(der) => {
                    out.push(Out::X509 { index, der: der.to_vec() });
                    rest = &rest[4 + der.len()..];
                }
                None => return self.violate("Binpac exception: bad certificate".into(), out),
            }
        }
    }

    fn connect_request(&mut self, cotp_len: usize, body: &[u8], out: &mut Vec<Out>) {
        // Destination and source references, class and options.
        let Some(mut rest) = body.get(5..) else {
            return self.violate("Binpac exception: connection request too short".into(), out);
        };
        let mut cookie = Vec::new();
        let mut cookie_size = 0;
        if let Some(r) = rest.strip_prefix(COOKIE) {
            let end = r.iter().position(|&c| c == b'\r').unwrap_or(r.len());
            if !r[end..].starts_with(b"\r\n") {
                return self.violate("Binpac exception: cookie without its line end".into(), out);
            }
            cookie = r[..end].to_vec();
            cookie_size = COOKIE.len() + end + 2;
            rest = &r[end + 2..];
        }
        // The COTP length (which counts the PDU type and what follows) says
        // whether a negotiation request follows.
        let mut flags = 0;
        if cotp_len != 6 + cookie_size {
            match rest {
                [_, f, l0, l1, _, _, _, _, ..] if le16(&[*l0, *l1]) == 8 => flags = u64::from(*f),
                _ => return self.violate("Binpac exception: bad RDP negotiation request".into(), out),
            }
        }
        out.push(Out::ConnectRequest { cookie, flags });
    }

    fn connect_confirm(&mut self, cotp_len: usize, body: &[u8], out: &mut Vec<Out>) {
        let Some(rest) = body.get(5..) else {
            return self.violate("Binpac exception: connection confirm too short".into(), out);
        };
        if cotp_len == 6 {
            return;
        }
        match rest {
            [0x02, flags, l0, l1, p @ ..] if p.len() >= 4 => {
                if le16(&[*l0, *l1]) != 8 {
                    return self.violate("Binpac exception: bad RDP negotiation response".into(), out);
                }
                let security_protocol = u64::from(le32(p));
                out.push(Out::NegotiationResponse { security_protocol, flags: u64::from(*flags) });
                if security_protocol > 0 {
                    out.push(Out::BeginEncryption(security_protocol));
                    self.tls = true;
                }
            }
            [0x03, flags, _, _, c @ ..] if c.len() >= 4 => {
                out.push(Out::NegotiationFailure { failure_code: u64::from(le32(c)), flags: u64::from(*flags) })
            }
            _ => self.violate("Binpac exception: bad connection confirm".into(), out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] = b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x0b\x00\x00\x00";
    const CONFIRM: &[u8] = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x08\x00\x00\x00";

    fn run(steps: &[(bool, &[u8])]) -> Vec<Out> {
        let (mut p, mut out) = (Parser::default(), Vec::new());
        for (is_orig, d) in steps {
            p.feed(*is_orig, d, &mut out);
        }
        out
    }

    #[test]
    fn negotiated_tls_hands_both_sides_over() {
        let out = run(&[(true, REQUEST), (false, CONFIRM), (true, b"\x16\x03\x03"), (false, b"\x16\x03\x03\x00")]);
        assert_eq!(
            out,
            [
                Out::ConnectRequest { cookie: Vec::new(), flags: 0 },
                Out::NegotiationResponse { security_protocol: 8, flags: 0x1f },
                Out::BeginEncryption(8),
                Out::Tls { is_orig: true, data: b"\x16\x03\x03".to_vec() },
                Out::Tls { is_orig: false, data: b"\x16\x03\x03\x00".to_vec() },
            ]
        );
    }

    #[test]
    fn cookie_and_split_frames() {
        let mut req = b"\x03\x00\x00\x00\x00\xe0\x00\x00\x00\x00\x00Cookie: mstshash=bob\r\n".to_vec();
        req.extend_from_slice(b"\x01\x02\x08\x00\x03\x00\x00\x00");
        req[3] = req.len() as u8;
        req[4] = (req.len() - 5) as u8;
        let (mut p, mut out) = (Parser::default(), Vec::new());
        for b in &req {
            p.feed(true, &[*b], &mut out);
        }
        assert_eq!(out, [Out::ConnectRequest { cookie: b"bob".to_vec(), flags: 2 }]);
    }

    #[test]
    fn failure_and_standard_security_stay_plain() {
        let mut fail = CONFIRM.to_vec();
        fail[11] = 0x03;
        let out = run(&[(false, &fail), (false, b"\x03\x00\x00\x07\x02\xf0\x80")]);
        assert_eq!(out, [Out::NegotiationFailure { failure_code: 8, flags: 0x1f }]);
        let mut rdp = CONFIRM.to_vec();
        rdp[15] = 0;
        let out = run(&[(false, &rdp)]);
        assert_eq!(out, [Out::NegotiationResponse { security_protocol: 0, flags: 0x1f }]);
    }

    /// A server MCS connect response whose security data holds an X.509
    /// chain of `certs` and the given encryption method and level.
    fn connect_response(certs: &[&[u8]], method: u32, level: u32) -> Vec<u8> {
        let mut cert = 0x8000_0002u32.to_le_bytes().to_vec();
        cert.extend_from_slice(&(certs.len() as u32).to_le_bytes());
        for c in certs {
            cert.extend_from_slice(&(c.len() as u32).to_le_bytes());
            cert.extend_from_slice(c);
        }
        let random = if method > 0 { 32 } else { 0 };
        let mut sec = [method, level, random, cert.len() as u32].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        sec.extend(std::iter::repeat(0xaa).take(random as usize));
        sec.extend(cert);
        let mut block = 0x0c02u16.to_le_bytes().to_vec();
        block.extend_from_slice(&((sec.len() + 4) as u16).to_le_bytes());
        block.extend(sec);
        // tpdu number, the connect response's tag, BER fields, the GCC
        // create response (result 0) and its key.
        let mut unit = b"\x02\xf0\x80\x7f\x66\x82\x00\x00\x0a\x01\x00\x02\x01\x00\x30\x00\x04\x82\x00\x00".to_vec();
        unit.extend_from_slice(b"\x00\x05\x00\x14\x7c\x00\x01\x2a\x14\x76\x0a\x01\x01\x00\x01\xc0\x00McDn\x00\x00");
        unit.extend(block);
        let mut frame = vec![3, 0];
        frame.extend_from_slice(&((unit.len() + 4) as u16).to_be_bytes());
        frame.extend(unit);
        frame
    }

    #[test]
    fn server_security_data_and_certificates() {
        let frame = connect_response(&[b"one", b"two"], 0, 0);
        let out = run(&[(false, &frame)]);
        assert_eq!(
            out,
            [
                Out::Confirm,
                Out::GccServerCreateResponse(0),
                Out::X509 { index: 0, der: b"one".to_vec() },
                Out::X509 { index: 1, der: b"two".to_vec() },
                Out::ServerCertificate { cert_type: 2, permanently_issued: false },
                Out::ServerSecurity { encryption_method: 0, encryption_level: 0 },
            ]
        );
        let frame = connect_response(&[b"c"], 2, 1);
        let out = run(&[(false, &frame), (true, b"secret")]);
        assert_eq!(out[4..], [
            Out::BeginEncryption(0),
            Out::ServerSecurity { encryption_method: 2, encryption_level: 1 },
            Out::NativeEncryptedData { is_orig: true, len: 6 },
        ]);
    }

    #[test]
    fn malformed_units_are_violations() {
        assert!(matches!(&run(&[(true, b"\x03\x00\x00\x02")])[..], [Out::Violate(_)]));
        let mut bad = REQUEST.to_vec();
        bad[13] = 9;
        let out = run(&[(true, &bad), (true, REQUEST)]);
        assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("negotiation")), "nothing after: {out:?}");
    }
}
