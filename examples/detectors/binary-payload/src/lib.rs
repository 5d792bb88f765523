//! Answers the signature condition `eval BinaryPayload::mostly_binary`: it
//! holds when more than half of the bytes being matched are not printable
//! text (ASCII 0x20-0x7e, tab, CR, LF). With it a signature such as
//!
//! ```text
//! signature binary-on-text-port {
//!     ip-proto == tcp
//!     dst-port == 25,110,143
//!     payload /./
//!     eval BinaryPayload::mostly_binary
//!     event "binary data on a text protocol's port"
//! }
//! ```
//!
//! flags traffic a pattern alone cannot describe.

use weir_guest::types::SignatureState;
use weir_guest::SignatureEval;

struct BinaryPayload;

impl weir_guest::Handler for BinaryPayload {}

impl SignatureEval for BinaryPayload {
    fn functions() -> Vec<String> {
        vec!["BinaryPayload::mostly_binary".into()]
    }

    fn evaluate(name: &str, _state: &SignatureState, data: &[u8]) -> bool {
        name == "BinaryPayload::mostly_binary" && mostly_binary(data)
    }
}

fn mostly_binary(data: &[u8]) -> bool {
    let text = data.iter().filter(|&&b| (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\r' | b'\n')).count();
    !data.is_empty() && text * 2 < data.len()
}

weir_guest::export_handler!(BinaryPayload: signature_eval);
