//! Zeek-style text of event values, as `new_event` reports arguments: records
//! as `[field=value, ...]` (unset optional fields left out), lists as
//! `[a, b]`, bools `T`/`F`, times and doubles with six decimals, ports
//! `80/tcp`, bytes with non-printable ones as `\xNN`.

use crate::{CallArgument, MacAddress, Port, Transport};
use std::fmt::Write as _;
use std::net::IpAddr;

/// A value that renders as Zeek prints it.
pub trait ZeekText {
    /// Appends the value's text to `out`.
    fn zeek_text(&self, out: &mut String);
}

macro_rules! display {
    ($($t:ty),*) => { $(impl ZeekText for $t { fn zeek_text(&self, out: &mut String) { let _ = write!(out, "{self}"); } })* };
}
display!(u8, u16, u32, u64, i8, i16, i32, i64, char, IpAddr, MacAddress);

impl ZeekText for bool {
    fn zeek_text(&self, out: &mut String) {
        out.push(if *self { 'T' } else { 'F' });
    }
}

impl ZeekText for f64 {
    fn zeek_text(&self, out: &mut String) {
        let _ = write!(out, "{self:.6}");
    }
}

impl ZeekText for f32 {
    fn zeek_text(&self, out: &mut String) {
        f64::from(*self).zeek_text(out);
    }
}

impl ZeekText for String {
    fn zeek_text(&self, out: &mut String) {
        bytes(self.as_bytes(), out);
    }
}

impl<T: ZeekText + ?Sized> ZeekText for Box<T> {
    fn zeek_text(&self, out: &mut String) {
        (**self).zeek_text(out);
    }
}

impl ZeekText for Port {
    fn zeek_text(&self, out: &mut String) {
        let proto = match self.proto {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
            Transport::Unknown => "unknown",
        };
        let _ = write!(out, "{}/{proto}", self.number);
    }
}

/// Appends `b` with printable ASCII as is and every other byte (and `\`) as `\xNN`.
pub fn bytes(b: &[u8], out: &mut String) {
    for &c in b {
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            out.push(c as char);
        } else {
            let _ = write!(out, "\\x{c:02x}");
        }
    }
}

/// One `new_event` argument: its name, Zeek type, and the text `render` writes.
pub fn argument(name: &str, type_name: &str, render: impl FnOnce(&mut String)) -> CallArgument {
    let mut value = String::new();
    render(&mut value);
    CallArgument { name: name.into(), type_name: type_name.into(), default_val: None, value: Some(value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_escape_what_is_not_printable() {
        let mut s = String::new();
        bytes(b"a\\b\x00\xff", &mut s);
        assert_eq!(s, "a\\x5cb\\x00\\xff");
    }

    #[test]
    fn ports_carry_their_transport() {
        let mut s = String::new();
        Port { number: 0, proto: Transport::Unknown }.zeek_text(&mut s);
        assert_eq!(s, "0/unknown");
    }
}
