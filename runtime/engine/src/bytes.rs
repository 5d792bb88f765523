//! Fixed-width integer readers for packet bytes, shared by every decoder.
//!
//! Each reader takes the buffer and the offset of the first byte and panics
//! when the field runs past the end, so callers check lengths first, as the
//! decoders do before reading a header.

/// The big-endian (network order) `u16` at `d[at..at + 2]`.
pub(crate) fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

/// The big-endian 24-bit value at `d[at..at + 3]` (a VXLAN or Geneve VNI).
pub(crate) fn be24(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([0, d[at], d[at + 1], d[at + 2]])
}

/// The big-endian (network order) `u32` at `d[at..at + 4]`.
pub(crate) fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

/// The little-endian `u16` at `d[at..at + 2]` (radiotap, NFLOG TLVs).
pub(crate) fn le16(d: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([d[at], d[at + 1]])
}

/// The little-endian `u32` at `d[at..at + 4]` (radiotap, Prism, BSD null).
pub(crate) fn le32(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: [u8; 6] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06];

    #[test]
    fn reads_at_the_offset_in_the_stated_order() {
        assert_eq!(be16(&D, 1), 0x0203);
        assert_eq!(be24(&D, 2), 0x0003_0405);
        assert_eq!(be32(&D, 2), 0x0304_0506);
        assert_eq!(le16(&D, 1), 0x0302);
        assert_eq!(le32(&D, 0), 0x0403_0201);
    }

    #[test]
    #[should_panic]
    fn a_field_past_the_end_panics() {
        be32(&D, 3);
    }
}
