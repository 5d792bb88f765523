//! Hostile handler: answers `eval Hostile::spin` by spinning forever
//! (stopped by fuel), to show that a signature condition cannot hang the
//! engine: the condition counts as false and the trap is reported.

use weir_guest::types::SignatureState;

struct Spin;

impl weir_guest::Handler for Spin {}

impl weir_guest::SignatureEval for Spin {
    fn functions() -> Vec<String> {
        vec!["Hostile::spin".into()]
    }

    fn evaluate(_name: &str, state: &SignatureState, _data: &[u8]) -> bool {
        let mut x = state.payload_size;
        loop {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

weir_guest::export_handler!(Spin: signature_eval);
