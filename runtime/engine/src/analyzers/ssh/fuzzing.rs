//! The input layout of the `ssh` fuzz target (`fuzz/`): arbitrary bytes
//! through the SSH parser with every event taken and built. The input is
//! split into deliveries at each `0xff 0xfe` pair, alternating originator
//! and responder, the first from the originator.

use super::parser::Parser;
use super::{emit, Sink};
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
        let _ = build(Box::new(placeholder_conn(6, 22)));
        self.0 += 1;
    }
    fn weird(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn limit(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn confirm(&mut self) {
        self.0 += 1;
    }
    fn violate(&mut self, _: &str) {
        self.0 += 1;
    }
}

/// Runs one input; returns the number of events, weirds, confirmations and
/// violations.
pub fn run(data: &[u8]) -> usize {
    let (mut p, mut sink, mut out) = (Parser::default(), Count::default(), Vec::new());
    for (is_orig, piece) in deliveries(data) {
        p.feed(is_orig, piece, &mut out);
        for o in out.drain(..) {
            emit(o, &mut sink);
        }
    }
    sink.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn banners_count() {
        assert_eq!(super::run(b"SSH-2.0-a\r\n\xff\xfeSSH-2.0-b\r\n"), 2);
        assert_eq!(super::run(b"x\n"), 1, "a violation");
    }
}
