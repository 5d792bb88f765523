//! The input layout of the `ssl` fuzz target (`fuzz/`): arbitrary bytes
//! through the SSL parser with every event taken and built.
//!
//! Byte 0 picks the settings (bits 0-3 `SSL::max_alerts_per_record`, bit 4
//! DTLS: each chunk a datagram); the rest is split into chunks at each
//! `0xff 0xfe` pair, alternating originator and responder, each chunk
//! handed to the parser in one call.

use super::record::Parser;
use super::{Sink, SslConfig};
use crate::analyzers::fuzz_input::{deliveries, placeholder_conn};
use weir_events::{Connection, Event, EventKind};

/// Counts what the parser reports.
#[derive(Default)]
struct Count(usize);

impl Sink for Count {
    fn wants(&self, _: EventKind) -> bool {
        true
    }
    fn raise<F: FnOnce(Box<Connection>) -> Event>(&mut self, build: F) {
        let _ = build(Box::new(placeholder_conn(6, 443)));
        self.0 += 1;
    }
    fn weird(&mut self, _: &'static str, _: String) {
        self.0 += 1;
    }
    fn confirm(&mut self) {}
    fn violate(&mut self, _: String) {
        self.0 += 1;
    }
    fn now(&self) -> f64 {
        0.0
    }
}

/// Runs one input; returns the number of events, weirds and violations.
pub fn run(data: &[u8]) -> usize {
    let Some(&flags) = data.first() else { return 0 };
    let cfg = SslConfig { max_alerts_per_record: u64::from(flags & 15), disable_analyzer_after_detection: false, ..Default::default() };
    let mut p = Parser::new(cfg.clone());
    let mut dtls = (flags & 16 != 0).then(|| super::dtls::Dtls::new(cfg));
    let mut sink = Count::default();
    for (is_orig, chunk) in deliveries(&data[1..]) {
        match dtls.as_mut() {
            Some(d) => d.parse(&mut sink, is_orig, chunk),
            None => p.feed(&mut sink, is_orig, chunk),
        }
    }
    sink.0
}
