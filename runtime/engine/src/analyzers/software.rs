//! Software identification from the strings protocols carry (HTTP
//! `User-Agent` and `Server`, the SMTP greeting and the mail client's
//! `X-Mailer` / `User-Agent`, ...), with the seed's version rules:
//!
//! A string that is not all printable ASCII is ignored. Leading characters
//! that are neither letters nor digits are skipped. If a letter comes next,
//! the name runs up to the first version separator: punctuation followed by
//! a digit, punctuation followed by `v`/`V` and a digit, or white space.
//! The major number is the first run of digits after that; the minor and
//! the second minor are the runs of digits that follow, each after
//! punctuation only; the additional text is what follows further
//! punctuation up to white space. A string that did not start with a name
//! takes the next run of letters, digits and `_` after those as its name.
//! Missing numbers are -1, missing text is empty.
//!
//! [`found`] raises `software_version_found(c, host, s, descr)` (`descr` is
//! the string) when a name was found and `software_parse_error` when not,
//! then `software_unparsed_version_found` with the string, leading white
//! space removed. An analyzer that sees a software string calls [`found`]
//! with the host it describes: that is the only function the analyzers
//! (SSH and FTP banners too) need.

use super::context::Cx;
use crate::events::{Event, EventKind, Software, SoftwareVersion};
use std::net::IpAddr;

/// A parsed software string (the WIT's `software` record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The product name.
    pub name: String,
    /// Major number (-1: none).
    pub major: i64,
    /// Minor number (-1: none).
    pub minor: i64,
    /// Second minor number (-1: none).
    pub minor2: i64,
    /// Additional version text ("" when none).
    pub addl: String,
}

fn is_punct(c: u8) -> bool {
    c.is_ascii_punctuation()
}

fn is_version_sep(s: &[u8], i: usize) -> bool {
    let rest = &s[i..];
    (rest.len() >= 2 && is_punct(rest[0]) && rest[1].is_ascii_digit())
        || (rest.len() >= 3 && is_punct(rest[0]) && rest[1].eq_ignore_ascii_case(&b'v') && rest[2].is_ascii_digit())
        || rest[0].is_ascii_whitespace()
}

fn number(d: &[u8]) -> i64 {
    d.iter().try_fold(0i64, |a, &c| a.checked_mul(10)?.checked_add((c - b'0') as i64)).unwrap_or(i64::MAX)
}

/// Whether every byte is printable ASCII (white space included).
pub fn printable(s: &[u8]) -> bool {
    s.iter().all(|&c| (0x20..0x7f).contains(&c) || matches!(c, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

/// Parses `s` by the rules above; `None` when no name is found.
pub fn parse(s: &[u8]) -> Option<Parsed> {
    let len = s.len();
    let mut i = s.iter().position(|c| c.is_ascii_alphanumeric()).unwrap_or(len);
    let mut name = None;
    let mut e = i;
    if i < len && s[i].is_ascii_alphabetic() {
        e = i;
        while e < len && !is_version_sep(s, e) {
            e += 1;
        }
        if e > i {
            name = Some(&s[i..e]);
        }
    }
    // The first number: the major version.
    i = e;
    while i < len && !s[i].is_ascii_digit() {
        i += 1;
    }
    let digits = |i: usize| i + s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    e = digits(i);
    let major = if e > i { number(&s[i..e]) } else { -1 };
    let after_punct = |from: usize| {
        let mut j = from;
        while j < len && is_punct(s[j]) {
            j += 1;
        }
        j
    };
    i = after_punct(e);
    e = digits(i);
    let minor = if e > i { number(&s[i..e]) } else { -1 };
    i = after_punct(e);
    e = digits(i);
    let minor2 = if e > i { number(&s[i..e]) } else { -1 };
    i = after_punct(e);
    e = i + s[i..].iter().take_while(|c| !c.is_ascii_whitespace()).count();
    let addl = String::from_utf8_lossy(&s[i..e]).into_owned();
    if name.is_none() {
        i = e;
        while i < len && !s[i].is_ascii_alphabetic() {
            i += 1;
        }
        e = i + s[i..].iter().take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_').count();
        if e > i {
            name = Some(&s[i..e]);
        }
    }
    let name = String::from_utf8_lossy(name?).into_owned();
    Some(Parsed { name, major, minor, minor2, addl })
}

/// A software string about `host` seen on the connection: raises the
/// software events (each only when taken).
pub fn found(cx: &mut Cx<'_, '_>, host: IpAddr, text: &[u8]) {
    let wants_found = cx.wants(EventKind::SoftwareVersionFound);
    let wants_error = cx.wants(EventKind::SoftwareParseError);
    let wants_unparsed = cx.wants(EventKind::SoftwareUnparsedVersionFound);
    if !(wants_found || wants_error || wants_unparsed) || !printable(text) {
        return;
    }
    let descr = String::from_utf8_lossy(text).into_owned();
    if wants_found || wants_error {
        match parse(text) {
            Some(p) if wants_found => {
                let s = Box::new(Software {
                    name: p.name,
                    version: SoftwareVersion { major: p.major, minor: p.minor, minor2: p.minor2, addl: p.addl },
                });
                let descr = descr.clone();
                cx.raise(|c| Event::SoftwareVersionFound { c, host, s, descr });
            }
            None if wants_error => {
                let descr = descr.clone();
                cx.raise(|c| Event::SoftwareParseError { c, host, descr });
            }
            _ => {}
        }
    }
    if wants_unparsed {
        let str = descr.trim_start().to_string();
        cx.raise(|c| Event::SoftwareUnparsedVersionFound { c, host, str });
    }
}

/// A software string of the connection's originator (`orig_host`) or
/// responder.
pub fn found_on_side(cx: &mut Cx<'_, '_>, orig_host: bool, text: &[u8]) {
    let host = if orig_host { cx.conn().orig.0 } else { cx.conn().resp.0 };
    found(cx, host, text);
}

/// Whether a handler takes any of the software events.
pub fn wanted(cx: &Cx<'_, '_>) -> bool {
    cx.wants(EventKind::SoftwareVersionFound)
        || cx.wants(EventKind::SoftwareParseError)
        || cx.wants(EventKind::SoftwareUnparsedVersionFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, major: i64, minor: i64, minor2: i64, addl: &str) -> Option<Parsed> {
        Some(Parsed { name: name.into(), major, minor, minor2, addl: addl.into() })
    }

    #[test]
    fn versions() {
        assert_eq!(parse(b"Apache/2.2.14 (Ubuntu)"), p("Apache", 2, 2, 14, ""));
        assert_eq!(parse(b"OpenSSH_5.3p1 Debian-3ubuntu7"), p("OpenSSH", 5, 3, -1, "p1"));
        assert_eq!(parse(b"Apache"), p("Apache", -1, -1, -1, ""));
        assert_eq!(parse(b"foo-v1.2.3-beta rest"), p("foo", 1, 2, 3, "beta"));
        assert_eq!(parse(b"  (Microsoft Outlook 16.0)"), p("Microsoft", 16, 0, -1, ""));
        assert_eq!(parse(b"1.2.3 mailer_x"), p("mailer_x", 1, 2, 3, ""));
        assert_eq!(parse(b"1.2.3"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"Postfix"), p("Postfix", -1, -1, -1, ""));
    }

    #[test]
    fn printable_strings_only() {
        assert!(printable(b"Apache/2.4 (Unix)"));
        assert!(!printable(b"bad\x01byte"));
        assert!(!printable("caf\u{e9}".as_bytes()));
    }
}
