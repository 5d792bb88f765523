//! One packet through the session layer: its connection found (or reused,
//! or made), the per-packet events, then the transport's processing (TCP
//! state machine and reassembly, UDP and ICMP sizes, checksums) and what it
//! asks of the table (weirds, events, timers, data for the analyzers).

use super::conn::{self, Conn};
use super::key::{icmp_ports, ConnKey};
use super::tcp;
use super::timers::TimerKind;
use super::{PacketInfo, Sessions};
use crate::decode::{checksum, IpHdr, L4};
use crate::events::{pkt, EncapsulatingConn, Event, EventKind, EventQueue, TunnelType};

impl Sessions {
    /// Processes one IP packet that has a transport header. Returns the
    /// slot of its connection and whether the packet was valid (checksum
    /// and header), i.e. went on to the connection's analyzers.
    pub fn process(&mut self, p: &PacketInfo<'_, '_>, q: &mut EventQueue) -> Option<(u32, bool)> {
        let ip = p.ip;
        let (sport, dport, one_way) = match p.l4 {
            L4::Tcp(s) => (s.sport, s.dport, false),
            L4::Udp(u) => (u.sport, u.dport, false),
            L4::Icmp(m) => icmp_ports(m.v6, m.itype, m.icode),
            L4::Other(_) => (0, 0, false),
        };
        let src = (ip.src, sport);
        let dst = (ip.dst, dport);
        let mut key = ConnKey::new(src, dst, ip.proto, one_way);
        if self.cfg.vlan_conn_key {
            key.ctx = (p.l2.vlan, p.l2.inner_vlan);
        }

        let mut found = self.lookup(&key);
        if let (true, Some(slot)) = (self.held_jump, found) {
            // Network time waits for the jump to be confirmed, so this
            // connection's timers have not run yet: end it here if they
            // would have by the packet's time, as they would once followed.
            let c = self.conn(slot).unwrap();
            if c.inactivity_timeout > 0.0 && c.last_time + c.inactivity_timeout <= p.ts {
                self.timeout_and_remove(slot, q);
                found = None;
            }
        }
        let slot = match found {
            Some(slot) => {
                let reuse = match p.l4 {
                    L4::Tcp(seg) => tcp::is_reuse(self.conn(slot).unwrap(), seg, p.ts, &self.cfg),
                    _ => None,
                };
                match reuse {
                    Some(weird) => {
                        if let Some(w) = weird {
                            self.weird_with(slot, w, String::new(), "TCP", q);
                        }
                        if q.wants(EventKind::ConnectionReused) {
                            q.push(Event::ConnectionReused { c: Box::new(self.conn(slot).unwrap().snapshot()) });
                        }
                        self.remove(slot, q);
                        if !self.tcp_wanted(p) {
                            return None;
                        }
                        self.create(key, src, dst, p, q)
                    }
                    None => {
                        self.check_encapsulation(slot, p.encap, q);
                        slot
                    }
                }
            }
            None if !self.tcp_wanted(p) => return None,
            None => self.create(key, src, dst, p, q),
        };

        let is_orig = self.conn(slot).unwrap().is_orig(src);
        self.check_flow_label(slot, is_orig, ip.flow_label, q);
        self.packet_events(slot, p, q);
        self.sig_prepare(slot);

        let checksums = !self.cfg.ignore_checksums && !self.cfg.checksum_exempt(ip.raw_src);
        let t = p.ts;
        match p.l4 {
            L4::Tcp(seg) => {
                if let Some(w) = seg.weird {
                    self.weird_with(slot, w, String::new(), "TCP", q);
                    return Some((slot, false));
                }
                if checksums && !checksum::l4_checksum_ok(ip) {
                    self.weird_with(slot, "bad_TCP_checksum", String::new(), "TCP", q);
                    tcp::checksum_error(self.slots[slot as usize].as_mut().unwrap(), is_orig);
                    return Some((slot, false));
                }
                let mut fx = tcp::Effects::default();
                let c = self.slots[slot as usize].as_mut().unwrap();
                let before = c.is_orig(src);
                tcp::process(c, is_orig, seg, ip.id as u16, t, &self.cfg, &mut fx);
                // A flip inside processing changes which side sent the packet.
                let now_orig = if c.is_orig(src) == before { is_orig } else { !is_orig };
                count_packet(c, now_orig, ip);
                let delivered = std::mem::take(&mut fx.delivered);
                self.apply(slot, fx, q);
                self.fingerprint(slot, now_orig, ip, seg, q);
                self.sig_packet(slot, now_orig, p, q);
                for (from_orig, d) in delivered {
                    if let tcp::Delivery::Data(data) = &d {
                        self.sig_stream(slot, from_orig, data, q);
                    }
                    self.app_data(slot, from_orig, d, q);
                }
            }
            L4::Udp(u) => {
                let c = self.slots[slot as usize].as_mut().unwrap();
                if checksums && !udp_checksum_ok(ip, u, self.cfg.validate_vxlan_checksums) {
                    if c.side(is_orig).chk.hit() {
                        c.add_history_dir(is_orig, 'C');
                    }
                    self.weird_with(slot, "bad_UDP_checksum", String::new(), "UDP", q);
                    return Some((slot, false));
                }
                let len = ip.payload_len as i64;
                let ulen = u.ulen as i64;
                c.last_time = t;
                c.check_history_dir(is_orig, conn::hist::DATA_PKT, 'D');
                self.sig_packet(slot, is_orig, p, q);
                // The analyzers see the datagram before the sizes are
                // counted; after a flip, `is_orig` names the new side.
                self.app_datagram(slot, is_orig, u.payload, q);
                let c = self.slots[slot as usize].as_mut().unwrap();
                let side = c.side(is_orig);
                let add = ulen - 8;
                side.payload_len = if side.payload_len < 0 { add } else { side.payload_len + add };
                count_packet(c, is_orig, ip);
                if ulen != len {
                    self.weird_with(slot, "UDP_datagram_length_mismatch", format!("{ulen} != {len}"), "UDP", q);
                }
            }
            L4::Icmp(_) => {
                if checksums && !checksum::l4_checksum_ok(ip) {
                    self.weird_with(slot, "bad_ICMP_checksum", String::new(), "ICMP", q);
                    return Some((slot, false));
                }
                self.sig_packet(slot, is_orig, p, q);
                let c = self.slots[slot as usize].as_mut().unwrap();
                c.last_time = t;
                let side = c.side(is_orig);
                let add = ip.payload_len as i64 - 8;
                side.payload_len = if side.payload_len < 0 { add } else { side.payload_len + add };
                count_packet(c, is_orig, ip);
            }
            L4::Other(_) => {
                let c = self.slots[slot as usize].as_mut().unwrap();
                c.last_time = t;
                count_packet(c, is_orig, ip);
            }
        }
        Some((slot, true))
    }

    pub(super) fn check_flow_label(&mut self, slot: u32, is_orig: bool, label: u32, q: &mut EventQueue) {
        let c = self.slots[slot as usize].as_mut().unwrap();
        let seen = c.side(is_orig).label_seen;
        let old = c.side(is_orig).flow_label;
        if old != label {
            c.side(is_orig).flow_label = label;
            if seen && q.wants(EventKind::ConnectionFlowLabelChanged) {
                let snap = c.snapshot();
                q.push(Event::ConnectionFlowLabelChanged { c: Box::new(snap), is_orig, old_label: old, new_label: label });
            }
        }
        c.side(is_orig).label_seen = true;
    }

    pub(super) fn check_encapsulation(&mut self, slot: u32, encap: &[EncapsulatingConn], q: &mut EventQueue) {
        let c = self.slots[slot as usize].as_mut().unwrap();
        if encap_equal(c.cur_encap(), encap) {
            return;
        }
        let tun = &mut c.extra.get_or_insert_with(Box::default).tunnels;
        tun.cur_encap = encap.to_vec();
        tun.changes += 1;
        let changes = u64::from(tun.changes);
        let max = self.cfg.tunnel_max_changes_per_connection;
        if max != 0 && changes > max {
            if changes == max + 1 {
                self.analysis_limited(slot);
                self.weird_with(slot, "tunnel_max_changes_per_connection_exceeded", max.to_string(), "", q);
            }
            return;
        }
        if q.wants(EventKind::TunnelChanged) {
            let c = self.conn(slot).unwrap();
            q.push(Event::TunnelChanged { c: Box::new(c.snapshot()), e: encap.to_vec() });
        }
    }

    /// `ipv6_ext_headers`, `new_packet` and `packet_contents`, in that order,
    /// built only when subscribed.
    pub(super) fn packet_events(&self, slot: u32, p: &PacketInfo<'_, '_>, q: &mut EventQueue) {
        let ip = p.ip;
        let want_ext = q.wants(EventKind::Ipv6ExtHeaders) && pkt::ext_header_count(ip) > 0;
        let want_new = q.wants(EventKind::NewPacket);
        let want_contents = q.wants(EventKind::PacketContents);
        if !(want_ext || want_new || want_contents) {
            return;
        }
        let c = self.conn(slot).unwrap();
        if want_ext || want_new {
            let hdr = Box::new(pkt::pkt_hdr(ip, Some(p.l4)));
            if want_ext {
                q.push(Event::Ipv6ExtHeaders { c: Box::new(c.snapshot()), p: hdr.clone() });
            }
            if want_new {
                q.push(Event::NewPacket { c: Box::new(c.snapshot()), p: hdr });
            }
        }
        if want_contents {
            let contents = match p.l4 {
                L4::Tcp(seg) if seg.weird.is_none() => seg.payload,
                L4::Tcp(_) => &[][..],
                L4::Udp(u) => u.payload,
                L4::Icmp(m) => m.payload,
                L4::Other(d) => d,
            };
            if !contents.is_empty() {
                q.push(Event::PacketContents { c: Box::new(c.snapshot()), contents: contents.to_vec() });
            }
        }
    }

    pub(super) fn apply(&mut self, slot: u32, fx: tcp::Effects, q: &mut EventQueue) {
        for w in fx.weirds {
            self.weird_with(slot, w, String::new(), "TCP", q);
        }
        if q.wants(EventKind::RexmitInconsistency) {
            for (t1, t2, tcp_flags) in fx.rexmit {
                let c = Box::new(self.conn(slot).unwrap().snapshot());
                q.push(Event::RexmitInconsistency { c, t1, t2, tcp_flags });
            }
        }
        if q.wants(EventKind::ContentGap) {
            for &(is_orig, seq, length) in &fx.gaps {
                let c = Box::new(self.conn(slot).unwrap().snapshot());
                q.push(Event::ContentGap { c, is_orig, seq, length });
            }
        }
        if fx.cancel_timers {
            let g = self.fresh_timer_gen();
            self.slots[slot as usize].as_mut().unwrap().timer_gen = g;
        }
        let c = self.slots[slot as usize].as_mut().unwrap();
        let generation = c.timer_gen;
        if let Some(to) = fx.inactivity {
            if to != c.inactivity_timeout && !fx.cancel_timers {
                c.inactivity_timeout = to;
                if to > 0.0 {
                    let due = c.last_time + to;
                    self.timers.add(due, slot, generation, TimerKind::Inactivity);
                }
            }
        }
        for (due, kind) in fx.timers {
            self.timers.add(due, slot, generation, kind);
        }
    }
}

/// Counts a valid packet for the ConnSize figures.
fn count_packet(c: &mut Conn, is_orig: bool, ip: &IpHdr<'_>) {
    if !c.conn_size {
        return;
    }
    let s = c.side(is_orig);
    s.pkts += 1;
    s.ip_bytes += ip.total_len as u64;
}

/// UDP checksum rule (Zeek's UDP.cc): IPv4 checksum 0 means none. What looks
/// like VXLAN on its port (longer than UDP, VXLAN and Ethernet headers, the
/// VXLAN I flag set) may send 0, and a checksum that is not 0 is only checked
/// with `Tunnel::validate_vxlan_checksums`.
fn udp_checksum_ok(ip: &IpHdr<'_>, u: &crate::decode::UdpDgram<'_>, validate_vxlan: bool) -> bool {
    let sum = ip.payload.get(6..8).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
    let vxlan_like = u.dport == crate::decode::tunnel::ports::VXLAN
        && usize::from(u.ulen) > 8 + 8 + 14
        && u.payload.first().is_some_and(|b| b & 0x08 != 0);
    if vxlan_like && (sum == 0 || !validate_vxlan) {
        return true;
    }
    if sum == 0 && ip.version == 4 {
        return true;
    }
    checksum::l4_checksum_ok(ip)
}

impl super::Sessions {
    /// Zeek's `TCPAnalyzer::WantConnection`: a TCP connection that would
    /// start without a SYN, or with a SYN-ACK, is not made unless
    /// `partial_connection_ok` (and, for a SYN-ACK, `tcp_SYN_ack_ok`) allow it.
    fn tcp_wanted(&self, p: &PacketInfo<'_, '_>) -> bool {
        let L4::Tcp(seg) = p.l4 else { return true };
        let (syn, ack) = (seg.flags & 0x02 != 0, seg.flags & 0x10 != 0);
        if syn && !ack {
            return true;
        }
        self.cfg.partial_connection_ok && (!syn || self.cfg.tcp_syn_ack_ok)
    }
}

/// Zeek's encapsulation equality: IP and GRE tunnels ignore endpoint order.
fn encap_equal(a: &[EncapsulatingConn], b: &[EncapsulatingConn]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            if x.tunnel_type != y.tunnel_type || x.uid != y.uid || x.cid.proto != y.cid.proto {
                return false;
            }
            match x.tunnel_type {
                TunnelType::Ip | TunnelType::Gre => {
                    (x.cid.orig_h == y.cid.orig_h && x.cid.resp_h == y.cid.resp_h)
                        || (x.cid.orig_h == y.cid.resp_h && x.cid.resp_h == y.cid.orig_h)
                }
                TunnelType::Vxlan => {
                    x.cid.resp_p == y.cid.resp_p
                        && ((x.cid.orig_h == y.cid.orig_h && x.cid.resp_h == y.cid.resp_h)
                            || (x.cid.orig_h == y.cid.resp_h && x.cid.resp_h == y.cid.orig_h))
                }
                _ => x.cid == y.cid,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::values::conn_id;

    fn encap(kind: TunnelType, o: &str, op: u16, r: &str, rp: u16) -> EncapsulatingConn {
        let cid = conn_id((o.parse().unwrap(), op), (r.parse().unwrap(), rp), 17);
        EncapsulatingConn { cid, tunnel_type: kind, uid: Some("Cx".into()) }
    }

    #[test]
    fn encapsulation_equality_ignores_endpoint_order_for_ip_gre_and_vxlan() {
        let (a, b) = ("10.0.0.1", "10.0.0.2");
        for kind in [TunnelType::Ip, TunnelType::Gre] {
            assert!(encap_equal(&[encap(kind, a, 0, b, 0)], &[encap(kind, b, 0, a, 0)]), "{kind:?}");
            assert!(encap_equal(&[encap(kind, a, 1, b, 2)], &[encap(kind, a, 3, b, 4)]), "{kind:?}: ports do not count");
        }
        let v = TunnelType::Vxlan;
        assert!(encap_equal(&[encap(v, a, 1000, b, 4789)], &[encap(v, b, 2000, a, 4789)]), "the source port varies");
        assert!(!encap_equal(&[encap(v, a, 1000, b, 4789)], &[encap(v, a, 1000, b, 4790)]));
        let t = TunnelType::Teredo;
        assert!(!encap_equal(&[encap(t, a, 1, b, 2)], &[encap(t, b, 2, a, 1)]), "other tunnels are exact");
        assert!(encap_equal(&[encap(t, a, 1, b, 2)], &[encap(t, a, 1, b, 2)]));
        assert!(!encap_equal(&[encap(t, a, 1, b, 2)], &[encap(TunnelType::Ayiya, a, 1, b, 2)]));
        assert!(!encap_equal(&[encap(t, a, 1, b, 2)], &[]), "depth differs");
        let mut other_uid = encap(TunnelType::Ip, a, 0, b, 0);
        other_uid.uid = Some("Cy".into());
        assert!(!encap_equal(&[encap(TunnelType::Ip, a, 0, b, 0)], &[other_uid]));
    }

    #[test]
    fn vxlan_checksums_are_checked_only_when_told() {
        // IPv4 + UDP to 4789 with a wrong, non-zero checksum; the payload is
        // a VXLAN header (I flag) and a 14-byte Ethernet header and more.
        let mut payload = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
        payload.extend_from_slice(&[0u8; 30]);
        let ulen = (8 + payload.len()) as u16;
        let total = 20 + ulen;
        let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        let sum = crate::decode::checksum::ipv4_header_checksum(&p);
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(&[0x30, 0x39, 0x12, 0xb5]);
        p.extend_from_slice(&ulen.to_be_bytes());
        p.extend_from_slice(&[0xde, 0xad]);
        p.extend_from_slice(&payload);
        let ip = crate::decode::ip::parse_ip(&p, p.len(), false, &mut Vec::new()).unwrap();
        let L4::Udp(u) = crate::decode::transport::parse_l4(&ip).unwrap() else { panic!("UDP") };
        assert!(!udp_checksum_ok(&ip, &u, true), "validated by default");
        assert!(udp_checksum_ok(&ip, &u, false), "Tunnel::validate_vxlan_checksums=F");
        // Not VXLAN-like (no I flag): checked whatever the setting.
        let mut q = p.clone();
        q[28] = 0;
        let ip = crate::decode::ip::parse_ip(&q, q.len(), false, &mut Vec::new()).unwrap();
        let L4::Udp(u) = crate::decode::transport::parse_l4(&ip).unwrap() else { panic!("UDP") };
        assert!(!udp_checksum_ok(&ip, &u, false));
    }
}
