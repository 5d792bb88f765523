//! The standard ssh.log handler: Zeek's `base/protocols/ssh/main.zeek`.
//!
//! One record per connection with SSH. The banners give `client`, `server`
//! and `version` (Zeek's rules for 1.x, 1.99 and 2.0); the two KEXINITs give
//! the negotiated algorithms (the client's first choice the server offers
//! too, `Algorithm negotiation failed` when none is, and both directions'
//! choices when they differ); the host key's SHA-256 fingerprint comes from
//! `ssh_server_host_key_fingerprint`. The analyzer's guesses from encrypted
//! packet sizes count `auth_attempts` and set `auth_success`, except on a
//! compressed stream (`SSH::compression_algorithms`), where sizes say
//! nothing. A success writes the record at once and, with
//! `SSH::disable_analyzer_after_detection`, stops the analyzer; otherwise
//! the record is written when the connection is removed. `direction` is set
//! when exactly one side is in `Site::local_nets` (`weir_guest::site`).

use std::cell::RefCell;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{AnalyzerTag, Connection, SshAlgorithmPrefs, SshCapabilitiesRec};
use weir_guest::{analyzers, ip, runtime, site, ConnStates, Handler, Stream};

static SSH: Stream = Stream::new(
    "ssh",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("version", T::Count),
        ("auth_success", T::Bool),
        ("auth_attempts", T::Count),
        ("direction", T::Enum),
        ("client", T::String),
        ("server", T::String),
        ("cipher_alg", T::String),
        ("mac_alg", T::String),
        ("compression_alg", T::String),
        ("kex_alg", T::String),
        ("host_key_alg", T::String),
        ("host_key_fingerprint", T::String),
    ],
);

/// `SSH::compression_algorithms`.
const COMPRESSION_ALGORITHMS: &[&str] = &["zlib", "zlib@openssh.com"];

/// `SSH::disable_analyzer_after_detection`.
const DISABLE_ANALYZER_AFTER_DETECTION: bool = true;

/// Connections with SSH state at once; past it further ones are not logged.
const MAX_TRACKED: usize = 200_000;

/// `SSH::Info` and what the script keeps beside it.
#[derive(Default)]
struct Info {
    conn: Option<Connection>,
    ts: f64,
    version: Option<u64>,
    auth_success: Option<bool>,
    auth_attempts: u64,
    direction: Option<&'static str>,
    client: Option<String>,
    server: Option<String>,
    cipher_alg: Option<String>,
    mac_alg: Option<String>,
    compression_alg: Option<String>,
    kex_alg: Option<String>,
    host_key_alg: Option<String>,
    host_key_fingerprint: Option<String>,
    logged: bool,
    capabilities: Option<SshCapabilitiesRec>,
    analyzer_id: Option<u64>,
}

thread_local! {
    static STATES: RefCell<ConnStates<Info>> = const {
        RefCell::new(ConnStates::new(MAX_TRACKED, "ssh", "connections with SSH state at once; further ones are not logged"))
    };
}

/// Runs `f` on the record of `c`, made on first use (`SSH::set_session`).
fn with_info(c: &Connection, f: impl FnOnce(&mut Info)) {
    let init = || {
        // Zeek's SSH::set_session: a direction only when one side is local.
        let (o, r) = (site::is_local_addr(ip(&c.id.orig_h)), site::is_local_addr(ip(&c.id.resp_h)));
        Info {
            conn: Some(c.clone()),
            ts: runtime::network_time(),
            direction: (o != r).then_some(if o { "OUTBOUND" } else { "INBOUND" }),
            ..Info::default()
        }
    };
    STATES.with(|s| s.borrow_mut().with(&c.uid, init, f));
}

fn opt_s(v: &Option<String>) -> V {
    v.clone().map_or(V::Unset, V::String)
}

fn write(i: &mut Info) {
    i.logged = true;
    let Some(c) = &i.conn else { return };
    SSH.write_conn(i.ts, &c.uid, &c.id, &[
        i.version.map_or(V::Unset, V::Count),
        i.auth_success.map_or(V::Unset, V::Bool),
        V::Count(i.auth_attempts),
        i.direction.map_or(V::Unset, |d| V::Enum(d.to_string())),
        opt_s(&i.client),
        opt_s(&i.server),
        opt_s(&i.cipher_alg),
        opt_s(&i.mac_alg),
        opt_s(&i.compression_alg),
        opt_s(&i.kex_alg),
        opt_s(&i.host_key_alg),
        opt_s(&i.host_key_fingerprint),
    ]);
}

/// `SSH::set_version`: the version both banners give, if any.
fn version(client: &str, server: &str) -> Option<u64> {
    let (c, s) = (client.as_bytes(), server.as_bytes());
    if c.is_empty() || s.is_empty() || c.len() <= 4 || s.len() <= 4 {
        return None;
    }
    let is_199 = |v: &[u8]| v.len() > 7 && v[6] == b'9' && v[7] == b'9';
    match (c[4], s[4]) {
        (b'1', b'2') => is_199(c).then_some(2),
        (b'2', b'1') => is_199(s).then_some(2),
        (b'1', b'1') => Some(if is_199(s) && is_199(c) { 2 } else { 1 }),
        (b'2', b'2') => Some(2),
        _ => None,
    }
}

/// `find_alg`: the client's first algorithm the server offers too.
fn find_alg(client: &[String], server: &[String]) -> String {
    client.iter().find(|a| server.contains(a)).cloned().unwrap_or_else(|| "Algorithm negotiation failed".into())
}

/// `find_bidirectional_alg`.
fn find_bidirectional_alg(client: &SshAlgorithmPrefs, server: &SshAlgorithmPrefs) -> String {
    let v = |o: &Option<Vec<String>>| o.clone().unwrap_or_default();
    let c2s = find_alg(&v(&client.client_to_server), &v(&server.client_to_server));
    let s2c = find_alg(&v(&client.server_to_client), &v(&server.server_to_client));
    if c2s == s2c {
        c2s
    } else {
        format!("To server: {c2s}, to client: {s2c}")
    }
}

struct Ssh;

impl Handler for Ssh {
    fn ssh_server_version(c: Connection, version_: String) {
        with_info(&c, |i| {
            i.server = Some(version_);
            i.version = version(i.client.as_deref().unwrap_or(""), i.server.as_deref().unwrap_or(""));
        });
    }

    fn ssh_client_version(c: Connection, version_: String) {
        with_info(&c, |i| {
            i.client = Some(version_);
            i.version = version(i.client.as_deref().unwrap_or(""), i.server.as_deref().unwrap_or(""));
        });
    }

    fn ssh_auth_attempted(c: Connection, authenticated: bool) {
        STATES.with(|s| {
            let mut s = s.borrow_mut();
            let Some(i) = s.get_mut(&c.uid) else { return };
            if i.auth_success == Some(true) {
                return;
            }
            if i.compression_alg.as_deref().is_some_and(|a| COMPRESSION_ALGORITHMS.contains(&a)) {
                return;
            }
            i.auth_success = Some(authenticated);
            i.auth_attempts += 1;
            if authenticated && DISABLE_ANALYZER_AFTER_DETECTION {
                if let Some(aid) = i.analyzer_id {
                    analyzers::disable_analyzer(c.id, aid);
                }
            }
            if authenticated && !i.logged {
                write(i);
            }
        });
    }

    fn ssh_capabilities(c: Connection, _cookie: Vec<u8>, capabilities: SshCapabilitiesRec) {
        STATES.with(|s| {
            let mut s = s.borrow_mut();
            let Some(i) = s.get_mut(&c.uid) else { return };
            let Some(first) = &i.capabilities else {
                i.capabilities = Some(capabilities);
                return;
            };
            if first.is_server == capabilities.is_server {
                return;
            }
            let (client, server) = if capabilities.is_server { (first, &capabilities) } else { (&capabilities, first) };
            i.cipher_alg = Some(find_bidirectional_alg(&client.encryption_algorithms, &server.encryption_algorithms));
            i.mac_alg = Some(find_bidirectional_alg(&client.mac_algorithms, &server.mac_algorithms));
            i.compression_alg = Some(find_bidirectional_alg(&client.compression_algorithms, &server.compression_algorithms));
            i.kex_alg = Some(find_alg(&client.kex_algorithms, &server.kex_algorithms));
            i.host_key_alg = Some(find_alg(&client.server_host_key_algorithms, &server.server_host_key_algorithms));
        });
    }

    fn ssh_server_host_key_fingerprint(c: Connection, fingerprint: String) {
        STATES.with(|s| {
            if let Some(i) = s.borrow_mut().get_mut(&c.uid) {
                i.host_key_fingerprint = Some(fingerprint);
            }
        });
    }

    fn protocol_confirmation(c: Connection, atype: AnalyzerTag, aid: u64) {
        if atype.name == "SSH" {
            with_info(&c, |i| i.analyzer_id = Some(aid));
        }
    }

    fn connection_state_remove(c: Connection) {
        if let Some(mut i) = STATES.with(|s| s.borrow_mut().remove(&c.uid)) {
            if !i.logged {
                write(&mut i);
            }
        }
    }
}

weir_guest::export_handler!(
    Ssh: ssh_server_version,
    ssh_client_version,
    ssh_auth_attempted,
    ssh_capabilities,
    ssh_server_host_key_fingerprint,
    protocol_confirmation,
    connection_state_remove
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_banners() {
        assert_eq!(version("SSH-2.0-a", "SSH-2.0-b"), Some(2));
        assert_eq!(version("SSH-1.99-a", "SSH-2.0-b"), Some(2));
        assert_eq!(version("SSH-1.5-a", "SSH-2.0-b"), None);
        assert_eq!(version("SSH-1.5-a", "SSH-1.99-b"), Some(1));
        assert_eq!(version("SSH-1.99-a", "SSH-1.99-b"), Some(2));
        assert_eq!(version("SSH-", "SSH-2.0-b"), None);
    }

    #[test]
    fn negotiation() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(find_alg(&s(&["a", "b"]), &s(&["c", "b", "a"])), "a");
        assert_eq!(find_alg(&s(&["a"]), &s(&["c"])), "Algorithm negotiation failed");
        let p = |a: &[&str], b: &[&str]| SshAlgorithmPrefs { client_to_server: Some(s(a)), server_to_client: Some(s(b)) };
        assert_eq!(find_bidirectional_alg(&p(&["x"], &["y"]), &p(&["x"], &["y"])), "To server: x, to client: y");
        assert_eq!(find_bidirectional_alg(&p(&["x"], &["x"]), &p(&["x"], &["x", "y"])), "x");
    }
}
