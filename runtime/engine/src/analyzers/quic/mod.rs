//! Zeek's QUIC analyzer over UDP: [`parse`] reads the packets of each
//! datagram (long and short headers), [`crypto`] removes the protection of
//! Initial packets (whose keys anyone can derive from the client's first
//! Destination Connection ID), and the first TLS handshake message of each
//! side, put together from the Initial packets' CRYPTO frames, goes to an
//! SSL child analyzer as one TLS handshake record. The connection's
//! service becomes `quic` once an Initial packet decrypts, then `ssl` once
//! the SSL child reads the client hello; ssl.log gets the handshake's
//! version, cipher, curve and server name.

pub mod analyzer;
pub mod crypto;
#[doc(hidden)]
pub mod fuzzing;
pub mod parse;
#[cfg(test)]
mod tests;

pub use analyzer::Quic;

/// UDP ports of Zeek's `QUIC::quic_ports` (HTTP/3).
pub const PORTS: [u16; 1] = [443];
/// UDP ports of Zeek's `QUIC::doq_ports` (DNS over QUIC), registered for the
/// analyzer too but not as likely server ports.
pub const DOQ_PORTS: [u16; 2] = [853, 784];
