//! Hostile handler: allocates without bound in `new_connection` (stopped by the memory cap).

struct Alloc;

impl weir_guest::Handler for Alloc {
    fn new_connection(_c: weir_guest::types::Connection) {
        let mut keep: Vec<Vec<u8>> = Vec::new();
        loop {
            keep.push(std::hint::black_box(vec![1u8; 1 << 20]));
        }
    }
}

weir_guest::export_handler!(Alloc: new_connection);
