//! Zeek's regular-expression syntax (flex's, `re-scan.l`) rewritten for
//! regex-syntax: quoted literals, character classes (with `[:alpha:]` and
//! friends), C escapes and octal/hex bytes become byte escapes; `(?i:` and
//! repetitions `{n,m}` pass through. Named definitions (`{name}`) are not
//! supported. The pattern's chars are bytes (see the lexer).

/// The regex-syntax text of Zeek pattern `src`, or what is wrong with it.
pub fn translate(src: &str) -> Result<String, String> {
    let s: Vec<u32> = src.chars().map(|c| c as u32).collect();
    let mut out = String::with_capacity(src.len() * 2);
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match char::from_u32(c).unwrap_or('\0') {
            '\\' => {
                let (b, used) = escape(&s[i + 1..]);
                lit(&mut out, b);
                i += 1 + used;
                continue;
            }
            '"' => {
                i += 1;
                while i < s.len() && s[i] != '"' as u32 {
                    lit(&mut out, s[i]);
                    i += 1;
                }
                if i >= s.len() {
                    return Err("missing quote".into());
                }
            }
            '[' => {
                i = class(&s, i + 1, &mut out)?;
                continue;
            }
            '{' => {
                let close = s[i..].iter().position(|&c| c == '}' as u32).ok_or("syntax error in pattern")? + i;
                let inner: String = s[i + 1..close].iter().filter_map(|&c| char::from_u32(c)).collect();
                if !inner.starts_with(|c: char| c.is_ascii_digit()) || !inner.chars().all(|c| c.is_ascii_digit() || c == ',') {
                    return Err(format!("undefined definition {{{inner}}}"));
                }
                out.push('{');
                out.push_str(&inner);
                out.push('}');
                i = close;
            }
            '(' if s[i + 1..].starts_with(&[b'?' as u32, b'i' as u32, b':' as u32])
                || s[i + 1..].starts_with(&[b'?' as u32, b's' as u32, b':' as u32]) =>
            {
                out.push_str("(?");
                out.push(char::from_u32(s[i + 2]).unwrap_or('i'));
                out.push(':');
                i += 4;
                continue;
            }
            ch @ ('^' | '$' | '|' | '*' | '+' | '?' | '.' | '(' | ')') => out.push(ch),
            _ => lit(&mut out, c),
        }
        i += 1;
    }
    Ok(out)
}

/// Emits one literal byte.
fn lit(out: &mut String, b: u32) {
    let b = b & 0xff;
    if (b as u8).is_ascii_alphanumeric() {
        out.push(b as u8 as char);
    } else {
        out.push_str(&format!("\\x{b:02x}"));
    }
}

/// The byte a backslash escape stands for (`s` starts after the
/// backslash) and how many chars it used.
fn escape(s: &[u32]) -> (u32, usize) {
    let Some(&c) = s.first() else { return ('\\' as u32, 0) };
    let ch = char::from_u32(c).unwrap_or('\0');
    match ch {
        'n' => (0x0a, 1),
        't' => (0x09, 1),
        'r' => (0x0d, 1),
        'f' => (0x0c, 1),
        'v' => (0x0b, 1),
        'a' => (0x07, 1),
        'b' => (0x08, 1),
        '0'..='7' => {
            let n = s.iter().take(3).take_while(|&&d| (b'0' as u32..=b'7' as u32).contains(&d)).count();
            let v = s[..n].iter().fold(0u32, |a, &d| a * 8 + (d - b'0' as u32));
            (v & 0xff, n)
        }
        'x' if s.len() >= 3 && s[1..3].iter().all(|&d| char::from_u32(d).is_some_and(|d| d.is_ascii_hexdigit())) => {
            let h: String = s[1..3].iter().filter_map(|&d| char::from_u32(d)).collect();
            (u32::from_str_radix(&h, 16).unwrap_or(0), 3)
        }
        _ => (c, 1),
    }
}

/// A character class starting after its `[` at `i`; returns the index after its `]`.
fn class(s: &[u32], mut i: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    if s.get(i) == Some(&('^' as u32)) {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = s.get(i) else { return Err("unterminated character class".into()) };
        if c == ']' as u32 && !first {
            out.push(']');
            return Ok(i + 1);
        }
        first = false;
        if c == '[' as u32 && s.get(i + 1) == Some(&(':' as u32)) {
            // `[:name:]`: the name runs from i + 2 to the next `:]`, within a few chars.
            let end = (i + 2..s.len().min(i + 12)).find(|&j| s[j] == ':' as u32 && s.get(j + 1) == Some(&(']' as u32)));
            if let Some(end) = end {
                let name: String = s[i + 2..end].iter().filter_map(|&c| char::from_u32(c)).collect();
                let name = name.as_str();
                let name = if matches!(
                    name,
                    "alnum"
                        | "alpha"
                        | "blank"
                        | "cntrl"
                        | "digit"
                        | "graph"
                        | "print"
                        | "punct"
                        | "space"
                        | "xdigit"
                        | "lower"
                        | "upper"
                ) {
                    name
                } else {
                    return Err("bad character class expression".into());
                };
                out.push_str(&format!("[:{name}:]"));
                i = end + 2;
                continue;
            }
        }
        let (lo, used) = if c == '\\' as u32 {
            let (b, u) = escape(&s[i + 1..]);
            (b, u + 1)
        } else {
            (c, 1)
        };
        i += used;
        // `a-b` is a range unless the `-` ends the class.
        if s.get(i) == Some(&('-' as u32)) && s.get(i + 1).is_some_and(|&n| n != ']' as u32) {
            let n = s[i + 1];
            let (hi, used) = if n == '\\' as u32 {
                let (b, u) = escape(&s[i + 2..]);
                (b, u + 1)
            } else {
                (n, 1)
            };
            i += 1 + used;
            let (lo, hi) = (lo & 0xff, hi & 0xff);
            if lo > hi {
                return Err("negative range in character class".into());
            }
            out.push_str(&format!("\\x{lo:02x}-\\x{hi:02x}"));
        } else {
            out.push_str(&format!("\\x{:02x}", lo & 0xff));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn zeek_syntax_becomes_byte_escapes() {
        assert_eq!(translate("ab.c").unwrap(), "ab.c");
        assert_eq!(translate("\"a.b\"").unwrap(), "a\\x2eb");
        assert_eq!(translate("\\x41\\n\\101\\d\\/").unwrap(), "A\\x0aAd\\x2f");
        assert_eq!(translate("[^]a-c\\]-]").unwrap(), "[^\\x5d\\x61-\\x63\\x5d\\x2d]");
        assert_eq!(translate("[[:digit:]x]{2,3}").unwrap(), "[[:digit:]\\x78]{2,3}");
        assert_eq!(translate("(?i:get)(|.*[\\n\\r])").unwrap(), "(?i:get)(|.*[\\x0a\\x0d])");
        assert!(translate("{name}").is_err());
        assert!(translate("[abc").is_err());
        assert!(translate("\"abc").is_err());
        assert!(translate("[z-a]").is_err());
        // Found by fuzzing: a `[:` whose `:]` comes at once, and non-ASCII bytes in a class.
        assert!(translate("[[:] ank:]]*)").is_err());
        assert_eq!(translate("[\u{e9}[:digit:]]").unwrap(), "[\\xe9[:digit:]]");
    }
}
