//! SMTP (RFC 5321) as Zeek's SMTP analyzer reads it: client commands and
//! server replies (multi-line ones too), pairing replies with the commands
//! they answer (clients pipeline whether the server offers it or not), the
//! message of DATA (dot-unstuffed) and of BDAT chunks (RFC 3030) parsed as
//! MIME ([`crate::analyzers::mime`]), AUTH exchanges, TURN's role swap,
//! gaps and the recovery after them, and STARTTLS (after its 220 reply the
//! rest of the connection is TLS and not read as SMTP). One file per
//! concept:
//!
//! - [`parser`]: both directions of a connection and the state machine;
//! - [`bdat`]: BDAT arguments and chunk bytes cut into lines;
//! - [`analyzer`]: the parser on the analyzer interface, raising the events;
//! - [`fuzzing`]: the input layout of the `smtp` fuzz target.
//!
//! What the parser finds goes to a [`Sink`] as [`Out`] items, each built
//! only when the sink [`wants`](Sink::wants) its kind.

pub mod analyzer;
pub mod bdat;
pub mod fuzzing;
pub mod parser;

#[cfg(test)]
mod tests;

pub use analyzer::Smtp;
pub use parser::Parser;

use crate::analyzers::mime;

/// TCP ports the SMTP analyzer is registered for (`SMTP::ports`).
pub const PORTS: [u16; 2] = [25, 587];

/// Zeek's settings the parser reads.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `SMTP::bdat_max_line_length` (4096): longest line of a BDAT chunk.
    pub bdat_max_line_length: usize,
    /// The MIME parser's settings (`MIME::max_depth`, ...).
    pub mime: mime::Settings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { bdat_max_line_length: 4096, mime: mime::Settings::default() }
    }
}

/// The kinds of protocol events, for [`Sink::wants`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// `smtp_request`.
    Request,
    /// `smtp_reply`.
    Reply,
    /// `smtp_data`.
    Data,
    /// `smtp_unexpected`.
    Unexpected,
    /// `smtp_starttls`.
    StartTls,
    /// The software events (the server's greeting, the mail client's
    /// `X-Mailer` / `User-Agent` headers).
    Software,
    /// One of the MIME events.
    Mime(mime::Want),
}

/// One thing the parser found, in the order Zeek raises it. The fields are
/// the event's arguments under their Zeek names.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// `smtp_request(is_orig, command, arg)`.
    Request { is_orig: bool, command: Vec<u8>, arg: Vec<u8> },
    /// `smtp_reply(is_orig, code, cmd, msg, cont_resp)`.
    Reply { is_orig: bool, code: u64, cmd: &'static str, msg: Vec<u8>, cont_resp: bool },
    /// `smtp_data(is_orig, data)`.
    Data { is_orig: bool, data: Vec<u8> },
    /// `smtp_unexpected(is_orig, msg, detail)`.
    Unexpected { is_orig: bool, msg: &'static str, detail: Vec<u8> },
    /// `smtp_starttls`.
    StartTls,
    /// A software string: of the originator's host (`orig_host`) or the
    /// responder's.
    Software { orig_host: bool, text: Vec<u8> },
    /// A MIME event of the current message.
    Mime(mime::Out),
    /// A conn weird with its addl.
    Weird(&'static str, String),
    /// The analyzer confirms the protocol.
    Confirm,
    /// The data breaks the protocol: the reason and the offending line.
    Violate(String, Vec<u8>),
}

/// Where the parser's findings go.
pub trait Sink {
    /// Whether events of kind `w` are taken (ask before building one).
    fn wants(&self, w: Want) -> bool;
    /// Takes one finding.
    fn emit(&mut self, o: Out);
}

/// A [`Sink`] that keeps everything (tests, fuzzing).
#[derive(Debug, Default)]
pub struct Collect {
    /// What was found, in order.
    pub out: Vec<Out>,
}

impl Sink for Collect {
    fn wants(&self, _: Want) -> bool {
        true
    }
    fn emit(&mut self, o: Out) {
        self.out.push(o);
    }
}

/// An SMTP sink seen as the MIME parser's. Headers naming the mail client
/// (`X-Mailer`, `User-Agent`, `X-User-Agent`) also go to software
/// identification, as the sender's.
pub(crate) struct MimeSink<'a>(pub &'a mut dyn Sink);

/// The headers whose value names the client's mail software.
const CLIENT_SOFTWARE_HEADERS: [&[u8]; 3] = [b"X-MAILER", b"USER-AGENT", b"X-USER-AGENT"];

impl mime::Sink for MimeSink<'_> {
    fn wants(&self, w: mime::Want) -> bool {
        self.0.wants(Want::Mime(w)) || (w == mime::Want::OneHeader && self.0.wants(Want::Software))
    }
    fn emit(&mut self, o: mime::Out) {
        if let mime::Out::OneHeader(h) = &o {
            if self.0.wants(Want::Software) && CLIENT_SOFTWARE_HEADERS.contains(&h.name.as_slice()) {
                self.0.emit(Out::Software { orig_host: true, text: h.value.clone() });
            }
            if !self.0.wants(Want::Mime(mime::Want::OneHeader)) {
                return;
            }
        }
        self.0.emit(Out::Mime(o));
    }
}
