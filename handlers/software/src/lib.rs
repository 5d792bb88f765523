//! The standard software.log handler: Zeek's software framework
//! (`base/frameworks/software/main.zeek`) fed as Zeek's HTTP software
//! scripts feed it (`protocols/http/software.zeek`,
//! `protocols/http/software-browser-plugins.zeek`):
//!
//! - a client's `User-Agent` is an `HTTP::BROWSER` of the client;
//! - a server's `Server` is an `HTTP::SERVER` of the server (with its port),
//!   `X-Powered-By` an `HTTP::APPSERVER`, `MicrosoftSharePointTeamServices`
//!   a `SharePoint/<value>` `HTTP::APPSERVER`;
//! - a request's `X-Flash-Version` (as `Flash/<value>`), or an
//!   `X-Requested-With` naming Flash, is an `HTTP::BROWSER_PLUGIN` of the
//!   client when the request is done (`AdobeAIR-` before it when the
//!   request's User-Agent names AdobeAIR).
//!
//! Each string is parsed by `Software::parse` (browser strings starting
//! `Mozilla/` or `Opera/` by its browser rules; otherwise the name is what
//! precedes the first run of two or more version characters, introduced by
//! `/`, `-`, `_` or ` (` / ` v`, split into up to four numbers, the addl from
//! what follows or a parenthesised trailer; `Software::alternate_names` maps
//! `Flash Player` to `Flash`). A string already found for the same host,
//! port and type within `Software::found_cache_interval` (10 minutes) is
//! dropped, and a host's name and string already logged are not logged again
//! (the framework's per-host sets, at most `Software::max_software_cache_size`
//! strings per name).
//!
//! weir has no `Site::local_nets`: every host is tracked, as with
//! `Software::asset_tracking = ALL_HOSTS` (Zeek's default, `LOCAL_HOSTS`,
//! logs nothing until local networks are configured). Other protocols' software
//! (SSH, FTP and SMTP banners and mail clients) is not logged here yet: each
//! source calls [`found`] with its host, port, type and string.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{Connection, HttpMessageStat, IpAddress, Port};
use weir_guest::{runtime, ConnStates, Handler, Stream};

static SOFTWARE: Stream = Stream::new(
    "software",
    &[
        ("ts", T::Time),
        ("host", T::Addr),
        ("host_p", T::Port),
        ("software_type", T::Enum),
        ("name", T::String),
        ("version.major", T::Count),
        ("version.minor", T::Count),
        ("version.minor2", T::Count),
        ("version.minor3", T::Count),
        ("version.addl", T::String),
        ("unparsed_version", T::String),
    ],
);

/// `Software::found_cache_interval`.
const FOUND_CACHE_INTERVAL: f64 = 600.0;

/// `Software::max_software_cache_size`.
const MAX_CACHE_SIZE: usize = 20;

/// Hosts tracked at once (Zeek expires them after a day).
const MAX_HOSTS: usize = 100_000;

/// `Software::Version`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Version {
    /// Major number.
    pub major: Option<u64>,
    /// Minor number.
    pub minor: Option<u64>,
    /// Second minor number.
    pub minor2: Option<u64>,
    /// Third minor number.
    pub minor3: Option<u64>,
    /// Additional text.
    pub addl: Option<String>,
}

/// What `Software::parse` makes of a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// The software's name.
    pub name: String,
    /// Its version.
    pub version: Version,
}

fn strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii_whitespace())
}

fn is_version_char(c: u8) -> bool {
    c.is_ascii_digit() || b"-._, ".contains(&c)
}

/// Leftmost-longest match of `([/\-_]|( [(v]+))?[0-9\-._, ]{2,}`.
fn version_match(s: &[u8]) -> Option<(usize, usize)> {
    let run = |from: usize| s[from.min(s.len())..].iter().take_while(|&&c| is_version_char(c)).count();
    for p in 0..s.len() {
        let mut best = None;
        let n = run(p);
        if n >= 2 {
            best = Some(p + n);
        }
        let q = if b"/-_".contains(&s[p]) {
            Some(p + 1)
        } else if s[p] == b' ' && p + 1 < s.len() && b"(v".contains(&s[p + 1]) {
            Some(p + 1 + s[p + 1..].iter().take_while(|&&c| c == b'(' || c == b'v').count())
        } else {
            None
        };
        if let Some(q) = q {
            let n = run(q);
            if n >= 2 && best.is_none_or(|b| q + n > b) {
                best = Some(q + n);
            }
        }
        if let Some(e) = best {
            return Some((p, e));
        }
    }
    None
}

/// The first match of `[/\-_]|( [(v]+)`.
fn sep_match(s: &[u8]) -> Option<(usize, usize)> {
    for p in 0..s.len() {
        if b"/-_".contains(&s[p]) {
            return Some((p, p + 1));
        }
        if s[p] == b' ' && p + 1 < s.len() && b"(v".contains(&s[p + 1]) {
            return Some((p, p + 1 + s[p + 1..].iter().take_while(|&&c| c == b'(' || c == b'v').count()));
        }
    }
    None
}

/// Splits at the first `max` bytes of `seps` (`split_string_n`, separators left out).
fn split_n<'a>(s: &'a str, seps: &[u8], max: usize) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.bytes().enumerate() {
        if out.len() == max {
            break;
        }
        if seps.contains(&c) {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// `extract_count`: the first run of digits (0 when none).
fn extract_count(s: &str) -> u64 {
    let d: String = s.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
    d.parse().unwrap_or(u64::MAX.min(if d.is_empty() { 0 } else { u64::MAX }))
}

/// `Software::alternate_names`.
fn alternate_name(n: String) -> String {
    if n == "Flash Player" {
        "Flash".to_string()
    } else {
        n
    }
}

/// `Software::parse`.
pub fn parse(unparsed: &str) -> Description {
    if is_browser(unparsed) {
        return parse_mozilla(unparsed);
    }
    if let Some(at) = unparsed.find("A/") {
        let rest = &unparsed[at + 2..];
        let digits = rest.bytes().take_while(|c| c.is_ascii_digit() || *c == b'.').count();
        if rest[digits..].starts_with("/Google/Pixel") {
            let parts: Vec<&str> = unparsed.split('/').collect();
            if let Some(vs) = parts.get(1) {
                let version = if vs.contains('.') {
                    parse(vs).version
                } else {
                    Version { major: Some(extract_count(vs)), ..Version::default() }
                };
                return Description { name: "Android (Google Pixel)".into(), version };
            }
        }
    }
    let clean = weir_guest::bif::unescape_uri(&unparsed.replace("\\x", "%"));
    let b = clean.as_bytes();
    let (p0, p1, p2) = match version_match(b) {
        Some((s, e)) => (&clean[..s], Some(&clean[s..e]), &clean[e..]),
        None => (clean.as_str(), None, ""),
    };
    let mut name = p0.to_string();
    let ends_sep = {
        let nb = name.as_bytes();
        nb.last().is_some_and(|c| b"/-_".contains(c))
            || (nb.len() >= 2 && {
                let k = nb.iter().rev().take_while(|&&c| c == b'(' || c == b'v').count();
                k > 0 && k < nb.len() && nb[nb.len() - k - 1] == b' '
            })
    };
    if ends_sep {
        if let Some((s, e)) = sep_match(name.as_bytes()) {
            name = strip(&format!("{}{}", &name[..s], &name[e..])).to_string();
        }
    }
    let name = match name.find('(') {
        Some(0) => strip(&name[1..]).to_string(),
        _ => strip(&name).to_string(),
    };
    let mut v = Version::default();
    if let Some(p1) = p1 {
        let mut sv = strip(p1).to_string();
        if sv.as_bytes().first().is_some_and(|c| b"/-._v(".contains(c)) {
            sv = strip(&sv[1..]).to_string();
        }
        let nums = split_n(&sv, b"-._,[({ ", 3);
        if !p2.is_empty() && p2 != ")" {
            v.addl = Some(addl_of(p2));
        }
        let get = |i: usize| nums.get(i).filter(|s| !s.is_empty()).map(|s| extract_count(s));
        v.minor3 = get(3);
        v.minor2 = get(2);
        v.minor = get(1);
        v.major = get(0);
    }
    Description { name: alternate_name(name), version: v }
}

/// The addl from what follows the version.
fn addl_of(rest: &str) -> String {
    let b = rest.as_bytes();
    let blanks = b.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    if b.get(blanks) == Some(&b'(') {
        let inner = b[blanks + 1..].iter().take_while(|&&c| c.is_ascii_alphanumeric() || b"-._ \t".contains(&c)).count();
        if b.get(blanks + 1 + inner) == Some(&b')') {
            return split_n(rest, b"()", 2).get(1).copied().unwrap_or_default().to_string();
        }
    }
    let vp = split_n(rest, b"-._,;[](){} ", 3);
    for part in vp.iter().take(3) {
        if !part.is_empty() {
            return strip(part).to_string();
        }
    }
    strip(rest).to_string()
}

/// `^(Mozilla|Opera)/[0-9]+\.`.
fn is_browser(s: &str) -> bool {
    let rest = s.strip_prefix("Mozilla/").or_else(|| s.strip_prefix("Opera/"));
    rest.is_some_and(|r| {
        let d = r.bytes().take_while(u8::is_ascii_digit).count();
        d > 0 && r.as_bytes().get(d) == Some(&b'.')
    })
}

/// The first `word` followed by the longest run of `chars` (`word[chars]*`).
fn find_run<'a>(s: &'a str, word: &str, chars: &str) -> Option<&'a str> {
    let at = s.find(word)?;
    let tail = &s[at + word.len()..];
    let n = tail.bytes().take_while(|c| chars.as_bytes().contains(c)).count();
    Some(&s[at..at + word.len() + n])
}

/// `Software::parse_mozilla`.
fn parse_mozilla(s: &str) -> Description {
    const NUM: &str = "0123456789.";
    let mut name = "<unknown browser>".to_string();
    let mut v = Version::default();
    let ver = |m: Option<&str>| m.map(|m| parse(m).version).unwrap_or_default();
    let opera_end = s.rfind("Opera ").filter(|&at| s[at + 6..].bytes().all(|c| NUM.as_bytes().contains(&c)));
    if let Some(at) = opera_end {
        name = "Opera".into();
        v = parse(&s[at..]).version;
    } else if s.contains(" MSIE ") || s.contains("Trident/") {
        name = "MSIE".into();
        let fixed = |major| Version { major: Some(major), minor: Some(0), ..Version::default() };
        v = if s.contains("Trident/4.0") {
            fixed(8)
        } else if s.contains("Trident/5.0") {
            fixed(9)
        } else if s.contains("Trident/6.0") {
            fixed(10)
        } else if s.contains("Trident/7.0") {
            fixed(11)
        } else {
            ver(find_run(s, "MSIE ", "0123456789.b"))
        };
    } else if s.contains("Edge/") {
        name = "Edge".into();
        v = ver(find_run(s, "Edge/", NUM));
    } else if s.find("Version/").is_some_and(|a| s[a..].contains("Safari/")) {
        name = "Safari".into();
        v = ver(find_run(s, "Version/", NUM));
        if let Some(a) = s.find(" Mobile") {
            if s[a..].contains(" Safari") {
                v.addl = Some("Mobile".into());
            }
        }
    } else if let Some(m) = ["Firefox/", "Netscape/", "Thunderbird/"]
        .iter()
        .filter_map(|w| s.find(w).map(|a| (a, *w)))
        .min()
        .and_then(|(_, w)| find_run(s, w, NUM))
    {
        let d = parse(m);
        name = d.name;
        v = d.version;
    } else if s.find("Chrome/").is_some_and(|a| s[a..].contains("Safari/")) {
        name = "Chrome".into();
        v = ver(find_run(s, "Chrome/", NUM));
    } else if s.starts_with("Opera/") {
        if s.contains("Opera Mini/") || s.contains("Opera Mobi/") {
            let at = s.find("Opera Mini").or_else(|| s.find("Opera Mobi")).unwrap_or(0);
            name = s[at..at + 10].to_string();
            v = match find_run(s, "Version/", NUM) {
                Some(m) => parse(m).version,
                None => ver(find_run(s, "Opera Mini/", NUM)),
            };
        } else {
            name = "Opera".into();
            v = ver(find_run(s, "Version/", NUM));
        }
    } else if s.contains("Flash%20Player") {
        name = "Flash".into();
        let parts: Vec<&str> = s.split(['/', ' ']).collect();
        if let Some(p) = parts.get(1) {
            v = parse(p).version;
        }
    } else if s.contains("AdobeAIR/") {
        name = "AdobeAIR".into();
        v = ver(find_run(s, "AdobeAIR/", NUM));
    } else if s.contains("AppleWebKit/") {
        name = "Unspecified WebKit".into();
        v = ver(find_run(s, "AppleWebKit/", NUM));
    } else if s.find(" Java/").is_some_and(|a| {
        let b = s.as_bytes();
        b.get(a + 6).is_some_and(u8::is_ascii_digit) && b.get(a + 7) == Some(&b'.')
    }) {
        name = "Java".into();
        v = ver(find_run(s, "Java/", "0123456789._"));
    }
    Description { name, version: v }
}

/// One software sighting (`Software::Info` before parsing).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    host: IpAddr,
    host_p: Option<(u16, u8)>,
    software_type: &'static str,
    unparsed: String,
}

#[derive(Default)]
struct Framework {
    /// `found_cache`: when each sighting was first made.
    found: HashMap<Key, f64>,
    /// `tracked_software`: per host and name, the strings logged.
    tracked: HashMap<IpAddr, HashMap<String, HashSet<String>>>,
}

thread_local! {
    static FRAMEWORK: RefCell<Framework> = RefCell::new(Framework::default());
}

fn wit_ip(a: IpAddr) -> IpAddress {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            IpAddress::Ipv4((o[0], o[1], o[2], o[3]))
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
    }
}

/// `Software::found`: software `unparsed` of type `software_type` (Zeek's
/// enum name) on `host` (and port `host_p`, for servers).
pub fn found(host: IpAddr, host_p: Option<Port>, software_type: &'static str, unparsed: &str) {
    let now = runtime::network_time();
    let key = Key {
        host,
        host_p: host_p.map(|p| (p.number, p.proto as u8)),
        software_type,
        unparsed: unparsed.to_string(),
    };
    FRAMEWORK.with(|f| {
        let mut f = f.borrow_mut();
        if f.found.len() > MAX_HOSTS * 4 {
            f.found.retain(|_, t| now - *t < FOUND_CACHE_INTERVAL);
        }
        match f.found.get(&key) {
            Some(t) if now - t < FOUND_CACHE_INTERVAL => return,
            _ => {
                f.found.insert(key, now);
            }
        }
        let d = parse(unparsed);
        if !f.tracked.contains_key(&host) && f.tracked.len() >= MAX_HOSTS {
            f.tracked.clear();
        }
        let versions = f.tracked.entry(host).or_default().entry(d.name.clone()).or_default();
        if versions.contains(unparsed) {
            return;
        }
        versions.insert(unparsed.to_string());
        if versions.len() > MAX_CACHE_SIZE {
            versions.clear();
            versions.insert(unparsed.to_string());
        }
        let c = |v: Option<u64>| v.map_or(V::Unset, V::Count);
        SOFTWARE.write(&[
            V::Time(now),
            V::Addr(wit_ip(host)),
            host_p.map_or(V::Unset, V::Port),
            V::Enum(software_type.to_string()),
            V::String(d.name),
            c(d.version.major),
            c(d.version.minor),
            c(d.version.minor2),
            c(d.version.minor3),
            d.version.addl.map_or(V::Unset, V::String),
            V::String(unparsed.to_string()),
        ]);
    });
}

/// A request's plugin and user agent (`HTTP::Info$flash_version`, `$user_agent`).
#[derive(Default)]
struct Request {
    flash_version: Option<String>,
    user_agent: Option<String>,
}

thread_local! {
    static REQUESTS: RefCell<ConnStates<Request>> = const {
        RefCell::new(ConnStates::new(200_000, "software", "connections with HTTP requests at once; further ones' browser plugins are not found"))
    };
}

struct Software;

impl Handler for Software {
    fn http_request(c: Connection, _method: String, _original_uri: String, _unescaped_uri: String, _version: String) {
        REQUESTS.with(|r| r.borrow_mut().with(&c.uid, Request::default, |q| *q = Request::default()));
    }

    fn http_header(c: Connection, is_orig: bool, _original_name: String, name: String, value: String) {
        let (orig, resp) = (weir_guest::ip(&c.id.orig_h), weir_guest::ip(&c.id.resp_h));
        if is_orig {
            match name.as_str() {
                "USER-AGENT" => {
                    found(orig, None, "HTTP::BROWSER", &value);
                    REQUESTS.with(|r| r.borrow_mut().with(&c.uid, Request::default, |q| q.user_agent = Some(value)));
                }
                "X-FLASH-VERSION" => {
                    let v = format!("Flash/{value}");
                    REQUESTS.with(|r| r.borrow_mut().with(&c.uid, Request::default, |q| q.flash_version = Some(v)));
                }
                "X-REQUESTED-WITH" if value.contains("Flash") => {
                    REQUESTS.with(|r| r.borrow_mut().with(&c.uid, Request::default, |q| q.flash_version = Some(value)));
                }
                _ => {}
            }
        } else {
            match name.as_str() {
                "SERVER" => found(resp, Some(c.id.resp_p), "HTTP::SERVER", &value),
                "X-POWERED-BY" => found(resp, Some(c.id.resp_p), "HTTP::APPSERVER", &value),
                "MICROSOFTSHAREPOINTTEAMSERVICES" => {
                    found(resp, Some(c.id.resp_p), "HTTP::APPSERVER", &format!("SharePoint/{value}"))
                }
                _ => {}
            }
        }
    }

    fn http_message_done(c: Connection, is_orig: bool, _stat: HttpMessageStat) {
        if !is_orig {
            return;
        }
        let plugin = REQUESTS.with(|r| {
            r.borrow_mut().get_mut(&c.uid).and_then(|q| {
                let f = q.flash_version.take()?;
                Some(if q.user_agent.as_deref().is_some_and(|u| u.contains("AdobeAIR")) { format!("AdobeAIR-{f}") } else { f })
            })
        });
        if let Some(p) = plugin {
            found(weir_guest::ip(&c.id.orig_h), None, "HTTP::BROWSER_PLUGIN", &p);
        }
    }

    fn connection_state_remove(c: Connection) {
        REQUESTS.with(|r| r.borrow_mut().remove(&c.uid));
    }
}

weir_guest::export_handler!(Software: http_request, http_header, http_message_done, connection_state_remove);

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: Option<u64>, minor: Option<u64>, minor2: Option<u64>, minor3: Option<u64>, addl: Option<&str>) -> Version {
        Version { major, minor, minor2, minor3, addl: addl.map(str::to_string) }
    }

    #[test]
    fn zeek_version_parsing() {
        let d = parse("Apache/2.2.14 (Ubuntu)");
        assert_eq!((d.name.as_str(), d.version), ("Apache", v(Some(2), Some(2), Some(14), None, Some("Ubuntu"))));
        let d = parse("AdobeAIR-Flash/10,2,159,1");
        assert_eq!((d.name.as_str(), d.version), ("AdobeAIR-Flash", v(Some(10), Some(2), Some(159), Some(1), None)));
        let d = parse("Apache");
        assert_eq!((d.name.as_str(), d.version), ("Apache", Version::default()));
        let d = parse("OpenSSH_5.3p1");
        assert_eq!((d.name.as_str(), d.version), ("OpenSSH", v(Some(5), Some(3), None, None, Some("p1"))));
        let d = parse("Flash Player 10.1");
        assert_eq!(d.name, "Flash", "alternate name");
        let d = parse("Mozilla/5.0 (Macintosh; U; Intel Mac OS X; en) AppleWebKit/531.9 (KHTML, like Gecko) AdobeAIR/2.6");
        assert_eq!((d.name.as_str(), d.version), ("AdobeAIR", v(Some(2), Some(6), None, None, None)));
        let d = parse("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:10.0) Gecko/20100101 Firefox/10.0");
        assert_eq!((d.name.as_str(), d.version), ("Firefox", v(Some(10), Some(0), None, None, None)));
        let d = parse("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)");
        assert_eq!((d.name.as_str(), d.version), ("MSIE", v(Some(8), Some(0), None, None, None)));
        let d = parse("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.89 Safari/537.36");
        assert_eq!((d.name.as_str(), d.version), ("Chrome", v(Some(41), Some(0), Some(2272), Some(89), None)));
    }
}
