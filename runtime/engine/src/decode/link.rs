//! Link layers: Ethernet (+ 802.1Q/QinQ, MPLS, PPPoE, PBB, VN-Tag, LLC/SNAP),
//! Linux SLL/SLL2, BSD null/loop, raw IP, PPP, 802.11 (radiotap, prism), NFLOG.

use super::LinkOutcome;

/// Decodes the link layer of a captured frame of type `link_type` (a `capture::dlt` value).
pub fn decode_link(link_type: i32, frame: &[u8]) -> LinkOutcome<'_> {
    let _ = (link_type, frame);
    todo!("link decoding")
}
