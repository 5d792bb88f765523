//! The standard http.log handler: Zeek's `base/protocols/http/main.zeek`.
//!
//! Each request and reply pair is one record. Requests wait in a per-connection
//! table of pending records, numbered as they come (pipelining); a reply
//! answers the oldest unanswered one, a 1xx reply keeps the record open for
//! the final reply (its code and reason stay as `info_code` / `info_msg`),
//! and a record is written when its reply message is done. More than
//! `HTTP::max_pending_requests` (100) pending requests flush the oldest;
//! the connection's removal writes whatever is still pending.
//!
//! Client headers fill `host`, `referrer`, `user_agent`, `origin`,
//! `proxied` (Zeek's `HTTP::proxy_headers`) and, from `Authorization: Basic`,
//! `username` (`password` only with `HTTP::default_capture_password`, which
//! is off). `HTTP::log_client_header_names` / `log_server_header_names` add
//! the columns of Zeek's policy script protocols/http/header-names. Each
//! entity (a message body or a multipart part) is a file of the engine's
//! file analysis, named as Zeek's `HTTP::get_file_handle` names
//! it (`get_file_handle`: start time, direction, transaction and MIME depth
//! and the connection; a reply to a Range request by the client and URL
//! alone, so its parts on several connections are one file). As
//! `base/protocols/http/entities.zeek` does, `file_over_new_connection`
//! adds its id to `orig_fuids` / `resp_fuids` (at most 15 each,
//! `HTTP::max_files_orig` / `max_files_resp`) with the entity's
//! Content-Disposition (or Content-Type `name=`) file name to
//! `orig_filenames` / `resp_filenames`, and `file_sniff` its MIME type to
//! `orig_mime_types` / `resp_mime_types`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use weir_guest::log::{LogType as T, LogValue as V};
use std::collections::HashMap;
use weir_guest::types::{AnalyzerTag, Connection, FaFile, FaMetadata, HttpMessageStat, IpAddress};
use weir_guest::{files, runtime, ConnStates, Handler, Stream};

/// http.log's columns; the last two only with a header-names option.
const COLUMNS: [(&str, T); 32] = [
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("trans_depth", T::Count),
        ("method", T::String),
        ("host", T::String),
        ("uri", T::String),
        ("referrer", T::String),
        ("version", T::String),
        ("user_agent", T::String),
        ("origin", T::String),
        ("request_body_len", T::Count),
        ("response_body_len", T::Count),
        ("status_code", T::Count),
        ("status_msg", T::String),
        ("info_code", T::Count),
        ("info_msg", T::String),
        ("tags", T::SetOfString),
        ("username", T::String),
        ("password", T::String),
        ("proxied", T::SetOfString),
        ("orig_fuids", T::VectorOfString),
        ("orig_filenames", T::VectorOfString),
        ("orig_mime_types", T::VectorOfString),
        ("resp_fuids", T::VectorOfString),
        ("resp_filenames", T::VectorOfString),
        ("resp_mime_types", T::VectorOfString),
        ("client_header_names", T::VectorOfString),
        ("server_header_names", T::VectorOfString),
];

static HTTP: Stream = Stream::new("http", COLUMNS.split_at(30).0);
static HTTP_HEADER_NAMES: Stream = Stream::new("http", &COLUMNS);

/// The options this handler reads (docs/options.md).
struct Options {
    /// `HTTP::default_capture_password`.
    capture_password: bool,
    /// `HTTP::log_client_header_names`.
    client_header_names: bool,
    /// `HTTP::log_server_header_names`.
    server_header_names: bool,
}

/// The options, read once.
fn options() -> &'static Options {
    static OPTIONS: std::sync::OnceLock<Options> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| {
        use weir_guest::options::flag;
        Options {
            capture_password: flag("HTTP::default_capture_password"),
            client_header_names: flag("HTTP::log_client_header_names"),
            server_header_names: flag("HTTP::log_server_header_names"),
        }
    })
}

/// `HTTP::max_pending_requests`.
const MAX_PENDING: usize = 100;

/// `HTTP::proxy_headers`.
const PROXY_HEADERS: &[&str] =
    &["FORWARDED", "X-FORWARDED-FOR", "X-FORWARDED-FROM", "CLIENT-IP", "VIA", "XROXY-CONNECTION", "PROXY-CONNECTION"];

/// Connections with HTTP state at once; past it a further connection's
/// requests are not logged, and a reporter warning says so once.
const MAX_TRACKED: usize = 200_000;

/// One request/reply pair (`HTTP::Info`).
#[derive(Clone, Default)]
struct Info {
    ts: f64,
    trans_depth: u64,
    method: Option<String>,
    host: Option<String>,
    uri: Option<String>,
    referrer: Option<String>,
    version: Option<String>,
    user_agent: Option<String>,
    origin: Option<String>,
    request_body_len: u64,
    response_body_len: u64,
    status_code: Option<u64>,
    status_msg: Option<String>,
    info_code: Option<u64>,
    info_msg: Option<String>,
    username: Option<String>,
    password: Option<String>,
    proxied: Option<Vec<String>>,
    range_request: bool,
    orig_fuids: Option<Vec<String>>,
    orig_filenames: Option<Vec<String>>,
    resp_fuids: Option<Vec<String>>,
    resp_filenames: Option<Vec<String>>,
    client_header_names: Option<Vec<String>>,
    server_header_names: Option<Vec<String>>,
    orig_mime_types: Option<Vec<String>>,
    resp_mime_types: Option<Vec<String>>,
    /// Entities begun per direction (`orig_mime_depth`, `resp_mime_depth`).
    mime_depth: [u64; 2],
    /// The current entity (`HTTP::Entity`) and its file name, once one began.
    current_entity: Option<Option<String>>,
}

/// A connection's HTTP state (`HTTP::State`) and what each record repeats.
struct State {
    conn: Connection,
    pending: BTreeMap<u64, Info>,
    current_request: u64,
    current_response: u64,
    trans_depth: u64,
}

thread_local! {
    /// HTTP files open: their id → (connection uid, record number, is_orig)
    /// of the record their MIME type goes to (Zeek's `f$http`).
    static FILE_RECORDS: RefCell<HashMap<String, (String, u64, bool)>> = RefCell::new(HashMap::new());
    static STATES: RefCell<ConnStates<State>> = const {
        RefCell::new(ConnStates::new(
            MAX_TRACKED,
            "http",
            "connections with HTTP state at once; requests of further ones are not logged",
        ))
    };
}

fn opt_s(v: &Option<String>) -> V {
    v.clone().map_or(V::Unset, V::String)
}

fn opt_v(v: &Option<Vec<String>>) -> V {
    v.clone().map_or(V::Unset, V::VectorOfString)
}

fn opt_c(v: Option<u64>) -> V {
    v.map_or(V::Unset, V::Count)
}

fn write(c: &Connection, i: &Info) {
    let mut row = vec![
        V::Time(i.ts),
        V::String(c.uid.clone()),
        V::Addr(c.id.orig_h),
        V::Port(c.id.orig_p),
        V::Addr(c.id.resp_h),
        V::Port(c.id.resp_p),
        V::Count(i.trans_depth),
        opt_s(&i.method),
        opt_s(&i.host),
        opt_s(&i.uri),
        opt_s(&i.referrer),
        opt_s(&i.version),
        opt_s(&i.user_agent),
        opt_s(&i.origin),
        V::Count(i.request_body_len),
        V::Count(i.response_body_len),
        opt_c(i.status_code),
        opt_s(&i.status_msg),
        opt_c(i.info_code),
        opt_s(&i.info_msg),
        V::SetOfString(Vec::new()),
        opt_s(&i.username),
        opt_s(&i.password),
        i.proxied.clone().map_or(V::Unset, V::SetOfString),
        opt_v(&i.orig_fuids),
        opt_v(&i.orig_filenames),
        opt_v(&i.orig_mime_types),
        opt_v(&i.resp_fuids),
        opt_v(&i.resp_filenames),
        opt_v(&i.resp_mime_types),
    ];
    let o = options();
    if o.client_header_names || o.server_header_names {
        row.push(opt_v(&i.client_header_names));
        row.push(opt_v(&i.server_header_names));
        HTTP_HEADER_NAMES.write(&row);
    } else {
        HTTP.write(&row);
    }
}

/// Runs `f` on the state of `c`, created on first use unless the table is full.
fn with_state(c: &Connection, f: impl FnOnce(&mut State)) {
    let init = || State {
        conn: c.clone(),
        pending: BTreeMap::new(),
        current_request: 0,
        current_response: 0,
        trans_depth: 0,
    };
    STATES.with(|s| s.borrow_mut().with(&c.uid, init, f));
}

impl State {
    /// The record of the current request (`is_orig`) or response, created
    /// when missing (`HTTP::set_state`).
    fn current(&mut self, is_orig: bool) -> &mut Info {
        let k = if is_orig { self.current_request } else { self.current_response };
        let depth = &mut self.trans_depth;
        self.pending.entry(k).or_insert_with(|| {
            *depth += 1;
            Info { ts: runtime::network_time(), trans_depth: *depth, ..Info::default() }
        })
    }
}

/// `decode_base64`: characters outside the alphabet are skipped.
fn decode_base64(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut n) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | v as u32;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

/// `username` and `password` from a `Basic` credential.
fn basic_auth(i: &mut Info, value: &str, capture_password: bool) {
    let b = value.as_bytes();
    if b.len() < 6 || !b[..5].eq_ignore_ascii_case(b"basic") || b[5] != b' ' {
        return;
    }
    // Zeek removes the first "basic" followed by blanks, wherever it is.
    let lower = value.to_ascii_lowercase();
    let mut rest = value.to_string();
    let mut from = 0;
    while let Some(p) = lower[from..].find("basic") {
        let at = from + p;
        let end = at + 5;
        let blanks = value[end..].bytes().take_while(|&c| c == b' ' || c == b'\t').count();
        if blanks > 0 {
            rest = format!("{}{}", &value[..at], &value[end + blanks..]);
            break;
        }
        from = end;
    }
    let userpass = String::from_utf8_lossy(&decode_base64(&rest)).into_owned();
    match userpass.split_once(':') {
        Some((u, p)) => {
            i.username = Some(u.to_string());
            if capture_password {
                i.password = Some(p.to_string());
            }
        }
        None => {
            i.username = Some(format!("<problem-decoding> ({value})"));
            if capture_password {
                i.password = Some(userpass);
            }
        }
    }
}

/// `HTTP::max_files_orig` and `HTTP::max_files_resp`.
const MAX_FILES: usize = 15;

/// An address as Zeek prints it.
fn addr_text(a: &IpAddress) -> String {
    match *a {
        IpAddress::Ipv4((a, b, c, d)) => std::net::Ipv4Addr::new(a, b, c, d).to_string(),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => std::net::Ipv6Addr::new(a, b, c, d, e, f, g, h).to_string(),
    }
}

/// `HTTP::get_file_handle`: the handle of the file `i`'s entity in
/// direction `is_orig` carries on connection `c`.
fn file_handle(c: &Connection, i: &Info, is_orig: bool) -> String {
    let t = if is_orig { "T" } else { "F" };
    if i.range_request && !is_orig {
        let url = format!("http://{}{}", i.host.as_deref().unwrap_or_default(), i.uri.as_deref().unwrap_or_default());
        return format!("Analyzer::ANALYZER_HTTP{t}{}{url}", addr_text(&c.id.orig_h));
    }
    format!(
        "Analyzer::ANALYZER_HTTP{:.6}{t}{}{}{}:{} > {}:{}",
        c.start_time,
        i.trans_depth,
        i.mime_depth[usize::from(!is_orig)],
        addr_text(&c.id.orig_h),
        c.id.orig_p.number,
        addr_text(&c.id.resp_h),
        c.id.resp_p.number
    )
}

struct Http;

impl Handler for Http {
    fn http_request(c: Connection, method: String, _original_uri: String, unescaped_uri: String, _version: String) {
        with_state(&c, |st| {
            if st.current_request < st.current_response {
                st.current_request = st.current_response;
            }
            if st.pending.len() > MAX_PENDING {
                if st.current_response == 0 {
                    st.current_response += 1;
                }
                while st.current_response < st.current_request {
                    if let Some(i) = st.pending.remove(&st.current_response) {
                        write(&c, &i);
                    }
                    st.current_response += 1;
                }
            }
            st.current_request += 1;
            let i = st.current(true);
            i.method = Some(method);
            i.uri = Some(unescaped_uri);
        });
    }

    fn http_reply(c: Connection, version: String, code: u64, reason: String) {
        with_state(&c, |st| {
            let informational = |x: Option<u64>| x.is_some_and(|x| (100..=199).contains(&x));
            match st.pending.get(&st.current_response) {
                None => st.current_response += 1,
                Some(i) if i.status_code.is_some() && !informational(i.status_code) => st.current_response += 1,
                _ => {}
            }
            let i = st.current(false);
            i.status_code = Some(code);
            i.status_msg = Some(reason.clone());
            i.version = Some(version);
            if informational(Some(code)) {
                i.info_code = Some(code);
                i.info_msg = Some(reason);
            }
        });
    }

    fn http_begin_entity(c: Connection, is_orig: bool) {
        with_state(&c, |st| {
            let i = st.current(is_orig);
            i.current_entity = Some(None);
            i.mime_depth[usize::from(!is_orig)] += 1;
        });
    }

    fn get_file_handle(tag: AnalyzerTag, c: Connection, is_orig: bool) {
        if tag.name != "HTTP" {
            return;
        }
        let handle = STATES.with(|s| {
            let mut s = s.borrow_mut();
            let st = s.get_mut(&c.uid)?;
            let k = if is_orig { st.current_request } else { st.current_response };
            st.pending.get(&k).map(|i| file_handle(&c, i, is_orig))
        });
        if let Some(h) = handle {
            files::set_file_handle(&h);
        }
    }

    fn file_over_new_connection(f: FaFile, c: Connection, is_orig: bool) {
        if f.source != "HTTP" {
            return;
        }
        let is_orig = f.is_orig.unwrap_or(is_orig);
        with_state(&c, |st| {
            let k = if is_orig { st.current_request } else { st.current_response };
            let i = st.current(is_orig);
            FILE_RECORDS.with(|m| m.borrow_mut().insert(f.id.clone(), (c.uid.clone(), k, is_orig)));
            let filename = i.current_entity.clone().flatten();
            if filename.is_some() {
                files::describe(&f.id, 0, filename.as_deref());
            }
            let (fuids, names) = if is_orig {
                (&mut i.orig_fuids, &mut i.orig_filenames)
            } else {
                (&mut i.resp_fuids, &mut i.resp_filenames)
            };
            let fuids = fuids.get_or_insert_with(Vec::new);
            if fuids.len() >= MAX_FILES {
                return;
            }
            fuids.push(f.id.clone());
            if let Some(name) = filename {
                names.get_or_insert_with(Vec::new).push(name);
            }
        });
    }

    fn file_sniff(f: FaFile, meta: FaMetadata) {
        let Some(mime) = meta.mime_type else { return };
        let Some((uid, k, is_orig)) = FILE_RECORDS.with(|m| m.borrow().get(&f.id).cloned()) else { return };
        STATES.with(|s| {
            let mut s = s.borrow_mut();
            let Some(i) = s.get_mut(&uid).and_then(|st| st.pending.get_mut(&k)) else { return };
            let types = if is_orig { &mut i.orig_mime_types } else { &mut i.resp_mime_types };
            let types = types.get_or_insert_with(Vec::new);
            if types.len() < MAX_FILES {
                types.push(mime);
            }
        });
    }

    fn file_state_remove(f: FaFile) {
        FILE_RECORDS.with(|m| m.borrow_mut().remove(&f.id));
    }

    fn http_header(c: Connection, is_orig: bool, _original_name: String, name: String, value: String) {
        with_state(&c, |st| {
            let i = st.current(is_orig);
            let o = options();
            if (is_orig && o.client_header_names) || (!is_orig && o.server_header_names) {
                let names = if is_orig { &mut i.client_header_names } else { &mut i.server_header_names };
                names.get_or_insert_with(Vec::new).push(name.clone());
            }
            // base/protocols/http/entities.zeek: the entity's file name.
            if let Some(entity) = i.current_entity.as_mut() {
                if let Some(n) = weir_guest::bif::entity_filename(&name, &value) {
                    *entity = Some(n);
                }
            }
            if !is_orig {
                return;
            }
            match name.as_str() {
                "REFERER" => i.referrer = Some(value),
                "HOST" => i.host = Some(value),
                "ORIGIN" => i.origin = Some(value),
                "USER-AGENT" => i.user_agent = Some(value),
                "RANGE" => i.range_request = true,
                "AUTHORIZATION" | "PROXY-AUTHORIZATION" => basic_auth(i, &value, options().capture_password),
                n if PROXY_HEADERS.contains(&n) => {
                    let p = i.proxied.get_or_insert_with(Vec::new);
                    let e = format!("{n} -> {value}");
                    if !p.contains(&e) {
                        p.push(e);
                    }
                }
                _ => {}
            }
        });
    }

    fn http_message_done(c: Connection, is_orig: bool, stat: HttpMessageStat) {
        with_state(&c, |st| {
            let i = st.current(is_orig);
            if is_orig {
                i.request_body_len = stat.body_length;
                return;
            }
            i.response_body_len = stat.body_length;
            if !i.status_code.is_some_and(|x| (100..=199).contains(&x)) {
                if let Some(i) = st.pending.remove(&st.current_response) {
                    write(&c, &i);
                }
            }
        });
    }

    fn connection_state_remove(c: Connection) {
        if let Some(st) = STATES.with(|s| s.borrow_mut().remove(&c.uid)) {
            for (r, i) in &st.pending {
                if *r != 0 {
                    write(&st.conn, i);
                }
            }
        }
    }
}

weir_guest::export_handler!(
    Http: http_request,
    http_reply,
    http_header,
    http_begin_entity,
    get_file_handle,
    file_over_new_connection,
    file_sniff,
    file_state_remove,
    http_message_done,
    connection_state_remove
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_zeek_prints_them() {
        assert_eq!(addr_text(&IpAddress::Ipv4((192, 168, 0, 1))), "192.168.0.1");
        assert_eq!(addr_text(&IpAddress::Ipv6((0xfe80, 0, 0, 0, 0, 0, 0, 1))), "fe80::1");
    }

    #[test]
    fn basic_credentials() {
        let mut i = Info::default();
        basic_auth(&mut i, "Basic  dGVzdDoxMjM0", false);
        assert_eq!(i.username.as_deref(), Some("test"));
        assert_eq!(i.password, None, "passwords are not captured by default");
        basic_auth(&mut i, "Basic  dGVzdDoxMjM0", true);
        assert_eq!(i.password.as_deref(), Some("1234"), "HTTP::default_capture_password");
        let mut i = Info::default();
        basic_auth(&mut i, "Basic bm9jb2xvbg==", false);
        assert_eq!(i.username.as_deref(), Some("<problem-decoding> (Basic bm9jb2xvbg==)"));
        let mut i = Info::default();
        basic_auth(&mut i, "Bearer abc", false);
        assert_eq!(i.username, None);
    }

}
