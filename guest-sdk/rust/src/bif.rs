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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_bytes_and_invalid_utf8_survives() {
        assert_eq!(unescape_uri("a%20b%zz%4"), "a b%zz%4");
        assert_eq!(to_bytes(&unescape_uri("%ff")), [0xff], "a byte that is not UTF-8 is kept");
        assert_eq!(unescape_uri("%C3%A9t%C3%A9"), "été");
    }
}
