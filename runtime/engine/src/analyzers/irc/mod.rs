//! The IRC analyzer (Zeek's `IRC`): client commands and server replies
//! line by line (RFC 1459, RFC 2812), each command or reply Zeek knows
//! raising its own event when a handler takes it and a generic one
//! otherwise, DCC offers inside PRIVMSG, and STARTTLS: after the server's
//! reply 670 the rest of the connection is TLS, handed to an SSL child
//! analyzer. The first known command from the client confirms the
//! protocol; a line too short to hold a command and a malformed reply
//! number are violations. (Zeek's decompression of server-to-server links
//! that negotiate it is not done.)
//!
//! - [`parser`]: the lines and their events;
//! - [`IrcData`]: the `IRC_DATA` analyzer of a DCC transfer, which a
//!   handler schedules for the address and port a DCC SEND offers;
//! - [`fuzzing`]: the input layout of the `irc` fuzz target.

pub mod fuzzing;
pub mod parser;

use super::analyzer::Analyzer;
use super::child::{Child, Handover};
use super::context::Cx;
use super::registry::Tag;
use crate::events::{Connection, Event, EventKind};
use parser::Parser;

/// TCP ports the IRC analyzer is registered for (`IRC::ports`).
pub const PORTS: [u16; 4] = [6666, 6667, 6668, 6669];

/// IRC analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Irc {
    parser: Parser,
    /// The SSL analyzer the bytes after an accepted STARTTLS go to.
    tls: Option<Box<Child>>,
}

/// Where the parser's findings go: the connection's [`Cx`], or the fuzz
/// target's counter.
pub trait Sink {
    /// Whether `kind` is taken.
    fn wants(&self, kind: EventKind) -> bool;
    /// Queues the event `build` makes.
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event);
    /// A conn weird.
    fn weird(&mut self, name: &'static str, addl: String);
    /// Protocol confirmed.
    fn confirm(&mut self);
    /// Protocol violated.
    fn violate(&mut self, reason: &str);
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
    fn confirm(&mut self) {
        self.0.confirm()
    }
    fn violate(&mut self, reason: &str) {
        self.0.violate(reason, None)
    }
}

impl Analyzer for Irc {
    fn tag(&self) -> Tag {
        Tag::Irc
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let used = self.parser.feed(is_orig, data, &mut CxSink(cx));
        if used < data.len() {
            let tls = self.tls.get_or_insert_with(|| {
                Box::new(Child::new(Box::new(crate::analyzers::ssl::start_mid_stream(cx.cfg())), cx.aid()))
            });
            tls.stream(is_orig, &data[used..], cx);
        }
    }

    fn gap(&mut self, is_orig: bool, len: u64, cx: &mut Cx<'_, '_>) {
        match self.tls.as_mut() {
            Some(tls) => tls.gap(is_orig, len, cx),
            None => self.parser.gap(is_orig),
        }
    }

    fn end_of_data(&mut self, is_orig: bool, cx: &mut Cx<'_, '_>) {
        self.tls.end_of_data(is_orig, cx);
    }

    fn done(&mut self, cx: &mut Cx<'_, '_>) {
        self.tls.done(cx);
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

/// The `IRC_DATA` analyzer of a DCC SEND transfer: the receiver (the
/// originator) acknowledges with the 32-bit big-endian count of bytes it
/// has so far, each raising `irc_dcc_send_ack`; a delivery that is not a
/// whole number of them is the weird `irc_invalid_dcc_send_ack`. (The file
/// the sender sends is not handed to file analysis yet.)
#[derive(Clone, Debug, Default)]
pub struct IrcData;

impl Analyzer for IrcData {
    fn tag(&self) -> Tag {
        Tag::IrcData
    }

    fn stream(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        if !is_orig {
            return;
        }
        if data.len() % 4 != 0 {
            return cx.weird("irc_invalid_dcc_send_ack", String::new());
        }
        if cx.wants(EventKind::IrcDccSendAck) {
            for ack in data.chunks_exact(4) {
                let bytes_received = u64::from(u32::from_be_bytes([ack[0], ack[1], ack[2], ack[3]]));
                cx.raise(|c| Event::IrcDccSendAck { c, bytes_received });
            }
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests;
