//! Zeek's FTP analyzer: the originator's command lines and the responder's
//! reply lines (LF ends a line, a CR before it is dropped), raised as
//! `ftp_request` (command upper-cased, its argument) and `ftp_reply` (code,
//! text, whether the reply continues; inner lines of a multi-line reply come
//! with code 0). The first valid command confirms the protocol. A command
//! word longer than `FTP::max_command_length`, once the analyzer has been
//! confirmed, raises `FTP_max_command_length_exceeded` (`132 > 100`) and the
//! history letter `X`; a word that is no command raises
//! `FTP_invalid_command`; neither line is raised as a request. A new reply
//! that does not start with a three-digit code of 100 or more, or whose code
//! is followed by neither a space nor `-` (a continued reply), is a protocol
//! violation with the line as its data. A 234 reply to `AUTH TLS` raises
//! `ftp_starttls`, and the bytes after it go to an SSL child analyzer.
//!
//! What the replies say about data channels (PORT, PASV, EPRT, EPSV) is the
//! handler's to act on, as in Zeek's scripts: it schedules [`FtpData`] for
//! the expected connection, whose service is then `ftp-data`.

pub mod fuzzing;

use crate::signatures::PatternType;
use super::analyzer::Analyzer;
use super::child::{Child, Handover};
use super::context::Cx;
use super::registry::Tag;
use crate::events::{Connection, Event, EventKind};

/// TCP ports the FTP analyzer is registered for (the responder's, at creation).
pub const PORTS: [u16; 2] = [21, 2811];

/// Longest line kept while waiting for its end; longer ones are cut there.
const MAX_LINE: usize = 64 * 1024;

/// What the line parser found, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Out {
    /// A command (upper-cased) and its argument.
    Request(Vec<u8>, Vec<u8>),
    /// A reply line: code (0 inside a multi-line reply), text, continued.
    Reply(u32, Vec<u8>, bool),
    /// `AUTH TLS` was accepted.
    StartTls,
    /// A weird.
    Weird(&'static str, String),
    /// A limit reached.
    Limit(&'static str, String),
    /// The protocol is confirmed.
    Confirm,
    /// A violation with its reason and the line.
    Violate(&'static str, Vec<u8>),
    /// A command line, from its command on, for `ftp` signature patterns.
    Match(Vec<u8>),
}

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
    /// The argument of the last `AUTH` command.
    auth_requested: Option<Vec<u8>>,
    /// TLS took over the connection.
    tls_active: bool,
    /// The server's greeting was seen.
    greeted: bool,
    /// The SSL analyzer the connection's bytes go to once TLS took over.
    tls: Option<Box<Child>>,
    /// Which directions (originator, responder) had their first NUL,
    /// which the NVT drops; later ones stay in the line.
    nul_seen: [bool; 2],
}

impl Ftp {
    /// A new analyzer checking command words against `max_command_length`
    /// (`FTP::max_command_length`; 0 checks nothing).
    pub fn new(max_command_length: u64) -> Ftp {
        Ftp { max_command_length, ..Ftp::default() }
    }

    /// One delivery of direction `is_orig`.
    pub(crate) fn feed(&mut self, is_orig: bool, d: &[u8], out: &mut Vec<Out>) {
        // The NVT drops a direction's first NUL that does not follow a CR
        // (weird `NUL_in_line`, once per connection) and keeps later ones.
        let dir = usize::from(!is_orig);
        let owned;
        let mut d = d;
        if !self.nul_seen[dir] && !self.tls_active {
            let prev = |i: usize| if i == 0 { if is_orig { self.line.last() } else { self.reply_line.last() }.copied() } else { Some(d[i - 1]) };
            if let Some(i) = (0..d.len()).find(|&i| d[i] == 0 && prev(i) != Some(b'\r')) {
                self.nul_seen[dir] = true;
                if !self.nul_seen[1 - dir] {
                    out.push(Out::Weird("NUL_in_line", String::new()));
                }
                owned = [&d[..i], &d[i + 1..]].concat();
                d = &owned;
            }
        }
        // Lines end at LF (a CR before it is dropped), as FTP's NVT splits them.
        while let Some(i) = d.iter().position(|&b| b == b'\n') {
            if self.tls_active {
                return;
            }
            let buf = if is_orig { &mut self.line } else { &mut self.reply_line };
            extend_capped(buf, &d[..i]);
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            let line = std::mem::take(buf);
            if is_orig {
                self.command(&line, out);
            } else {
                self.reply(&line, out);
            }
            d = &d[i + 1..];
        }
        if !self.tls_active {
            extend_capped(if is_orig { &mut self.line } else { &mut self.reply_line }, d);
        }
    }

    /// One reply line (`FTP_Analyzer::DeliverStream`, responder side).
    fn reply(&mut self, line: &[u8], out: &mut Vec<Out>) {
        if line.is_empty() {
            return;
        }
        let mut code = match line {
            [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0')
            }
            _ => 0,
        };
        let (msg, cont) = if self.pending_reply != 0 {
            if code == self.pending_reply && line.get(3) == Some(&b' ') {
                self.pending_reply = 0;
                (skip_ws(&line[3..]), false)
            } else {
                code = 0;
                (line, true)
            }
        } else {
            match line.get(3) {
                _ if code == 0 => return out.push(Out::Violate("non-numeric reply code", line.to_vec())),
                _ if code < 100 => return out.push(Out::Violate("invalid reply code", line.to_vec())),
                Some(b'-') => {
                    self.pending_reply = code;
                    (skip_ws(&line[4..]), true)
                }
                Some(b) if *b != b' ' => return out.push(Out::Violate("invalid reply line", line.to_vec())),
                _ => (skip_ws(&line[3..]), false),
            }
        };
        if !self.greeted && !cont && matches!(code, 120 | 220) {
            self.greeted = true;
            software_banner(msg);
        }
        if code == 234 && self.auth_requested.as_deref() == Some(b"TLS") {
            // The SSL analyzer would take the rest of the connection here.
            out.push(Out::StartTls);
            self.tls_active = true;
        }
        out.push(Out::Reply(code, msg.to_vec(), cont));
    }

    /// One command line (`FTP_Analyzer::DeliverStream`, originator side).
    fn command(&mut self, line: &[u8], out: &mut Vec<Out>) {
        if line.is_empty() {
            return;
        }
        let rest = skip_ws(line);
        let word = &rest[..rest.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(rest.len())];
        let is_cmd = word.len() >= 3 && word.iter().all(|&b| b.is_ascii_graphic());
        if !is_cmd {
            if self.confirmed {
                out.push(Out::Weird("FTP_invalid_command", String::new()));
            }
            return;
        }
        let max = self.max_command_length;
        if max > 0 && word.len() as u64 > max {
            if self.confirmed {
                out.push(Out::Limit("FTP_max_command_length_exceeded", format!("{} > {max}", word.len())));
            }
            return;
        }
        let arg = skip_ws(&rest[word.len()..]);
        let cmd = word.to_ascii_uppercase();
        self.confirmed = true;
        out.push(Out::Confirm);
        if cmd == b"AUTH" {
            self.auth_requested = Some(arg.to_vec());
        }
        out.push(Out::Match(rest.to_vec()));
        out.push(Out::Request(cmd, arg.to_vec()));
    }
}

/// Where the server's greeting (its first 120 or 220 reply) goes to software
/// identification (`software_version_found` for the server), once weir has
/// it: nothing is done with it yet.
pub(crate) fn software_banner(greeting: &[u8]) {
    let _ = greeting;
}

/// `line` without its leading blanks (space, tab).
fn skip_ws(line: &[u8]) -> &[u8] {
    &line[line.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(line.len())..]
}

impl Analyzer for Ftp {
    fn tag(&self) -> Tag {
        Tag::Ftp
    }

    /// The originator's command lines and the responder's reply lines.
    /// Once `AUTH TLS` was accepted, the bytes go to an SSL child analyzer
    /// instead (made at the first of them, as Zeek's FTP analyzer makes one).
    fn stream(&mut self, is_orig: bool, d: &[u8], cx: &mut Cx<'_, '_>) {
        if self.tls_active {
            let tls = self
                .tls
                .get_or_insert_with(|| Box::new(Child::new(Box::new(crate::analyzers::ssl::start_mid_stream(cx.cfg())), cx.aid())));
            tls.stream(is_orig, d, cx);
            return;
        }
        let mut out = Vec::new();
        self.feed(is_orig, d, &mut out);
        for o in out {
            emit(o, &mut CxSink(cx));
        }
    }

    /// A hole in the commands: the partial line is stale.
    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        if is_orig {
            self.line.clear();
        } else {
            self.reply_line.clear();
        }
        self.tls.gap(is_orig, len, cx);
    }

    /// The end of a direction: its partial line is delivered as a line
    /// (as Zeek's line splitter does at the endpoint's EOF).
    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        let partial = if is_orig { &self.line } else { &self.reply_line };
        if !self.tls_active && !partial.is_empty() {
            let mut out = Vec::new();
            self.feed(is_orig, b"\n", &mut out);
            for o in out {
                emit(o, &mut CxSink(cx));
            }
        }
        self.tls.end_of_data(is_orig, cx);
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.tls.done(cx);
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The analyzer Zeek schedules for an expected FTP data connection
/// (`FTP_DATA`). The connection's service is `ftp-data` from its creation;
/// each direction's bytes are one file for file analysis (named by the
/// handlers' `get_file_handle`), ended by the end of that direction's data.
/// A content gap is not reported to file analysis (the file's later bytes
/// follow on at the offset reached).
#[derive(Clone, Debug, Default)]
pub struct FtpData;

impl Analyzer for FtpData {
    fn tag(&self) -> Tag {
        Tag::FtpData
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if cx.files_wanted() {
            cx.file_data_in(is_orig, data, None, None);
        }
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        if cx.files_wanted() {
            cx.file_end(is_orig, None);
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// Where the analyzer's findings go: the connection's [`Cx`], or the fuzz
/// target's counter.
pub(crate) trait Sink {
    /// Whether `kind` is taken.
    fn wants(&self, kind: EventKind) -> bool;
    /// Queues the event `build` makes.
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event);
    /// A weird.
    fn weird(&mut self, name: &'static str, addl: String);
    /// A limit reached.
    fn limit(&mut self, name: &'static str, addl: String);
    /// Protocol confirmed.
    fn confirm(&mut self);
    /// Protocol violated, with the offending line.
    fn violate(&mut self, reason: &str, data: &[u8]);
    /// A command line for the connection's `ftp` signature patterns.
    fn match_command(&mut self, _line: &[u8]) {}
}

struct CxSink<'c, 'e, 'a>(&'c mut Cx<'e, 'a>);

impl Sink for CxSink<'_, '_, '_> {
    fn wants(&self, kind: EventKind) -> bool {
        self.0.wants(kind)
    }
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event) {
        self.0.raise(build)
    }
    fn weird(&mut self, name: &'static str, addl: String) {
        self.0.weird(name, addl)
    }
    fn limit(&mut self, name: &'static str, addl: String) {
        self.0.limit(name, addl)
    }
    fn confirm(&mut self) {
        self.0.confirm()
    }
    fn violate(&mut self, reason: &str, data: &[u8]) {
        self.0.violate(reason, Some(data))
    }
    fn match_command(&mut self, line: &[u8]) {
        if self.0.signatures_want(PatternType::Ftp) {
            self.0.match_signatures(true, PatternType::Ftp, line, true);
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Raises what one parser finding means.
pub(crate) fn emit(o: Out, s: &mut impl Sink) {
    match o {
        Out::Request(cmd, arg) if s.wants(EventKind::FtpRequest) => {
            s.raise(|c| Event::FtpRequest { c, command: text(&cmd), arg: text(&arg) })
        }
        Out::Reply(code, msg, cont_resp) if s.wants(EventKind::FtpReply) => {
            s.raise(|c| Event::FtpReply { c, code: u64::from(code), msg: text(&msg), cont_resp })
        }
        Out::StartTls if s.wants(EventKind::FtpStarttls) => s.raise(|c| Event::FtpStarttls { c }),
        Out::Weird(name, addl) => s.weird(name, addl),
        Out::Limit(name, addl) => s.limit(name, addl),
        Out::Confirm => s.confirm(),
        Out::Violate(reason, line) => s.violate(reason, &line),
        Out::Match(line) => s.match_command(&line),
        _ => {}
    }
}

fn extend_capped(line: &mut Vec<u8>, data: &[u8]) {
    let room = MAX_LINE.saturating_sub(line.len());
    line.extend_from_slice(&data[..data.len().min(room)]);
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
        assert_eq!(summary(&h.stream(&mut f, true, b"USER anonymous\r\n")), ["protocol_confirmation", "ftp_request"]);
        assert_eq!(summary(&h.stream(&mut f, true, long.as_bytes())), ["weird:FTP_max_command_length_exceeded 132 > 100"]);
        assert!(h.conn.history.contains('X'));
    }

    #[test]
    fn a_partial_line_is_a_line_at_the_end_and_the_first_nul_is_dropped() {
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        assert!(summary(&h.stream(&mut f, true, b"junk\x01\nsi\0ze\tz")).iter().all(|e| e.starts_with("weird:NUL_in_line")));
        let out = summary(&h.run(&mut f, |f, cx| f.end_of_data(true, cx)));
        assert_eq!(out, ["protocol_confirmation", "ftp_request"], "SIZE, its NUL dropped, at the end of data");
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        let out = summary(&h.stream(&mut f, true, b"\0\nUS\0ER a\n"));
        assert!(out.contains(&"weird:NUL_in_line".to_string()), "{out:?}");
        assert!(!out.contains(&"ftp_request".to_string()), "the second NUL stays in the line: {out:?}");
        assert!(summary(&h.run(&mut f, |f, cx| f.end_of_data(true, cx))).is_empty(), "no partial line");
    }

    #[test]
    fn nothing_before_confirmation_and_lines_split_across_segments() {
        let long = format!("{}\r\n", "T".repeat(132));
        assert!(run(&[long.as_bytes()]).is_empty(), "not confirmed yet");
        assert_eq!(run(&[b"US", b"ER a\r\n!!\r", b"\n"]), ["protocol_confirmation", "ftp_request", "weird:FTP_invalid_command"]);
    }

    #[test]
    fn replies_are_checked_as_zeek_checks_them() {
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        h.cfg.dpd_rules.ignore = vec![Tag::Ftp]; // keep it running through every line
        let mut out = Vec::new();
        for l in [&b"220-Welcome\r\n"[..], b"not a code inside\r\n", b"220 ready\r\n", b"331 ok\r\n", b"99 PASV invalid\r\n"] {
            out.extend(summary(&h.stream(&mut f, false, l)));
        }
        assert_eq!(out, ["ftp_reply", "ftp_reply", "ftp_reply", "ftp_reply", "protocol_violation"], "a continued reply's inner lines need no code");
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
        assert_eq!(out, ["protocol_confirmation", "ftp_request", "weird:FTP_invalid_command"]);
        let mut out = summary(&h.stream(&mut f, true, b"!"));
        out.extend(summary(&h.gap(&mut f, true, 3)));
        out.extend(summary(&h.stream(&mut f, true, b"PASS x\r\n")));
        assert_eq!(out, ["ftp_request"], "the line after the gap is a valid command");
        let (mut h, mut f) = (Harness::new(6, 21), Ftp::new(100));
        assert_eq!(summary(&h.stream(&mut f, false, b"!!\r\n")), ["protocol_violation"]);
        assert!(h.status.disabled, "under the DPD rules a violation disables it");
    }

    fn parsed(steps: &[(bool, &[u8])]) -> Vec<Out> {
        let (mut f, mut out) = (Ftp::new(100), Vec::new());
        for (o, d) in steps {
            f.feed(*o, d, &mut out);
        }
        out
    }

    #[test]
    fn requests_and_multi_line_replies() {
        let out = parsed(&[
            (false, b"220-Hello\r\n  inner line\r\n220 ready\r\n"),
            (true, b"  user  Anon ymous \r\nPASV\r\n"),
        ]);
        assert_eq!(
            out,
            [
                Out::Reply(220, b"Hello".to_vec(), true),
                Out::Reply(0, b"  inner line".to_vec(), true),
                Out::Reply(220, b"ready".to_vec(), false),
                Out::Confirm,
                Out::Match(b"user  Anon ymous ".to_vec()),
                Out::Request(b"USER".to_vec(), b"Anon ymous ".to_vec()),
                Out::Confirm,
                Out::Match(b"PASV".to_vec()),
                Out::Request(b"PASV".to_vec(), Vec::new()),
            ]
        );
    }

    #[test]
    fn command_lines_go_to_ftp_signature_patterns() {
        let mut h = Harness::new(6, 21);
        h.with_signatures("signature retr { ftp /^RETR .*passwd/ event \"retr\" }\nsignature user { ftp /^USER/ event \"only one line\" }");
        let mut f = Ftp::new(100);
        let evs = h.stream(&mut f, true, b"USER x\r\n  RETR /etc/passwd\r\n");
        let msgs: Vec<&str> = evs
            .iter()
            .filter_map(|e| match e {
                Event::SignatureMatch { msg, .. } => Some(msg.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(msgs, ["only one line", "retr"], "each command from its start, leading blanks skipped");
    }

    #[test]
    fn auth_tls_stops_the_line_parser() {
        let out = parsed(&[(true, b"AUTH TLS\r\n"), (false, b"234 go ahead\r\n\x16\x03\x01\n"), (true, b"\x16\x03\x01\n")]);
        assert_eq!(
            out,
            [
                Out::Confirm,
                Out::Match(b"AUTH TLS".to_vec()),
                Out::Request(b"AUTH".to_vec(), b"TLS".to_vec()),
                Out::StartTls,
                Out::Reply(234, b"go ahead".to_vec(), false),
            ]
        );
        let out = parsed(&[(true, b"AUTH SSL\r\n"), (false, b"234 go ahead\r\n")]);
        assert!(!out.contains(&Out::StartTls), "only AUTH TLS");
    }

    #[test]
    fn ftp_data_gives_its_service_when_scheduled() {
        assert_eq!(Tag::FtpData.scheduled_service(), Some("ftp-data"));
        assert_eq!(Tag::Ftp.scheduled_service(), None);
        let (mut h, mut d) = (Harness::new(6, 20000), FtpData);
        // Its bytes are a file: file analysis asks the handlers to name it.
        let evs = h.stream(&mut d, false, b"file bytes");
        let asked = evs.iter().find_map(|e| match e {
            Event::GetFileHandle { tag, is_orig, .. } => Some((tag.name.clone(), *is_orig)),
            _ => None,
        });
        assert_eq!(asked, Some(("FTP_DATA".to_string(), false)));
    }
}
