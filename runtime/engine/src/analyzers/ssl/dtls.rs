//! DTLS (RFC 6347, RFC 9147) over UDP, Zeek's `DTLS` analyzer: each
//! datagram holds records with DTLS's 13-byte header (type, version, epoch,
//! sequence number, length); handshake messages carry a fragment header
//! (message sequence, fragment offset and length) and are put back together
//! before the handshake layer sees them as TLS messages. Everything else is
//! the TLS record layer's (plaintext or encrypted, established, alerts).

use super::record::Parser;
use super::{Sink, SslConfig};
use crate::analyzers::analyzer::Analyzer;
use crate::analyzers::context::Cx;
use crate::analyzers::registry::Tag;
use std::collections::BTreeMap;

/// UDP ports of Zeek's `SSL::dtls_ports`.
pub const PORTS: [u16; 1] = [443];

/// Largest handshake message put together (Zeek's `MAX_DTLS_HANDSHAKE_RECORD`).
const MAX_MESSAGE: usize = 100_000;

/// Handshake messages being put together, per side and message sequence.
#[derive(Clone, Debug, Default)]
pub struct Reassembly {
    /// (side, message sequence) to (type, the message's bytes, bytes filled so far).
    partial: BTreeMap<(bool, u16), (u8, Vec<u8>, Vec<bool>)>,
}

impl Reassembly {
    /// The whole handshake messages (TLS framing: type, 24-bit length,
    /// body) that the fragments of one handshake record complete.
    pub fn fragments(&mut self, is_orig: bool, mut body: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while body.len() >= 12 {
            let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
            let (t, len, seq, off, flen) = (body[0], u24(&body[1..4]), u16::from_be_bytes([body[4], body[5]]), u24(&body[6..9]), u24(&body[9..12]));
            let Some(frag) = body.get(12..12 + flen) else { break };
            body = &body[12 + flen..];
            if len > MAX_MESSAGE || off + flen > len {
                continue;
            }
            if off == 0 && flen == len {
                self.partial.remove(&(is_orig, seq));
                out.push(framed(t, frag));
                continue;
            }
            let e = self.partial.entry((is_orig, seq)).or_insert_with(|| (t, vec![0; len], vec![false; len]));
            if e.1.len() != len {
                continue;
            }
            e.1[off..off + flen].copy_from_slice(frag);
            e.2[off..off + flen].iter_mut().for_each(|f| *f = true);
            if e.2.iter().all(|&f| f) {
                if let Some((t, msg, _)) = self.partial.remove(&(is_orig, seq)) {
                    out.push(framed(t, &msg));
                }
            }
        }
        out
    }
}

fn framed(t: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut v = vec![t, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(body);
    v
}

/// DTLS analyzer state of one connection.
#[derive(Clone, Debug, Default)]
pub struct Dtls {
    parser: Parser,
}

impl Dtls {
    /// A new analyzer with the engine's SSL settings.
    pub fn new(cfg: SslConfig) -> Dtls {
        let mut parser = Parser::new(cfg);
        parser.dtls = Some(Reassembly::default());
        Dtls { parser }
    }

    /// Parses the records of one datagram.
    pub fn parse<S: Sink>(&mut self, sink: &mut S, is_orig: bool, mut data: &[u8]) {
        while data.len() >= 13 && !self.parser.skip {
            let (ct, version, len) = (data[0], u16::from_be_bytes([data[1], data[2]]), usize::from(u16::from_be_bytes([data[11], data[12]])));
            if !matches!(version, 0xfeff | 0xfefd | 0xfefc) || !(20..=30).contains(&ct) {
                if !self.parser.established {
                    self.parser.fail(sink, format!("Invalid DTLS record: type {ct}, version {version}"));
                }
                return;
            }
            let Some(body) = data.get(13..13 + len) else { return };
            self.parser.record(sink, is_orig, [0; 5], version, u16::from(ct), body);
            data = &data[13 + len..];
        }
    }
}

impl Analyzer for Dtls {
    fn tag(&self) -> Tag {
        Tag::Dtls
    }

    fn datagram(&mut self, is_orig: bool, data: &[u8], cx: &mut Cx<'_, '_>) {
        let stop_after = self.parser.cfg.disable_analyzer_after_detection;
        self.parse(&mut super::analyzer::CxSink(cx), is_orig, data);
        if stop_after && self.parser.established {
            cx.disable();
        }
    }

    fn clone_box(&self) -> Box<dyn Analyzer> {
        Box::new(self.clone())
    }
}
