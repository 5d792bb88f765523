//! The input layout of the `ftp` fuzz target (`fuzz/`): arbitrary bytes
//! through the FTP line parser with every event taken and built. Byte 0 is
//! `FTP::max_command_length` (0 checks nothing); the rest is split into
//! deliveries at each `0xff 0xfe` pair, alternating originator and
//! responder, the first from the originator.

use super::{emit, Ftp, Sink};
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
        let _ = build(Box::new(placeholder_conn(6, 21)));
        self.0 += 1;
    }
    fn weird(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn limit(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn confirm(&mut self) {}
    fn violate(&mut self, _: &str, _: &[u8]) {
        self.0 += 1;
    }
}

/// Runs one input; returns the number of events, weirds and violations.
pub fn run(data: &[u8]) -> usize {
    let Some((&max, rest)) = data.split_first() else { return 0 };
    let (mut f, mut sink, mut out) = (Ftp::new(u64::from(max)), Count::default(), Vec::new());
    for (is_orig, piece) in deliveries(rest) {
        f.feed(is_orig, piece, &mut out);
        for o in out.drain(..) {
            emit(o, &mut sink);
        }
    }
    sink.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn commands_and_replies_count() {
        assert_eq!(super::run(b"\x64USER a\r\n\xff\xfe331 ok\r\n"), 2);
        assert_eq!(super::run(b"\x00\xff\xfex\r\n"), 1, "a violation");
    }
}
