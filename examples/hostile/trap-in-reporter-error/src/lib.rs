//! Hostile handler: traps in `new_connection`, and again in `reporter_error` while it
//! reports on itself (the host must not recurse).

struct Trapper;

impl weir_guest::Handler for Trapper {
    fn new_connection(_c: weir_guest::types::Connection) {
        panic!("trap in new_connection");
    }
    fn reporter_error(_t: f64, msg: String, _location: String) {
        weir_guest::reporter::error(&format!("reporter_error handler saw: {msg}"));
        panic!("trap in reporter_error");
    }
}

weir_guest::export_handler!(Trapper: new_connection, reporter_error);
