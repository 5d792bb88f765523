//! The standard ssl.log handler: Zeek's `base/protocols/ssl/main.zeek` and
//! `files.zeek`.
//!
//! A connection's record starts at its first SSL event. The hellos give
//! `version` (the server's supported_versions choice over its hello's),
//! `cipher` and `resumed` (the client's session id echoed, a session
//! ticket sent with an empty id and no key exchange, or a pre-shared key
//! accepted); the key exchange or key share gives `curve`; the client's
//! SNI `server_name`; the server's ALPN choice `next_protocol`; alerts
//! `last_alert`. `ssl_history` gets one letter per handshake message,
//! change-cipher-spec, alert and heartbeat (upper case from the client;
//! `^` for a flip), at most `SSL::max_ssl_history_length` (100). The
//! certificates' fingerprints fill `cert_chain_fps` and
//! `client_cert_chain_fps` (both empty lists once either side sent one),
//! and `sni_matches_cert` says whether the server's first certificate
//! names `server_name` (its SAN DNS names, or its last CN without a SAN).
//! The record is written when the connection is established, when the SSL
//! analyzer reports a violation, or when the connection is removed.
//!
//! Options (docs/options.md) add columns: the subject and issuer of the
//! server's and the client's first certificates
//! (`SSL::log_include_server_certificate_subject_issuer`,
//! `SSL::log_include_client_certificate_subject_issuer`), and the CAs a
//! server's certificate request names, as distinguished names
//! (`SSL::log_requested_client_certificate_authorities`, Zeek's policy
//! script `protocols/ssl/certificate-request-info`).

use std::cell::RefCell;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::*;
use weir_guest::{ConnStates, Handler, Stream};

mod consts;

/// Zeek's base columns; [`stream`] adds those the options ask for.
const COLUMNS: &[(&str, T)] = &[
    ("ts", T::Time),
    ("uid", T::String),
    ("id.orig_h", T::Addr),
    ("id.orig_p", T::Port),
    ("id.resp_h", T::Addr),
    ("id.resp_p", T::Port),
    ("version", T::String),
    ("cipher", T::String),
    ("curve", T::String),
    ("server_name", T::String),
    ("resumed", T::Bool),
    ("last_alert", T::String),
    ("next_protocol", T::String),
    ("established", T::Bool),
    ("ssl_history", T::String),
    ("cert_chain_fps", T::VectorOfString),
    ("client_cert_chain_fps", T::VectorOfString),
];

/// The options this handler reads (docs/options.md).
struct Options {
    /// `SSL::max_ssl_history_length`.
    max_history: usize,
    /// `SSL::log_include_server_certificate_subject_issuer`.
    server_subject_issuer: bool,
    /// `SSL::log_include_client_certificate_subject_issuer`.
    client_subject_issuer: bool,
    /// `SSL::log_requested_client_certificate_authorities`.
    requested_cas: bool,
}

/// The options, read once.
fn options() -> &'static Options {
    static OPTIONS: std::sync::OnceLock<Options> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| {
        use weir_guest::options::{count, flag};
        Options {
            max_history: count("SSL::max_ssl_history_length").map_or(MAX_HISTORY, |n| n as usize),
            server_subject_issuer: flag("SSL::log_include_server_certificate_subject_issuer"),
            client_subject_issuer: flag("SSL::log_include_client_certificate_subject_issuer"),
            requested_cas: flag("SSL::log_requested_client_certificate_authorities"),
        }
    })
}

/// The ssl.log stream: [`COLUMNS`], the certificate subjects and issuers
/// the options include, `sni_matches_cert`, then the policy columns.
fn stream() -> &'static Stream {
    static STREAM: std::sync::OnceLock<Stream> = std::sync::OnceLock::new();
    STREAM.get_or_init(|| {
        let o = options();
        let mut cols = COLUMNS.to_vec();
        if o.server_subject_issuer {
            cols.extend([("subject", T::String), ("issuer", T::String)]);
        }
        if o.client_subject_issuer {
            cols.extend([("client_subject", T::String), ("client_issuer", T::String)]);
        }
        cols.push(("sni_matches_cert", T::Bool));
        if o.requested_cas {
            cols.push(("requested_client_certificate_authorities", T::VectorOfString));
        }
        Stream::new("ssl", Vec::leak(cols))
    })
}

/// `SSL::max_ssl_history_length`'s default.
const MAX_HISTORY: usize = 100;
/// Connections with SSL state at once; past it further ones are not logged.
const MAX_TRACKED: usize = 200_000;
/// `SSL_EXTENSION_SESSIONTICKET_TLS`.
const EXT_SESSION_TICKET: u16 = 35;
/// `SSL_EXTENSION_PRE_SHARED_KEY`.
const EXT_PRE_SHARED_KEY: u16 = 41;
/// The server random of a TLS 1.3 hello retry request (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a,
    0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// `SSL::Info`: one connection's record in the making.
#[derive(Clone, Debug)]
struct Info {
    ts: f64,
    uid: String,
    id: ConnId,
    version_num: Option<u16>,
    version: Option<String>,
    cipher: Option<String>,
    curve: Option<String>,
    server_name: Option<String>,
    session_id: Option<String>,
    resumed: bool,
    client_ticket_empty_session_seen: bool,
    client_key_exchange_seen: bool,
    client_psk_seen: bool,
    last_alert: Option<String>,
    next_protocol: Option<String>,
    established: bool,
    logged: bool,
    hrr_seen: bool,
    history: String,
    /// Fingerprints of the server's and the client's certificates (None
    /// until either side sent one).
    chains: Option<(Vec<String>, Vec<String>)>,
    /// Whether the server's first certificate names `server_name` (its SAN
    /// DNS names, or its last CN without a SAN); None without a certificate
    /// or a server name. The client hello (and its SNI) comes before any
    /// certificate, so this is settled as the certificate's events come.
    sni_matches: Option<bool>,
    /// The first server certificate's SAN was seen.
    san_seen: bool,
    /// The server's first certificate's subject and issuer.
    subject: Option<(String, String)>,
    /// The client's first certificate's subject and issuer.
    client_subject: Option<(String, String)>,
    /// The CAs a server's certificate request named.
    requested_cas: Option<Vec<String>>,
}

thread_local! {
    static STATES: RefCell<ConnStates<Info>> = const {
        RefCell::new(ConnStates::new(MAX_TRACKED, "ssl", "connections with SSL state at once; further ones are not logged"))
    };
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `set_session`, then `f` on the record.
fn with(c: &Connection, f: impl FnOnce(&mut Info)) {
    let init = || Info {
        ts: weir_guest::runtime::network_time(),
        uid: c.uid.clone(),
        id: c.id,
        version_num: None,
        version: None,
        cipher: None,
        curve: None,
        server_name: None,
        session_id: None,
        resumed: false,
        client_ticket_empty_session_seen: false,
        client_key_exchange_seen: false,
        client_psk_seen: false,
        last_alert: None,
        next_protocol: None,
        established: false,
        logged: false,
        hrr_seen: false,
        history: String::new(),
        chains: None,
        sni_matches: None,
        san_seen: false,
        subject: None,
        client_subject: None,
        requested_cas: None,
    };
    STATES.with(|s| s.borrow_mut().with(&c.uid, init, f));
}

impl Info {
    /// `add_to_history`.
    fn add(&mut self, is_client: bool, ch: char) {
        if self.history.len() >= options().max_history {
            return;
        }
        self.history.push(if is_client { ch.to_ascii_uppercase() } else { ch });
    }

    /// `log_record`, with `ssl_finishing`'s fields.
    fn log(&mut self) {
        if self.logged {
            return;
        }
        self.logged = true;
        let sni_matches = self.sni_matches;
        let opt = |v: &Option<String>| v.clone().map_or(V::Unset, V::String);
        let (fps, client_fps) = match &self.chains {
            Some((s, c)) => (V::VectorOfString(s.clone()), V::VectorOfString(c.clone())),
            None => (V::Unset, V::Unset),
        };
        let mut values = vec![
            V::Time(self.ts),
            V::String(self.uid.clone()),
            V::Addr(self.id.orig_h),
            V::Port(self.id.orig_p),
            V::Addr(self.id.resp_h),
            V::Port(self.id.resp_p),
            opt(&self.version),
            opt(&self.cipher),
            opt(&self.curve),
            opt(&self.server_name),
            V::Bool(self.resumed),
            opt(&self.last_alert),
            opt(&self.next_protocol),
            V::Bool(self.established),
            V::String(self.history.clone()),
            fps,
            client_fps,
        ];
        let pair = |p: &Option<(String, String)>| match p {
            Some((s, i)) => [V::String(s.clone()), V::String(i.clone())],
            None => [V::Unset, V::Unset],
        };
        let o = options();
        if o.server_subject_issuer {
            values.extend(pair(&self.subject));
        }
        if o.client_subject_issuer {
            values.extend(pair(&self.client_subject));
        }
        values.push(sni_matches.map_or(V::Unset, V::Bool));
        if o.requested_cas {
            values.push(self.requested_cas.clone().map_or(V::Unset, V::VectorOfString));
        }
        stream().write(&values);
    }
}

/// A host name prepared for matching against many certificate names.
struct Host<'a> {
    /// The leftmost label.
    first: &'a str,
    /// The labels after it (without the dot).
    rest: &'a str,
}

impl<'a> Host<'a> {
    /// `host` split once; `None` for an empty name or one with an empty label.
    fn new(host: &'a str) -> Option<Host<'a>> {
        if host.is_empty() || host.split('.').any(str::is_empty) {
            return None;
        }
        let (first, rest) = host.split_once('.').unwrap_or((host, ""));
        Some(Host { first, rest })
    }

    /// Whether certificate name `name` names this host (RFC 6125: labels
    /// compared without case, a `*` only in the leftmost label, matching
    /// within that one label).
    fn matches(&self, name: &str) -> bool {
        let (n0, nrest) = name.split_once('.').unwrap_or((name, ""));
        if self.rest.len() != nrest.len() || !self.rest.eq_ignore_ascii_case(nrest) {
            return false;
        }
        match n0.split_once('*') {
            None => self.first.eq_ignore_ascii_case(n0),
            Some((pre, post)) => {
                let (h0b, pre, post) = (self.first.as_bytes(), pre.as_bytes(), post.as_bytes());
                !post.contains(&b'*')
                    && self.rest.contains('.')
                    && h0b.len() >= pre.len() + post.len()
                    && h0b[..pre.len()].eq_ignore_ascii_case(pre)
                    && h0b[h0b.len() - post.len()..].eq_ignore_ascii_case(post)
            }
        }
    }
}

/// Whether `host` matches certificate name `name` (see [`Host::matches`]).
fn check_hostname(host: &str, name: &str) -> bool {
    Host::new(host).is_some_and(|h| h.matches(name))
}

/// The record of connection `uid`, if it has one.
fn with_uid(uid: &str, f: impl FnOnce(&mut Info)) {
    STATES.with(|s| {
        if let Some(i) = s.borrow_mut().get_mut(uid) {
            f(i)
        }
    });
}

struct Ssl;

impl Handler for Ssl {
    fn ssl_client_hello(
        c: Connection,
        _version: u16,
        record_version: u16,
        _possible_ts: f64,
        _client_random: Vec<u8>,
        session_id: Vec<u8>,
        _ciphers: Vec<u32>,
        _comp_methods: Vec<u8>,
    ) {
        with(&c, |i| {
            if !session_id.is_empty() && session_id.iter().any(|&b| b != 0) {
                i.session_id = Some(hex(&session_id));
                i.client_ticket_empty_session_seen = false;
            }
            if record_version == 0 {
                i.add(true, 'c');
            }
        });
    }

    fn ssl_server_hello(
        c: Connection,
        version: u16,
        _record_version: u16,
        _possible_ts: f64,
        server_random: Vec<u8>,
        session_id: Vec<u8>,
        cipher: u32,
        _comp_method: u8,
    ) {
        with(&c, |i| {
            if i.version_num.is_none() {
                i.version_num = Some(version);
                i.version = Some(consts::version(version));
            }
            i.cipher = Some(consts::cipher(cipher));
            if server_random == HRR_RANDOM {
                i.hrr_seen = true;
            }
            let v = i.version_num.unwrap_or(0);
            if i.session_id.as_deref() == Some(hex(&session_id).as_str()) && u32::from(v) / 0xff != 0x7f && v != 0x0304 {
                i.resumed = true;
            }
            if version == 2 {
                i.add(false, 's');
            }
        });
    }

    fn ssl_extension_supported_versions(c: Connection, is_client: bool, versions: Vec<u16>) {
        if is_client || versions.len() != 1 {
            return;
        }
        with(&c, |i| {
            i.version_num = Some(versions[0]);
            i.version = Some(consts::version(versions[0]));
        });
    }

    fn ssl_ecdh_server_params(c: Connection, curve: u16, _point: Vec<u8>) {
        with(&c, |i| i.curve = Some(consts::ec_curve(curve)));
    }

    fn ssl_extension_key_share(c: Connection, is_client: bool, curves: Vec<u16>) {
        if is_client || curves.len() != 1 {
            return;
        }
        with(&c, |i| i.curve = Some(consts::ec_curve(curves[0])));
    }

    fn ssl_extension_server_name(c: Connection, is_client: bool, names: Vec<String>) {
        with(&c, |i| {
            if is_client && !names.is_empty() {
                i.server_name = Some(names[0].clone());
            }
        });
    }

    fn ssl_extension_application_layer_protocol_negotiation(c: Connection, is_client: bool, protocols: Vec<String>) {
        with(&c, |i| {
            if !is_client && !protocols.is_empty() {
                i.next_protocol = Some(protocols[0].clone());
            }
        });
    }

    fn ssl_connection_flipped(c: Connection) {
        with(&c, |i| i.history.push('^'));
    }

    fn ssl_handshake_message(c: Connection, is_client: bool, msg_type: u8, _length: u32) {
        with(&c, |i| {
            if is_client && msg_type == 16 {
                i.client_key_exchange_seen = true;
            }
            let ch = match msg_type {
                0 => 'h',
                1 => 'c',
                2 if std::mem::replace(&mut i.hrr_seen, false) => 'j',
                2 => 's',
                3 => 'v',
                4 => 't',
                5 => 'e',
                6 => 'j',
                8 => 'o',
                11 => 'x',
                12 => 'k',
                13 => 'r',
                14 => 'n',
                15 => 'y',
                16 => 'g',
                20 => 'f',
                21 => 'w',
                22 => 'u',
                23 => 'a',
                24 => 'p',
                254 => 'm',
                _ => 'z',
            };
            i.add(is_client, ch);
        });
    }

    fn ssl_extension(c: Connection, is_client: bool, code: u16, val: Vec<u8>) {
        with(&c, |i| {
            if is_client && code == EXT_SESSION_TICKET && !val.is_empty() {
                i.client_ticket_empty_session_seen = true;
            } else if is_client && code == EXT_PRE_SHARED_KEY {
                i.client_psk_seen = true;
            } else if !is_client && code == EXT_PRE_SHARED_KEY && i.client_psk_seen {
                i.resumed = true;
            }
        });
    }

    fn ssl_change_cipher_spec(c: Connection, is_client: bool) {
        with(&c, |i| {
            i.add(is_client, 'i');
            if is_client && i.client_ticket_empty_session_seen && !i.client_key_exchange_seen {
                i.resumed = true;
            }
        });
    }

    fn ssl_alert(c: Connection, is_client: bool, _level: u8, desc: u8) {
        with(&c, |i| {
            i.add(is_client, 'l');
            i.last_alert = Some(consts::alert_description(desc));
        });
    }

    fn ssl_heartbeat(c: Connection, is_client: bool, _length: u16, _heartbeat_type: u8, _payload_length: u16, _payload: Vec<u8>) {
        with(&c, |i| i.add(is_client, 'b'));
    }

    fn ssl_plaintext_data(c: Connection, _is_client: bool, _record_version: u16, _content_type: u8, _length: u16) {
        with(&c, |_| {});
    }

    fn ssl_certificate_request(
        c: Connection,
        is_client: bool,
        _certificate_types: Vec<u8>,
        _supported_signature_algorithms: Vec<SslSignatureAndHashAlgorithm>,
        certificate_authorities: Vec<Vec<u8>>,
    ) {
        if is_client || !options().requested_cas {
            return;
        }
        let names = certificate_authorities.iter().filter_map(|der| weir_guest::runtime::parse_distinguished_name(der)).collect();
        with(&c, |i| i.requested_cas = Some(names));
    }

    fn ssl_established(c: Connection) {
        with(&c, |i| {
            i.established = true;
            i.log();
        });
    }

    fn protocol_violation(c: Connection, atype: AnalyzerTag, _aid: u64, _reason: String) {
        if atype.name == "SSL" {
            with_uid(&c.uid, Info::log);
        }
    }

    fn x509_certificate(f: FaFile, cert_ref: X509Handle, cert: X509Cert) {
        let Some(uid) = f.conns.first() else { return };
        let client = f.is_orig == Some(true);
        with_uid(uid, |i| {
            if cert_ref.index == 0 {
                let names = Some((cert.subject.clone(), cert.issuer.clone()));
                if client {
                    i.client_subject = names;
                } else {
                    i.subject = names;
                }
            }
            let (server, clients) = i.chains.get_or_insert_with(Default::default);
            if client {
                clients.push(cert_ref.sha256);
            } else {
                if server.is_empty() {
                    i.sni_matches = i.server_name.as_deref().map(|sni| cert.cn.as_deref().is_some_and(|n| check_hostname(sni, n)));
                }
                server.push(cert_ref.sha256);
            }
        });
    }

    fn x509_ext_subject_alternative_name(f: FaFile, ext: X509SubjectAlternativeName) {
        let Some(uid) = f.conns.first() else { return };
        if f.is_orig == Some(true) {
            return;
        }
        with_uid(uid, |i| {
            // Only the server's first certificate counts; with a SAN its CN does not.
            let first = i.chains.as_ref().is_some_and(|(server, _)| server.len() == 1);
            if first && !std::mem::replace(&mut i.san_seen, true) {
                if let Some(sni) = i.server_name.as_deref() {
                    let host = Host::new(sni);
                    i.sni_matches = Some(host.is_some_and(|h| ext.dns.iter().flatten().any(|n| h.matches(n))));
                }
            }
        });
    }

    fn connection_state_remove(c: Connection) {
        if let Some(mut i) = STATES.with(|s| s.borrow_mut().remove(&c.uid)) {
            i.log();
        }
    }
}

weir_guest::export_handler!(
    Ssl: ssl_client_hello,
    ssl_server_hello,
    ssl_extension_supported_versions,
    ssl_ecdh_server_params,
    ssl_extension_key_share,
    ssl_extension_server_name,
    ssl_extension_application_layer_protocol_negotiation,
    ssl_connection_flipped,
    ssl_handshake_message,
    ssl_extension,
    ssl_change_cipher_spec,
    ssl_alert,
    ssl_heartbeat,
    ssl_plaintext_data,
    ssl_certificate_request,
    ssl_established,
    protocol_violation,
    x509_certificate,
    x509_ext_subject_alternative_name,
    connection_state_remove
);

#[cfg(test)]
mod tests {
    use super::check_hostname;

    #[test]
    fn hostnames_match_as_rfc_6125_says() {
        assert!(check_hostname("ssl.gstatic.com", "*.gstatic.com"));
        assert!(check_hostname("WWW.Example.com", "www.example.COM"));
        assert!(!check_hostname("a.b.gstatic.com", "*.gstatic.com"), "a wildcard spans one label");
        assert!(!check_hostname("gstatic.com", "*.gstatic.com"));
        assert!(!check_hostname("example.com", "*.com"), "no wildcard over a public suffix");
        assert!(check_hostname("foo1.example.com", "foo*.example.com"));
        assert!(!check_hostname("a..b", "a..b"), "an empty label matches nothing");
    }
}

#[cfg(test)]
mod name_tests {
    use super::consts::{cipher, ec_curve};

    #[test]
    fn grease_values_are_named_in_every_table() {
        assert_eq!(cipher(0x0a0a), "grease_0x0A0A");
        assert_eq!(ec_curve(0xfafa), "grease_0xFAFA");
        assert_eq!(cipher(0x0a1a), "unknown-2586", "both bytes must be GREASE");
        assert_eq!(ec_curve(0x001d), "x25519");
    }
}
