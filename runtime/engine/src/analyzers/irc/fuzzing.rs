//! The input layout of the `irc` fuzz target (`fuzz/`): arbitrary bytes
//! through the IRC parser with every event taken and built, split into
//! deliveries at each `0xff 0xfe` pair, alternating originator and
//! responder, the first from the originator.

use super::parser::Parser;
use super::Sink;
use crate::analyzers::fuzz_input::{deliveries, placeholder_conn};
use weir_events::{Connection, Event, EventKind};

/// Counts what the analyzer reports.
#[derive(Default)]
struct Count(usize);

impl Sink for Count {
    fn wants(&self, _: EventKind) -> bool {
        true
    }
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event) {
        let _ = build(Box::new(placeholder_conn(6, 6667)));
        self.0 += 1;
    }
    fn weird(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn confirm(&mut self) {
        self.0 += 1;
    }
    fn violate(&mut self, _: &str) {
        self.0 += 1;
    }
}

/// Runs one input; returns the number of events, weirds, confirmations
/// and violations.
pub fn run(data: &[u8]) -> usize {
    let (mut p, mut sink) = (Parser::default(), Count::default());
    for (is_orig, piece) in deliveries(data) {
        p.feed(is_orig, piece, &mut sink);
    }
    sink.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_count() {
        // NICK confirms and raises irc_nick_message; 001 raises irc_reply.
        assert_eq!(super::run(b"NICK bob\r\n\xff\xfe:srv 001 bob :hi\r\n"), 3);
        assert_eq!(super::run(b"x1\r\n"), 0, "too short, not yet confirmed: nothing");
    }
}
