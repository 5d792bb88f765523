//! `OS_version_found`: each SYN from a connection's originator and each
//! SYN+ACK from its responder is matched against the p0f database
//! ([`crate::osfp`]); the sending host's match is cached, and the event is
//! raised for hosts in `generate_OS_version_event` (empty: every host)
//! when the match differs from the cached one (Bro's
//! `OSFingerprint::CacheMatch`), so once per host and OS.

use std::net::IpAddr;

use super::Sessions;
use crate::decode::{IpHdr, TcpSeg};
use crate::events::{Event, EventKind, EventQueue, OsVersion, OsVersionInference};
use crate::osfp::PacketSig;

/// Most hosts whose last match is remembered; past it the cache starts afresh.
const MAX_HOSTS: usize = 1 << 20;

/// A cached outcome: the section (request or response) and signature, or none.
pub(super) type Cached = Option<(bool, usize)>;

impl Sessions {
    /// Fingerprints a SYN or SYN+ACK of connection `slot` sent by `from_orig`'s side.
    pub(super) fn fingerprint(&mut self, slot: u32, from_orig: bool, ip: &IpHdr<'_>, seg: &TcpSeg<'_>, q: &mut EventQueue) {
        let (syn, ack) = (seg.flags & 0x02 != 0, seg.flags & 0x10 != 0);
        if !syn || seg.flags & 0x05 != 0 || !q.wants(EventKind::OsVersionFound) {
            return;
        }
        let Some(db) = self.cfg.os_fingerprint.db.clone() else { return };
        // A SYN comes from the client, a SYN+ACK from the server.
        let request = !ack;
        if request != from_orig {
            return;
        }
        // The fixed IP header only: p0f reads no IPv6 extension headers.
        let fixed = if ip.version == 6 { 40 } else { ip.hdr_len };
        if ip.version == 6 && ip.hdr_len != 40 {
            return;
        }
        let Some(tcp) = ip.payload.get(..seg.hdr_len) else { return };
        let Some(sig) = PacketSig::from_headers(&ip.header[..fixed.min(ip.header.len())], tcp, seg.len as usize) else { return };
        let syn_mss = if request {
            self.syn_mss.insert(slot, sig.mss);
            0
        } else {
            self.syn_mss.remove(&slot).unwrap_or(0)
        };
        let host: IpAddr = ip.src;
        let hosts = &self.cfg.os_fingerprint.hosts;
        if !hosts.is_empty() && !hosts.contains(&host) {
            return;
        }
        let (m, dist) = db.find(request, &sig, syn_mss);
        let id: Cached = m.map(|m| (request, m.sig));
        if self.os_cache.len() >= MAX_HOSTS && !self.os_cache.contains_key(&host) {
            self.os_cache.clear();
        }
        if self.os_cache.insert(host, id) == Some(id) {
            return;
        }
        let os = match m {
            Some(m) => {
                let label = &db.labels[m.label];
                OsVersion {
                    genre: label.name.clone(),
                    detail: label.flavor.clone(),
                    dist: u64::from(dist),
                    match_type: if m.fuzzy {
                        OsVersionInference::FuzzyInference
                    } else if m.generic {
                        OsVersionInference::GenericInference
                    } else {
                        OsVersionInference::DirectInference
                    },
                }
            }
            None => OsVersion {
                genre: "UNKNOWN".into(),
                detail: String::new(),
                dist: u64::from(dist),
                match_type: OsVersionInference::FuzzyInference,
            },
        };
        let Some(c) = self.conn(slot) else { return };
        q.push(Event::OsVersionFound { c: Box::new(c.snapshot()), host, os: Box::new(os) });
    }
}
