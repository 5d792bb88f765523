//! The traces in tests/traces/ are exactly what their generators in
//! scripts/ write: regenerate them after changing a generator.

mod common;

use common::assert_trace_is_generated;

#[test]
fn demo_trace() {
    assert_trace_is_generated("gen-demo-trace.py", "demo.pcap");
}

#[test]
fn states_trace() {
    assert_trace_is_generated("gen-states-trace.py", "states.pcap");
}

#[test]
fn ipv6_trace() {
    assert_trace_is_generated("gen-ipv6-trace.py", "ipv6.pcap");
}

#[test]
fn tcp_events_trace() {
    assert_trace_is_generated("gen-tcp-events-trace.py", "tcp-events.pcap");
}
