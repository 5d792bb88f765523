//! Bytes from the wire as WIT strings. A WIT `string` is UTF-8, while
//! traffic holds any bytes; Zeek's strings are bytes and its logs write the
//! ones that are not UTF-8 as `\xNN`. weir keeps every byte: valid UTF-8
//! stays as it is, and each byte of an invalid sequence becomes one
//! character of the last 256 code points (U+10FF00 + the byte), which the
//! log writers turn back into `\xNN` and [`to_bytes`] into the byte. A
//! character of that range arriving as valid UTF-8 is kept as its four raw
//! bytes, so the mapping is lossless both ways.

/// The code point of raw byte 0.
const RAW_BASE: u32 = 0x10_FF00;

/// The string carrying `b`: its UTF-8 as is, other bytes as raw-byte characters.
pub fn from_bytes(b: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(b) {
        if !s.chars().any(|c| raw_byte(c).is_some()) {
            return s.to_string();
        }
    }
    let mut out = String::with_capacity(b.len() + 8);
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if raw_byte(c).is_some() {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf).bytes().for_each(|x| out.push(raw(x)));
            } else {
                out.push(c);
            }
        }
        chunk.invalid().iter().for_each(|&x| out.push(raw(x)));
    }
    out
}

/// The raw-byte character of `b`.
fn raw(b: u8) -> char {
    char::from_u32(RAW_BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The byte a raw-byte character stands for, if `c` is one.
pub fn raw_byte(c: char) -> Option<u8> {
    (c as u32).checked_sub(RAW_BASE).and_then(|b| u8::try_from(b).ok())
}

/// The bytes `s` carries (the inverse of [`from_bytes`]).
pub fn to_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match raw_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_and_other_bytes_round_trip() {
        assert_eq!(from_bytes(b"GET /caf\xc3\xa9"), "GET /café");
        let s = from_bytes(b"met/\xd9ccI");
        assert_eq!(s.chars().count(), 8);
        assert_eq!(raw_byte(s.chars().nth(4).unwrap()), Some(0xd9));
        for b in [&b"met/\xd9ccI"[..], b"\xff\xfe", "\u{10ff41}x".as_bytes(), b"", b"\xf4\x8f\xbc"] {
            assert_eq!(to_bytes(&from_bytes(b)), b, "{b:?}");
        }
        assert_eq!(raw_byte('a'), None);
    }
}
