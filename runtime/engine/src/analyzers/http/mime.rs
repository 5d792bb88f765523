//! Header fields as Zeek's MIME code reads them (RFC 822/2045 with
//! Zeek's leniency): the field name, the value after `:`, the value's first
//! token and what follows it, `type/subtype` pairs, parameters and
//! comments in parentheses.

use super::lines::is_lws;

/// One header field, its folded lines joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The name as sent (`None` when the line has no `name:`).
    pub name: Option<Vec<u8>>,
    /// The value, leading whitespace removed.
    pub value: Vec<u8>,
    /// How many lines the field was folded over.
    pub fold_lines: usize,
}

impl Header {
    /// Parses the joined lines of one field.
    pub fn parse(lines: &[Vec<u8>]) -> Header {
        let s: Vec<u8> = lines.concat();
        let fold_lines = lines.len();
        let bad = Header { name: None, value: Vec::new(), fold_lines };
        let Some((start, end)) = field_name(&s) else { return bad };
        let rest = &s[end..];
        let off = skip_lws_comments(rest);
        if off < rest.len() && rest[off] == b':' {
            let mut v = &rest[off + 1..];
            while let Some((&c, r)) = v.split_first() {
                if !c.is_ascii_whitespace() && c != 0x0b {
                    break;
                }
                v = r;
            }
            Header { name: Some(s[start..end].to_vec()), value: v.to_vec(), fold_lines }
        } else {
            bad
        }
    }

    /// Whether the name is `n` in any case.
    pub fn is(&self, n: &str) -> bool {
        self.name.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(n.as_bytes()))
    }

    /// The value's first token and what follows it (`get_value_token`,
    /// `get_value_after_token`).
    pub fn value_token(&self) -> Option<(&[u8], &[u8])> {
        let (a, b) = token(&self.value, false)?;
        Some((&self.value[a..b], &self.value[b..]))
    }
}

/// Whether the token `t` is `s` in any case.
pub fn ieq(t: &[u8], s: &str) -> bool {
    t.eq_ignore_ascii_case(s.as_bytes())
}

/// The length of a comment `( ... )` at the start of `d` (nested, with `\` escapes).
pub fn skip_comments(d: &[u8]) -> usize {
    if d.first() != Some(&b'(') {
        return 0;
    }
    let mut par = 0;
    let mut i = 0;
    while i < d.len() {
        match d[i] {
            b'(' => par += 1,
            b')' => {
                par -= 1;
                if par == 0 {
                    return i + 1;
                }
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    d.len()
}

/// The length of the whitespace and comments at the start of `d`.
pub fn skip_lws_comments(d: &[u8]) -> usize {
    let mut i = 0;
    while i < d.len() {
        if is_lws(d[i]) {
            i += 1;
        } else if d[i] == b'(' {
            i += skip_comments(&d[i..]);
        } else {
            return i;
        }
    }
    d.len()
}

fn is_field_name_char(c: u8) -> bool {
    (33..=126).contains(&c) && c != b':'
}

fn field_name(d: &[u8]) -> Option<(usize, usize)> {
    let mut i = skip_lws_comments(d);
    while i < d.len() {
        if is_field_name_char(d[i]) {
            let j = i + d[i..].iter().position(|&c| !is_field_name_char(c)).unwrap_or(d.len() - i);
            return Some((i, j));
        }
        let j = skip_lws_comments(&d[i..]);
        i += j.max(1);
    }
    None
}

fn is_tspecial(c: u8, boundary: bool) -> bool {
    if boundary {
        c == b'"'
    } else {
        b"()<>@,;:\\\"/[]?=".contains(&c)
    }
}

fn is_token_char(c: u8, boundary: bool) -> bool {
    (33..=126).contains(&c) && !is_tspecial(c, boundary)
}

/// The first token of `d` as `start..end` (`MIME_get_token`); whatever is
/// no token is skipped.
pub fn token(d: &[u8], boundary: bool) -> Option<(usize, usize)> {
    let mut i = if boundary { 0 } else { skip_lws_comments(d) };
    while i < d.len() {
        if is_token_char(d[i], boundary) {
            let j = i + d[i..].iter().position(|&c| !is_token_char(c, boundary)).unwrap_or(d.len() - i);
            return Some((i, j));
        }
        let j = skip_lws_comments(&d[i..]);
        i += j.max(1);
    }
    None
}

/// `type/subtype` at the start of `d`: both tokens and the length used.
pub fn slash_token_pair(d: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let (a0, a1) = token(d, false)?;
    let mut i = a1;
    i += skip_lws_comments(&d[i..]);
    if i >= d.len() || d[i] != b'/' {
        return None;
    }
    i += 1;
    let (b0, b1) = token(&d[i..], false)?;
    Some((&d[a0..a1], &d[i + b0..i + b1], i + b1))
}

/// A quoted string at the start of `d` (after whitespace and comments):
/// its inside and the length used.
fn quoted_string(d: &[u8]) -> Option<(&[u8], usize)> {
    let off = skip_lws_comments(d);
    let d2 = &d[off..];
    if d2.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < d2.len() {
        match d2[i] {
            b'"' => return Some((&d2[1..i], off + i + 1)),
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn decode_quoted_pairs(d: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.len());
    let mut i = 0;
    while i < d.len() {
        if d[i] == b'\\' {
            i += 1;
            if i < d.len() {
                out.push(d[i]);
            }
        } else {
            out.push(d[i]);
        }
        i += 1;
    }
    out
}

/// A parameter value (token or quoted string) and the length used
/// (`MIME_get_value`); a boundary accepts any printable character.
pub fn value(d: &[u8], boundary: bool) -> Option<(Vec<u8>, usize)> {
    let off = if boundary { 0 } else { skip_lws_comments(d) };
    let d2 = &d[off..];
    if d2.first() == Some(&b'"') {
        let (s, end) = quoted_string(d2)?;
        return Some((decode_quoted_pairs(s), off + end));
    }
    let (a, b) = token(d2, boundary)?;
    Some((d2[a..b].to_vec(), off + b))
}

/// Parses `; attr=value` parameters of a Content-Type value and returns
/// the multipart boundary when `want_boundary`; each problem goes to
/// `illegal` with Zeek's text.
pub fn parameters(mut d: &[u8], want_boundary: bool, illegal: &mut dyn FnMut(&'static str)) -> Option<Vec<u8>> {
    let mut boundary = None;
    loop {
        let off = skip_lws_comments(d);
        if off >= d.len() || d[off] != b';' {
            break;
        }
        d = &d[off + 1..];
        let Some((a0, a1)) = token(d, false) else {
            illegal("attribute name not found in parameter specification");
            return boundary;
        };
        let attr = &d[a0..a1];
        d = &d[a1..];
        let off = skip_lws_comments(d);
        if off >= d.len() || d[off] != b'=' {
            illegal("= not found in parameter specification");
            continue;
        }
        d = &d[off + 1..];
        if want_boundary && ieq(attr, "boundary") {
            match value(d, true) {
                Some((v, n)) => {
                    boundary = Some(v);
                    d = &d[n..];
                }
                None => {
                    illegal("Could not parse multipart boundary");
                    continue;
                }
            }
        } else {
            match value(d, false) {
                Some((_, n)) => d = &d[n..],
                None => {
                    illegal("value not found in parameter specification");
                    continue;
                }
            }
        }
    }
    boundary
}

/// Parses a decimal or hexadecimal number at the start of `d` as C++'s
/// `from_chars` does (optional `-`, then digits; what follows is ignored;
/// no digits or out of range: `None`).
pub fn atoi(d: &[u8], base: u32) -> Option<i64> {
    let (neg, digits) = match d.first() {
        Some(b'-') => (true, &d[1..]),
        _ => (false, d),
    };
    let n = digits.iter().position(|&c| !(c as char).is_digit(base)).unwrap_or(digits.len());
    if n == 0 {
        return None;
    }
    let mut v: i128 = 0;
    for &c in &digits[..n] {
        v = v * base as i128 + (c as char).to_digit(base).unwrap_or(0) as i128;
        if v > i64::MAX as i128 + 1 {
            return None;
        }
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}
