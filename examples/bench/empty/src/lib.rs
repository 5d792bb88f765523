//! Benchmark handler: takes `new_connection` and `bro_init` and does nothing
//! with them (the floor of dispatch into a subscribed handler, with a
//! connection record and with no arguments).

struct Empty;

impl weir_guest::Handler for Empty {
    fn new_connection(_c: weir_guest::types::Connection) {}
    fn bro_init() {}
}

weir_guest::export_handler!(Empty: new_connection, bro_init);
