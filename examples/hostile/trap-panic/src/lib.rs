//! Hostile handler: panics in `new_connection` and executes `unreachable` in
//! `connection_state_remove`.

struct Panic;

impl weir_guest::Handler for Panic {
    fn new_connection(c: weir_guest::types::Connection) {
        panic!("trap-panic: refusing connection {}", c.uid);
    }
    fn connection_state_remove(_c: weir_guest::types::Connection) {
        core::arch::wasm32::unreachable();
    }
}

weir_guest::export_handler!(Panic: new_connection, connection_state_remove);
