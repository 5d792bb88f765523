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

/// Splits `data` into datagrams (a leading byte per datagram: its
/// direction in the low bit, its length in the rest, times 8) and parses
/// them on one connection.
pub fn datagrams(data: &[u8]) {
    let mut st = State::default();
    let mut rest = data;
    while let Some((&h, tail)) = rest.split_first() {
        let n = (usize::from(h >> 1) * 8).max(1).min(tail.len());
        st.datagram(&mut Null, h & 1 == 0, &tail[..n]);
        rest = &tail[n..];
    }
}
