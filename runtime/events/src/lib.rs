//! weir's events and the values they carry, generated from the WIT package
//! (`wit/`) by `build.rs`: one plain Rust type per WIT type (an `ip-address`
//! is a [`std::net::IpAddr`], a `mac-address` a [`MacAddress`]), [`EventKind`], the typed [`Event`] and the
//! [`Subscriptions`] set. No type here is written by hand, and nothing here
//! depends on wasm: the sandbox converts these values into wasmtime's own
//! generated types when it delivers an event.
//!
//! Adding an event is declaring it in the WIT and raising it where the engine
//! sees it happen (docs/adding-an-event.md).

#![deny(missing_docs)]

mod mac;
pub mod render;
pub mod site;
pub mod text;

pub use mac::MacAddress;

include!(concat!(env!("OUT_DIR"), "/wit.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn every_kind_has_its_zeek_name() {
        assert_eq!(EventKind::ALL.len(), EventKind::COUNT);
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_name(k.name()), Some(*k));
        }
        assert_eq!(EventKind::from_name("OS_version_found"), Some(EventKind::OsVersionFound));
        assert_eq!(EventKind::NewConnection.interface(), "new-connection");
    }

    #[test]
    fn subscriptions_hold_every_kind_apart() {
        let mut s = Subscriptions::default();
        assert!(s.is_empty());
        let last = *EventKind::ALL.last().unwrap();
        s.insert(last);
        assert!(s.wants(last));
        assert!(EventKind::ALL.iter().filter(|k| s.wants(**k)).count() == 1);
        assert!(EventKind::ALL.iter().all(|k| Subscriptions::all().wants(*k)));
    }

    #[test]
    fn the_wit_text_is_one_package() {
        assert_eq!(WIT_TEXT.matches("\npackage ").count() + usize::from(WIT_TEXT.starts_with("package ")), 1);
        assert!(WIT_FILES.len() > 1 && WIT_FILES.iter().all(|(n, t)| n.ends_with(".wit") && WIT_TEXT.contains(t)));
    }

    #[test]
    fn arguments_render_in_zeek_style() {
        let ev = Event::FlowWeird {
            name: "bad".into(),
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            addl: "a\u{1}".into(),
            source: "IP".into(),
        };
        let a = ev.arguments();
        assert_eq!(a.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["name", "src", "dst", "addl", "source"]);
        assert_eq!(a[1].type_name, "addr");
        assert_eq!(a[1].value.as_deref(), Some("10.0.0.1"));
        assert_eq!(a[3].value.as_deref(), Some("a\\x01"));
        let id = ConnId {
            orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            orig_p: Port { number: 1234, proto: Transport::Tcp },
            resp_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            resp_p: Port { number: 80, proto: Transport::Tcp },
            proto: 6,
        };
        let mut s = String::new();
        render::ZeekText::zeek_text(&id, &mut s);
        assert_eq!(s, "[orig_h=10.0.0.1, orig_p=1234/tcp, resp_h=10.0.0.2, resp_p=80/tcp, proto=6]");
        let gap = Event::ContentGap { c: Box::new(connection(id)), is_orig: true, seq: 5, length: 9 };
        let a = gap.arguments();
        assert_eq!((a[0].type_name.as_str(), a[1].value.as_deref(), a[3].type_name.as_str()), ("connection", Some("T"), "count"));
        assert!(a[0].value.as_deref().unwrap().contains("duration=0.250000, service=[], history=ShAD, uid=Cx]"), "{:?}", a[0].value);
    }

    fn connection(id: ConnId) -> Connection {
        Connection {
            id,
            orig: Endpoint::default(),
            resp: Endpoint::default(),
            start_time: 1.5,
            duration: 0.25,
            service: vec![],
            history: "ShAD".into(),
            uid: "Cx".into(),
            tunnel: None,
            vlan: None,
            inner_vlan: None,
        }
    }
}
