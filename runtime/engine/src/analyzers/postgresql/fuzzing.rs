//! The input layout of the `postgresql` fuzz target (`fuzz/`): arbitrary
//! bytes through the PostgreSQL parser with every event taken and built,
//! split into deliveries at each `0xff 0xfe` pair, alternating originator
//! and responder, the first from the originator.

use super::parser::{Out, Parser};
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
        let _ = build(Box::new(placeholder_conn(6, 5432)));
        self.0 += 1;
    }
    fn confirm(&mut self) {
        self.0 += 1;
    }
    fn violate(&mut self, _: &str) {
        self.0 += 1;
    }
}

/// Runs one input; returns the number of events, confirmations,
/// violations and TLS deliveries.
pub fn run(data: &[u8]) -> usize {
    let (mut p, mut sink, mut out) = (Parser::default(), Count::default(), Vec::new());
    for (is_orig, piece) in deliveries(data) {
        p.feed(is_orig, piece, &mut out);
        for o in out.drain(..) {
            if matches!(o, Out::Tls { .. }) {
                sink.0 += 1;
            }
            emit(o, &mut sink);
        }
    }
    sink.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn ssl_request_and_answer_count() {
        // ssl_request; ssl_reply, confirm; one TLS delivery.
        assert_eq!(super::run(b"\x00\x00\x00\x08\x04\xd2\x16\x2f\xff\xfeS\x16\x03"), 4);
        assert_eq!(super::run(b"\x00\x00\x00\x08\x00\x02\x00\x00"), 1, "a violation");
    }
}
