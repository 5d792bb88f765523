//! Connection UIDs as Zeek writes them: `C` + base62 (`0-9a-zA-Z`, least
//! significant digit first, no padding) of two hashed words, the first cut
//! to 32 bits.

/// Generates UIDs; deterministic for a given seed.
pub struct UidGen {
    key: u64,
    counter: u64,
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Appends `v` in base62, least significant digit first, as Zeek does.
pub(crate) fn push_base62(out: &mut String, mut v: u64) {
    loop {
        out.push(ALPHABET[(v % 62) as usize] as char);
        v /= 62;
        if v == 0 {
            break;
        }
    }
}

impl UidGen {
    /// A generator keyed by `seed` (random per process when `None`).
    pub fn new(seed: Option<u64>) -> UidGen {
        let key = seed.unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            splitmix64(t ^ (std::process::id() as u64) << 32)
        });
        UidGen { key, counter: 0 }
    }

    /// The next UID with `prefix` (`C` for connections).
    pub fn next(&mut self, prefix: char) -> String {
        self.next_words().format(prefix)
    }

    /// The next UID as its two words, formatted later with [`Uid::format`].
    pub fn next_words(&mut self) -> Uid {
        self.counter += 1;
        let w0 = (splitmix64(self.key ^ splitmix64(self.counter)) >> 32) as u32;
        let w1 = splitmix64(self.key.rotate_left(17) ^ splitmix64(self.counter ^ 0xa5a5_a5a5));
        Uid { w0, w1: [w1 as u32, (w1 >> 32) as u32] }
    }
}

/// A UID kept as its two hashed words (12 bytes instead of a heap string;
/// the 64-bit word as two halves, so no padding); the text form is built
/// only when a record needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uid {
    w0: u32,
    w1: [u32; 2],
}

impl Uid {
    /// The text form: `prefix` + base62 of both words.
    pub fn format(self, prefix: char) -> String {
        let mut s = String::with_capacity(18);
        s.push(prefix);
        push_base62(&mut s, self.w0 as u64);
        push_base62(&mut s, self.w1[0] as u64 | (self.w1[1] as u64) << 32);
        s
    }

    /// Whether `text` is this UID's text form (under any prefix), checked
    /// without building it.
    pub fn is(self, text: &str) -> bool {
        let mut b = text.bytes().skip(1);
        for mut v in [self.w0 as u64, self.w1[0] as u64 | (self.w1[1] as u64) << 32] {
            loop {
                if b.next() != Some(ALPHABET[(v % 62) as usize]) {
                    return false;
                }
                v /= 62;
                if v == 0 {
                    break;
                }
            }
        }
        !text.is_empty() && b.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_distinct_and_zeek_shaped() {
        let mut g = UidGen::new(Some(1));
        let a = g.next('C');
        let b = g.next('C');
        assert_ne!(a, b);
        assert!(a.starts_with('C') && a.len() <= 18 && a.len() > 2);
        assert!(a[1..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(UidGen::new(Some(1)).next('C'), a, "same seed, same uids");
        assert_eq!(UidGen::new(Some(1)).next_words().format('C'), a, "words format as the string");
        let w = UidGen::new(Some(1)).next_words();
        assert!(w.is(&a));
        assert!(!w.is(&b) && !w.is(&a[..a.len() - 1]) && !w.is(&format!("{a}x")) && !w.is(""));
    }
}
