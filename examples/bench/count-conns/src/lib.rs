//! Benchmark handler: counts connections at `new_connection` and
//! `connection_state_remove` (the benchmark loads eight copies of it).

use std::cell::Cell;

thread_local! {
    static OPEN: Cell<u64> = const { Cell::new(0) };
}

struct CountConns;

impl weir_guest::Handler for CountConns {
    fn new_connection(_c: weir_guest::types::Connection) {
        OPEN.with(|n| n.set(n.get() + 1));
    }

    fn connection_state_remove(_c: weir_guest::types::Connection) {
        OPEN.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

weir_guest::export_handler!(CountConns: new_connection, connection_state_remove);
