//! TCP, UDP and ICMP headers.
//!
//! Minimum-length checks follow Zeek's `IPBasedAnalyzer::CheckHeaderTrunc`
//! (flow weirds, no connection) and `TCPSessionAdapter::ExtractTCP_Header`
//! (conn weirds, connection made but segment skipped).

use super::ip::proto;
use super::{IcmpMsg, IpHdr, TcpSeg, UdpDgram, L4};
use crate::bytes::{be16, be32};

/// Fixed TCP header length.
pub const TCP_MIN: usize = 20;
/// UDP header length.
pub const UDP_LEN: usize = 8;
/// ICMP / ICMPv6 header length.
pub const ICMP_MIN: usize = 8;

/// `truncated_header` when the IP length is too short for `min` bytes,
/// `internally_truncated_header` when only the capture is.
fn check_trunc(ip: &IpHdr<'_>, min: usize) -> Result<(), &'static str> {
    if ip.payload_len < min {
        Err("truncated_header")
    } else if ip.payload.len() < min {
        Err("internally_truncated_header")
    } else {
        Ok(())
    }
}

/// Parses the transport header of `ip`. Errors are flow weird names
/// (`truncated_header`, `internally_truncated_header`); no connection is made then.
/// TCP header problems past the ports come back in [`TcpSeg::weird`].
pub fn parse_l4<'a>(ip: &IpHdr<'a>) -> Result<L4<'a>, &'static str> {
    let p = ip.payload;
    match ip.proto {
        proto::TCP => {
            check_trunc(ip, TCP_MIN)?;
            let hdr_len = usize::from(p[12] >> 4) * 4;
            let weird = if hdr_len < TCP_MIN {
                Some("bad_TCP_header_len")
            } else if hdr_len > ip.payload_len || hdr_len > p.len() {
                Some("truncated_header")
            } else {
                None
            };
            let (options, payload, len) = match weird {
                None => (&p[TCP_MIN..hdr_len], &p[hdr_len..], (ip.payload_len - hdr_len) as u32),
                Some(_) => (&p[..0], &p[..0], 0),
            };
            Ok(L4::Tcp(TcpSeg {
                sport: be16(p, 0),
                dport: be16(p, 2),
                seq: be32(p, 4),
                ack: be32(p, 8),
                flags: p[13],
                win: be16(p, 14),
                hdr_len,
                options,
                payload,
                len,
                weird,
            }))
        }
        proto::UDP => {
            check_trunc(ip, UDP_LEN)?;
            Ok(L4::Udp(UdpDgram { sport: be16(p, 0), dport: be16(p, 2), ulen: be16(p, 4), payload: &p[UDP_LEN..] }))
        }
        proto::ICMP | proto::ICMPV6 => {
            check_trunc(ip, ICMP_MIN)?;
            Ok(L4::Icmp(IcmpMsg {
                v6: ip.proto == proto::ICMPV6,
                itype: p[0],
                icode: p[1],
                payload: &p[ICMP_MIN..],
                len: ip.payload_len as u32,
            }))
        }
        _ => Ok(L4::Other(p)),
    }
}
