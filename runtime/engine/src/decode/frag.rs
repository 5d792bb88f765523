//! IPv4 and IPv6 fragment reassembly (Zeek's `src/Frag.cc` rules and weirds).

/// Reassembly state for all datagrams in flight.
#[derive(Default)]
pub struct FragReassembler {}
