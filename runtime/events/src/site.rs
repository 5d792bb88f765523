//! Zeek's Site framework (`base/utils/site.zeek`): which addresses and DNS
//! names are the site's own. The host checks `Site::*` option values with
//! [`parse_subnets`] before a run; the guest SDK (which includes this file)
//! answers `Site::is_local_addr` and friends with [`Site`].
//!
//! Standard library only: this file is compiled into guests too.

use std::net::IpAddr;

/// Zeek's default `Site::private_address_space`: the IANA special-purpose
/// ranges and their 6to4 forms.
pub const PRIVATE_ADDRESS_SPACE: &str = "0.0.0.0/8,2002::/24,10.0.0.0/8,2002:a00::/24,100.64.0.0/10,2002:6440::/26,\
127.0.0.0/8,2002:7f00::/24,169.254.0.0/16,2002:a9fe::/32,172.16.0.0/12,2002:ac10::/28,192.0.0.0/24,2002:c000::/40,\
192.0.2.0/24,2002:c000:200::/40,192.168.0.0/16,2002:c0a8::/32,198.18.0.0/15,2002:c612::/31,198.51.100.0/24,\
2002:c633:6400::/40,203.0.113.0/24,2002:cb00:7100::/40,224.0.0.0/24,2002:e000::/40,239.0.0.0/8,2002:ef00::/24,\
240.0.0.0/4,2002:f000::/20,255.255.255.255/32,2002:ffff:ffff::/48,::/128,::1/128,64:ff9b:1::/48,100::/64,2001::/23,\
2001:2::/48,2001:db8::/32,fc00::/7,fe80::/10,fec0::/10";

/// A subnet; IPv4 ones live in the IPv4-mapped IPv6 space, as in Zeek, so
/// they hold IPv4 addresses only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subnet {
    /// The network's address bits (those past the prefix are zero).
    net: u128,
    /// Prefix length in the 128-bit space.
    len: u8,
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

impl Subnet {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or Zeek's `[2001:db8::]/32`;
    /// host bits past the prefix are cleared, as Zeek does.
    pub fn parse(s: &str) -> Result<Subnet, String> {
        let s = s.trim();
        let bad = || format!("'{s}' is not a subnet like 10.0.0.0/8 or [2001:db8::]/32");
        let (addr, len) = s.rsplit_once('/').ok_or_else(bad)?;
        let addr = addr.trim().trim_start_matches('[').trim_end_matches(']');
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let len: u8 = len.trim().parse().map_err(|_| bad())?;
        let len = match addr {
            IpAddr::V4(_) if len <= 32 => len + 96,
            IpAddr::V6(_) if len <= 128 => len,
            _ => return Err(bad()),
        };
        Ok(Subnet { net: bits(addr) & mask(len), len })
    }

    /// Whether `a` is in the subnet.
    pub fn contains(&self, a: IpAddr) -> bool {
        bits(a) & mask(self.len) == self.net
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v6 = std::net::Ipv6Addr::from(self.net);
        match v6.to_ipv4_mapped() {
            Some(v4) if self.len >= 96 => write!(f, "{v4}/{}", self.len - 96),
            _ => write!(f, "{v6}/{}", self.len),
        }
    }
}

/// The subnets of a set written `a,b` or as Zeek writes it
/// (`{ 10.0.0.0/8, [2001:db8::]/32 }`); empty for an empty set.
pub fn parse_subnets(v: &str) -> Result<Vec<Subnet>, String> {
    let inner = v.trim();
    let inner = inner.strip_prefix('{').map(|i| i.strip_suffix('}').unwrap_or(i)).unwrap_or(inner);
    let inner = inner.trim();
    let inner = inner.strip_prefix("set(").and_then(|i| i.strip_suffix(')')).unwrap_or(inner);
    inner.split(',').map(str::trim).filter(|e| !e.is_empty()).map(Subnet::parse).collect()
}

/// The subnets written back as handlers read them: `a,b`.
pub fn join(nets: &[Subnet]) -> String {
    nets.iter().map(Subnet::to_string).collect::<Vec<_>>().join(",")
}

/// The Site framework's values after `zeek_init`.
#[derive(Clone, Debug, Default)]
pub struct Site {
    /// `Site::local_nets`, with `Site::private_address_space` in it when
    /// `Site::private_address_space_is_local` is T (Zeek adds it at startup).
    pub local_nets: Vec<Subnet>,
    /// `Site::private_address_space`.
    pub private_address_space: Vec<Subnet>,
    /// `Site::neighbor_nets`.
    pub neighbor_nets: Vec<Subnet>,
    /// `Site::local_zones`: DNS zones of the site.
    pub local_zones: Vec<String>,
    /// `Site::neighbor_zones`.
    pub neighbor_zones: Vec<String>,
}

impl Site {
    /// The site from its options' values (subnet sets as [`parse_subnets`]
    /// reads them, zones as names); values that do not parse count as empty.
    pub fn new(local_nets: &str, private: &str, private_is_local: bool, neighbor_nets: &str, local_zones: &[String], neighbor_zones: &[String]) -> Site {
        let private_address_space = parse_subnets(private).unwrap_or_default();
        let mut local = parse_subnets(local_nets).unwrap_or_default();
        if private_is_local {
            for n in &private_address_space {
                if !local.contains(n) {
                    local.push(*n);
                }
            }
        }
        Site {
            local_nets: local,
            private_address_space,
            neighbor_nets: parse_subnets(neighbor_nets).unwrap_or_default(),
            local_zones: local_zones.to_vec(),
            neighbor_zones: neighbor_zones.to_vec(),
        }
    }

    /// `Site::is_local_addr`.
    pub fn is_local_addr(&self, a: IpAddr) -> bool {
        self.local_nets.iter().any(|n| n.contains(a))
    }

    /// `Site::is_private_addr`.
    pub fn is_private_addr(&self, a: IpAddr) -> bool {
        self.private_address_space.iter().any(|n| n.contains(a))
    }

    /// `Site::is_neighbor_addr`.
    pub fn is_neighbor_addr(&self, a: IpAddr) -> bool {
        self.neighbor_nets.iter().any(|n| n.contains(a))
    }

    /// `Site::is_local_name`: the name is a local zone or ends in `.zone`.
    pub fn is_local_name(&self, name: &str) -> bool {
        in_zones(&self.local_zones, name)
    }

    /// `Site::is_neighbor_name`.
    pub fn is_neighbor_name(&self, name: &str) -> bool {
        in_zones(&self.neighbor_zones, name)
    }
}

/// Zeek's zone pattern `(^\.?|\.)(zone)$`: the name is the zone, or ends with a dot and the zone.
fn in_zones(zones: &[String], name: &str) -> bool {
    zones.iter().filter(|z| !z.is_empty()).any(|z| {
        name.strip_suffix(z.as_str()).is_some_and(|head| head.is_empty() || head.ends_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn subnets_parse_as_zeek_writes_them() {
        let n = parse_subnets("{ 10.1.2.3/8, [2001:db8::1]/32 }").unwrap();
        assert_eq!(join(&n), "10.0.0.0/8,2001:db8::/32");
        assert!(n[0].contains(a("10.200.0.1")) && !n[0].contains(a("11.0.0.1")));
        assert!(!n[0].contains(a("::ffff:b00:1")) && n[0].contains(a("::ffff:a00:1")), "IPv4 lives in mapped space");
        assert!(n[1].contains(a("2001:db8:ffff::1")) && !n[1].contains(a("2001:db9::1")));
        assert_eq!(parse_subnets("{}").unwrap(), vec![]);
        assert_eq!(parse_subnets("set()").unwrap(), vec![]);
        assert!(parse_subnets("10.0.0.1").unwrap_err().contains("'10.0.0.1' is not a subnet"));
        assert!(parse_subnets("10.0.0.0/33").is_err());
        assert!(parse_subnets("[::]/129").is_err());
        assert_eq!(join(&parse_subnets("0.0.0.0/0").unwrap()), "0.0.0.0/0");
        assert!(parse_subnets("0.0.0.0/0").unwrap()[0].contains(a("1.2.3.4")));
        assert!(!parse_subnets("0.0.0.0/0").unwrap()[0].contains(a("2001::1")));
        assert_eq!(parse_subnets(PRIVATE_ADDRESS_SPACE).unwrap().len(), 42);
    }

    #[test]
    fn local_nets_hold_the_private_space_unless_told_otherwise() {
        let s = Site::new("", PRIVATE_ADDRESS_SPACE, true, "", &[], &[]);
        for local in ["10.0.0.1", "192.168.1.1", "239.1.2.3", "fe80::1", "2002:c0a8::1", "fec0::1"] {
            assert!(s.is_local_addr(a(local)), "{local}");
        }
        for remote in ["8.8.8.8", "192.31.196.1", "2002:808:808::1", "::ffff:8.8.8.8"] {
            assert!(!s.is_local_addr(a(remote)), "{remote}");
        }
        let s = Site::new("{ 8.8.8.0/24 }", PRIVATE_ADDRESS_SPACE, false, "", &[], &[]);
        assert!(s.is_local_addr(a("8.8.8.8")) && !s.is_local_addr(a("10.0.0.1")));
        assert!(s.is_private_addr(a("10.0.0.1")));
        assert!(Site::new("", PRIVATE_ADDRESS_SPACE, false, "", &[], &[]).local_nets.is_empty());
    }

    #[test]
    fn zones_match_whole_labels() {
        let s = Site::new("", "", true, "", &["example.com".into()], &[]);
        assert!(s.is_local_name("example.com") && s.is_local_name("www.example.com"));
        assert!(!s.is_local_name("badexample.com") && !s.is_local_name("example.com.evil"));
        assert!(!s.is_neighbor_name("www.example.com"));
    }
}
