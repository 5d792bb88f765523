//! Hostile handler: spins forever in `new_connection` (stopped by fuel).

struct Loop;

impl weir_guest::Handler for Loop {
    fn new_connection(c: weir_guest::types::Connection) {
        let mut x = c.id.orig_p.number as u64;
        loop {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

weir_guest::export_handler!(Loop: new_connection);
