//! The Finger analyzer (RFC 1288), as Zeek 9.1's: the client's stream is
//! one request (blanks, an optional `/W` for a verbose answer, blanks, then
//! `user@host` up to the line end), the server's a run of reply lines. A
//! request naming a user or asking `/W` confirms the protocol, and so does
//! a reply line of more than ten bytes; a line longer than
//! `Finger::max_line_length` (1024; 0: no limit) or not valid UTF-8 is a
//! violation. The request line also goes to `finger` signature patterns,
//! from after its `/W` on, as Bro's analyzer matched it.

use super::analyzer::Analyzer;
use super::context::Cx;
use super::registry::Tag;
use crate::events::{Event, EventKind};
use crate::signatures::PatternType;

/// TCP ports Zeek registers the analyzer for.
pub const PORTS: [u16; 1] = [79];

/// Finger analyzer state of one connection.
#[derive(Clone, Debug)]
pub struct Finger {
    max_line: usize,
    /// Bytes of the current line per direction (originator first).
    line: [Vec<u8>; 2],
    /// The request was parsed (the rest of the client's stream is not).
    request_done: bool,
    /// A violation ended the parsing of that direction.
    failed: [bool; 2],
}

impl Finger {
    /// A new analyzer with `Finger::max_line_length` = `max_line` (0: no limit).
    pub fn new(max_line: u64) -> Finger {
        let max_line = if max_line == 0 { 1 << 20 } else { max_line as usize };
        Finger { max_line, line: Default::default(), request_done: false, failed: [false; 2] }
    }

    fn request(&mut self, line: &[u8], cx: &mut Cx<'_, '_>) {
        self.request_done = true;
        let rest = trim_blanks_start(line);
        let (full, rest) = match rest.strip_prefix(b"/W") {
            Some(r) => (true, trim_blanks_start(r)),
            None => (false, rest),
        };
        if cx.signatures_want(PatternType::Finger) {
            cx.match_signatures(true, PatternType::Finger, rest, true);
        }
        let arg = rest.trim_ascii();
        let (user, host) = match arg.iter().position(|&b| b == b'@') {
            Some(i) => (&arg[..i], &arg[i + 1..]),
            None => (arg, &b""[..]),
        };
        let (Ok(user), Ok(host)) = (std::str::from_utf8(user), std::str::from_utf8(host)) else {
            return self.violate(true, "invalid UTF-8 in Finger request", line, cx);
        };
        if !user.is_empty() || full {
            cx.confirm();
        }
        if cx.wants(EventKind::FingerRequest) {
            let (username, hostname) = (user.to_string(), host.to_string());
            cx.raise(|c| Event::FingerRequest { c, full, username, hostname });
        }
    }

    fn reply(&mut self, line: &[u8], cx: &mut Cx<'_, '_>) {
        let Ok(text) = std::str::from_utf8(line) else {
            return self.violate(false, "invalid UTF-8 in Finger reply", line, cx);
        };
        if line.len() > 10 {
            cx.confirm();
        }
        if !line.is_empty() && cx.wants(EventKind::FingerReply) {
            let reply_line = text.to_string();
            cx.raise(|c| Event::FingerReply { c, reply_line });
        }
    }

    fn violate(&mut self, is_orig: bool, reason: &str, data: &[u8], cx: &mut Cx<'_, '_>) {
        self.failed[usize::from(!is_orig)] = true;
        cx.violate(reason, Some(data));
    }
}

fn trim_blanks_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    &b[n..]
}

impl Analyzer for Finger {
    fn tag(&self) -> Tag {
        Tag::Finger
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let i = usize::from(!is_orig);
        if self.failed[i] || (is_orig && self.request_done) {
            return;
        }
        for &b in data {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.line[i]);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if is_orig {
                    return self.request(&line, cx);
                }
                self.reply(&line, cx);
                if self.failed[i] {
                    return;
                }
                continue;
            }
            if self.line[i].len() >= self.max_line {
                let line = std::mem::take(&mut self.line[i]);
                return self.violate(is_orig, "Finger line too long", &line, cx);
            }
            self.line[i].push(b);
        }
    }

    fn gap(&mut self, is_orig: bool, _len: u64, _cx: &mut Cx<'_, '_>) {
        // Nothing after a gap can be parsed reliably.
        self.failed[usize::from(!is_orig)] = true;
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        // A request without its line end ends with the stream.
        let i = usize::from(!is_orig);
        if is_orig && !self.request_done && !self.failed[i] && !self.line[i].is_empty() {
            let line = std::mem::take(&mut self.line[i]);
            self.request(&line, cx);
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::{summary, Harness};

    fn requests(evs: &[Event]) -> Vec<(bool, String, String)> {
        evs.iter()
            .filter_map(|e| match e {
                Event::FingerRequest { full, username, hostname, .. } => Some((*full, username.clone(), hostname.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_verbose_request_and_its_reply() {
        let mut h = Harness::new(6, 79);
        let mut f = Finger::new(1024);
        let evs = h.stream(&mut f, true, b"  /W  alice@example.org \r\n");
        assert_eq!(requests(&evs), [(true, "alice".to_string(), "example.org".to_string())]);
        assert_eq!(summary(&evs), ["protocol_confirmation", "finger_request"]);
        let evs = h.stream(&mut f, false, b"Login: alice\r\n\r\nNo mail.\n");
        let lines: Vec<&str> = evs
            .iter()
            .filter_map(|e| match e {
                Event::FingerReply { reply_line, .. } => Some(reply_line.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(lines, ["Login: alice", "No mail."], "empty lines raise nothing");
        assert_eq!(h.conn.snapshot().service, ["FINGER"]);
    }

    #[test]
    fn an_empty_request_does_not_confirm_and_bad_lines_violate() {
        let mut h = Harness::new(6, 79);
        let mut f = Finger::new(1024);
        assert_eq!(requests(&h.stream(&mut f, true, b"\r\n")), [(false, String::new(), String::new())]);
        assert!(h.conn.snapshot().service.is_empty(), "no user, no /W: not confirmed");
        let evs = h.stream(&mut f, false, b"\xff\xfe binary\n");
        assert_eq!(summary(&evs), ["protocol_violation"]);
        let mut h = Harness::new(6, 79);
        let mut f = Finger::new(8);
        assert_eq!(summary(&h.stream(&mut f, true, b"averylongname\r\n")), ["protocol_violation"]);
    }

    #[test]
    fn the_request_line_goes_to_finger_patterns_after_its_switch() {
        let mut h = Harness::new(6, 79);
        h.with_signatures("signature f { finger /^root/ event \"root\" }");
        let mut f = Finger::new(1024);
        let evs = h.stream(&mut f, true, b"/W root\r\n");
        assert!(summary(&evs).contains(&"signature_match".to_string()), "{:?}", summary(&evs));
    }
}
