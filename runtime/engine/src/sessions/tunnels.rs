//! UIDs of IP-in-IP and GRE tunnels: made on first use, kept alive by use,
//! forgotten when idle for `Tunnel::ip_tunnel_timeout` (Zeek's
//! `IPTunnelTimer`) or when the tunnel table is full. And the service of a
//! UDP connection that carries a tunnel: its packet analyzer confirms it as
//! Zeek's do (VXLAN, Geneve and AYIYA at their first good header, GTPv1 and
//! Teredo once both directions had one while `Tunnel::delay_gtp_confirmation`
//! / `Tunnel::delay_teredo_confirmation` say so).

use super::Sessions;
use crate::events::{EventQueue, TunnelType};
use std::net::IpAddr;

/// The Zeek name of the packet analyzer of a UDP tunnel that confirms its
/// connection, if it does.
pub fn tunnel_analyzer_name(kind: TunnelType) -> Option<&'static str> {
    match kind {
        TunnelType::Vxlan => Some("VXLAN"),
        TunnelType::Geneve => Some("GENEVE"),
        TunnelType::Teredo => Some("TEREDO"),
        TunnelType::Gtpv1 => Some("GTPV1"),
        TunnelType::Ayiya => Some("AYIYA"),
        _ => None,
    }
}

impl Sessions {
    /// The UID of an IP-in-IP or GRE tunnel between `a` and `b` (either
    /// order), made on first use; each use keeps the tunnel alive (at
    /// network time, as Zeek's `TunnelActivity`).
    /// A tunnel idle for `Tunnel::ip_tunnel_timeout` is forgotten, and under
    /// [`Config::max_ip_tunnels`] the one due to be checked first makes room.
    pub fn tunnel_uid(&mut self, a: IpAddr, b: IpAddr, kind: TunnelType) -> String {
        let k = if a <= b { (a, b, kind) } else { (b, a, kind) };
        let seen = self.now;
        if let Some(u) = self.tunnel_uids.get_mut(&k) {
            u.1 = seen;
            return u.0.clone();
        }
        let cap = self.cfg.max_ip_tunnels;
        while cap > 0 && self.tunnel_uids.len() >= cap {
            let Some((_, old)) = self.tunnel_timers.pop_front() else { break };
            if self.tunnel_uids.remove(&old).is_some() {
                self.tunnels_evicted += 1;
            }
        }
        let u = self.uids.next('C');
        self.tunnel_uids.insert(k, (u.clone(), seen));
        self.tunnel_timers.push_back((self.now + self.cfg.ip_tunnel_timeout, k));
        u
    }

    /// Runs the tunnel expiry checks due at `now`: an idle tunnel goes, an
    /// active one is checked again a timeout later.
    pub(super) fn expire_tunnels(&mut self, now: f64) {
        let timeout = self.cfg.ip_tunnel_timeout;
        while let Some(&(due, k)) = self.tunnel_timers.front() {
            if due > now {
                break;
            }
            self.tunnel_timers.pop_front();
            let Some(&(_, last)) = self.tunnel_uids.get(&k) else { continue };
            if now - last >= timeout {
                self.tunnel_uids.remove(&k);
            } else {
                self.tunnel_timers.push_back((now + timeout, k));
            }
        }
    }

    /// The UDP connection in `slot` carried a good `kind` tunnel header in a
    /// packet from the originator when `is_orig` (to be decapsulated): the
    /// first time (once both directions did, where confirmation is delayed)
    /// the tunnel's analyzer joins the service and `protocol_confirmation`
    /// is raised, with analyzer id 0 (a packet analyzer has no instance).
    pub fn tunnel_confirmed(&mut self, slot: u32, kind: TunnelType, is_orig: bool, q: &mut EventQueue) {
        let Some(name) = tunnel_analyzer_name(kind) else { return };
        let delay = match kind {
            TunnelType::Teredo => self.cfg.delay_teredo_confirmation,
            TunnelType::Gtpv1 => self.cfg.delay_gtp_confirmation,
            _ => false,
        };
        let Some(c) = self.slots.get_mut(slot as usize).and_then(|c| c.as_mut()) else { return };
        let x = c.extra.get_or_insert_with(Box::default);
        if x.service.contains(&name) {
            return;
        }
        x.tunnel_valid[usize::from(!is_orig)] = true;
        if delay && !(x.tunnel_valid[0] && x.tunnel_valid[1]) {
            return;
        }
        crate::analyzers::context::confirm_service(c, q, name, 0);
    }

    /// IP-in-IP and GRE tunnels tracked.
    pub fn tunnels(&self) -> usize {
        self.tunnel_uids.len()
    }

    /// Tunnels forgotten early because [`Config::max_ip_tunnels`] was reached.
    pub fn tunnels_evicted(&self) -> u64 {
        self.tunnels_evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn addrs() -> (IpAddr, IpAddr, IpAddr) {
        ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap())
    }

    #[test]
    fn one_uid_per_tunnel_in_either_order() {
        let (a, b, c) = addrs();
        let mut s = Sessions::new(Config::default());
        let u = s.tunnel_uid(a, b, TunnelType::Ip);
        assert!(u.starts_with('C'), "{u}");
        assert_eq!(s.tunnel_uid(b, a, TunnelType::Ip), u);
        assert_ne!(s.tunnel_uid(a, b, TunnelType::Gre), u, "another kind is another tunnel");
        assert_ne!(s.tunnel_uid(a, c, TunnelType::Ip), u);
        assert_eq!(s.tunnels(), 3);
    }

    #[test]
    fn an_idle_tunnel_is_forgotten_an_active_one_kept() {
        let (a, b, c) = addrs();
        let mut s = Sessions::new(Config::default());
        let timeout = s.cfg.ip_tunnel_timeout;
        let idle = s.tunnel_uid(a, b, TunnelType::Ip);
        let active = s.tunnel_uid(a, c, TunnelType::Ip);
        s.now = timeout / 2.0;
        s.tunnel_uid(a, c, TunnelType::Ip);
        s.expire_tunnels(timeout - 1.0);
        assert_eq!(s.tunnels(), 2, "nothing due yet");
        s.now = timeout;
        s.expire_tunnels(timeout);
        assert_eq!(s.tunnels(), 1);
        assert_eq!(s.tunnel_uid(a, c, TunnelType::Ip), active, "used within the timeout: kept");
        assert_ne!(s.tunnel_uid(a, b, TunnelType::Ip), idle, "forgotten: a new UID");
        assert_eq!(s.tunnels_evicted(), 0);
    }

    #[test]
    fn a_full_table_forgets_the_tunnel_due_first() {
        let (a, b, c) = addrs();
        let mut s = Sessions::new(Config { max_ip_tunnels: 2, ..Config::default() });
        let first = s.tunnel_uid(a, b, TunnelType::Ip);
        let second = s.tunnel_uid(a, c, TunnelType::Ip);
        s.tunnel_uid(b, c, TunnelType::Ip);
        assert_eq!(s.tunnels(), 2);
        assert_eq!(s.tunnels_evicted(), 1);
        assert_eq!(s.tunnel_uid(a, c, TunnelType::Ip), second);
        assert_ne!(s.tunnel_uid(a, b, TunnelType::Ip), first);
    }
}
