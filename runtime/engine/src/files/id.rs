//! File ids: `F` + base62 of a 96-bit hash of the handle a handler set
//! (`set-file-handle`), in the shape of connection UIDs (two words, least
//! significant digit first, the first cut to 32 bits). The hash is fixed
//! (FNV-1a over 128 bits, then mixed), so the same handle always gives the
//! same id, in every run and every worker.

use crate::sessions::uid::push_base62;

/// The 128-bit FNV-1a hash of `data`.
fn fnv1a_128(data: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    data.iter().fold(OFFSET, |h, &b| (h ^ b as u128).wrapping_mul(PRIME))
}

/// A 64-bit finalizer (splitmix64's) so that near handles differ everywhere.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The file id of `handle`.
pub fn file_id(handle: &str) -> String {
    let h = fnv1a_128(handle.as_bytes());
    let w0 = mix((h >> 64) as u64) >> 32;
    let w1 = mix(h as u64 ^ (h >> 64) as u64);
    let mut s = String::with_capacity(18);
    s.push('F');
    push_base62(&mut s, w0);
    push_base62(&mut s, w1);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_reproducible_and_distinct() {
        let a = file_id("Analyzer::ANALYZER_HTTP1.5T11CHhAvVGS1DHFjwGM9");
        assert_eq!(a, file_id("Analyzer::ANALYZER_HTTP1.5T11CHhAvVGS1DHFjwGM9"));
        assert_ne!(a, file_id("Analyzer::ANALYZER_HTTP1.5F11CHhAvVGS1DHFjwGM9"));
        assert!(a.starts_with('F') && a.len() > 8 && a.len() <= 18, "{a}");
        assert!(a[1..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
