//! Test helpers: a TCP connection and segments to feed it.

use super::super::conn::Conn;
use super::super::key::ConnKey;
use super::super::uid::UidGen;
use super::{process, tcp, Effects, TcpState};
use crate::config::Config;
use crate::decode::{L2Info, TcpSeg};
use std::net::IpAddr;

/// FIN.
pub const F: u8 = 0x01;
/// SYN.
pub const S: u8 = 0x02;
/// RST.
pub const R: u8 = 0x04;
/// ACK.
pub const A: u8 = 0x10;
/// URG.
pub const U: u8 = 0x20;

/// A fresh TCP connection from 10.0.0.1:1234 to 10.0.0.2:80 at time 0.
pub fn conn() -> Conn {
    let a: IpAddr = "10.0.0.1".parse().unwrap();
    let b: IpAddr = "10.0.0.2".parse().unwrap();
    let key = ConnKey::new((a, 1234), (b, 80), 6, false);
    Conn::new(key, (a, 1234), (b, 80), 6, UidGen::new(Some(1)).next_words(), 0.0, &L2Info::default(), &[], 0)
}

/// A segment with `flags`, sequence and acknowledgment numbers, payload
/// and options (window 1024).
pub fn seg<'a>(flags: u8, seq: u32, ack: u32, payload: &'a [u8], options: &'a [u8]) -> TcpSeg<'a> {
    TcpSeg {
        sport: 1234,
        dport: 80,
        seq,
        ack,
        flags,
        win: 1024,
        hdr_len: 20 + options.len(),
        options,
        payload,
        len: payload.len() as u32,
        weird: None,
    }
}

/// Feeds segments to a connection with a configuration, collecting what each asks.
pub struct Feed {
    /// The connection.
    pub c: Conn,
    /// The configuration.
    pub cfg: Config,
}

impl Default for Feed {
    fn default() -> Self {
        Feed { c: conn(), cfg: Config::default() }
    }
}

impl Feed {
    /// Sends a segment from the originator (`is_orig`) or responder at `t`.
    pub fn send(&mut self, is_orig: bool, t: f64, flags: u8, seq: u32, ack: u32, payload: &[u8]) -> Effects {
        self.send_seg(is_orig, t, &seg(flags, seq, ack, payload, &[]))
    }

    /// Sends a prepared segment.
    pub fn send_seg(&mut self, is_orig: bool, t: f64, s: &TcpSeg<'_>) -> Effects {
        let mut fx = Effects::default();
        process(&mut self.c, is_orig, s, 0, t, &self.cfg, &mut fx);
        fx
    }

    /// The originator's SYN (seq 100), the responder's SYN+ACK (seq 500)
    /// and the originator's ACK: both sides established.
    pub fn handshake(&mut self) {
        self.send(true, 0.0, S, 100, 0, b"");
        self.send(false, 0.1, S | A, 500, 101, b"");
        self.send(true, 0.2, A, 101, 501, b"");
    }

    /// The TCP state.
    pub fn st(&mut self) -> &mut TcpState {
        tcp(&mut self.c)
    }

    /// The history letters.
    pub fn history(&self) -> &str {
        self.c.history.as_str()
    }
}

/// Asserts `fx` raised `name`.
#[track_caller]
pub fn assert_weird(fx: &Effects, name: &str) {
    assert!(fx.weirds.contains(&name), "{name} not in {:?}", fx.weirds);
}
