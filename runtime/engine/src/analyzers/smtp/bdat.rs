//! BDAT (RFC 3030): the command's argument (`chunk-size [LAST]`) and the
//! chunk bytes that follow it, cut into the lines the MIME parser takes
//! (CRLF ends a line; a lone LF does too, a lone CR is kept, and a line is
//! cut at `SMTP::bdat_max_line_length`, each with Zeek's weird).

/// A parsed BDAT argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    /// The chunk's size in bytes.
    pub chunk_size: u64,
    /// `LAST` followed the size.
    pub last: bool,
}

/// Parses BDAT's argument; the error is Zeek's text for weird
/// `smtp_invalid_bdat_command`.
pub fn parse_arg(arg: &[u8]) -> Result<Arg, &'static str> {
    if arg.is_empty() || arg.len() > 25 {
        return Err("BDAT argument bad length");
    }
    if !arg[0].is_ascii_digit() {
        return Err("BDAT not followed by a valid chunk-size");
    }
    let n = arg.iter().position(|c| !c.is_ascii_digit()).unwrap_or(arg.len());
    let rest = &arg[n..];
    if !(rest.is_empty() || rest[0] == b' ' || rest[0] == 0) {
        return Err("BDAT chunk-size not valid");
    }
    let mut size: u64 = 0;
    for &c in &arg[..n] {
        size = match size.checked_mul(10).and_then(|v| v.checked_add((c - b'0') as u64)) {
            Some(v) => v,
            None => return Err("BDAT chunk-size too large"),
        };
    }
    let mut last = false;
    if !rest.is_empty() {
        last = rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b" LAST");
        if !last || rest.len() != 5 {
            return Err("BDAT chunk-size followed by junk");
        }
    }
    Ok(Arg { chunk_size: size, last })
}

/// One line for the message: its bytes and whether a CRLF ended it.
pub type Line = (Vec<u8>, bool);

/// The chunks of one BDAT transfer (Zeek's `SMTP_BDAT_Analyzer`).
#[derive(Clone, Debug)]
pub struct Chunks {
    max_line: usize,
    buf: Vec<u8>,
    remaining: u64,
    last: bool,
}

impl Chunks {
    /// A transfer cutting lines at `max_line` bytes.
    pub fn new(max_line: usize) -> Chunks {
        Chunks { max_line: max_line.max(1), buf: Vec::new(), remaining: 0, last: false }
    }

    /// The next chunk announced: its size and whether it is the last.
    pub fn next_chunk(&mut self, size: u64, last: bool) {
        self.remaining = size;
        self.last = last;
    }

    /// Bytes of the current chunk still to come.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// The current chunk is the last one.
    pub fn is_last(&self) -> bool {
        self.last
    }

    /// Chunk bytes (at most [`remaining`](Chunks::remaining)): the lines
    /// they complete go to `out`, weirds to `weird`.
    pub fn data(&mut self, mut d: &[u8], out: &mut Vec<Line>, weird: &mut dyn FnMut(&'static str, String)) {
        if d.len() as u64 > self.remaining {
            weird("smtp_bdat_chunk_overflow", String::new());
            d = &d[..self.remaining as usize];
        }
        if self.buf.last() == Some(&b'\r') && d.first() != Some(&b'\n') {
            weird("smtp_bdat_line_cr_only", String::new());
            out.push((std::mem::take(&mut self.buf), false));
        }
        let mut i = self.buf.len().saturating_sub(1);
        self.buf.extend_from_slice(d);
        let mut start = 0;
        while i < self.buf.len() {
            if i + 1 < self.buf.len() && self.buf[i] == b'\r' && self.buf[i + 1] == b'\n' {
                out.push((self.buf[start..i].to_vec(), true));
                start = i + 2;
                i += 2;
                continue;
            } else if self.buf[i] == b'\n' {
                weird("smtp_bdat_line_lf_only", String::new());
                out.push((self.buf[start..=i].to_vec(), false));
                start = i + 1;
            } else if i - start >= self.max_line {
                weird("smtp_bdat_line_too_long", self.buf.len().to_string());
                out.push((self.buf[start..i].to_vec(), false));
                start = i;
            }
            i += 1;
        }
        self.buf.drain(..start);
        self.remaining -= d.len() as u64;
        if self.last && self.remaining == 0 && !self.buf.is_empty() {
            out.push((std::mem::take(&mut self.buf), false));
        }
    }

    /// The transfer ends: a partial line left is handed on.
    pub fn done(&mut self, out: &mut Vec<Line>, weird: &mut dyn FnMut(&'static str, String)) {
        if !self.buf.is_empty() {
            weird("smtp_bdat_undelivered_at_done", String::new());
            out.push((std::mem::take(&mut self.buf), false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        assert_eq!(parse_arg(b"86 LAST"), Ok(Arg { chunk_size: 86, last: true }));
        assert_eq!(parse_arg(b"86 last"), Ok(Arg { chunk_size: 86, last: true }));
        assert_eq!(parse_arg(b"86"), Ok(Arg { chunk_size: 86, last: false }));
        assert_eq!(parse_arg(b" 86 LAST"), Err("BDAT not followed by a valid chunk-size"));
        assert_eq!(parse_arg(b"-42 LAST"), Err("BDAT not followed by a valid chunk-size"));
        assert_eq!(parse_arg(b"86LAST"), Err("BDAT chunk-size not valid"));
        assert_eq!(parse_arg(b"86 SCRAMBLE"), Err("BDAT chunk-size followed by junk"));
        assert_eq!(parse_arg(b"86 LASTSCRAMBLE"), Err("BDAT chunk-size followed by junk"));
        assert_eq!(parse_arg(b"18446744073709551615 LAST"), Ok(Arg { chunk_size: u64::MAX, last: true }));
        assert_eq!(parse_arg(b"184467440737095516150"), Err("BDAT chunk-size too large"));
        assert_eq!(parse_arg(b"184467440737095516150 LAST"), Err("BDAT argument bad length"));
        assert_eq!(parse_arg(b""), Err("BDAT argument bad length"));
    }

    fn feed(max: usize, parts: &[&[u8]]) -> (Vec<Line>, Vec<&'static str>) {
        let mut c = Chunks::new(max);
        c.next_chunk(parts.iter().map(|p| p.len() as u64).sum(), true);
        let (mut out, mut weirds) = (Vec::new(), Vec::new());
        for p in parts {
            c.data(p, &mut out, &mut |w, _| weirds.push(w));
        }
        c.done(&mut out, &mut |w, _| weirds.push(w));
        (out, weirds)
    }

    fn l(s: &str, crlf: bool) -> Line {
        (s.as_bytes().to_vec(), crlf)
    }

    #[test]
    fn lines_across_chunks() {
        let (out, w) = feed(128, &[b"MIME-", b"Version: 1.0\r\n", b"Subject: Zeek", b" Logo\r\n"]);
        assert_eq!(out, [l("MIME-Version: 1.0", true), l("Subject: Zeek Logo", true)]);
        assert!(w.is_empty());
        let (out, _) = feed(128, &[b"MIME-", b"Version: 1.0\r", b"\nSubject: Zeek", b" Logo\r", b"\n"]);
        assert_eq!(out, [l("MIME-Version: 1.0", true), l("Subject: Zeek Logo", true)]);
        let (out, w) = feed(128, &[b"MIME-Version: 1.0\r", b"Subject: Zeek", b" Logo\r\n"]);
        assert_eq!(out, [l("MIME-Version: 1.0\r", false), l("Subject: Zeek Logo", true)]);
        assert_eq!(w, ["smtp_bdat_line_cr_only"]);
        let (out, _) = feed(128, &[b"MIME-Version: 1.0\n", b"Subject: Zeek", b" Logo\n", b"From: Zeek <zeek@localhost>\r\n"]);
        assert_eq!(
            out,
            [l("MIME-Version: 1.0\n", false), l("Subject: Zeek Logo\n", false), l("From: Zeek <zeek@localhost>", true)]
        );
        let (out, w) = feed(10, &[b"1234567890123: 45\r\n", b"X-Test: Y\r\n"]);
        assert_eq!(out, [l("1234567890", false), l("123: 45", true), l("X-Test: Y", true)]);
        assert_eq!(w, ["smtp_bdat_line_too_long"]);
    }
}
