//! Request lines (`METHOD URI HTTP/x.y`) and status lines
//! (`HTTP/x.y CODE REASON`) as Zeek's HTTP analyzer accepts them: the
//! method is any run of token characters, the URI runs up to the last
//! whitespace before `HTTP/`, a missing version means HTTP/0.9, and a
//! lower-case `http/` is taken with a weird.

use super::{uri, Out, Sink, Version, Want};

/// A parsed request line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLine {
    /// The method as sent.
    pub method: Vec<u8>,
    /// The URI as sent.
    pub uri: Vec<u8>,
    /// The URI with its escapes decoded.
    pub unescaped: Vec<u8>,
}

/// A parsed status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyLine {
    /// The three-digit code (0 when not digits).
    pub code: u32,
    /// The reason phrase, if there is one.
    pub reason: Option<Vec<u8>>,
}

/// Space and tab (Zeek's `is_lws`, `skip_whitespace`).
pub fn is_lws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn skip_ws(l: &[u8], mut i: usize) -> usize {
    while i < l.len() && is_lws(l[i]) {
        i += 1;
    }
    i
}

/// Whether `l[i..]` starts with `HTTP/`, exactly or in any case.
fn http_prefix(l: &[u8], i: usize, ignore_case: bool) -> bool {
    let p = b"HTTP/";
    l.len() >= i + 5 && if ignore_case { l[i..i + 5].eq_ignore_ascii_case(p) } else { &l[i..i + 5] == p }
}

fn is_token_char(c: u8) -> bool {
    c > 31 && c < 127 && !b" \t()<>@,;:\\\"/[]?={}".contains(&c)
}

fn is_uri_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b":/?#[]@!$&'()*+,;=".contains(&c) || b"-_.!~*'()".contains(&c) || c == b'%'
}

fn event(s: &mut dyn Sink, event_type: &'static str, detail: &[u8]) {
    if s.wants(Want::Event) {
        s.emit(Out::Event { event_type, detail: detail.to_vec() });
    }
}

fn weird(s: &mut dyn Sink, name: &'static str) {
    s.emit(Out::Weird(name, String::new()));
}

/// `[0-9].[0-9]` at the start of `d`, else `bad_HTTP_version` and 0.0.
fn parse_version(d: &[u8], s: &mut dyn Sink) -> Version {
    if d.len() >= 3 && d[0].is_ascii_digit() && d[1] == b'.' && d[2].is_ascii_digit() {
        (d[0] - b'0', d[2] - b'0')
    } else {
        event(s, "bad_HTTP_version", d);
        (0, 0)
    }
}

/// Records a message's version: a change raises `HTTP_version_mismatch`;
/// a version above 1.0 makes the connection persistent.
pub fn set_version(v: &mut Version, new: Version, keep_alive: &mut bool, s: &mut dyn Sink) {
    if *v == (0, 0) {
        *v = new;
    } else if *v != new {
        weird(s, "HTTP_version_mismatch");
        *v = new;
    }
    if v.0 > 1 || (v.0 == 1 && v.1 > 0) {
        *keep_alive = true;
    }
}

/// Parses a request line (`HTTP_RequestLine`); `None` after the weird
/// saying why it is none.
pub fn request_line(l: &[u8], version: &mut Version, keep_alive: &mut bool, s: &mut dyn Sink) -> Option<RequestLine> {
    let end_of_method = l.iter().position(|&c| !is_token_char(c)).unwrap_or(l.len());
    if end_of_method == 0 {
        if l.len() >= 9 && l[l.len() - 9..l.len() - 3].eq_ignore_ascii_case(b" HTTP/") {
            weird(s, "bad_HTTP_request_with_version");
        } else {
            weird(s, "bad_HTTP_request");
        }
        return None;
    }
    let rest = skip_ws(l, end_of_method);
    if rest == end_of_method {
        weird(s, "bad_HTTP_request");
        return None;
    }
    let line = &l[rest..];
    let (uri, unescaped) = parse_request(line, version, keep_alive, s);
    if *version == (0, 9) && (end_of_method < 3 || uri.is_empty()) {
        weird(s, "bad_HTTP_request");
        return None;
    }
    Some(RequestLine { method: l[..end_of_method].to_vec(), uri, unescaped })
}

/// URI and version of a request line after its method (`ParseRequest`).
fn parse_request(l: &[u8], version: &mut Version, keep_alive: &mut bool, s: &mut dyn Sink) -> (Vec<u8>, Vec<u8>) {
    let end = l.len();
    let mut end_of_uri = l.iter().position(|&c| !is_uri_char(c)).unwrap_or(end);
    let mut matched = http_prefix(l, 0, false);
    if !matched && http_prefix(l, 0, true) {
        weird(s, "lowercase_HTTP_keyword");
        matched = true;
    }
    if end_of_uri >= end && matched {
        weird(s, "missing_HTTP_uri");
        end_of_uri = 0;
    }
    let mut vs = end_of_uri;
    while vs < end {
        end_of_uri = vs;
        vs = skip_ws(l, vs);
        if http_prefix(l, vs, false) {
            break;
        }
        if http_prefix(l, vs, true) {
            weird(s, "lowercase_HTTP_keyword");
            break;
        }
        vs += 1;
    }
    if vs >= end {
        set_version(version, (0, 9), keep_alive, s);
    } else if vs + 8 <= end {
        let v = parse_version(&l[vs + 5..], s);
        set_version(version, v, keep_alive, s);
        if skip_ws(l, vs + 8) != end {
            event(s, "crud after HTTP version is ignored", l);
        }
    } else {
        event(s, "bad_HTTP_version", l);
    }
    let uri = l[..end_of_uri].to_vec();
    let unescaped = uri::unescape(&uri, &mut |w| weird(s, w));
    (uri, unescaped)
}

/// Parses a status line (`HTTP_ReplyLine`); `None` after the `http_event`
/// saying why it is none.
pub fn reply_line(l: &[u8], version: &mut Version, keep_alive: &mut bool, s: &mut dyn Sink) -> Option<ReplyLine> {
    let end = l.len();
    if !http_prefix(l, 0, false) {
        if !http_prefix(l, 0, true) {
            event(s, "bad_HTTP_reply", l);
            return None;
        }
        weird(s, "lowercase_HTTP_keyword");
    }
    let v = parse_version(&l[5..], s);
    set_version(version, v, keep_alive, s);
    let mut i = 5;
    while i < end && !is_lws(l[i]) {
        i += 1;
    }
    if i >= end {
        event(s, "HTTP_reply_code_missing", l);
        return None;
    }
    i = skip_ws(l, i);
    if i + 3 > end {
        event(s, "HTTP_reply_code_missing", l);
        return None;
    }
    let c = &l[i..i + 3];
    let code = if c.iter().all(u8::is_ascii_digit) {
        (c[0] - b'0') as u32 * 100 + (c[1] - b'0') as u32 * 10 + (c[2] - b'0') as u32
    } else {
        0
    };
    i += 3;
    while i < end && !is_lws(l[i]) {
        i += 1;
    }
    if i >= end {
        event(s, "HTTP_reply_reason_phrase_missing", l);
        return Some(ReplyLine { code, reason: None });
    }
    i = skip_ws(l, i);
    Some(ReplyLine { code, reason: Some(l[i..].to_vec()) })
}
