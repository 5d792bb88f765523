//! Fuzzing entry: arbitrary datagrams through the QUIC parser (header
//! parsing, Initial decryption, frames, CRYPTO reassembly); it must never
//! panic.

use super::parse::{Found, Out, State};

/// Discards everything.
struct Null;

impl Out for Null {
    fn event(&mut self, _ev: Found) {}
    fn confirm(&mut self) {}
    fn violate(&mut self, _reason: String) {}
    fn ssl(&mut self, _is_orig: bool, _data: &[u8]) {}
    fn ssl_close(&mut self) {}
}

/// Splits `data` into pieces (a leading byte per piece: its direction in
/// bit 0, whether it is a datagram (bit 1 clear) or the plaintext frames
/// of a decrypted Initial packet (set, as decryption of random bytes never
/// succeeds), and its length in the rest, times 4) and parses them on one
/// connection.
pub fn datagrams(data: &[u8]) {
    let mut st = State::new(100);
    let mut rest = data;
    while let Some((&h, tail)) = rest.split_first() {
        let n = (usize::from(h >> 2) * 4).max(1).min(tail.len());
        let (is_orig, piece) = (h & 1 == 0, &tail[..n]);
        if h & 2 == 0 {
            st.datagram(&mut Null, is_orig, piece);
        } else {
            let _ = st.fuzz_frames(&mut Null, is_orig, piece);
        }
        rest = &tail[n..];
    }
}
