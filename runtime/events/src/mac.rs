//! [`MacAddress`], the plain form of the WIT's `mac-address` (a string in the
//! WIT): six bytes, formatted only when a handler receives one.

use std::fmt;

/// A link-layer address; displays as `aa:bb:cc:dd:ee:ff`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// `aa:bb:cc:dd:ee:ff`, built in one allocation.
    pub fn text(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(17);
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                s.push(':');
            }
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }

    /// The address written `aa:bb:cc:dd:ee:ff` (either case); `None` for anything else.
    pub fn parse(text: &str) -> Option<MacAddress> {
        let mut out = [0u8; 6];
        let mut parts = text.split(':');
        for b in &mut out {
            let p = parts.next()?;
            if p.len() != 2 {
                return None;
            }
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        parts.next().is_none().then_some(MacAddress(out))
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_lower_case_colon_separated_and_parses_back() {
        let m = MacAddress([0x00, 0x1b, 0xa2, 0x0f, 0xff, 0x09]);
        assert_eq!(m.text(), "00:1b:a2:0f:ff:09");
        assert_eq!(MacAddress::parse("00:1B:a2:0f:ff:09"), Some(m));
        assert_eq!(MacAddress::parse("00:1b:a2:0f:ff"), None);
        assert_eq!(MacAddress::parse("00:1b:a2:0f:ff:09:00"), None);
    }
}
