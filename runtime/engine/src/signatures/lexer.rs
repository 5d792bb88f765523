//! The tokens of Zeek's signature language (`rule-scan.l`): words (ids and
//! keywords alike), numbers, IPv4 values with their masks, bracketed IPv6
//! prefixes, strings, `/regex/[i]`, comparisons and punctuation. `#`
//! comments, white space and `.meta text` lines are skipped.

use super::rule::{Cmp, Prefix};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An identifier or keyword (`signature`, `dst-port`, `Foo::bar`).
    Word(String),
    /// A decimal or `0x` hex number.
    Int(u32),
    /// An IPv4 address with its mask (`/n` or all ones).
    Ip4 {
        /// The address, masked.
        val: u32,
        /// The netmask.
        mask: u32,
    },
    /// A bracketed IPv6 address or prefix.
    Ip6(Prefix),
    /// A `"string"` without its quotes.
    Str(String),
    /// A `/regex/` without its slashes, each byte one char; `/.../i` comes as `(?i:...)`.
    Re(String),
    /// A comparison.
    Cmp(Cmp),
    /// One of `! ] [ { } & : , -`.
    Punct(char),
}

/// A token with the line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned {
    /// The token.
    pub tok: Tok,
    /// Its line (1-based).
    pub line: u32,
}

/// Splits `src` into tokens, or says at which line an unknown character is.
pub fn lex(src: &[u8]) -> Result<Vec<Spanned>, (u32, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1u32;
    let n = src.len();
    while i < n {
        let c = src[i];
        let start_line = line;
        let push = |out: &mut Vec<Spanned>, tok| out.push(Spanned { tok, line: start_line });
        match c {
            b'#' => {
                while i < n && src[i] != b'\n' {
                    i += 1;
                }
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'.' => {
                // `.meta value` lines: a dot, non-blanks, blanks, the rest of the line.
                let mut j = i + 1;
                while j < n && !matches!(src[j], b' ' | b'\t' | b'\r' | b'\n') {
                    j += 1;
                }
                let word_end = j;
                while j < n && matches!(src[j], b' ' | b'\t') {
                    j += 1;
                }
                if word_end == i + 1 || j == word_end || j >= n || matches!(src[j], b'\r' | b'\n') {
                    return Err((line, "unrecognized character in input".into()));
                }
                while j < n && !matches!(src[j], b'\r' | b'\n') {
                    j += 1;
                }
                i = j;
            }
            b'[' => {
                if let Some((p, len)) = ip6_at(&src[i..]) {
                    push(&mut out, Tok::Ip6(p));
                    i += len;
                } else {
                    push(&mut out, Tok::Punct('['));
                    i += 1;
                }
            }
            b'!' if src.get(i + 1) == Some(&b'=') => {
                push(&mut out, Tok::Cmp(Cmp::Ne));
                i += 2;
            }
            b'!' | b']' | b'{' | b'}' | b'&' | b':' | b',' | b'-' => {
                push(&mut out, Tok::Punct(c as char));
                i += 1;
            }
            b'<' | b'>' | b'=' => {
                let eq = src.get(i + 1) == Some(&b'=');
                let cmp = match (c, eq) {
                    (b'<', true) => Cmp::Le,
                    (b'<', false) => Cmp::Lt,
                    (b'>', true) => Cmp::Ge,
                    (b'>', false) => Cmp::Gt,
                    _ => Cmp::Eq,
                };
                push(&mut out, Tok::Cmp(cmp));
                i += if eq { 2 } else { 1 };
            }
            b'"' => {
                let mut j = i + 1;
                loop {
                    match src.get(j) {
                        None | Some(b'\r') | Some(b'\n') => return Err((line, "unrecognized character in input".into())),
                        Some(b'\\') if src.get(j + 1) == Some(&b'"') => j += 2,
                        Some(b'"') => break,
                        Some(_) => j += 1,
                    }
                }
                push(&mut out, Tok::Str(String::from_utf8_lossy(&src[i + 1..j]).into_owned()));
                i = j + 1;
            }
            b'/' => {
                let mut j = i + 1;
                loop {
                    match src.get(j) {
                        None => return Err((line, "unrecognized character in input".into())),
                        Some(b'\\') => {
                            if src.get(j + 1) == Some(&b'\n') {
                                line += 1;
                            }
                            j += 2;
                        }
                        Some(b'/') => break,
                        Some(b'\n') => {
                            line += 1;
                            j += 1;
                        }
                        Some(_) => j += 1,
                    }
                }
                // Bytes as chars one to one: the pattern may hold any byte.
                let body: String = src[i + 1..j.min(n)].iter().map(|&b| b as char).collect();
                i = j + 1;
                if src.get(i) == Some(&b'i') {
                    i += 1;
                    push(&mut out, Tok::Re(format!("(?i:{body})")));
                } else {
                    push(&mut out, Tok::Re(body));
                }
            }
            b'0'..=b'9' => {
                let (tok, len) = number_at(&src[i..]).ok_or((line, "unrecognized character in input".to_string()))?;
                push(&mut out, tok);
                i += len;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                loop {
                    while j < n && (src[j].is_ascii_alphanumeric() || src[j] == b'_' || src[j] == b'-') {
                        j += 1;
                    }
                    // `::` joins components, each starting with a letter or `_`.
                    if src.get(j) == Some(&b':')
                        && src.get(j + 1) == Some(&b':')
                        && src.get(j + 2).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                    {
                        j += 2;
                        continue;
                    }
                    break;
                }
                push(&mut out, Tok::Word(String::from_utf8_lossy(&src[i..j]).into_owned()));
                i = j;
            }
            _ => return Err((line, "unrecognized character in input".into())),
        }
    }
    Ok(out)
}

/// A number, `0x` hex number or IPv4 address (with `/n`) at the start of `s`.
fn number_at(s: &[u8]) -> Option<(Tok, usize)> {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    if s.starts_with(b"0x") || s.starts_with(b"0X") {
        let h = s[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if h > 0 {
            let v = u64::from_str_radix(std::str::from_utf8(&s[2..2 + h]).ok()?, 16).unwrap_or(u64::MAX);
            return Some((Tok::Int(v as u32), 2 + h));
        }
    }
    // Four dotted numbers make an address.
    let mut j = 0;
    let mut parts = Vec::new();
    for k in 0..4 {
        let d = digits(j);
        if d == 0 {
            break;
        }
        parts.push(std::str::from_utf8(&s[j..j + d]).ok()?.parse::<u64>().unwrap_or(u64::MAX));
        j += d;
        if k < 3 {
            if s.get(j) == Some(&b'.') && s.get(j + 1).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            } else {
                break;
            }
        }
    }
    if parts.len() == 4 {
        let val = parts.iter().fold(0u32, |a, p| (a << 8) | (*p as u32 & 0xff));
        let mut k = j;
        while matches!(s.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        if s.get(k) == Some(&b'/') {
            k += 1;
            while matches!(s.get(k), Some(b' ' | b'\t')) {
                k += 1;
            }
            let d = digits(k);
            if d > 0 {
                let bits: u32 = std::str::from_utf8(&s[k..k + d]).ok()?.parse().unwrap_or(32).min(32);
                let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                return Some((Tok::Ip4 { val: val & mask, mask }, k + d));
            }
        }
        return Some((Tok::Ip4 { val, mask: u32::MAX }, j));
    }
    let d = digits(0);
    let v: u64 = std::str::from_utf8(&s[..d]).ok()?.parse().unwrap_or(u64::MAX);
    Some((Tok::Int(v as u32), d))
}

/// A bracketed IPv6 address with an optional `/n` at the start of `s`.
fn ip6_at(s: &[u8]) -> Option<(Prefix, usize)> {
    let close = s.iter().position(|&c| c == b']')?;
    let inner = std::str::from_utf8(&s[1..close]).ok()?;
    let colons = inner.bytes().filter(|&c| c == b':').count();
    if !(inner.contains("::") || colons == 7)
        || !inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.' || c == b'x')
    {
        return None;
    }
    let text = inner.strip_prefix("0x").unwrap_or(inner);
    let addr: Ipv6Addr = text.parse().ok()?;
    let mut len = close + 1;
    let mut bits = 128u8;
    let mut k = len;
    while matches!(s.get(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    if s.get(k) == Some(&b'/') {
        k += 1;
        while matches!(s.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        let d = s[k..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d > 0 {
            bits = std::str::from_utf8(&s[k..k + d]).ok()?.parse::<u32>().unwrap_or(128).min(128) as u8;
            len = k + d;
        }
    }
    Some((Prefix { addr: mask_addr(IpAddr::V6(addr), bits), len: bits }, len))
}

/// `a` with all but its first `bits` bits cleared.
pub fn mask_addr(a: IpAddr, bits: u8) -> IpAddr {
    match a {
        IpAddr::V4(v) => {
            let m = if bits == 0 { 0 } else { u32::MAX << (32 - bits.min(32) as u32) };
            IpAddr::V4(Ipv4Addr::from(u32::from(v) & m))
        }
        IpAddr::V6(v) => {
            let m = if bits == 0 { 0 } else { u128::MAX << (128 - bits.min(128) as u32) };
            IpAddr::V6(Ipv6Addr::from(u128::from(v) & m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s.as_bytes()).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn words_numbers_addresses_and_regexes() {
        use Tok::*;
        assert_eq!(
            toks("signature s-1 { dst-port == 80,0x10 # c\n src-ip != 10.1.2.3 / 8, [::1] payload /a\\/b#/i }"),
            [
                Word("signature".into()),
                Word("s-1".into()),
                Punct('{'),
                Word("dst-port".into()),
                Cmp(super::Cmp::Eq),
                Int(80),
                Punct(','),
                Int(16),
                Word("src-ip".into()),
                Cmp(super::Cmp::Ne),
                Ip4 { val: 0x0a00_0000, mask: 0xff00_0000 },
                Punct(','),
                Ip6(Prefix { addr: "::1".parse().unwrap(), len: 128 }),
                Word("payload".into()),
                Re("(?i:a\\/b#)".into()),
                Punct('}'),
            ]
        );
        assert_eq!(
            toks("tcp[13:1] & 0x12 Foo::bar \"a\\\"b\""),
            [
                Word("tcp".into()),
                Punct('['),
                Int(13),
                Punct(':'),
                Int(1),
                Punct(']'),
                Punct('&'),
                Int(0x12),
                Word("Foo::bar".into()),
                Str("a\\\"b".into()),
            ]
        );
        assert_eq!(toks("[2001:db8::]/32"), [Ip6(Prefix { addr: "2001:db8::".parse().unwrap(), len: 32 })]);
        assert_eq!(toks(".meta some text\nx"), [Word("x".into())]);
    }

    #[test]
    fn unknown_characters_name_their_line() {
        assert_eq!(lex(b"signature a {\n  @ }").unwrap_err().0, 2);
        assert!(lex(b"payload /unterminated").is_err());
        assert!(lex(b"event \"no end\n\"").is_err());
    }
}
