//! Making a connection for a packet that belongs to none: the roles
//! (Zeek's likely-server-port flip), the analyzers the port registry
//! attaches, the first timers and `new_connection`.

use super::conn::{Conn, ProtoState};
use super::key::ConnKey;
use super::timers::TimerKind;
use super::{PacketInfo, Sessions};
use crate::analyzers::Transport;
use crate::config::PortProto;
use crate::decode::L4;
use crate::events::{Event, EventKind, EventQueue};
use std::net::{IpAddr, Ipv4Addr};

impl Sessions {
    /// Whether `port` of IP protocol `proto` is a likely server port.
    pub(super) fn lsp(&self, port: u16, proto: u8) -> bool {
        self.cfg.likely_server_ports.contains(&PortProto { port, proto })
    }

    /// Makes and inserts the connection of a packet from `src` to `dst`
    /// that belongs to none, evicting one first when the table is full.
    pub(super) fn create(&mut self, key: ConnKey, src: (IpAddr, u16), dst: (IpAddr, u16), p: &PacketInfo<'_, '_>, q: &mut EventQueue) -> u32 {
        let ip = p.ip;
        let flip = flips_roles(p.l4, src.1, dst.1, |port, proto| self.lsp(port, proto))
            && ip.dst != IpAddr::V4(Ipv4Addr::BROADCAST);

        let uid = self.uids.next_words();
        let mut c = Conn::new(key, src, dst, ip.proto, uid, p.ts, p.l2, p.encap, ip.flow_label);
        c.conn_size = self.cfg.use_conn_size_analyzer;
        if flip {
            c.flip_roles();
        }
        let mut applied = Vec::new();
        if let Some(transport) = Transport::of_proto(ip.proto) {
            let (mut set, scheduled) = self.initial_analyzers(c.orig.0, c.resp.0, c.resp.1, transport);
            applied = scheduled;
            for s in applied.iter().filter_map(|t| t.scheduled_service()) {
                let service = &mut c.extra.get_or_insert_with(Box::default).service;
                if !service.contains(&s) {
                    service.push(s);
                }
            }
            if self.detecting {
                set.detect();
            }
            if !set.is_empty() {
                c.extra.get_or_insert_with(Box::default).analyzers = set;
            }
        }
        let timeout = match ip.proto {
            6 | 17 => self.cfg.udp_inactivity_timeout,
            1 | 58 => self.cfg.icmp_inactivity_timeout,
            _ => self.cfg.unknown_ip_inactivity_timeout,
        };
        c.inactivity_timeout = timeout;
        c.timer_gen = self.fresh_timer_gen();
        let generation = c.timer_gen;
        let t = p.ts;
        let is_tcp = matches!(c.state, ProtoState::Tcp(_));
        if self.cfg.max_connections > 0 && self.table.len() >= self.cfg.max_connections {
            self.evict(q);
        }
        let slot = self.insert(c);
        self.compact_timers();
        if timeout > 0.0 {
            self.timers.add(t + timeout, slot, generation, TimerKind::Inactivity);
        }
        if is_tcp {
            self.timers.add(t + self.cfg.tcp_syn_timeout, slot, generation, TimerKind::TcpExpire);
        }
        self.dns_timer(slot, t);
        let iv = self.cfg.connection_status_update_interval;
        if iv > 0.0 && matches!(ip.proto, 6 | 17) {
            self.timers.add(t + iv, slot, generation, TimerKind::StatusUpdate);
        }
        if !applied.is_empty() && q.wants(EventKind::ScheduledAnalyzerApplied) {
            for tag in applied {
                let a = Box::new(crate::events::AnalyzerTag { name: tag.name().to_string() });
                q.push(Event::ScheduledAnalyzerApplied { c: Box::new(self.conn(slot).unwrap().snapshot()), a });
            }
        }
        if q.wants(EventKind::NewConnection) {
            q.push(Event::NewConnection { c: Box::new(self.conn(slot).unwrap().snapshot()) });
        }
        slot
    }
}

/// Whether a new connection's originator is the packet's receiver rather
/// than its sender, by the likely server ports (`lsp(port, proto)`): a TCP
/// SYN without ACK never flips; otherwise a packet from a server port to a
/// non-server port does, and between two server ports the lower port is
/// the server unless the packet is a SYN+ACK. UDP flips from a server port
/// to a non-server one.
fn flips_roles(l4: &L4<'_>, src_port: u16, dst_port: u16, lsp: impl Fn(u16, u8) -> bool) -> bool {
    match l4 {
        L4::Tcp(seg) => {
            let syn = seg.flags & 0x02 != 0;
            let ack = seg.flags & 0x10 != 0;
            if syn && !ack {
                false
            } else if lsp(src_port, 6) {
                if lsp(dst_port, 6) {
                    !(syn && ack) && src_port < dst_port
                } else {
                    true
                }
            } else {
                false
            }
        }
        L4::Udp(_) => lsp(src_port, 17) && !lsp(dst_port, 17),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{TcpSeg, UdpDgram};

    fn tcp(flags: u8) -> L4<'static> {
        L4::Tcp(TcpSeg {
            sport: 0,
            dport: 0,
            seq: 1,
            ack: 0,
            flags,
            win: 1024,
            hdr_len: 20,
            options: &[],
            payload: &[],
            len: 0,
            weird: None,
        })
    }

    /// Ports 80 and 443 are server ports for TCP, 53 for UDP.
    fn lsp(port: u16, proto: u8) -> bool {
        matches!((port, proto), (80 | 443, 6) | (53, 17))
    }

    #[test]
    fn tcp_roles_by_flags_and_server_ports() {
        let (syn, ack, syn_ack) = (0x02, 0x10, 0x12);
        assert!(!flips_roles(&tcp(syn), 80, 5000, lsp), "a SYN's sender is the originator");
        assert!(flips_roles(&tcp(ack), 80, 5000, lsp), "from a server port: the receiver originated");
        assert!(flips_roles(&tcp(syn_ack), 80, 5000, lsp));
        assert!(!flips_roles(&tcp(ack), 5000, 80, lsp), "to a server port: as seen");
        assert!(flips_roles(&tcp(ack), 80, 443, lsp), "between server ports the lower one serves");
        assert!(!flips_roles(&tcp(ack), 443, 80, lsp));
        assert!(!flips_roles(&tcp(syn_ack), 80, 443, lsp), "but a SYN+ACK's sender is the server");
    }

    #[test]
    fn udp_roles_by_server_ports() {
        let udp = L4::Udp(UdpDgram { sport: 0, dport: 0, ulen: 8, payload: &[] });
        assert!(flips_roles(&udp, 53, 5000, lsp));
        assert!(!flips_roles(&udp, 53, 53, lsp), "both server ports: as seen");
        assert!(!flips_roles(&udp, 5000, 53, lsp));
        assert!(!flips_roles(&udp, 80, 5000, lsp), "80 serves TCP only");
        assert!(!flips_roles(&L4::Other(&[]), 53, 5000, lsp), "other transports never flip");
    }
}
