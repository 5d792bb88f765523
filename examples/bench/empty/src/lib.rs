//! Benchmark handler: takes `new_connection` and does nothing with it
//! (the floor of dispatch into a subscribed handler).

struct Empty;

impl weir_guest::Handler for Empty {
    fn new_connection(_c: weir_guest::types::Connection) {}
}

weir_guest::export_handler!(Empty: new_connection);
