//! Internet checksums (IPv4 header, TCP/UDP/ICMP with pseudo-headers).

use std::net::IpAddr;

use super::IpHdr;

/// Adds `data` as big-endian 16-bit words to a running ones'-complement sum.
///
/// The words are summed in native byte order, in 16 lanes the compiler
/// turns into vector adds (AVX2 ones where the CPU has them), and the
/// folded total is byte-swapped to big-endian order: the ones'-complement
/// sum does not depend on byte order (RFC 1071 §2(B)). The result is
/// folded to at most 0xffff.
pub fn sum_words(sum: u32, data: &[u8]) -> u32 {
    let even = &data[..data.len() & !1];
    #[cfg(target_arch = "x86_64")]
    let native = if even.len() >= 128 && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        unsafe { sum_native_avx2(even) }
    } else {
        sum_native(even)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let native = sum_native(even);
    let mut wide = u64::from(sum) + u64::from(u16::from_be(fold64(native)));
    if let [.., last] = data {
        if data.len() % 2 == 1 {
            wide += u64::from(*last) << 8;
        }
    }
    u32::from(fold64(wide))
}

/// [`sum_native`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_native_avx2(even: &[u8]) -> u64 {
    sum_native(even)
}

/// The plain sum of the native-order 16-bit words of `even` (even length).
#[inline(always)]
fn sum_native(even: &[u8]) -> u64 {
    const LANES: usize = 16;
    let mut native = 0u64;
    // Blocks of 64 KiB keep each 32-bit lane below 2^11 * 0xffff.
    for block in even.chunks(1 << 16) {
        let mut lanes = [0u32; LANES];
        let mut rows = block.chunks_exact(2 * LANES);
        for row in &mut rows {
            for (i, lane) in lanes.iter_mut().enumerate() {
                *lane += u32::from(u16::from_ne_bytes([row[2 * i], row[2 * i + 1]]));
            }
        }
        native += lanes.iter().map(|&x| u64::from(x)).sum::<u64>();
        for w in rows.remainder().chunks_exact(2) {
            native += u64::from(u16::from_ne_bytes([w[0], w[1]]));
        }
    }
    native
}

/// Folds a 64-bit sum to 16 bits with end-around carries.
fn fold64(mut x: u64) -> u16 {
    while x > 0xffff {
        x = (x & 0xffff) + (x >> 16);
    }
    x as u16
}

/// Folds a running sum into the final 16-bit ones'-complement value.
pub fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Whether an IPv4 header (options included) has a valid checksum.
pub fn ipv4_header_ok(header: &[u8]) -> bool {
    fold(sum_words(0, header)) == 0xffff
}

/// Computes the IPv4 header checksum field value for `header` (whose checksum bytes are ignored).
pub fn ipv4_header_checksum(header: &[u8]) -> u16 {
    if header.len() < 12 {
        return !fold(sum_words(0, header));
    }
    !fold(sum_words(sum_words(0, &header[..10]), &header[12..]))
}

fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut sum = 0u32;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // Each address as its two 16-bit words; the caller folds.
            let (s, d) = (u32::from(s), u32::from(d));
            sum += (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff);
            sum += u32::from(proto) + (len as u32 & 0xffff);
        }
        (s, d) => {
            let s = match s {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            let d = match d {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            sum = sum_words(sum, &s);
            sum = sum_words(sum, &d);
            let l = len as u32;
            sum += (l >> 16) + (l & 0xffff) + u32::from(proto);
        }
    }
    sum
}

/// Whether the transport checksum of `ip` is valid. Packets whose transport
/// bytes were not all captured count as valid (Zeek cannot check them);
/// UDP over IPv4 with checksum 0 means "none" and is valid.
pub fn l4_checksum_ok(ip: &IpHdr<'_>) -> bool {
    let seg = ip.payload;
    if seg.len() < ip.payload_len {
        return true;
    }
    let seg = &seg[..ip.payload_len];
    match ip.proto {
        6 | 17 | 58 => {
            if ip.proto == 17 && ip.version == 4 && seg.len() >= 8 && seg[6] == 0 && seg[7] == 0 {
                return true;
            }
            let sum = pseudo_sum(ip.src, ip.dst, ip.proto, seg.len());
            fold(sum_words(sum, seg)) == 0xffff
        }
        1 => fold(sum_words(0, seg)) == 0xffff,
        _ => true,
    }
}

/// Whether an IPv6 Mobility Header `mh` of `ip` has a valid checksum
/// (pseudo-header with next header 135 and the header's own length).
pub fn mobility_ok(ip: &IpHdr<'_>, mh: &[u8]) -> bool {
    let sum = pseudo_sum(ip.src, ip.dst, 135, mh.len());
    fold(sum_words(sum, mh)) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain big-endian sum, word by word.
    fn sum_words_ref(sum: u32, data: &[u8]) -> u32 {
        let mut wide = u64::from(sum);
        let mut words = data.chunks_exact(2);
        for c in &mut words {
            wide += u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = words.remainder() {
            wide += u64::from(*last) << 8;
        }
        u32::from(fold64(wide))
    }

    #[test]
    fn sum_words_matches_the_plain_sum() {
        let mut x = 12345u64;
        let mut data = vec![0u8; 140_000];
        for b in data.iter_mut() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *b = (x >> 33) as u8;
        }
        let ones = vec![0xffu8; 140_000];
        for d in [&data, &ones] {
            for len in [0, 1, 2, 3, 31, 32, 33, 64, 65, 1459, 1460, 65535, 65536, 65537, 131072, 140_000] {
                for s in [0, 1, 0xffff, 0x1fffe] {
                    assert_eq!(sum_words(s, &d[..len]), sum_words_ref(s, &d[..len]), "len {len} sum {s}");
                }
            }
        }
    }

    #[test]
    fn ipv4_header_checksum_roundtrip() {
        // Header from RFC 1071 style example: 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        assert!(ipv4_header_ok(&h));
        assert_eq!(ipv4_header_checksum(&h), 0xb861);
        let mut bad = h;
        bad[8] = 0x3f;
        assert!(!ipv4_header_ok(&bad));
        assert_eq!(ipv4_header_checksum(&bad), 0xb961);
    }

    /// The wide sum folds to what a plain 16-bit word sum folds to, at
    /// every length and start value, all-ones and all-zero data included.
    #[test]
    fn wide_sum_matches_word_by_word_sum() {
        fn plain(mut sum: u32, data: &[u8]) -> u32 {
            let mut chunks = data.chunks_exact(2);
            for c in &mut chunks {
                sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
            }
            if let [last] = chunks.remainder() {
                sum += u32::from(*last) << 8;
            }
            sum
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut data = Vec::new();
        for len in 0..200usize {
            for fill in [None, Some(0u8), Some(0xff)] {
                data.clear();
                for _ in 0..len {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    data.push(fill.unwrap_or(x as u8));
                }
                for start in [0u32, 1, 0xffff, 0x1_2345] {
                    assert_eq!(fold(sum_words(start, &data)), fold(plain(start, &data)), "len {len} start {start}");
                }
            }
        }
    }
}
