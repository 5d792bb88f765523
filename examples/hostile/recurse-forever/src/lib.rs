//! Hostile handler: recurses without bound in `new_connection` (stopped by the wasm stack limit).

fn deeper(n: u64) -> u64 {
    if std::hint::black_box(n) == u64::MAX {
        return 0;
    }
    deeper(n + 1).wrapping_add(std::hint::black_box(n))
}

struct Recurse;

impl weir_guest::Handler for Recurse {
    fn new_connection(_c: weir_guest::types::Connection) {
        std::hint::black_box(deeper(0));
    }
}

weir_guest::export_handler!(Recurse: new_connection);
