//! Hostile handler: spends most of its fuel (about 6 M of the default 10 M) on
//! every `new_connection` and `connection_state_remove`, never enough to trap:
//! only the CPU budget over time holds it back.

struct Burn;

/// Loop rounds per call.
const ROUNDS: u64 = 280_000;

fn burn(seed: u64) {
    let mut x = seed;
    for _ in 0..ROUNDS {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    std::hint::black_box(x);
}

impl weir_guest::Handler for Burn {
    fn new_connection(c: weir_guest::types::Connection) {
        burn(c.id.orig_p.number as u64);
    }
    fn connection_state_remove(c: weir_guest::types::Connection) {
        burn(c.id.resp_p.number as u64);
    }
}

weir_guest::export_handler!(Burn: new_connection, connection_state_remove);
