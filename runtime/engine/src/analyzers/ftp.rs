//! The part of Zeek's FTP analyzer that acts on the connection itself: the
//! originator's command lines, checked against `FTP::max_command_length`.
//! A command word longer than that, once the analyzer has been confirmed by
//! a valid command, raises `FTP_max_command_length_exceeded` (`132 > 100`)
//! and the history letter `X`; a word that is no command raises
//! `FTP_invalid_command`. weir raises no FTP events and writes no ftp.log.

use super::stream::{Chunk, Stream};

/// TCP ports the FTP analyzer is registered for (the responder's, at creation).
pub const PORTS: [u16; 2] = [21, 2811];

/// Longest line kept while waiting for its end; longer ones are cut there.
const MAX_LINE: usize = 64 * 1024;

/// What the analyzer found in a line, for the session layer to raise.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    /// A conn weird (name, addl).
    Weird(&'static str, String),
    /// An analyzer limit was reached: the weird, then history `X`.
    Limit(&'static str, String),
}

/// FTP analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Ftp {
    requests: Stream,
    line: Vec<u8>,
    confirmed: bool,
}

impl Ftp {
    /// Originator payload at relative sequence `seq`; findings are appended to `out`.
    pub fn request_data(&mut self, seq: u64, data: &[u8], max_command_length: u64, out: &mut Vec<Finding>) {
        let Ftp { requests, line, confirmed } = self;
        requests.segment(seq, data, |chunk| match chunk {
            Chunk::Gap => line.clear(),
            Chunk::Data(mut d) => {
                // Lines end at LF (a CR before it is dropped), as FTP's NVT splits them.
                while let Some(i) = d.iter().position(|&b| b == b'\n') {
                    extend_capped(line, &d[..i]);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    command(line, confirmed, max_command_length, out);
                    line.clear();
                    d = &d[i + 1..];
                }
                extend_capped(line, d);
            }
        });
    }
}

fn extend_capped(line: &mut Vec<u8>, data: &[u8]) {
    let room = MAX_LINE.saturating_sub(line.len());
    line.extend_from_slice(&data[..data.len().min(room)]);
}

/// One command line (`FTP_Analyzer::DeliverStream`, originator side).
fn command(line: &[u8], confirmed: &mut bool, max_command_length: u64, out: &mut Vec<Finding>) {
    if line.is_empty() {
        return;
    }
    let start = line.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(line.len());
    let rest = &line[start..];
    let word = &rest[..rest.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(rest.len())];
    let is_cmd = word.len() >= 3 && word.iter().all(|&b| b.is_ascii_graphic());
    if !is_cmd {
        if *confirmed {
            out.push(Finding::Weird("FTP_invalid_command", String::new()));
        }
        return;
    }
    if max_command_length > 0 && word.len() as u64 > max_command_length {
        if *confirmed {
            out.push(Finding::Limit("FTP_max_command_length_exceeded", format!("{} > {max_command_length}", word.len())));
        }
        return;
    }
    *confirmed = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(segments: &[(u64, &[u8])]) -> Vec<Finding> {
        let mut f = Ftp::default();
        let mut out = Vec::new();
        for (seq, d) in segments {
            f.request_data(*seq, d, 100, &mut out);
        }
        out
    }

    #[test]
    fn a_long_command_after_a_valid_one_reaches_the_limit() {
        let long = format!("{} x\r\n", "T".repeat(132));
        let out = run(&[(1, b"USER anonymous\r\n"), (17, long.as_bytes())]);
        assert_eq!(out, [Finding::Limit("FTP_max_command_length_exceeded", "132 > 100".into())]);
    }

    #[test]
    fn nothing_before_confirmation_and_lines_split_across_segments() {
        let long = format!("{}\r\n", "T".repeat(132));
        assert!(run(&[(1, long.as_bytes())]).is_empty(), "not confirmed yet");
        let out = run(&[(1, b"US"), (3, b"ER a\r\n!!\r"), (12, b"\n")]);
        assert_eq!(out, [Finding::Weird("FTP_invalid_command", String::new())]);
    }
}
