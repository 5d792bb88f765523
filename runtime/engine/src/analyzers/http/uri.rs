//! The unescaped request URI (Zeek's `unescape_URI`): `%XX` and `%uXXXX`
//! are decoded; broken escapes are kept as sent and raise weirds.

/// Decodes `uri`, reporting each weird by name through `weird`.
pub fn unescape(uri: &[u8], weird: &mut dyn FnMut(&'static str)) -> Vec<u8> {
    let mut out = Vec::with_capacity(uri.len());
    let mut i = 0;
    let n = uri.len();
    while i < n {
        if uri[i] != b'%' {
            out.push(uri[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i == n {
            out.push(b'%');
            weird("illegal_%_at_end_of_URI");
            break;
        } else if i + 1 == n {
            out.push(b'%');
            out.push(uri[i]);
            weird("partial_escape_at_end_of_URI");
            break;
        } else if uri[i] == b'%' {
            // A doubled '%': the first one is dropped.
            weird("double_%_in_URI");
            continue;
        } else if uri[i].is_ascii_hexdigit() && uri[i + 1].is_ascii_hexdigit() {
            out.push((hex(uri[i]) << 4) | hex(uri[i + 1]));
            i += 2;
        } else if n - i >= 5 && uri[i] == b'u' && uri[i + 1..i + 5].iter().all(u8::is_ascii_hexdigit) {
            if !(uri[i + 1] == b'0' && uri[i + 2] == b'0') {
                out.push((hex(uri[i + 1]) << 4) | hex(uri[i + 2]));
            }
            out.push((hex(uri[i + 3]) << 4) | hex(uri[i + 4]));
            i += 5;
        } else {
            weird("unescaped_%_in_URI");
            out.push(b'%');
            out.push(uri[i]);
            i += 1;
        }
    }
    out
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}
