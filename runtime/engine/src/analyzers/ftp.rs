//! The part of Zeek's FTP analyzer that acts on the connection itself: the
//! originator's command lines, checked against `FTP::max_command_length`.
//! A command word longer than that, once the analyzer has been confirmed by
//! a valid command, raises `FTP_max_command_length_exceeded` (`132 > 100`)
//! and the history letter `X`; a word that is no command raises
//! `FTP_invalid_command`. weir raises no FTP events and writes no ftp.log.

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

    /// Only the originator's command lines are read.
    fn stream(&mut self, is_orig: bool, mut d: &[u8], cx: &mut Cx<'_, '_>) {
        if !is_orig {
            return;
        }
        let Ftp { max_command_length, line, confirmed } = self;
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
    fn responses_are_ignored_and_a_gap_drops_the_partial_line() {
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        let mut out = summary(&h.stream(&mut f, false, b"!!\r\n"));
        out.extend(summary(&h.stream(&mut f, true, b"USER a\r\n!")));
        out.extend(summary(&h.gap(&mut f, false, 3)));
        out.extend(summary(&h.stream(&mut f, true, b"!\r\n")));
        assert_eq!(out, ["protocol_confirmation", "weird:FTP_invalid_command"]);
        let mut out = summary(&h.stream(&mut f, true, b"!"));
        out.extend(summary(&h.gap(&mut f, true, 3)));
        out.extend(summary(&h.stream(&mut f, true, b"PASS x\r\n")));
        assert!(out.is_empty(), "the line after the gap is a valid command: {out:?}");
    }
}
