//! IPv4 and IPv6 fragment reassembly (Zeek's `src/Frag.cc` rules and weirds).

use super::ip::IpWeird;
use super::IpHdr;

/// Reassembly state for all datagrams in flight.
#[derive(Default)]
pub struct FragReassembler {}

impl FragReassembler {
    /// Adds a fragment; returns the whole datagram once complete.
    pub fn add(&mut self, now: f64, ip: &IpHdr<'_>, weirds: &mut Vec<IpWeird>) -> Option<Vec<u8>> {
        let _ = (now, ip, weirds);
        todo!("fragment reassembly")
    }
}
