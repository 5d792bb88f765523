//! SSH's cleartext part, per direction: the identification line (RFC 4253
//! §4.2; a server may send other lines first), then binary packets (SSH-2:
//! RFC 4253 §6; SSH-1: its length, padding to 8 bytes, type and CRC) until
//! the key exchange ends (SSH-2 `NEWKEYS`, SSH-1 any message), after which
//! only the sizes of what flows are known. The key exchange messages read
//! depend on the algorithm both KEXINITs agree on, as in Zeek's analyzer;
//! the sizes of the first encrypted packets drive Zeek's guess whether the
//! client authenticated.
//!
//! [`Parser::feed`] turns one delivery into [`Out`] items; nothing here
//! panics on any input.

/// `SSH::max_packet_length`: longer packets are cut to it (weird).
pub const MAX_PACKET_LENGTH: u32 = 8 * 1024 * 1024;
/// `SSH::max_string_length`: longer strings are cut to it (weird).
pub const MAX_STRING_LENGTH: u32 = 2 * 1024 * 1024;
/// `SSH::max_kexinit_*`: names kept per KEXINIT list.
pub const MAX_KEXINIT_ALGORITHMS: usize = 100;
/// Packet bytes of one direction kept while the version is not known yet.
const MAX_EARLY: usize = 256 * 1024;
/// Longest identification or pre-banner line kept while its end is awaited.
const MAX_LINE: usize = 64 * 1024;

/// The protocol version both banners agree on (Zeek's `update_version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// SSH-1.x.
    V1,
    /// SSH-2.0 (also 1.99 against 2.0 or 1.99).
    V2,
    /// Not known (yet), or the two sides disagree.
    Unknown,
    /// 1.99: either.
    V199,
}

/// Where one direction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Banner,
    KexInit,
    Dh,
    DhGex,
    Ecc,
    Gss,
    Rsa,
    Encrypted,
}

/// One KEXINIT algorithm list per direction (`SSH::Algorithm_Prefs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prefs {
    /// Client to server.
    pub c2s: Option<Vec<String>>,
    /// Server to client.
    pub s2c: Option<Vec<String>>,
}

/// What one KEXINIT offers (`SSH::Capabilities`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// Key exchange algorithms.
    pub kex: Vec<String>,
    /// Host key algorithms.
    pub host_key: Vec<String>,
    /// Ciphers.
    pub encryption: Prefs,
    /// MACs.
    pub mac: Prefs,
    /// Compression.
    pub compression: Prefs,
    /// Languages, when either list is not empty.
    pub languages: Option<Prefs>,
    /// Sent by the server.
    pub is_server: bool,
}

/// What the parser found, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// The client's identification line.
    ClientVersion(Vec<u8>),
    /// The server's identification line.
    ServerVersion(Vec<u8>),
    /// A server line before its identification.
    PreBanner(Vec<u8>),
    /// A KEXINIT.
    Capabilities { cookie: Vec<u8>, caps: Box<Caps> },
    /// An SSH-2 host key blob.
    HostKey2(Vec<u8>),
    /// An SSH-1 host key.
    HostKey1 { modulus: Vec<u8>, exponent: Vec<u8> },
    /// Encrypted bytes of one delivery.
    Encrypted { is_orig: bool, len: u64 },
    /// `ssh_auth_attempted`.
    AuthAttempted(bool),
    /// `ssh_auth_successful`.
    AuthSuccessful(bool),
    /// A DH group exchange's group.
    DhServerParams { p: Vec<u8>, q: Vec<u8> },
    /// A GSS-API error.
    GssError { major: u32, minor: u32, msg: Vec<u8> },
    /// An ECDH public value.
    EccKey { is_orig: bool, q: Vec<u8> },
    /// ECDH init.
    EccInit(bool),
    /// DH (group exchange) init.
    DhGexInit(bool),
    /// GSS-API init.
    GssInit(bool),
    /// RSA key exchange secret.
    RsaSecret(bool),
    /// A weird with its extra text.
    Weird(&'static str, String),
    /// A limit reached (weird, then history `X`).
    Limit(&'static str, String),
    /// The key exchange ended: the protocol is confirmed.
    Confirm,
    /// The data is not SSH.
    Violate(String),
}

/// The authentication guess's state (Zeek's `ProcessEncrypted`).
#[derive(Clone, Debug, Default)]
struct Auth {
    decided: bool,
    skipped_banner: bool,
    saw_client: bool,
    service_accept_size: i64,
    failure_size: i64,
}

/// Parser state of one connection.
#[derive(Clone, Debug)]
pub struct Parser {
    state: [State; 2],
    buf: [Vec<u8>; 2],
    client: Version,
    server: Version,
    version: Version,
    /// The first KEXINIT's sender and kex list.
    kex_first: Option<(bool, Vec<u8>)>,
    auth: Auth,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            state: [State::Banner; 2],
            buf: [Vec::new(), Vec::new()],
            client: Version::Unknown,
            server: Version::Unknown,
            version: Version::Unknown,
            kex_first: None,
            auth: Auth::default(),
        }
    }
}

fn dir(is_orig: bool) -> usize {
    usize::from(is_orig)
}

/// A big-endian reader over one message; `None` when it runs out.
struct Rd<'a> {
    d: &'a [u8],
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.d.len() {
            return None;
        }
        let (a, b) = self.d.split_at(n);
        self.d = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// An SSH string, cut at `SSH::max_string_length`.
    fn string(&mut self, out: &mut Vec<Out>) -> Option<&'a [u8]> {
        let mut len = self.u32()?;
        if len > MAX_STRING_LENGTH {
            out.push(Out::Limit("SSH_max_string_length_exceeded", format!("{len} > {MAX_STRING_LENGTH}")));
            len = MAX_STRING_LENGTH;
        }
        self.take(len as usize)
    }
    /// An SSH-1 multiple-precision integer (bit count, then bytes).
    fn mp_int(&mut self) -> Option<&'a [u8]> {
        let bits = self.u16()?;
        self.take(usize::from(bits).div_ceil(8))
    }
}

/// A comma-separated name list, at most [`MAX_KEXINIT_ALGORITHMS`] names
/// (a weird `weird` says so past it).
fn names(list: &[u8], weird: &'static str, out: &mut Vec<Out>) -> Vec<String> {
    let all: Vec<&[u8]> = list.split(|&b| b == b',').collect();
    if all.len() > MAX_KEXINIT_ALGORITHMS {
        out.push(Out::Limit(weird, format!("{} > {MAX_KEXINIT_ALGORITHMS}", all.len())));
    }
    all.iter().take(MAX_KEXINIT_ALGORITHMS).map(|w| String::from_utf8_lossy(w).into_owned()).collect()
}

/// The version an identification line announces (Zeek's `update_version`).
fn line_version(v: &[u8]) -> Option<Version> {
    if v.len() < 5 {
        return None;
    }
    match v[4] {
        b'2' => Some(Version::V2),
        b'1' if v.len() >= 8 && v[6] == b'9' && v[7] == b'9' => Some(Version::V199),
        b'1' => Some(Version::V1),
        _ => None,
    }
}

/// The version of a client and a server version.
fn agree(client: Version, server: Version) -> Option<Version> {
    use Version::*;
    match (client, server) {
        (a, b) if a == b => Some(if a == V199 { V2 } else { a }),
        (V1, V2) | (V2, V1) => Some(Unknown),
        (V199, V2) | (V2, V199) => Some(V2),
        (V1, V199) | (V199, V1) => Some(V1),
        _ => None,
    }
}

/// The key exchange state of algorithm `alg` (`update_kex`), if known.
fn kex_state(alg: &[u8]) -> Option<State> {
    const EQUAL: [(&str, State); 9] = [
        ("rsa1024-sha1", State::Rsa),
        ("rsa2048-sha256", State::Rsa),
        ("diffie-hellman-group1-sha1", State::Dh),
        ("diffie-hellman-group14-sha1", State::Dh),
        ("diffie-hellman-group14-sha256", State::Dh),
        ("diffie-hellman-group16-sha512", State::Dh),
        ("diffie-hellman-group18-sha512", State::Dh),
        ("diffie-hellman-group-exchange-sha1", State::DhGex),
        ("diffie-hellman-group-exchange-sha256", State::DhGex),
    ];
    const PREFIX: [(&str, State); 5] = [
        ("gss-", State::Gss),
        ("ecdh-sha2-", State::Ecc),
        ("curve25519-sha256", State::Ecc),
        ("sntrup761x25519-sha512", State::Ecc),
        ("mlkem", State::Ecc),
    ];
    if let Some(&(_, s)) = EQUAL.iter().find(|(n, _)| n.as_bytes() == alg) {
        return Some(s);
    }
    if alg == b"ecmqv-sha2" {
        return Some(State::Ecc);
    }
    PREFIX.iter().find(|(p, _)| alg.starts_with(p.as_bytes())).map(|&(_, s)| s)
}

impl Parser {
    /// The version both sides agree on so far.
    #[cfg(test)]
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether direction `is_orig` is past its key exchange.
    #[cfg(test)]
    pub fn encrypted(&self, is_orig: bool) -> bool {
        self.state[dir(is_orig)] == State::Encrypted
    }

    /// One delivery of direction `is_orig`.
    pub fn feed(&mut self, is_orig: bool, data: &[u8], out: &mut Vec<Out>) {
        let d = dir(is_orig);
        if self.state[d] == State::Encrypted {
            self.encrypted_segment(is_orig, data.len() as u64, out);
            return;
        }
        self.buf[d].extend_from_slice(data);
        let enc = self.process(is_orig, out);
        if enc > 0 {
            self.encrypted_segment(is_orig, enc, out);
        }
    }

    /// Parses what direction `is_orig` has buffered; returns the bytes of it
    /// that came after its key exchange ended.
    fn process(&mut self, is_orig: bool, out: &mut Vec<Out>) -> u64 {
        let d = dir(is_orig);
        loop {
            match self.state[d] {
                State::Encrypted => {
                    let n = self.buf[d].len() as u64;
                    self.buf[d].clear();
                    return n;
                }
                State::Banner => {
                    let Some(i) = self.buf[d].iter().position(|&b| b == b'\n') else {
                        self.buf[d].truncate(MAX_LINE);
                        return 0;
                    };
                    let mut line: Vec<u8> = self.buf[d].drain(..=i).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    if !self.banner(is_orig, line, out) {
                        self.buf[d].clear();
                        return 0;
                    }
                }
                _ => {
                    if !matches!(self.version, Version::V1 | Version::V2) {
                        // Packets wait (up to MAX_EARLY bytes) until both
                        // banners say how to read them.
                        self.buf[d].truncate(MAX_EARLY);
                        return 0;
                    }
                    if !self.packet(is_orig, out) {
                        return 0;
                    }
                }
            }
        }
    }

    /// One identification (or, from the server, pre-banner) line; false
    /// when the direction is not SSH.
    fn banner(&mut self, is_orig: bool, line: Vec<u8>, out: &mut Vec<Out>) -> bool {
        if !line.starts_with(b"SSH-") {
            if is_orig {
                out.push(Out::Violate("Binpac exception: client identification does not start with SSH-".into()));
                return false;
            }
            out.push(Out::PreBanner(line));
            return true;
        }
        self.state[dir(is_orig)] = State::KexInit;
        if let Some(v) = line_version(&line) {
            if is_orig {
                self.client = v;
            } else {
                self.server = v;
            }
        }
        let was_known = matches!(self.version, Version::V1 | Version::V2);
        if let Some(v) = agree(self.client, self.server) {
            self.version = v;
        }
        out.push(if is_orig { Out::ClientVersion(line) } else { Out::ServerVersion(line) });
        if !was_known && matches!(self.version, Version::V1 | Version::V2) {
            // The other side's packets waited for the version.
            let other = !is_orig;
            if self.state[dir(other)] != State::Banner && !self.buf[dir(other)].is_empty() {
                let enc = self.process(other, out);
                if enc > 0 {
                    self.encrypted_segment(other, enc, out);
                }
            }
        }
        true
    }

    /// One whole binary packet, if buffered; false when more data is needed.
    fn packet(&mut self, is_orig: bool, out: &mut Vec<Out>) -> bool {
        let d = dir(is_orig);
        let b = &self.buf[d];
        if b.len() < 4 {
            return false;
        }
        let raw = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let len = if raw > MAX_PACKET_LENGTH { MAX_PACKET_LENGTH } else { raw };
        let total = match self.version {
            Version::V1 => len as usize + 4 + 8 - (len as usize % 8),
            _ => len as usize + 4,
        };
        if b.len() < total {
            return false;
        }
        if raw > MAX_PACKET_LENGTH {
            out.push(Out::Limit("SSH_max_packet_length_exceeded", format!("{raw} > {MAX_PACKET_LENGTH}")));
        }
        let pkt: Vec<u8> = self.buf[d].drain(..total).collect();
        let body = &pkt[4..];
        let ok = match self.version {
            Version::V1 => self.ssh1(is_orig, len, body, out),
            _ => self.ssh2(is_orig, body, out),
        };
        if ok.is_none() {
            out.push(Out::Violate("Binpac exception: truncated SSH message".into()));
        }
        true
    }

    /// An SSH-1 packet after its length: padding, type, message, CRC.
    fn ssh1(&mut self, is_orig: bool, len: u32, body: &[u8], out: &mut Vec<Out>) -> Option<()> {
        let mut r = Rd { d: body };
        r.take(8 - (len as usize % 8))?;
        let msg_type = r.u8()?;
        // Any SSH-1 message ends this direction's cleartext.
        self.state[dir(is_orig)] = State::Encrypted;
        match msg_type {
            2 => {
                r.take(8)?; // cookie
                r.u32()?; // server key bits
                r.mp_int()?;
                r.mp_int()?;
                r.u32()?; // host key bits
                let exponent = r.mp_int()?.to_vec();
                let modulus = r.mp_int()?.to_vec();
                out.push(Out::HostKey1 { modulus, exponent });
            }
            3 => out.push(Out::Confirm),
            _ => {}
        }
        Some(())
    }

    /// An SSH-2 packet after its length.
    fn ssh2(&mut self, is_orig: bool, body: &[u8], out: &mut Vec<Out>) -> Option<()> {
        let d = dir(is_orig);
        let mut r = Rd { d: body };
        let pad = usize::from(r.u8()?);
        let msg_type = r.u8()?;
        let payload_len = body.len().checked_sub(pad + 2)?;
        let payload = r.take(payload_len)?;
        if msg_type == 21 {
            self.state[d] = State::Encrypted;
            out.push(Out::Confirm);
            return Some(());
        }
        let mut m = Rd { d: payload };
        match (self.state[d], msg_type) {
            (State::KexInit, 20) => self.kexinit(is_orig, &mut m, out)?,
            (State::Dh, 30) | (State::DhGex, 32) => {
                m.string(out)?;
                out.push(Out::DhGexInit(is_orig));
            }
            (State::Dh, 31) | (State::DhGex, 33) => {
                let k = m.string(out)?.to_vec();
                m.string(out)?;
                m.string(out)?;
                out.push(Out::HostKey2(k));
            }
            (State::DhGex, 31) | (State::Gss, 41) => {
                let p = m.string(out)?.to_vec();
                let q = m.string(out)?.to_vec();
                out.push(Out::DhServerParams { p, q });
            }
            (State::Ecc, 30) => {
                let q = m.string(out)?.to_vec();
                out.push(Out::EccKey { is_orig, q });
                out.push(Out::EccInit(is_orig));
            }
            (State::Ecc, 31) => {
                let k = m.string(out)?.to_vec();
                let q = m.string(out)?.to_vec();
                out.push(Out::HostKey2(k));
                out.push(Out::EccKey { is_orig, q });
            }
            (State::Gss, 30) => {
                m.string(out)?;
                m.string(out)?;
                out.push(Out::GssInit(is_orig));
            }
            (State::Gss, 33) => {
                let k = m.string(out)?.to_vec();
                out.push(Out::HostKey2(k));
            }
            (State::Gss, 34) => {
                let major = m.u32()?;
                let minor = m.u32()?;
                let msg = m.string(out)?.to_vec();
                out.push(Out::GssError { major, minor, msg });
            }
            (State::Rsa, 31) => {
                m.string(out)?;
                out.push(Out::RsaSecret(is_orig));
            }
            _ => {}
        }
        Some(())
    }

    /// A KEXINIT: its capabilities, and the key exchange both agree on once
    /// both sides sent theirs.
    fn kexinit(&mut self, is_orig: bool, m: &mut Rd<'_>, out: &mut Vec<Out>) -> Option<()> {
        let cookie = m.take(16)?.to_vec();
        let mut lists: Vec<&[u8]> = Vec::with_capacity(10);
        for _ in 0..10 {
            lists.push(m.string(out)?);
        }
        m.u8()?;
        m.u32()?;
        const W: [&str; 6] = [
            "SSH_max_kexinit_kex_algorithms_exceeded",
            "SSH_max_kexinit_hostkey_algorithms_exceeded",
            "SSH_max_kexinit_encryption_algorithms_exceeded",
            "SSH_max_kexinit_mac_algorithms_exceeded",
            "SSH_max_kexinit_compression_algorithms_exceeded",
            "SSH_max_kexinit_languages_exceeded",
        ];
        let mut ev = Vec::new();
        let pair = |i: usize, w: &'static str, ev: &mut Vec<Out>| Prefs {
            c2s: Some(names(lists[i], w, ev)),
            s2c: Some(names(lists[i + 1], w, ev)),
        };
        let kex = names(lists[0], W[0], &mut ev);
        let host_key = names(lists[1], W[1], &mut ev);
        let encryption = pair(2, W[2], &mut ev);
        let mac = pair(4, W[3], &mut ev);
        let compression = pair(6, W[4], &mut ev);
        let languages = (!lists[8].is_empty() || !lists[9].is_empty()).then(|| Prefs {
            c2s: (!lists[8].is_empty()).then(|| names(lists[8], W[5], &mut ev)),
            s2c: (!lists[9].is_empty()).then(|| names(lists[9], W[5], &mut ev)),
        });
        out.append(&mut ev);
        let caps = Caps { kex, host_key, encryption, mac, compression, languages, is_server: !is_orig };
        out.push(Out::Capabilities { cookie, caps: Box::new(caps) });
        self.agree_kex(is_orig, lists[0], out);
        Some(())
    }

    /// Zeek's `update_kex`: the first KEXINIT is kept; the other side's
    /// picks the first client algorithm the server offers too.
    fn agree_kex(&mut self, is_orig: bool, algs: &[u8], out: &mut Vec<Out>) {
        let Some((first_orig, first)) = &self.kex_first else {
            self.kex_first = Some((is_orig, algs.to_vec()));
            return;
        };
        if *first_orig == is_orig {
            return;
        }
        let (client, server) = if is_orig { (algs, first.as_slice()) } else { (first.as_slice(), algs) };
        let server: Vec<&[u8]> = server.split(|&b| b == b',').take(MAX_KEXINIT_ALGORITHMS).collect();
        let Some(alg) = client.split(|&b| b == b',').take(MAX_KEXINIT_ALGORITHMS).find(|a| server.contains(a)) else {
            return;
        };
        match kex_state(alg) {
            Some(s) => self.state = [s, s],
            None => out.push(Out::Weird("ssh_unknown_kex_algorithm", String::from_utf8_lossy(alg).into_owned())),
        }
    }

    /// `len` encrypted bytes of one delivery (Zeek's
    /// `ProcessEncryptedSegment` and its authentication guess).
    fn encrypted_segment(&mut self, is_orig: bool, len: u64, out: &mut Vec<Out>) {
        out.push(Out::Encrypted { is_orig, len });
        if self.auth.decided || self.version != Version::V2 {
            return;
        }
        let a = &mut self.auth;
        let len = len as i64;
        if is_orig {
            a.saw_client = true;
            return;
        }
        if !a.saw_client {
            return;
        }
        if a.service_accept_size == 0 {
            a.service_accept_size = len;
            return;
        }
        if a.failure_size == 0 && len + 16 == a.service_accept_size {
            a.decided = true;
            out.push(Out::AuthAttempted(true));
            out.push(Out::AuthSuccessful(true));
            return;
        }
        if a.failure_size == 0 {
            if !a.skipped_banner && len - a.service_accept_size > 256 {
                a.skipped_banner = true;
                return;
            }
            a.failure_size = len;
            return;
        }
        if len == a.failure_size {
            out.push(Out::AuthAttempted(false));
            return;
        }
        if len - a.service_accept_size == -16 {
            a.decided = true;
            out.push(Out::AuthAttempted(true));
            out.push(Out::AuthSuccessful(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SSH-2 packet of type `t` with `payload` and 4 bytes of padding.
    fn pkt(t: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() + 1 + 1 + 4) as u32;
        let mut v = len.to_be_bytes().to_vec();
        v.push(4);
        v.push(t);
        v.extend_from_slice(payload);
        v.extend_from_slice(&[0; 4]);
        v
    }

    fn s(b: &[u8]) -> Vec<u8> {
        let mut v = (b.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b);
        v
    }

    fn kexinit(kex: &str) -> Vec<u8> {
        let mut p = vec![7u8; 16];
        for l in [kex, "ssh-ed25519,rsa-sha2-512", "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""] {
            p.extend(s(l.as_bytes()));
        }
        p.push(0);
        p.extend_from_slice(&[0; 4]);
        pkt(20, &p)
    }

    fn run(steps: &[(bool, Vec<u8>)]) -> (Parser, Vec<Out>) {
        let mut p = Parser::default();
        let mut out = Vec::new();
        for (o, d) in steps {
            p.feed(*o, d, &mut out);
        }
        (p, out)
    }

    #[test]
    fn banners_kexinit_ecdh_and_newkeys() {
        let mut reply = s(b"HOSTKEY");
        reply.extend(s(b"QS"));
        reply.extend(s(b"SIG"));
        let mut server = b"SSH-2.0-srv\r\n".to_vec();
        server.extend(kexinit("curve25519-sha256,ecdh-sha2-nistp256"));
        let mut client_tail = pkt(30, &s(b"QC"));
        client_tail.extend(pkt(21, &[]));
        client_tail.extend_from_slice(&[1, 2, 3]);
        let (p, out) = run(&[
            (true, b"SSH-2.0-cli\r\n".to_vec()),
            (false, server),
            (true, kexinit("ecdh-sha2-nistp256,curve25519-sha256")),
            (true, client_tail),
            (false, [pkt(31, &reply), pkt(21, &[])].concat()),
        ]);
        assert_eq!(p.version(), Version::V2);
        assert!(p.encrypted(true) && p.encrypted(false));
        assert_eq!(out[0], Out::ClientVersion(b"SSH-2.0-cli".to_vec()));
        assert_eq!(out[1], Out::ServerVersion(b"SSH-2.0-srv".to_vec()));
        let Out::Capabilities { caps, cookie } = &out[2] else { panic!("{:?}", out[2]) };
        assert!(caps.is_server && cookie.len() == 16 && caps.languages.is_none());
        assert_eq!(caps.host_key, ["ssh-ed25519", "rsa-sha2-512"]);
        assert_eq!(caps.compression.c2s.as_deref(), Some(&["none".to_string()][..]));
        assert!(matches!(&out[3], Out::Capabilities { caps, .. } if !caps.is_server));
        assert_eq!(
            &out[4..],
            [
                Out::EccKey { is_orig: true, q: b"QC".to_vec() },
                Out::EccInit(true),
                Out::Confirm,
                Out::Encrypted { is_orig: true, len: 3 },
                Out::HostKey2(b"HOSTKEY".to_vec()),
                Out::EccKey { is_orig: false, q: b"QS".to_vec() },
                Out::Confirm,
            ]
        );
    }

    #[test]
    fn pre_banner_lines_and_non_ssh_clients() {
        let (_, out) = run(&[(false, b"hello\r\nSSH-2.0-x\n".to_vec())]);
        assert_eq!(out, [Out::PreBanner(b"hello".to_vec()), Out::ServerVersion(b"SSH-2.0-x".to_vec())]);
        let (_, out) = run(&[(true, b"GET / HTTP/1.1\r\n".to_vec())]);
        assert!(matches!(&out[..], [Out::Violate(_)]));
    }

    #[test]
    fn packets_wait_for_both_banners() {
        let mut server = b"SSH-2.0-srv\r\n".to_vec();
        server.extend(kexinit("curve25519-sha256"));
        let (_, out) = run(&[(false, server), (true, b"SSH-2.0-cli\r\n".to_vec())]);
        assert!(matches!(&out[..], [Out::ServerVersion(_), Out::ClientVersion(_), Out::Capabilities { .. }]), "{out:?}");
    }

    #[test]
    fn versions_agree_as_zeek_says() {
        assert_eq!(agree(Version::V199, Version::V199), Some(Version::V2));
        assert_eq!(agree(Version::V1, Version::V2), Some(Version::Unknown));
        assert_eq!(agree(Version::V199, Version::V1), Some(Version::V1));
        assert_eq!(agree(Version::Unknown, Version::V2), None);
        assert_eq!(line_version(b"SSH-1.99-x"), Some(Version::V199));
        assert_eq!(kex_state(b"gss-group14-sha256-abc"), Some(State::Gss));
        assert_eq!(kex_state(b"diffie-hellman-group18-sha512"), Some(State::Dh));
        assert_eq!(kex_state(b"mlkem768x25519-sha256"), Some(State::Ecc));
        assert_eq!(kex_state(b"foo"), None);
    }

    #[test]
    fn authentication_guess_by_sizes() {
        let mut p = Parser { version: Version::V2, state: [State::Encrypted; 2], ..Parser::default() };
        let mut out = Vec::new();
        for (o, n) in [(false, 10), (true, 44), (false, 44), (false, 60), (true, 100), (false, 60), (false, 28), (false, 99)] {
            p.feed(o, &vec![0; n], &mut out);
        }
        let auth: Vec<&Out> = out.iter().filter(|o| matches!(o, Out::AuthAttempted(_) | Out::AuthSuccessful(_))).collect();
        assert_eq!(auth, [&Out::AuthAttempted(false), &Out::AuthAttempted(true), &Out::AuthSuccessful(false)]);
        assert_eq!(out.iter().filter(|o| matches!(o, Out::Encrypted { .. })).count(), 8);
    }

    #[test]
    fn ssh1_host_key_and_limits() {
        let mut p = Parser { version: Version::V1, state: [State::KexInit; 2], ..Parser::default() };
        let mut msg = vec![2u8];
        msg.extend_from_slice(&[0; 8]);
        msg.extend_from_slice(&[0, 0, 4, 0]);
        for v in [&[0u8, 8, 3][..], &[0, 8, 5], &[0, 0, 4, 0], &[0, 8, 0x11], &[0, 16, 0xaa, 0xbb]] {
            msg.extend_from_slice(v);
        }
        msg.extend_from_slice(&[0; 12]);
        let len = (msg.len() + 4) as u32;
        let mut d = len.to_be_bytes().to_vec();
        d.extend(vec![0; 8 - (len as usize % 8)]);
        d.extend(&msg);
        d.extend_from_slice(&[0; 4]);
        let mut out = Vec::new();
        p.feed(false, &d, &mut out);
        assert_eq!(out, [Out::HostKey1 { modulus: vec![0xaa, 0xbb], exponent: vec![0x11] }]);
        assert!(p.encrypted(false));
        let mut p = Parser { version: Version::V2, state: [State::KexInit; 2], ..Parser::default() };
        let mut out = Vec::new();
        p.feed(true, &[0xff, 0xff, 0xff, 0xff], &mut out);
        assert!(out.is_empty(), "waits for the capped length");
        let mut bad = Vec::new();
        p.feed(false, &[0, 0, 0, 1, 9], &mut bad);
        assert!(matches!(&bad[..], [Out::Violate(_)]), "{bad:?}");
    }
}
