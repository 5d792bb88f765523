//! The SSH analyzer (Zeek's `SSH`): version banners both ways, the KEXINIT
//! algorithm lists (`ssh_capabilities`), the server's host key and its
//! digests, the key exchange messages, and after the key exchange the sizes
//! of the encrypted deliveries, from which Zeek's heuristics guess whether
//! the client authenticated (`ssh_auth_attempted`, `ssh_auth_successful`).
//! The protocol is confirmed at the end of the key exchange; a client whose
//! first line does not start with `SSH-` is a violation. A connection picked
//! up mid-stream, or after a gap, is not analyzed further (as Zeek does).

pub mod fuzzing;
mod md5;
pub(crate) mod parser;

use super::analyzer::Analyzer;
use super::context::Cx;
use super::registry::Tag;
use crate::events::{Connection, Event, EventKind, SshAlgorithmPrefs, SshCapabilitiesRec};
use parser::{Caps, Out, Parser, Prefs};
use sha2::Digest;

/// TCP port the SSH analyzer is registered for (`SSH::ports`).
pub const PORTS: [u16; 1] = [22];

/// SSH analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Ssh {
    parser: Parser,
    had_gap: bool,
}

impl Analyzer for Ssh {
    fn tag(&self) -> Tag {
        Tag::Ssh
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if self.had_gap || cx.conn().unreliable_stream() || data.is_empty() {
            return;
        }
        let mut out = Vec::new();
        self.parser.feed(is_orig, data, &mut out);
        for o in out {
            emit(o, &mut CxSink(cx));
        }
    }

    fn gap(&mut self, _: bool, _: u64, _: &mut Cx<'_, '_>) {
        self.had_gap = true;
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// Where the analyzer's findings go: the connection's [`Cx`], or the fuzz
/// target's counter.
pub(crate) trait Sink {
    /// Whether `kind` is taken.
    fn wants(&self, kind: EventKind) -> bool;
    /// Queues the event `build` makes.
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event);
    /// A weird.
    fn weird(&mut self, name: &'static str, addl: String);
    /// A limit reached.
    fn limit(&mut self, name: &'static str, addl: String);
    /// Protocol confirmed.
    fn confirm(&mut self);
    /// Protocol violated.
    fn violate(&mut self, reason: &str);
}

struct CxSink<'c, 'e, 'a>(&'c mut Cx<'e, 'a>);

impl Sink for CxSink<'_, '_, '_> {
    fn wants(&self, kind: EventKind) -> bool {
        self.0.wants(kind)
    }
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event) {
        self.0.raise(build)
    }
    fn weird(&mut self, name: &'static str, addl: String) {
        self.0.weird(name, addl)
    }
    fn limit(&mut self, name: &'static str, addl: String) {
        self.0.limit(name, addl)
    }
    fn confirm(&mut self) {
        self.0.confirm()
    }
    fn violate(&mut self, reason: &str) {
        self.0.violate(reason, None)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn prefs(p: Prefs) -> SshAlgorithmPrefs {
    SshAlgorithmPrefs { client_to_server: p.c2s, server_to_client: p.s2c }
}

fn capabilities(c: Caps) -> SshCapabilitiesRec {
    SshCapabilitiesRec {
        kex_algorithms: c.kex,
        server_host_key_algorithms: c.host_key,
        encryption_algorithms: prefs(c.encryption),
        mac_algorithms: prefs(c.mac),
        compression_algorithms: prefs(c.compression),
        languages: c.languages.map(prefs),
        is_server: c.is_server,
    }
}

/// Colon-separated lower-case hex of the first 16 bytes of `d`.
fn colon_hex(d: &[u8]) -> String {
    d.iter().take(16).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// `SHA256:` and the first 32 characters of the base64 of a SHA-256 digest
/// (Zeek's `fingerprint_sha256` writes into a 32-character buffer).
pub fn fingerprint_sha256(digest: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("SHA256:");
    for c in digest.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() < 2 { '=' } else { A[(n >> 6) as usize & 63] as char });
        s.push(if c.len() < 3 { '=' } else { A[n as usize & 63] as char });
    }
    s.truncate(7 + 32);
    s
}

/// Where an identification line goes to software identification
/// (`software_version_found` for the client or server), once weir has it:
/// nothing is done with it yet.
pub(crate) fn software_banner(is_server: bool, banner: &[u8]) {
    let _ = (is_server, banner);
}

/// Raises what one parser finding means.
pub(crate) fn emit(o: Out, s: &mut impl Sink) {
    use EventKind as K;
    match &o {
        Out::ClientVersion(v) => software_banner(false, v),
        Out::ServerVersion(v) => software_banner(true, v),
        _ => {}
    }
    match o {
        Out::ClientVersion(v) if s.wants(K::SshClientVersion) => {
            s.raise(|c| Event::SshClientVersion { c, version: text(&v) })
        }
        Out::ServerVersion(v) if s.wants(K::SshServerVersion) => {
            s.raise(|c| Event::SshServerVersion { c, version: text(&v) })
        }
        Out::PreBanner(d) if s.wants(K::SshServerPreBannerData) => {
            s.raise(|c| Event::SshServerPreBannerData { c, data: text(&d) })
        }
        Out::Capabilities { cookie, caps } if s.wants(K::SshCapabilities) => {
            s.raise(|c| Event::SshCapabilities { c, cookie, capabilities: Box::new(capabilities(*caps)) })
        }
        Out::HostKey2(key) => {
            if s.wants(K::SshServerHostKey) {
                let hash = colon_hex(&md5::digest(&key));
                s.raise(|c| Event::SshServerHostKey { c, hash });
            }
            if s.wants(K::Ssh2ServerHostKey) {
                let key = key.clone();
                s.raise(|c| Event::Ssh2ServerHostKey { c, key });
            }
            if s.wants(K::SshServerHostKeyFingerprint) {
                let fingerprint = fingerprint_sha256(&sha2::Sha256::digest(&key));
                s.raise(|c| Event::SshServerHostKeyFingerprint { c, fingerprint });
            }
        }
        Out::HostKey1 { modulus, exponent } => {
            // Both digests come from SHA-256 over modulus and exponent.
            let d = sha2::Sha256::new().chain_update(&modulus).chain_update(&exponent).finalize();
            if s.wants(K::SshServerHostKey) {
                let hash = colon_hex(&d);
                s.raise(|c| Event::SshServerHostKey { c, hash });
            }
            if s.wants(K::SshServerHostKeyFingerprint) {
                let fingerprint = fingerprint_sha256(&d);
                s.raise(|c| Event::SshServerHostKeyFingerprint { c, fingerprint });
            }
            if s.wants(K::Ssh1ServerHostKey) {
                s.raise(|c| Event::Ssh1ServerHostKey { c, modulus, exponent });
            }
        }
        Out::Encrypted { is_orig, len } if s.wants(K::SshEncryptedPacket) => {
            s.raise(|c| Event::SshEncryptedPacket { c, orig: is_orig, len })
        }
        Out::AuthAttempted(authenticated) if s.wants(K::SshAuthAttempted) => {
            s.raise(|c| Event::SshAuthAttempted { c, authenticated })
        }
        Out::AuthSuccessful(auth_method_none) if s.wants(K::SshAuthSuccessful) => {
            s.raise(|c| Event::SshAuthSuccessful { c, auth_method_none })
        }
        Out::DhServerParams { p, q } if s.wants(K::Ssh2DhServerParams) => {
            s.raise(|c| Event::Ssh2DhServerParams { c, p, q })
        }
        Out::GssError { major, minor, msg } if s.wants(K::Ssh2GssError) => s.raise(|c| Event::Ssh2GssError {
            c,
            major_status: u64::from(major),
            minor_status: u64::from(minor),
            err_msg: text(&msg),
        }),
        Out::EccKey { is_orig, q } if s.wants(K::Ssh2EccKey) => s.raise(|c| Event::Ssh2EccKey { c, is_orig, q }),
        Out::EccInit(is_orig) if s.wants(K::Ssh2EccInit) => s.raise(|c| Event::Ssh2EccInit { c, is_orig }),
        Out::DhGexInit(is_orig) if s.wants(K::Ssh2DhGexInit) => s.raise(|c| Event::Ssh2DhGexInit { c, is_orig }),
        Out::GssInit(is_orig) if s.wants(K::Ssh2GssInit) => s.raise(|c| Event::Ssh2GssInit { c, is_orig }),
        Out::RsaSecret(is_orig) if s.wants(K::Ssh2RsaSecret) => s.raise(|c| Event::Ssh2RsaSecret { c, is_orig }),
        Out::Weird(name, addl) => s.weird(name, addl),
        Out::Limit(name, addl) => s.limit(name, addl),
        Out::Confirm => s.confirm(),
        Out::Violate(reason) => s.violate(&reason),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::{summary, Harness};

    #[test]
    fn fingerprints_as_zeek_writes_them() {
        let d = sha2::Sha256::digest(b"key");
        let f = fingerprint_sha256(&d);
        assert_eq!(f.len(), 7 + 32);
        assert!(f.starts_with("SHA256:") && !f.contains('='));
        assert_eq!(colon_hex(&md5::digest(b"abc")), "90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72");
        assert_eq!(fingerprint_sha256(&[0xfb, 0xff]), "SHA256:+/8=");
    }

    #[test]
    fn banners_raise_events_and_a_non_ssh_client_violates() {
        let (mut h, mut a) = (Harness::new(6, 22), Ssh::default());
        let mut out = summary(&h.stream(&mut a, false, b"SSH-2.0-OpenSSH_9.2\r\n"));
        out.extend(summary(&h.stream(&mut a, true, b"SSH-2.0-OpenSSH_9.7\r\n")));
        assert_eq!(out, ["ssh_server_version", "ssh_client_version"]);
        let (mut h, mut a) = (Harness::new(6, 22), Ssh::default());
        assert_eq!(summary(&h.stream(&mut a, true, b"GET / HTTP/1.1\r\n")), ["protocol_violation"]);
        assert!(h.status.disabled);
    }

    #[test]
    fn nothing_after_a_gap() {
        let (mut h, mut a) = (Harness::new(6, 22), Ssh::default());
        h.gap(&mut a, true, 10);
        assert!(h.stream(&mut a, false, b"SSH-2.0-x\r\n").is_empty());
    }
}
