//! Lenient ASN.1 BER element headers, as the LDAP, GSSAPI and Kerberos
//! analyzers read them (Zeek's `asn1.spicy` and `asn1.pac`): a tag (class,
//! constructed bit, number, multi-byte numbers included) and a length in
//! short or long form, where a long form of zero bytes means length 0 (as
//! Zeek reads it; indefinite lengths are not followed).

/// The class bits of a tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Universal (SEQUENCE, INTEGER, OCTET STRING, ...).
    Universal,
    /// Application-specific (LDAP's protocol operations, Kerberos' messages).
    Application,
    /// Context-specific (`[n]`).
    Context,
    /// Private.
    Private,
}

/// One element's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The first tag byte as sent.
    pub first: u8,
    /// The tag's class.
    pub class: Class,
    /// Whether the element is constructed.
    pub constructed: bool,
    /// The tag number.
    pub number: u64,
    /// Bytes the header takes.
    pub header_len: usize,
    /// Bytes of content after the header.
    pub len: u64,
}

/// Why a header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// More bytes are needed.
    Incomplete,
    /// The bytes cannot be a header (a length of more than 8 bytes).
    Invalid,
}

impl Header {
    /// The whole element's length (header and content), if it fits a usize.
    pub fn total(&self) -> Option<usize> {
        usize::try_from(self.len).ok()?.checked_add(self.header_len)
    }
}

/// Reads the header at the start of `b`.
pub fn header(b: &[u8]) -> Result<Header, Error> {
    let &first = b.first().ok_or(Error::Incomplete)?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let mut i = 1;
    let mut number = u64::from(first & 0x1f);
    if number == 0x1f {
        number = 0;
        loop {
            let &c = b.get(i).ok_or(Error::Incomplete)?;
            i += 1;
            if number >> 56 != 0 {
                return Err(Error::Invalid);
            }
            number = (number << 7) | u64::from(c & 0x7f);
            if c & 0x80 == 0 {
                break;
            }
        }
    }
    let &l = b.get(i).ok_or(Error::Incomplete)?;
    i += 1;
    let len = if l & 0x80 == 0 {
        u64::from(l)
    } else {
        let n = usize::from(l & 0x7f);
        if n > 8 {
            return Err(Error::Invalid);
        }
        let bytes = b.get(i..i + n).ok_or(Error::Incomplete)?;
        i += n;
        bytes.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x))
    };
    Ok(Header { first, class, constructed: first & 0x20 != 0, number, header_len: i, len })
}

/// The element at the start of `b`: its header and content, and the bytes
/// after it; `None` when the header cannot be read or the content is cut.
pub fn element(b: &[u8]) -> Option<(Header, &[u8], &[u8])> {
    let h = header(b).ok()?;
    let end = h.total()?;
    let content = b.get(h.header_len..end)?;
    Some((h, content, &b[end..]))
}

/// The elements of a constructed element's content, in order, as far as
/// they can be read.
pub fn children(mut b: &[u8]) -> Vec<(Header, &[u8])> {
    let mut out = Vec::new();
    while let Some((h, content, rest)) = element(b) {
        out.push((h, content));
        b = rest;
    }
    out
}

/// A BER integer's value (big-endian two's complement, at most 8 bytes).
pub fn integer(content: &[u8]) -> Option<i64> {
    if content.is_empty() || content.len() > 8 {
        return None;
    }
    let neg = content[0] & 0x80 != 0;
    let v = content.iter().fold(if neg { -1i64 } else { 0 }, |a, &x| (a << 8) | i64::from(x));
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_multibyte_headers() {
        let h = header(&[0x30, 0x05]).unwrap();
        assert_eq!((h.class, h.constructed, h.number, h.header_len, h.len), (Class::Universal, true, 16, 2, 5));
        let h = header(&[0x63, 0x82, 0x01, 0x00]).unwrap();
        assert_eq!((h.class, h.number, h.header_len, h.len), (Class::Application, 3, 4, 256));
        let h = header(&[0x9f, 0x81, 0x01, 0x00]).unwrap();
        assert_eq!((h.class, h.number, h.header_len, h.len), (Class::Context, 129, 4, 0));
        assert_eq!(header(&[0x04, 0x80]).unwrap().len, 0, "a long form of no bytes is 0");
        assert_eq!(header(&[0x30, 0x82, 0x01]), Err(Error::Incomplete));
        assert_eq!(header(&[0x30, 0x89]), Err(Error::Invalid));
        assert!(element(&[0x04, 0x03, b'a', b'b']).is_none(), "content cut");
        let (_, c, rest) = element(&[0x04, 0x02, b'a', b'b', 0x05]).unwrap();
        assert_eq!((c, rest), (&b"ab"[..], &[0x05][..]));
        assert_eq!(integer(&[0xff]), Some(-1));
        assert_eq!(integer(&[0x01, 0x00]), Some(256));
        assert_eq!(children(&[0x02, 0x01, 0x05, 0x04, 0x00, 0x30]).len(), 2);
    }
}
