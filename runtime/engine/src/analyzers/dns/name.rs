//! Domain names: labels, compression pointers and Zeek's limits on both.
//!
//! A name is read into a buffer of 512 bytes (1,023 for a TSIG algorithm
//! name) with a `.` after each label; each level of a compression chain
//! drops its own trailing dot and, unless asked to keep the case (question
//! names, NAPTR replacements, SVCB targets), lower-cases what it read —
//! what a pointer leads to is always lower-cased. The weirds are Zeek's:
//! `dns_invalid_name` (the data ends inside a name),
//! `DNS_label_forward_compress_offset` (a pointer that does not point
//! backwards), `DNS_label_len_gt_pkt`, `DNS_label_too_long` (over 63 bytes,
//! except on the NetBIOS port), `DNS_label_len_gt_name_len` (the buffer is
//! full), `DNS_NAME_too_long` (255 bytes or more, kept), and the limit
//! `DNS_max_compression_chain_depth_exceeded` past
//! `dns_max_compression_chain_depth` pointers, where the name ends as read
//! so far.

use super::cursor::Cursor;
use super::Sink;

/// Room for a name (Zeek's `u_char name[513]` less its terminator).
pub const NAME_ROOM: usize = 512;
/// Room for a TSIG algorithm name.
pub const TSIG_NAME_ROOM: usize = 1023;

/// How a name is read.
#[derive(Clone, Copy, Debug)]
pub struct NameRules {
    /// `dns_max_compression_chain_depth`.
    pub max_depth: u64,
    /// Labels may exceed 63 bytes (the responder port is 137).
    pub netbios_port: bool,
}

/// Reads a name at `c` (advancing it past the name), lower-cased unless
/// `keep_case`; `None` on a parse error (after its weird).
pub fn extract<S: Sink>(c: &mut Cursor<'_>, room: usize, keep_case: bool, rules: NameRules, sink: &mut S) -> Option<Vec<u8>> {
    let mut name = Vec::new();
    extract_into(c, &mut name, room, !keep_case, rules, 0, sink)?;
    Some(name)
}

enum Label {
    More,
    End,
}

fn extract_into<S: Sink>(
    c: &mut Cursor<'_>,
    name: &mut Vec<u8>,
    room: usize,
    downcase: bool,
    rules: NameRules,
    depth: u64,
    sink: &mut S,
) -> Option<()> {
    if depth > rules.max_depth {
        sink.limit("DNS_max_compression_chain_depth_exceeded", depth.to_string());
        return Some(());
    }
    let start = name.len();
    while let Label::More = label(c, name, room, rules, depth, sink)? {}
    let n = name.len() - start;
    if n >= 255 {
        sink.weird("DNS_NAME_too_long", String::new());
    }
    if n >= 2 && name.last() == Some(&b'.') {
        name.pop();
    }
    if downcase {
        name[start..].make_ascii_lowercase();
    }
    Some(())
}

fn label<S: Sink>(c: &mut Cursor<'_>, name: &mut Vec<u8>, room: usize, rules: NameRules, depth: u64, sink: &mut S) -> Option<Label> {
    if c.is_empty() {
        sink.weird("dns_invalid_name", String::new());
        return None;
    }
    let at = c.pos;
    let len = c.u8() as usize;
    if len == 0 {
        return Some(Label::End);
    }
    if len & 0xc0 == 0xc0 {
        if c.is_empty() {
            sink.weird("dns_invalid_name", String::new());
            return None;
        }
        let offset = ((len & 0x3f) << 8) | c.u8() as usize;
        if offset >= at {
            sink.weird("DNS_label_forward_compress_offset", String::new());
            return None;
        }
        let mut inner = Cursor { msg: c.msg, pos: offset, end: at };
        extract_into(&mut inner, name, room, true, rules, depth + 1, sink)?;
        return Some(Label::End);
    }
    if len > c.len() {
        sink.weird("DNS_label_len_gt_pkt", String::new());
        c.pos = c.end;
        return None;
    }
    if len > 63 && !rules.netbios_port {
        sink.weird("DNS_label_too_long", String::new());
        return None;
    }
    if len >= room.saturating_sub(name.len()) {
        sink.weird("DNS_label_len_gt_name_len", String::new());
        return None;
    }
    name.extend_from_slice(&c.msg[c.pos..c.pos + len]);
    name.push(b'.');
    c.pos += len;
    Some(Label::More)
}

#[cfg(test)]
mod tests {
    use super::super::testing::Rec;
    use super::*;

    const RULES: NameRules = NameRules { max_depth: 20, netbios_port: false };

    fn read(msg: &[u8], at: usize, keep_case: bool) -> (Option<String>, usize, Vec<String>) {
        let mut s = Rec::default();
        let mut c = Cursor::new(msg);
        c.pos = at;
        let n = extract(&mut c, NAME_ROOM, keep_case, RULES, &mut s);
        (n.map(|n| String::from_utf8(n).unwrap()), c.pos, s.weird_names())
    }

    #[test]
    fn labels_and_a_backward_pointer() {
        let msg = b"\x03WWW\x07Example\x03com\x00\x04Mail\xc0\x04";
        assert_eq!(read(msg, 0, false), (Some("www.example.com".into()), 17, vec![]));
        assert_eq!(read(msg, 0, true).0.as_deref(), Some("WWW.Example.com"));
        // The pointed-to part is always lower-cased, the label before it only when asked.
        assert_eq!(read(msg, 17, true), (Some("Mail.example.com".into()), 24, vec![]));
        assert_eq!(read(msg, 17, false).0.as_deref(), Some("mail.example.com"));
        assert_eq!(read(b"\x00", 0, false).0.as_deref(), Some(""), "the root");
    }

    #[test]
    fn lowercases_unless_kept() {
        let msg = b"\x03WwW\x00";
        let mut s = Rec::default();
        let n = extract(&mut Cursor::new(msg), NAME_ROOM, false, RULES, &mut s).unwrap();
        assert_eq!(n, b"www");
        let n = extract(&mut Cursor::new(msg), NAME_ROOM, true, RULES, &mut s).unwrap();
        assert_eq!(n, b"WwW");
    }

    #[test]
    fn bad_names_raise_zeeks_weirds() {
        assert_eq!(read(b"\x03ab", 0, false).2, ["DNS_label_len_gt_pkt"]);
        assert_eq!(read(b"\x03abc", 0, false).2, ["dns_invalid_name"]);
        assert_eq!(read(b"\xc0\x00", 0, false).2, ["DNS_label_forward_compress_offset"]);
        assert_eq!(read(b"\xc0", 0, false).2, ["dns_invalid_name"]);
        let mut long = vec![64u8];
        long.extend([b'a'; 64]);
        long.push(0);
        assert_eq!(read(&long, 0, false).2, ["DNS_label_too_long"]);
        let mut s = Rec::default();
        let rules = NameRules { netbios_port: true, ..RULES };
        assert!(extract(&mut Cursor::new(&long), NAME_ROOM, false, rules, &mut s).is_some(), "NetBIOS allows long labels");
        // Eight labels of 63 bytes fill the 512-byte buffer.
        let mut full = Vec::new();
        for _ in 0..9 {
            full.push(63u8);
            full.extend([b'a'; 63]);
        }
        full.push(0);
        assert_eq!(read(&full, 0, false).2, ["DNS_label_len_gt_name_len"]);
    }

    #[test]
    fn a_pointer_loop_stops_at_the_chain_limit() {
        // A label, then a pointer to a pointer to a pointer ... each pointing one back.
        let mut msg = b"\x01a\x00".to_vec();
        for i in 0..30u16 {
            let target = if i == 0 { 0 } else { 3 + 2 * (i - 1) };
            msg.extend_from_slice(&(0xc000 | target).to_be_bytes());
        }
        let (n, _, weirds) = read(&msg, msg.len() - 2, false);
        assert_eq!(weirds, ["DNS_max_compression_chain_depth_exceeded"]);
        assert_eq!(n.as_deref(), Some(""), "the name ends as read so far");
        let (n, _, weirds) = read(&msg, 3 + 2 * 5, false);
        assert_eq!((n.as_deref(), weirds.len()), (Some("a"), 0), "six pointers are fine");
    }

    #[test]
    fn a_name_of_255_bytes_is_kept_with_a_weird() {
        let mut msg = Vec::new();
        for _ in 0..4 {
            msg.push(63u8);
            msg.extend([b'b'; 63]);
        }
        msg.push(0);
        let (n, _, weirds) = read(&msg, 0, false);
        assert_eq!(n.map(|n| n.len()), Some(255));
        assert_eq!(weirds, ["DNS_NAME_too_long"]);
    }
}
