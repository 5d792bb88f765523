//! The standard x509.log handler: Zeek's `base/files/x509/main.zeek`.
//!
//! One record per certificate: its SHA-256 fingerprint, the certificate's
//! fields, its subject alternative names and basic constraints, and
//! whether it was the sender's own certificate (`host_cert`, the first of
//! its list) and whether the client sent it (`client_cert`). A record is
//! written once its certificate's events are over (at the next
//! certificate, the connection's removal or the end of the run). A
//! certificate already logged with the same fingerprint, `host_cert` and
//! `client_cert` within `X509::relog_known_certificates_after` (one day of
//! network time) of that first record is not logged again, up to
//! `X509::known_log_certs_maximum_size` (1,000,000) remembered
//! certificates.

use std::cell::RefCell;
use std::collections::HashMap;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::*;
use weir_guest::{Handler, Stream};

static X509: Stream = Stream::new(
    "x509",
    &[
        ("ts", T::Time),
        ("fingerprint", T::String),
        ("certificate.version", T::Count),
        ("certificate.serial", T::String),
        ("certificate.subject", T::String),
        ("certificate.issuer", T::String),
        ("certificate.not_valid_before", T::Time),
        ("certificate.not_valid_after", T::Time),
        ("certificate.key_alg", T::String),
        ("certificate.sig_alg", T::String),
        ("certificate.key_type", T::String),
        ("certificate.key_length", T::Count),
        ("certificate.exponent", T::String),
        ("certificate.curve", T::String),
        ("san.dns", T::VectorOfString),
        ("san.uri", T::VectorOfString),
        ("san.email", T::VectorOfString),
        // vector[addr] in Zeek; the log interface writes addresses in vectors as strings.
        ("san.ip", T::VectorOfString),
        ("basic_constraints.ca", T::Bool),
        ("basic_constraints.path_len", T::Count),
        ("host_cert", T::Bool),
        ("client_cert", T::Bool),
    ],
);

/// `X509::relog_known_certificates_after`'s default, in seconds.
const RELOG_AFTER: f64 = 86_400.0;

/// The options this handler reads (docs/options.md).
struct Options {
    /// `X509::relog_known_certificates_after`, in seconds (0: no deduplication).
    relog_after: f64,
    /// `X509::log_host_certificates_only`.
    host_certs_only: bool,
}

/// The options, read once.
fn options() -> &'static Options {
    static OPTIONS: std::sync::OnceLock<Options> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| Options {
        relog_after: weir_guest::options::interval("X509::relog_known_certificates_after").unwrap_or(RELOG_AFTER),
        host_certs_only: weir_guest::options::flag("X509::log_host_certificates_only"),
    })
}
/// `X509::default_max_field_container_elements`: elements written of one vector.
const MAX_ELEMENTS: usize = 500;
/// `X509::default_max_total_container_elements`: elements written of all vectors of a record.
const MAX_TOTAL_ELEMENTS: usize = 1500;
/// `X509::known_log_certs_maximum_size`.
const MAX_KNOWN: usize = 1_000_000;

/// `X509::Info`: one certificate's record in the making.
struct Info {
    file: String,
    ts: f64,
    fingerprint: String,
    cert: X509Cert,
    san: Option<X509SubjectAlternativeName>,
    bc: Option<X509BasicConstraints>,
    host_cert: bool,
    client_cert: bool,
}

#[derive(Default)]
struct State {
    pending: Option<Info>,
    /// `X509::known_log_certs`: (fingerprint, host, client) and when it was added.
    known: HashMap<(String, bool, bool), f64>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// A vector column, cut at [`MAX_ELEMENTS`] and at what is left of
/// [`MAX_TOTAL_ELEMENTS`] (`budget`).
fn list(v: Option<Vec<String>>, budget: &mut usize) -> V {
    match v {
        None => V::Unset,
        Some(mut v) => {
            let n = v.len().min(MAX_ELEMENTS).min(*budget);
            *budget -= n;
            v.truncate(n);
            V::VectorOfString(v)
        }
    }
}

fn opt(v: &Option<String>) -> V {
    v.clone().map_or(V::Unset, V::String)
}

impl State {
    /// `file_state_remove`: logs the pending record unless it is known.
    fn flush(&mut self) {
        let Some(i) = self.pending.take() else { return };
        let relog_after = options().relog_after;
        if relog_after > 0.0 {
            let key = (i.fingerprint.clone(), i.host_cert, i.client_cert);
            if let Some(&added) = self.known.get(&key) {
                if i.ts - added < relog_after {
                    return;
                }
            }
            if self.known.len() >= MAX_KNOWN {
                self.known.retain(|_, &mut t| i.ts - t < relog_after);
            }
            if self.known.len() < MAX_KNOWN {
                self.known.insert(key, i.ts);
            }
        }
        if options().host_certs_only && !i.host_cert {
            return;
        }
        let c = &i.cert;
        let mut budget = MAX_TOTAL_ELEMENTS;
        let (dns, uri, email, ips) = match i.san {
            None => (V::Unset, V::Unset, V::Unset, V::Unset),
            Some(s) => {
                let ips = s.ip.map(|ips| ips.iter().map(|a| weir_guest::ip(a).to_string()).collect());
                (list(s.dns, &mut budget), list(s.uri, &mut budget), list(s.email, &mut budget), list(ips, &mut budget))
            }
        };
        X509.write(&[
            V::Time(i.ts),
            V::String(i.fingerprint.clone()),
            V::Count(c.version),
            V::String(c.serial.clone()),
            V::String(c.subject.clone()),
            V::String(c.issuer.clone()),
            V::Time(c.not_valid_before),
            V::Time(c.not_valid_after),
            V::String(c.key_alg.clone()),
            V::String(c.sig_alg.clone()),
            opt(&c.key_type),
            c.key_length.map_or(V::Unset, V::Count),
            opt(&c.exponent),
            opt(&c.curve),
            dns,
            uri,
            email,
            ips,
            i.bc.as_ref().map_or(V::Unset, |b| V::Bool(b.ca)),
            i.bc.as_ref().and_then(|b| b.path_len).map_or(V::Unset, V::Count),
            V::Bool(i.host_cert),
            V::Bool(i.client_cert),
        ]);
    }
}

fn with_pending(f: &FaFile, g: impl FnOnce(&mut Info)) {
    STATE.with(|s| {
        if let Some(i) = s.borrow_mut().pending.as_mut().filter(|i| i.file == f.id) {
            g(i)
        }
    });
}

struct X509Log;

impl Handler for X509Log {
    fn x509_certificate(f: FaFile, cert_ref: X509Handle, cert: X509Cert) {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.flush();
            s.pending = Some(Info {
                file: f.id.clone(),
                ts: f.last_active,
                fingerprint: cert_ref.sha256,
                cert,
                san: None,
                bc: None,
                host_cert: cert_ref.index == 0,
                client_cert: f.is_orig == Some(true),
            });
        });
    }

    fn x509_ext_basic_constraints(f: FaFile, ext: X509BasicConstraints) {
        with_pending(&f, |i| i.bc = Some(ext));
    }

    fn x509_ext_subject_alternative_name(f: FaFile, ext: X509SubjectAlternativeName) {
        with_pending(&f, |i| i.san = Some(ext));
    }

    fn connection_state_remove(_c: Connection) {
        STATE.with(|s| s.borrow_mut().flush());
    }

    fn bro_done() {
        STATE.with(|s| s.borrow_mut().flush());
    }
}

weir_guest::export_handler!(
    X509Log: x509_certificate,
    x509_ext_basic_constraints,
    x509_ext_subject_alternative_name,
    connection_state_remove,
    bro_done
);
