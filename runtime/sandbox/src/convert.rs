//! The engine's values (`weir_events`, generated from the WIT) to wasmtime's
//! generated WIT values and back. The impls for every WIT record, enum and
//! variant are generated from the WIT by `build.rs`; this file holds the
//! traits and the impls for primitives, strings, lists, options, boxes and the
//! native address type.

use crate::bindings::weir::events::types as w;
use std::net::IpAddr;

/// A value with a WIT form.
pub trait ToWit {
    /// The wasmtime-generated type.
    type Wit;
    /// The WIT form of `self`.
    fn to_wit(&self) -> Self::Wit;
}

/// A value built from its WIT form `W` (what a handler passes to the host).
pub trait FromWit<W> {
    /// The value of `w`.
    fn from_wit(w: W) -> Self;
}

macro_rules! same {
    ($($t:ty),*) => {$(
        impl ToWit for $t {
            type Wit = $t;
            fn to_wit(&self) -> $t {
                self.clone()
            }
        }
        impl FromWit<$t> for $t {
            fn from_wit(w: $t) -> $t {
                w
            }
        }
    )*};
}
same!(bool, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, char, String);

impl<T: ToWit> ToWit for Vec<T> {
    type Wit = Vec<T::Wit>;
    fn to_wit(&self) -> Vec<T::Wit> {
        self.iter().map(ToWit::to_wit).collect()
    }
}

impl<W, T: FromWit<W>> FromWit<Vec<W>> for Vec<T> {
    fn from_wit(w: Vec<W>) -> Vec<T> {
        w.into_iter().map(T::from_wit).collect()
    }
}

impl<T: ToWit> ToWit for Option<T> {
    type Wit = Option<T::Wit>;
    fn to_wit(&self) -> Option<T::Wit> {
        self.as_ref().map(ToWit::to_wit)
    }
}

impl<W, T: FromWit<W>> FromWit<Option<W>> for Option<T> {
    fn from_wit(w: Option<W>) -> Option<T> {
        w.map(T::from_wit)
    }
}

impl<T: ToWit + ?Sized> ToWit for Box<T> {
    type Wit = T::Wit;
    fn to_wit(&self) -> T::Wit {
        (**self).to_wit()
    }
}

impl ToWit for weir_engine::events::MacAddress {
    type Wit = String;
    fn to_wit(&self) -> String {
        self.text()
    }
}

/// A handler never sends the host a MAC address; text that is not one reads as zeros.
impl FromWit<String> for weir_engine::events::MacAddress {
    fn from_wit(w: String) -> Self {
        weir_engine::events::MacAddress::parse(&w).unwrap_or_default()
    }
}

impl ToWit for IpAddr {
    type Wit = w::IpAddress;
    fn to_wit(&self) -> w::IpAddress {
        match self {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                w::IpAddress::Ipv4((a, b, c, d))
            }
            IpAddr::V6(v6) => {
                let s = v6.segments();
                w::IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
            }
        }
    }
}

impl FromWit<w::IpAddress> for IpAddr {
    fn from_wit(a: w::IpAddress) -> IpAddr {
        match a {
            w::IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
            w::IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/convert.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use weir_engine::events as e;

    #[test]
    fn addresses_round_trip() {
        for a in ["10.1.2.3", "2001:db8::1", "::ffff:10.0.0.1"] {
            let ip: IpAddr = a.parse().unwrap();
            assert_eq!(IpAddr::from_wit(ip.to_wit()), ip);
        }
    }

    #[test]
    fn records_convert_field_by_field() {
        let id = weir_engine::events::values::conn_id(("10.0.0.1".parse().unwrap(), 1), ("10.0.0.2".parse().unwrap(), 53), 17);
        let enc = e::EncapsulatingConn { cid: id, tunnel_type: e::TunnelType::Teredo, uid: None };
        let w = enc.to_wit();
        assert_eq!((w.cid.resp_p.number, w.cid.proto, w.uid), (53, 17, None));
        assert!(matches!(w.cid.resp_p.proto, crate::bindings::weir::events::types::Transport::Udp));
        assert!(matches!(w.tunnel_type, crate::bindings::weir::events::types::TunnelType::Teredo));
        assert_eq!(e::ConnId::from_wit(w.cid), id);
    }
}
