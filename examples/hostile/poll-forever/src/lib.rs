//! Hostile handler: waits forever in `new_connection`, one millisecond at a time
//! (each wait is a clock subscription and a block in the host). The waits are
//! answered at once from network time, so the loop spins, and the fixed fuel of
//! every host call stops it.

struct Poll;

impl weir_guest::Handler for Poll {
    fn new_connection(_c: weir_guest::types::Connection) {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

weir_guest::export_handler!(Poll: new_connection);
