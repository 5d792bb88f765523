//! Zeek's SSL analyzer: TLS (SSLv3 to TLS 1.3) and SSLv2 hellos over TCP,
//! raising the `ssl_*` events and, for each certificate a side sends, the
//! `x509_*` events.
//!
//! A lenient hand parser of its own: [`record`] reads the record layer of
//! each direction (Zeek's record-layer checks and violations, SSLv2
//! headers, plaintext or encrypted by the change-cipher-spec state and TLS
//! 1.3's rule), [`handshake`] reassembles handshake messages across records
//! and parses hellos, extensions, certificates and key exchanges, and
//! [`x509`] turns a certificate's DER into Zeek's certificate records with
//! x509-parser. Everything is reported to a [`Sink`].
//!
//! [`start_mid_stream`] is the way in for protocols that switch to TLS on a
//! connection already under way (STARTTLS): the analyzer it returns expects
//! the first TLS byte of each direction next.

pub mod analyzer;
pub mod decrypt;
pub mod dtls;
#[doc(hidden)]
pub mod fuzzing;
pub mod handshake;
pub mod record;
#[cfg(test)]
mod tests;
pub mod x509;

pub use analyzer::Ssl;
use weir_events::{Connection, Event, EventKind};

/// TCP ports of Zeek's `SSL::ssl_ports` (HTTPS, NNTPS, IMAPS, LDAPS, FTPS,
/// TELNETS, POP3S, SMTPS submission, XMPP over TLS, ...).
pub const PORTS: [u16; 12] = [443, 465, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223];

/// `SSLv2`'s version number.
pub const SSLV2: u16 = 0x0002;
/// `SSLv3`.
pub const SSLV3: u16 = 0x0300;
/// `TLSv10`.
pub const TLSV10: u16 = 0x0301;
/// `TLSv11`.
pub const TLSV11: u16 = 0x0302;
/// `TLSv12`.
pub const TLSV12: u16 = 0x0303;
/// `TLSv13`.
pub const TLSV13: u16 = 0x0304;

/// Whether Zeek accepts `v` in a hello: SSLv2 to TLS 1.3, TLS 1.3 drafts
/// (`0x7fNN`) and DTLS 1.0, 1.2 and 1.3.
pub fn version_ok(v: u16) -> bool {
    v >> 8 == 0x7f || matches!(v, SSLV2 | SSLV3 | TLSV10 | TLSV11 | TLSV12 | TLSV13 | 0xfeff | 0xfefd | 0xfefc)
}

/// Whether `v` is TLS 1.3 or one of its drafts.
pub fn is_tls13(v: u16) -> bool {
    v == TLSV13 || v >> 8 == 0x7f
}

/// The SSL analyzer's settings, under Zeek's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslConfig {
    /// `SSL::max_alerts_per_record` (10): alerts read from one record.
    pub max_alerts_per_record: u64,
    /// `SSL::disable_analyzer_after_detection` (T): the analyzer stops once
    /// the connection is established, as Zeek's ssl scripts detach it.
    pub disable_analyzer_after_detection: bool,
    /// `SSL::secrets`, `SSL::keys` and `SSL::keylog_file`: what TLS 1.2
    /// application data is decrypted with ([`decrypt`]).
    pub secrets: std::sync::Arc<decrypt::Secrets>,
}

impl Default for SslConfig {
    fn default() -> Self {
        SslConfig { max_alerts_per_record: 10, disable_analyzer_after_detection: true, secrets: Default::default() }
    }
}

impl SslConfig {
    /// Sets `name` to `value` if it is one of these options; `None` when it is not.
    pub fn set(&mut self, name: &str, value: &str) -> Option<Result<(), String>> {
        let r = match name {
            "SSL::max_alerts_per_record" => {
                value.trim().parse().map(|n| self.max_alerts_per_record = n).map_err(|_| format!("'{value}' is not a count"))
            }
            "SSL::disable_analyzer_after_detection" => match value.trim() {
                "T" | "true" | "1" => Ok(self.disable_analyzer_after_detection = true),
                "F" | "false" | "0" => Ok(self.disable_analyzer_after_detection = false),
                _ => Err(format!("'{value}' is not a bool (T or F)")),
            },
            "SSL::secrets" | "SSL::keys" | "SSL::keylog_file" => self.set_secrets(name, value),
            _ => return None,
        };
        Some(r)
    }
}

impl SslConfig {
    /// The decryption settings: `SSL::secrets` and `SSL::keys` take
    /// `RANDOM:VALUE` pairs in hex, separated by commas (48-byte master
    /// secrets, 72 bytes of key material), `SSL::keylog_file` the path of
    /// an NSS key log whose `CLIENT_RANDOM` lines join the secrets.
    fn set_secrets(&mut self, name: &str, value: &str) -> Result<(), String> {
        let s = std::sync::Arc::make_mut(&mut self.secrets);
        match name {
            "SSL::keylog_file" => {
                let path = value.trim();
                if !path.is_empty() {
                    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
                    let n = s.add_keylog(&text);
                    tracing::info!(path, entries = n, "TLS key log read");
                }
            }
            _ => {
                let (map, len) = if name == "SSL::keys" {
                    (&mut s.keys, decrypt::KEY_BLOCK_LEN)
                } else {
                    (&mut s.secrets, decrypt::MASTER_SECRET_LEN)
                };
                for (random, v) in decrypt::Secrets::parse_pairs(value)? {
                    if v.len() != len {
                        return Err(format!("{name}: a value of {} bytes, not {len}", v.len()));
                    }
                    map.insert(random, v);
                }
            }
        }
        Ok(())
    }
}

/// Where the parser's findings go.
pub trait Sink {
    /// Whether a handler takes events of `kind`.
    fn wants(&self, kind: EventKind) -> bool;
    /// Queues an event built for the connection as it is now.
    fn raise<F: FnOnce(Box<Connection>) -> Event>(&mut self, build: F);
    /// A connection weird.
    fn weird(&mut self, name: &'static str, addl: String);
    /// The traffic is SSL/TLS.
    fn confirm(&mut self);
    /// The traffic breaks SSL/TLS.
    fn violate(&mut self, reason: String);
    /// Network time.
    fn now(&self) -> f64;
}

/// A fresh SSL analyzer for a connection that switches to TLS now (after a
/// STARTTLS exchange): the bytes handed to it next are each direction's
/// first TLS bytes. The caller (the protocol analyzer that saw the switch)
/// feeds it through its own `stream` calls, or adds it to the connection's
/// analyzer set.
pub fn start_mid_stream(cfg: &crate::config::Config) -> Ssl {
    Ssl::new(cfg.ssl.clone())
}
