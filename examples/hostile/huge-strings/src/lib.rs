//! Hostile handler: passes huge strings to host calls. Per new connection: a
//! 64 KiB reporter message (truncated by the host), a 1 MiB log name (refused),
//! then a 16 MiB message, whose per-byte charge exceeds the fuel budget.

struct Huge;

impl weir_guest::Handler for Huge {
    fn new_connection(_c: weir_guest::types::Connection) {
        weir_guest::reporter::info(&"x".repeat(64 << 10));
        let name = "n".repeat(1 << 20);
        if let Err(e) = weir_guest::log::create_stream(&name, &[]) {
            weir_guest::reporter::warning(&format!("huge-strings: create-stream refused ({} bytes of error)", e.len()));
        }
        weir_guest::reporter::info(&"y".repeat(16 << 20));
    }
}

weir_guest::export_handler!(Huge: new_connection);
