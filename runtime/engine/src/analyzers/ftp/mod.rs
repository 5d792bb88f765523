//! The part of Zeek's FTP analyzer that acts on the connection itself: the
//! originator's command lines, checked against `FTP::max_command_length`.
//! A command word longer than that, once the analyzer has been confirmed by
//! a valid command, raises `FTP_max_command_length_exceeded` (`132 > 100`)
//! and the history letter `X`; a word that is no command raises
//! `FTP_invalid_command`. The responder's reply lines are checked as Zeek
//! checks them: a new reply that does not start with a three-digit code of
//! 100 or more, or whose code is followed by neither a space nor `-` (a
//! continued reply), is a protocol violation with the line as its data.
//! weir raises no FTP events and writes no ftp.log.

use super::analyzer::Analyzer;
use super::context::Cx;
use super::registry::Tag;

/// TCP ports the FTP analyzer is registered for (the responder's, at creation).
pub const PORTS: [u16; 2] = [21, 2811];

/// Longest line kept while waiting for its end; longer ones are cut there.
const MAX_LINE: usize = 64 * 1024;

/// FTP analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Ftp {
    max_command_length: u64,
    line: Vec<u8>,
    confirmed: bool,
    /// The responder's partial line.
    reply_line: Vec<u8>,
    /// The code of a continued (`123-`) reply until its last line.
    pending_reply: u32,
}

impl Ftp {
    /// A new analyzer checking command words against `max_command_length`
    /// (`FTP::max_command_length`; 0 checks nothing).
    pub fn new(max_command_length: u64) -> Ftp {
        Ftp { max_command_length, ..Ftp::default() }
    }
}

impl Analyzer for Ftp {
    fn tag(&self) -> Tag {
        Tag::Ftp
    }

    /// The originator's command lines and the responder's reply lines.
    fn stream(&mut self, is_orig: bool, mut d: &[u8], cx: &mut Cx<'_, '_>) {
        if !is_orig {
            while let Some(i) = d.iter().position(|&b| b == b'\n') {
                extend_capped(&mut self.reply_line, &d[..i]);
                if self.reply_line.last() == Some(&b'\r') {
                    self.reply_line.pop();
                }
                reply(&self.reply_line, &mut self.pending_reply, cx);
                self.reply_line.clear();
                d = &d[i + 1..];
            }
            extend_capped(&mut self.reply_line, d);
            return;
        }
        let Ftp { max_command_length, line, confirmed, .. } = self;
        // Lines end at LF (a CR before it is dropped), as FTP's NVT splits them.
        while let Some(i) = d.iter().position(|&b| b == b'\n') {
            extend_capped(line, &d[..i]);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            command(line, confirmed, *max_command_length, cx);
            line.clear();
            d = &d[i + 1..];
        }
        extend_capped(line, d);
    }

    /// A hole in the commands: the partial line is stale.
    fn gap(&mut self, is_orig: bool, _: u64, _: &mut Cx<'_, '_>) {
        if is_orig {
            self.line.clear();
        } else {
            self.reply_line.clear();
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

fn extend_capped(line: &mut Vec<u8>, data: &[u8]) {
    let room = MAX_LINE.saturating_sub(line.len());
    line.extend_from_slice(&data[..data.len().min(room)]);
}

/// One reply line (`FTP_Analyzer::DeliverStream`, responder side).
fn reply(line: &[u8], pending: &mut u32, cx: &mut Cx<'_, '_>) {
    if line.is_empty() {
        return;
    }
    let code = match line {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0')
        }
        _ => 0,
    };
    if *pending != 0 {
        // Inside a continued reply only its last line (`NNN `) matters.
        if code == *pending && line.get(3) == Some(&b' ') {
            *pending = 0;
        }
        return;
    }
    match line.get(3) {
        _ if code == 0 => cx.violate("non-numeric reply code", Some(line)),
        _ if code < 100 => cx.violate("invalid reply code", Some(line)),
        Some(b'-') => *pending = code,
        Some(b) if *b != b' ' => cx.violate("invalid reply line", Some(line)),
        _ => {}
    }
}

/// One command line (`FTP_Analyzer::DeliverStream`, originator side).
fn command(line: &[u8], confirmed: &mut bool, max_command_length: u64, cx: &mut Cx<'_, '_>) {
    if line.is_empty() {
        return;
    }
    let start = line.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(line.len());
    let rest = &line[start..];
    let word = &rest[..rest.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(rest.len())];
    let is_cmd = word.len() >= 3 && word.iter().all(|&b| b.is_ascii_graphic());
    if !is_cmd {
        if *confirmed {
            cx.weird("FTP_invalid_command", String::new());
        }
        return;
    }
    if max_command_length > 0 && word.len() as u64 > max_command_length {
        if *confirmed {
            cx.limit("FTP_max_command_length_exceeded", format!("{} > {max_command_length}", word.len()));
        }
        return;
    }
    if !*confirmed {
        *confirmed = true;
        cx.confirm();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::testing::{summary, Harness};

    /// Originator segments, in order; the events of all of them.
    fn run(segments: &[&[u8]]) -> Vec<String> {
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        segments.iter().flat_map(|d| summary(&h.stream(&mut f, true, d))).collect()
    }

    #[test]
    fn a_long_command_after_a_valid_one_reaches_the_limit() {
        let long = format!("{} x\r\n", "T".repeat(132));
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        assert_eq!(summary(&h.stream(&mut f, true, b"USER anonymous\r\n")), ["protocol_confirmation"]);
        assert_eq!(summary(&h.stream(&mut f, true, long.as_bytes())), ["weird:FTP_max_command_length_exceeded 132 > 100"]);
        assert!(h.conn.history.contains('X'));
    }

    #[test]
    fn nothing_before_confirmation_and_lines_split_across_segments() {
        let long = format!("{}\r\n", "T".repeat(132));
        assert!(run(&[long.as_bytes()]).is_empty(), "not confirmed yet");
        assert_eq!(run(&[b"US", b"ER a\r\n!!\r", b"\n"]), ["protocol_confirmation", "weird:FTP_invalid_command"]);
    }

    #[test]
    fn replies_are_checked_as_zeek_checks_them() {
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        h.cfg.dpd_rules.ignore = vec![Tag::Ftp]; // keep it running through every line
        let mut out = Vec::new();
        for l in [&b"220-Welcome\r\n"[..], b"not a code inside\r\n", b"220 ready\r\n", b"331 ok\r\n", b"99 PASV invalid\r\n"] {
            out.extend(summary(&h.stream(&mut f, false, l)));
        }
        assert_eq!(out, ["protocol_violation"], "a continued reply's inner lines need no code");
        let evs = h.stream(&mut f, false, b"230_no_space\r\nSSH-2.0-x\r\n");
        let reasons: Vec<&str> = evs
            .iter()
            .filter_map(|e| match e {
                crate::events::Event::ProtocolViolation { reason, .. } => Some(reason.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(reasons, ["invalid reply line [230_no_space]", "non-numeric reply code [SSH-2.0-x]"]);
    }

    #[test]
    fn a_bad_reply_disables_the_analyzer_and_a_gap_drops_the_partial_line() {
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        h.cfg.dpd_rules.ignore = vec![Tag::Ftp];
        let mut out = summary(&h.stream(&mut f, false, b"!!\r\n"));
        assert_eq!(out, ["protocol_violation"]);
        out.clear();
        out.extend(summary(&h.stream(&mut f, true, b"USER a\r\n!")));
        out.extend(summary(&h.gap(&mut f, false, 3)));
        out.extend(summary(&h.stream(&mut f, true, b"!\r\n")));
        assert_eq!(out, ["protocol_confirmation", "weird:FTP_invalid_command"]);
        let mut out = summary(&h.stream(&mut f, true, b"!"));
        out.extend(summary(&h.gap(&mut f, true, 3)));
        out.extend(summary(&h.stream(&mut f, true, b"PASS x\r\n")));
        assert!(out.is_empty(), "the line after the gap is a valid command: {out:?}");
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        assert_eq!(summary(&h.stream(&mut f, false, b"!!\r\n")), ["protocol_violation"]);
        assert!(h.status.disabled, "under the DPD rules a violation disables it");
    }
}
