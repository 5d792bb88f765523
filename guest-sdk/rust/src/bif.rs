//! Zeek's built-in functions that handlers written after Zeek's scripts
//! need, on weir's strings (wire bytes as [`crate::text`] carries them).

use crate::text::{from_bytes, to_bytes};

/// Zeek's `unescape_URI`: each `%` with two hex digits becomes that byte;
/// anything else stays, and no weirds are raised.
pub fn unescape_uri(s: &str) -> String {
    let b = to_bytes(s);
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(x), Some(y)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(x * 16 + y);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    from_bytes(&out)
}

/// The file name a MIME entity's header names, as Zeek's HTTP and SMTP
/// entity scripts take it: a `CONTENT-DISPOSITION` value with a
/// `filename` parameter, or a `CONTENT-TYPE` value with a `name`
/// parameter, through [`extract_filename_from_content_disposition`].
/// `name` is the upper-cased header name.
pub fn entity_filename(name: &str, value: &str) -> Option<String> {
    let named = match name {
        "CONTENT-DISPOSITION" => has_param(value, "filename", true),
        "CONTENT-TYPE" => has_param(value, "name", false),
        _ => false,
    };
    named.then(|| extract_filename_from_content_disposition(value))
}

/// Whether `value` holds `word` (ASCII, any case) followed by blanks, an
/// optional `*` (when `star`) and `=`.
fn has_param(value: &str, word: &str, star: bool) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.match_indices(word).any(|(at, _)| {
        let rest = lower[at + word.len()..].trim_start_matches([' ', '\t']);
        rest.starts_with('=') || (star && rest.starts_with("*="))
    })
}

/// Zeek's `extract_filename_from_content_disposition`: the value after the
/// last `name=` (or `name*=`), unquoted, an RFC 2231 `charset'lang'` prefix
/// dropped, `%` escapes decoded.
pub fn extract_filename_from_content_disposition(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    let mut name = value.to_string();
    for (at, _) in lower.match_indices("name").collect::<Vec<_>>().into_iter().rev() {
        let rest = &value[at + 4..];
        let r = rest.trim_start_matches([' ', '\t']);
        let r = r.strip_prefix('*').unwrap_or(r);
        if let Some(r) = r.strip_prefix('=') {
            name = r.trim_start_matches([' ', '\t']).to_string();
            break;
        }
    }
    if let Some(q) = name.strip_prefix('"') {
        name = q.split('"').next().unwrap_or_default().to_string();
    }
    let tok = |c: char| c.is_ascii_alphanumeric() || "!#$%&+-^_`{}~".contains(c) || ('+'..='^').contains(&c);
    if let Some(p) = name.find('\'') {
        let (lang, rest) = name.split_at(p);
        if !lang.is_empty() && lang.chars().all(tok) {
            if let Some(q) = rest[1..].find('\'') {
                if rest[1..1 + q].chars().all(tok) {
                    let last = name.rfind('\'').unwrap_or(0);
                    name = name[last + 1..].to_string();
                }
            }
        }
    }
    unescape_uri(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_file_names() {
        let cd = |v: &str| entity_filename("CONTENT-DISPOSITION", v);
        assert_eq!(cd("form-data; name=\"f\"; filename = \"a b.txt\"").as_deref(), Some("a b.txt"));
        assert_eq!(cd("form-data; name=\"f\""), None);
        assert_eq!(cd("form-data; name=\"f\"; filename=\"a%20b.txt\"").as_deref(), Some("a b.txt"));
        assert_eq!(cd("attachment; filename*=UTF-8''x.pdf").as_deref(), Some("x.pdf"));
        assert_eq!(cd("inline; filename=plain.bin").as_deref(), Some("plain.bin"));
        assert_eq!(entity_filename("CONTENT-TYPE", "text/plain; name=\"n.txt\"").as_deref(), Some("n.txt"));
        assert_eq!(entity_filename("CONTENT-TYPE", "text/plain; name*=x"), None);
        assert_eq!(entity_filename("SUBJECT", "filename=x"), None);
    }

    #[test]
    fn escapes_become_bytes_and_invalid_utf8_survives() {
        assert_eq!(unescape_uri("a%20b%zz%4"), "a b%zz%4");
        assert_eq!(to_bytes(&unescape_uri("%ff")), [0xff], "a byte that is not UTF-8 is kept");
        assert_eq!(unescape_uri("%C3%A9t%C3%A9"), "été");
    }
}
