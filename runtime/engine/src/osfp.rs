//! Passive OS fingerprinting of TCP SYNs and SYN+ACKs under p0f v3's rules
//! (the `[tcp:request]` and `[tcp:response]` sections of its `p0f.fp`).
//!
//! A signature is `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass`. A
//! packet matches when its option layout, IP option length and EOL padding
//! are equal, MSS, scale and payload class agree (or the signature has `*`),
//! the window fits (exact, `*`, `%N`, `mss*N` or `mtu*N`, the multiple found
//! as p0f finds it), and its quirks are the signature's. A match is fuzzy
//! when the TTL is not within 35 hops below the signature's initial TTL, or
//! when the quirks differ only by `df`/`id+` gone or `id-`/`ecn` come; a
//! `g:` (generic) signature counts only if no specific one matches; fuzzy
//! ones only if neither does, and never for userland tools (class `!`). As
//! in p0f, signatures are tried in file order.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;

/// p0f's quirk bits.
pub mod quirk {
    /// `df`: IPv4 don't-fragment set.
    pub const DF: u32 = 1 << 0;
    /// `id+`: DF set and a non-zero IPv4 ID.
    pub const NZ_ID: u32 = 1 << 1;
    /// `id-`: DF not set and a zero IPv4 ID.
    pub const ZERO_ID: u32 = 1 << 2;
    /// `ecn`: explicit congestion notification in use.
    pub const ECN: u32 = 1 << 3;
    /// `0+`: the IPv4 must-be-zero flag set.
    pub const NZ_MBZ: u32 = 1 << 4;
    /// `flow`: a non-zero IPv6 flow label.
    pub const FLOW: u32 = 1 << 5;
    /// `seq-`: sequence number zero.
    pub const ZERO_SEQ: u32 = 1 << 6;
    /// `ack+`: acknowledgment number without the ACK flag.
    pub const NZ_ACK: u32 = 1 << 7;
    /// `ack-`: ACK flag with a zero acknowledgment number.
    pub const ZERO_ACK: u32 = 1 << 8;
    /// `uptr+`: urgent pointer without the URG flag.
    pub const NZ_URG: u32 = 1 << 9;
    /// `urgf+`: URG flag.
    pub const URG: u32 = 1 << 10;
    /// `pushf+`: PUSH flag.
    pub const PUSH: u32 = 1 << 11;
    /// `ts1-`: own timestamp zero.
    pub const OPT_ZERO_TS1: u32 = 1 << 12;
    /// `ts2+`: peer timestamp non-zero on a SYN.
    pub const OPT_NZ_TS2: u32 = 1 << 13;
    /// `opt+`: non-zero bytes after EOL.
    pub const OPT_EOL_NZ: u32 = 1 << 14;
    /// `exws`: window scale above 14.
    pub const OPT_EXWS: u32 = 1 << 15;
    /// `bad`: malformed options.
    pub const OPT_BAD: u32 = 1 << 16;

    /// Quirk names as p0f.fp writes them.
    pub const NAMES: [(&str, u32); 17] = [
        ("df", DF),
        ("id+", NZ_ID),
        ("id-", ZERO_ID),
        ("ecn", ECN),
        ("0+", NZ_MBZ),
        ("flow", FLOW),
        ("seq-", ZERO_SEQ),
        ("ack+", NZ_ACK),
        ("ack-", ZERO_ACK),
        ("uptr+", NZ_URG),
        ("urgf+", URG),
        ("pushf+", PUSH),
        ("ts1-", OPT_ZERO_TS1),
        ("ts2+", OPT_NZ_TS2),
        ("opt+", OPT_EOL_NZ),
        ("exws", OPT_EXWS),
        ("bad", OPT_BAD),
    ];
}

/// TCP option kinds p0f names.
mod opt {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WS: u8 = 3;
    pub const SOK: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TS: u8 = 8;
}

/// Greatest hop distance of a non-fuzzy match.
pub const MAX_DIST: u8 = 35;
/// Most TCP options p0f reads.
const MAX_TCP_OPT: usize = 24;

/// A signature's window size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// `*`.
    Any,
    /// An exact value.
    Exact(u16),
    /// `%N`: a multiple of N.
    Modulo(u16),
    /// `mss*N`.
    Mss(u16),
    /// `mtu*N`.
    Mtu(u16),
}

/// The label of a group of signatures: `s:unix:Linux:3.11 and newer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// `g` (generic) rather than `s` (specific).
    pub generic: bool,
    /// The class (`unix`, `win`, ...), `None` for a userland tool (`!`).
    pub class: Option<String>,
    /// The OS or tool name (`Linux`).
    pub name: String,
    /// The version text (`3.11 and newer`).
    pub flavor: String,
}

impl Label {
    /// The label as p0f prints it: name, then flavor when there is one.
    pub fn text(&self) -> String {
        if self.flavor.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.name, self.flavor)
        }
    }
}

/// One `sig = ...` line.
#[derive(Clone, Debug)]
pub struct Signature {
    /// Index of its label in [`Database::labels`].
    pub label: usize,
    /// IP version (`None`: `*`).
    pub ver: Option<u8>,
    /// Initial TTL (with a `+D` distance added, as p0f does).
    pub ttl: u8,
    /// `NN-`: the TTL is random below NN; only a TTL above it fails.
    pub bad_ttl: bool,
    /// IP options length.
    pub olen: u8,
    /// MSS (`None`: `*`).
    pub mss: Option<u16>,
    /// Window size.
    pub win: Window,
    /// Window scale (`None`: `*`).
    pub scale: Option<u8>,
    /// Option kinds in order.
    pub layout: Vec<u8>,
    /// Bytes after EOL (`eol+N`).
    pub eol_pad: u8,
    /// Quirk bits.
    pub quirks: u32,
    /// Payload class: `Some(false)` none, `Some(true)` some, `None` either.
    pub pclass: Option<bool>,
    /// Line in the file.
    pub line: usize,
}

/// A p0f v3 database's TCP signatures.
#[derive(Clone, Debug, Default)]
pub struct Database {
    /// Every label, in file order.
    pub labels: Vec<Label>,
    /// `[tcp:request]`: SYN signatures.
    pub request: Vec<Signature>,
    /// `[tcp:response]`: SYN+ACK signatures.
    pub response: Vec<Signature>,
}

/// Where p0f's Debian package installs its database.
pub const DEFAULT_FILE: &str = "/etc/p0f/p0f.fp";

impl Database {
    /// Reads a p0f.fp file.
    pub fn load(path: &Path) -> Result<Database, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Database::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a p0f.fp file (sections other than `tcp:*` are skipped).
    pub fn parse(text: &str) -> Result<Database, String> {
        let mut db = Database::default();
        let mut section: Option<bool> = None; // Some(true): request
        let mut label: Option<usize> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let no = i + 1;
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                section = match line {
                    "[tcp:request]" => Some(true),
                    "[tcp:response]" => Some(false),
                    _ => None,
                };
                label = None;
                continue;
            }
            let Some(request) = section else { continue };
            let (key, value) = line.split_once('=').ok_or_else(|| format!("line {no}: not KEY = VALUE"))?;
            match key.trim() {
                "label" => {
                    db.labels.push(parse_label(value.trim()).map_err(|e| format!("line {no}: {e}"))?);
                    label = Some(db.labels.len() - 1);
                }
                "sig" => {
                    let l = label.ok_or_else(|| format!("line {no}: sig before any label"))?;
                    let s = parse_sig(value.trim(), l, no).map_err(|e| format!("line {no}: {e}"))?;
                    if request { db.request.push(s) } else { db.response.push(s) }
                }
                _ => {}
            }
        }
        if db.request.is_empty() {
            return Err("no [tcp:request] signatures".into());
        }
        Ok(db)
    }
}

fn parse_label(v: &str) -> Result<Label, String> {
    let mut parts = v.splitn(4, ':');
    let kind = parts.next().unwrap_or("");
    let class = parts.next().ok_or("label lacks a class")?;
    let name = parts.next().ok_or("label lacks a name")?;
    let flavor = parts.next().unwrap_or("");
    let generic = match kind {
        "s" => false,
        "g" => true,
        _ => return Err(format!("label type '{kind}' is not s or g")),
    };
    Ok(Label {
        generic,
        class: (class != "!").then(|| class.to_string()),
        name: name.to_string(),
        flavor: flavor.to_string(),
    })
}

fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("bad {what} '{s}'"))
}

fn parse_sig(v: &str, label: usize, line: usize) -> Result<Signature, String> {
    let f: Vec<&str> = v.split(':').collect();
    if f.len() != 8 {
        return Err(format!("signature has {} fields, not 8", f.len()));
    }
    let ver = match f[0] {
        "4" => Some(4),
        "6" => Some(6),
        "*" => None,
        o => return Err(format!("bad IP version '{o}'")),
    };
    let (ttl, bad_ttl) = if let Some(t) = f[1].strip_suffix('-') {
        (num::<u8>(t, "TTL")?, true)
    } else if let Some((t, d)) = f[1].split_once('+') {
        let t: u16 = num(t, "TTL")?;
        let d: u16 = num(d, "TTL distance")?;
        (u8::try_from(t + d).map_err(|_| "TTL above 255")?, false)
    } else {
        (num::<u8>(f[1], "TTL")?, false)
    };
    let olen = num(f[2], "IP option length")?;
    let mss = if f[3] == "*" { None } else { Some(num(f[3], "MSS")?) };
    let (w, s) = f[4].split_once(',').ok_or("window lacks ',scale'")?;
    let win = if w == "*" {
        Window::Any
    } else if let Some(m) = w.strip_prefix('%') {
        Window::Modulo(num(m, "window modulus")?)
    } else if let Some(m) = w.strip_prefix("mss*") {
        Window::Mss(num(m, "MSS multiple")?)
    } else if let Some(m) = w.strip_prefix("mtu*") {
        Window::Mtu(num(m, "MTU multiple")?)
    } else {
        Window::Exact(num(w, "window")?)
    };
    let scale = if s == "*" { None } else { Some(num(s, "window scale")?) };
    let mut layout = Vec::new();
    let mut eol_pad = 0;
    for o in f[5].split(',').filter(|o| !o.is_empty()) {
        let kind = match o {
            "nop" => opt::NOP,
            "mss" => opt::MSS,
            "ws" => opt::WS,
            "sok" => opt::SOK,
            "sack" => opt::SACK,
            "ts" => opt::TS,
            _ if o.starts_with("eol+") => {
                eol_pad = num(&o[4..], "EOL padding")?;
                opt::EOL
            }
            _ if o.starts_with('?') => num(&o[1..], "option kind")?,
            _ => return Err(format!("unknown TCP option '{o}'")),
        };
        layout.push(kind);
    }
    let mut quirks = 0;
    for q in f[6].split(',').filter(|q| !q.is_empty()) {
        quirks |= quirk::NAMES.iter().find(|(n, _)| *n == q).ok_or_else(|| format!("unknown quirk '{q}'"))?.1;
    }
    let pclass = match f[7] {
        "*" => None,
        "0" => Some(false),
        "+" => Some(true),
        o => return Err(format!("bad payload class '{o}'")),
    };
    Ok(Signature { label, ver, ttl, bad_ttl, olen, mss, win, scale, layout, eol_pad, quirks, pclass, line })
}

/// What p0f reads off one SYN or SYN+ACK.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketSig {
    /// IP version.
    pub ver: u8,
    /// Observed TTL.
    pub ttl: u8,
    /// IPv4 options length.
    pub olen: u8,
    /// MSS option (0 without one).
    pub mss: u16,
    /// Window.
    pub win: u16,
    /// Window scale (0 without one).
    pub wscale: u8,
    /// Option kinds in order.
    pub layout: Vec<u8>,
    /// Bytes after EOL.
    pub eol_pad: u8,
    /// Quirk bits.
    pub quirks: u32,
    /// Payload present.
    pub payload: bool,
    /// IP plus TCP header bytes.
    pub tot_hdr: u16,
    /// Own timestamp.
    pub ts1: u32,
}

impl PacketSig {
    /// Reads the signature of a segment: its IP header as captured (`ip`,
    /// the fixed IPv6 header for version 6), its TCP header with options
    /// (`tcp`) and its payload length. `None` for what p0f does not take
    /// (a header too short, IPv6 extension headers, IPv4 fragments).
    pub fn from_headers(ip: &[u8], tcp: &[u8], payload_len: usize) -> Option<PacketSig> {
        let mut s = PacketSig::default();
        let version = ip.first()? >> 4;
        match version {
            4 => {
                let hl = usize::from(ip[0] & 0x0f) * 4;
                if hl < 20 || ip.len() < hl {
                    return None;
                }
                let flags_off = u16::from_be_bytes([ip[6], ip[7]]);
                if flags_off & !(0x4000 | 0x8000) != 0 {
                    return None;
                }
                s.ver = 4;
                s.olen = (hl - 20) as u8;
                s.ttl = ip[8];
                if ip[1] & 0x03 != 0 {
                    s.quirks |= quirk::ECN;
                }
                if flags_off & 0x8000 != 0 {
                    s.quirks |= quirk::NZ_MBZ;
                }
                let id = u16::from_be_bytes([ip[4], ip[5]]);
                if flags_off & 0x4000 != 0 {
                    s.quirks |= quirk::DF;
                    if id != 0 {
                        s.quirks |= quirk::NZ_ID;
                    }
                } else if id == 0 {
                    s.quirks |= quirk::ZERO_ID;
                }
                s.tot_hdr = hl as u16;
            }
            6 => {
                if ip.len() < 40 || ip[6] != 6 {
                    return None;
                }
                let ver_tos = u32::from_be_bytes([ip[0], ip[1], ip[2], ip[3]]);
                s.ver = 6;
                s.ttl = ip[7];
                if ver_tos & 0xfffff != 0 {
                    s.quirks |= quirk::FLOW;
                }
                if (ver_tos >> 20) & 0x03 != 0 {
                    s.quirks |= quirk::ECN;
                }
                s.tot_hdr = 40;
            }
            _ => return None,
        }
        if tcp.len() < 20 {
            return None;
        }
        let doff = usize::from(tcp[12] >> 4) * 4;
        if doff < 20 || doff > tcp.len() {
            return None;
        }
        s.tot_hdr += doff as u16;
        let flags = tcp[13];
        let (syn, ack_f, rst, urg_f, psh) = (flags & 0x02 != 0, flags & 0x10 != 0, flags & 0x04 != 0, flags & 0x20 != 0, flags & 0x08 != 0);
        s.win = u16::from_be_bytes([tcp[14], tcp[15]]);
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        let ack = u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]);
        let urg = u16::from_be_bytes([tcp[18], tcp[19]]);
        if flags & 0xc0 != 0 || tcp[12] & 0x01 != 0 {
            s.quirks |= quirk::ECN;
        }
        if seq == 0 {
            s.quirks |= quirk::ZERO_SEQ;
        }
        if ack_f {
            if ack == 0 {
                s.quirks |= quirk::ZERO_ACK;
            }
        } else if !rst && (ack >> 24) & 1 != 0 {
            // p0f 3.09b tests `ack & !RST` with a bitwise and on the number
            // as read from the wire in host order: on the little-endian
            // machines it runs on that is the lowest bit of the first byte.
            s.quirks |= quirk::NZ_ACK;
        }
        if urg_f {
            s.quirks |= quirk::URG;
        } else if urg != 0 {
            s.quirks |= quirk::NZ_URG;
        }
        if psh {
            s.quirks |= quirk::PUSH;
        }
        s.payload = payload_len > 0;
        let options = &tcp[20..doff];
        s.read_options(options, syn && !ack_f);
        Some(s)
    }

    /// p0f's option walk: the layout, MSS, scale, timestamps and the option quirks.
    fn read_options(&mut self, o: &[u8], pure_syn: bool) {
        let end = o.len();
        let mut i = 0;
        let mut bad = false;
        while i < end && self.layout.len() < MAX_TCP_OPT {
            let kind = o[i];
            self.layout.push(kind);
            i += 1;
            match kind {
                opt::EOL => {
                    self.eol_pad = (end - i) as u8;
                    if o[i..].iter().any(|&b| b != 0) {
                        self.quirks |= quirk::OPT_EOL_NZ;
                    }
                    i = end;
                }
                opt::NOP => {}
                opt::MSS => {
                    if i + 3 > end {
                        bad = true;
                        break;
                    }
                    if o[i] != 4 {
                        self.quirks |= quirk::OPT_BAD;
                    }
                    self.mss = u16::from_be_bytes([o[i + 1], o[i + 2]]);
                    i += 3;
                }
                opt::WS => {
                    if i + 2 > end {
                        bad = true;
                        break;
                    }
                    if o[i] != 3 {
                        self.quirks |= quirk::OPT_BAD;
                    }
                    self.wscale = o[i + 1];
                    if self.wscale > 14 {
                        self.quirks |= quirk::OPT_EXWS;
                    }
                    i += 2;
                }
                opt::SOK => {
                    if i + 1 > end {
                        bad = true;
                        break;
                    }
                    if o[i] != 2 {
                        self.quirks |= quirk::OPT_BAD;
                    }
                    i += 1;
                }
                opt::SACK => {
                    if i == end || !(10..=34).contains(&o[i]) || i - 1 + usize::from(o[i]) > end {
                        bad = true;
                        break;
                    }
                    i += usize::from(o[i]) - 1;
                }
                opt::TS => {
                    if i + 9 > end {
                        bad = true;
                        break;
                    }
                    if o[i] != 10 {
                        self.quirks |= quirk::OPT_BAD;
                    }
                    self.ts1 = u32::from_be_bytes([o[i + 1], o[i + 2], o[i + 3], o[i + 4]]);
                    if self.ts1 == 0 {
                        self.quirks |= quirk::OPT_ZERO_TS1;
                    }
                    if pure_syn && o[i + 5..i + 9].iter().any(|&b| b != 0) {
                        self.quirks |= quirk::OPT_NZ_TS2;
                    }
                    i += 9;
                }
                _ => {
                    if i == end || !(2..=40).contains(&o[i]) || i - 1 + usize::from(o[i]) > end {
                        bad = true;
                        break;
                    }
                    i += usize::from(o[i]) - 1;
                }
            }
        }
        if bad || i != end {
            self.quirks |= quirk::OPT_BAD;
        }
    }

    /// p0f's window multiple: the window as a multiple of the MSS (or of an
    /// MTU, `true`), trying its divisors in its order; `syn_mss` is the MSS
    /// of the SYN a SYN+ACK answers (0: none).
    fn win_multi(&self, syn_mss: u16) -> Option<(u16, bool)> {
        let win = u32::from(self.win);
        let mss = i64::from(self.mss);
        if win == 0 || mss < 100 {
            return None;
        }
        let mut divisors: Vec<(i64, bool)> = vec![(mss, false)];
        if self.ts1 != 0 {
            divisors.push((mss - 12, false));
        }
        divisors.push((1500 - 40, false));
        divisors.push((1500 - 52, false));
        if self.ver == 6 {
            divisors.push((1500 - 60, false));
            divisors.push((1500 - 72, false));
        }
        divisors.push((mss + 40, true));
        divisors.push((mss + i64::from(self.tot_hdr), true));
        if self.ver == 6 {
            divisors.push((mss + 60, true));
        }
        divisors.push((1500, true));
        if syn_mss != 0 {
            divisors.push((i64::from(syn_mss), false));
            divisors.push((i64::from(syn_mss) - 12, false));
        }
        for (d, mtu) in divisors {
            // p0f divides as unsigned: a divisor at or below zero never divides.
            if d > 0 && i64::from(win) % d == 0 {
                return Some(((i64::from(win) / d) as u16, mtu));
            }
        }
        None
    }
}

/// How a signature matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// Index in the section's signatures.
    pub sig: usize,
    /// Its label in [`Database::labels`].
    pub label: usize,
    /// A `g:` signature.
    pub generic: bool,
    /// Only a fuzzy match.
    pub fuzzy: bool,
}

/// p0f's distance guess for a TTL: to the next of 32, 64, 128, 255.
pub fn guess_dist(ttl: u8) -> u8 {
    match ttl {
        0..=32 => 32 - ttl,
        33..=64 => 64 - ttl,
        65..=128 => 128 - ttl,
        _ => 255 - ttl,
    }
}

impl Database {
    /// The signature a SYN (`request`) or SYN+ACK matches, and the hop distance.
    pub fn find(&self, request: bool, p: &PacketSig, syn_mss: u16) -> (Option<Match>, u8) {
        let sigs = if request { &self.request } else { &self.response };
        let multi = p.win_multi(syn_mss);
        let mut generic: Option<usize> = None;
        let mut fuzzy: Option<usize> = None;
        for (i, s) in sigs.iter().enumerate() {
            if s.layout != p.layout {
                continue;
            }
            let mut is_fuzzy = false;
            let mut quirks = s.quirks;
            if s.ver.is_none() {
                quirks &= if p.ver == 4 { !quirk::FLOW } else { !(quirk::DF | quirk::NZ_ID | quirk::ZERO_ID) };
            }
            if quirks != p.quirks {
                let deleted = (quirks ^ p.quirks) & quirks;
                let added = (quirks ^ p.quirks) & p.quirks;
                if fuzzy.is_some() || deleted & !(quirk::DF | quirk::NZ_ID) != 0 || added & !(quirk::ZERO_ID | quirk::ECN) != 0 {
                    continue;
                }
                is_fuzzy = true;
            }
            if s.eol_pad != p.eol_pad || s.olen != p.olen {
                continue;
            }
            if s.bad_ttl {
                if s.ttl < p.ttl {
                    continue;
                }
            } else if s.ttl < p.ttl || s.ttl - p.ttl > MAX_DIST {
                is_fuzzy = true;
            }
            if s.mss.is_some_and(|m| m != p.mss) || s.scale.is_some_and(|w| w != p.wscale) || s.pclass.is_some_and(|c| c != p.payload) {
                continue;
            }
            let fits = match s.win {
                Window::Any => true,
                Window::Exact(w) => w == p.win,
                Window::Modulo(m) => m != 0 && p.win % m == 0,
                Window::Mss(n) => multi.is_some_and(|(k, mtu)| !mtu && k == n),
                Window::Mtu(n) => multi.is_some_and(|(k, mtu)| mtu && k == n),
            };
            if !fits {
                continue;
            }
            let generic_sig = self.labels[s.label].generic;
            if !is_fuzzy {
                if !generic_sig {
                    let m = Match { sig: i, label: s.label, generic: false, fuzzy: false };
                    return (Some(m), s.ttl - p.ttl);
                }
                generic.get_or_insert(i);
            } else {
                fuzzy.get_or_insert(i);
            }
        }
        if let Some(i) = generic {
            let s = &sigs[i];
            return (Some(Match { sig: i, label: s.label, generic: true, fuzzy: false }), s.ttl.wrapping_sub(p.ttl));
        }
        let Some(i) = fuzzy else { return (None, guess_dist(p.ttl)) };
        let s = &sigs[i];
        if self.labels[s.label].class.is_none() {
            // No fuzzy matches for userland tools.
            return (None, guess_dist(p.ttl));
        }
        let dist = if s.ttl < p.ttl || (!s.bad_ttl && s.ttl - p.ttl > MAX_DIST) { guess_dist(p.ttl) } else { s.ttl - p.ttl };
        (Some(Match { sig: i, label: s.label, generic: self.labels[s.label].generic, fuzzy: true }), dist)
    }
}

/// The settings of passive fingerprinting.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The loaded database (`passive_fingerprint_file`); `None`: none could be read.
    pub db: Option<std::sync::Arc<Database>>,
    /// `generate_OS_version_event`: hosts whose fingerprints raise
    /// `OS_version_found` (empty: every host).
    pub hosts: HashSet<IpAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "\
[tcp:request]
label = s:unix:Linux:3.11 and newer
sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0
label = g:unix:Linux:2.2.x-3.x
sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0
label = s:win:Windows:7 or 8
sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0
label = s:!:NMap:SYN scan
sig   = *:64-:0:1460:1024,0:mss::0
[tcp:response]
label = s:unix:Linux:3.x
sig   = *:64:0:*:mss*10,0:mss:df,id+:0
";

    /// An IPv4 header (DF, the given id and TTL) and a SYN with `opts`.
    fn syn(ttl: u8, id: u16, df: bool, win: u16, opts: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut ip = vec![0x45, 0, 0, 0, (id >> 8) as u8, id as u8, if df { 0x40 } else { 0 }, 0, ttl, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip[2..4].copy_from_slice(&((20 + 20 + opts.len()) as u16).to_be_bytes());
        let doff = (20 + opts.len()) / 4;
        let mut tcp = vec![0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, (doff << 4) as u8, 0x02, (win >> 8) as u8, win as u8, 0, 0, 0, 0];
        tcp.extend_from_slice(opts);
        (ip, tcp)
    }

    /// mss 1460, sok, ts (1, 0), nop, ws 7.
    const LINUX_OPTS: [u8; 20] = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];

    fn label_of(db: &Database, m: Option<Match>) -> Option<String> {
        m.map(|m| db.labels[m.label].text())
    }

    #[test]
    fn reads_a_linux_syn_and_matches_it() {
        let db = Database::parse(DB).unwrap();
        assert_eq!((db.request.len(), db.response.len()), (4, 1));
        let (ip, tcp) = syn(57, 0x1234, true, 29200, &LINUX_OPTS);
        let p = PacketSig::from_headers(&ip, &tcp, 0).unwrap();
        assert_eq!(p.layout, [2, 4, 8, 1, 3]);
        assert_eq!((p.mss, p.wscale, p.ts1, p.quirks), (1460, 7, 1, quirk::DF | quirk::NZ_ID));
        // 29200 = 20 * 1460, scale 7: the specific signature wants scale 10, so the generic one.
        let (m, dist) = db.find(true, &p, 0);
        assert_eq!(label_of(&db, m).as_deref(), Some("Linux 2.2.x-3.x"));
        assert!(m.unwrap().generic && !m.unwrap().fuzzy);
        assert_eq!(dist, 7);
        let mut opts = LINUX_OPTS;
        opts[19] = 10;
        let (ip, tcp) = syn(64, 7, true, 29200, &opts);
        let (m, dist) = db.find(true, &PacketSig::from_headers(&ip, &tcp, 0).unwrap(), 0);
        assert_eq!(label_of(&db, m).as_deref(), Some("Linux 3.11 and newer"));
        assert_eq!(dist, 0);
    }

    #[test]
    fn fuzzy_ttl_and_quirks_and_no_fuzzy_tools() {
        let db = Database::parse(DB).unwrap();
        let mut opts = LINUX_OPTS;
        opts[19] = 10;
        // TTL 20 is more than 35 hops below 64: fuzzy, distance guessed.
        let (ip, tcp) = syn(20, 7, true, 29200, &opts);
        let (m, dist) = db.find(true, &PacketSig::from_headers(&ip, &tcp, 0).unwrap(), 0);
        assert!(m.unwrap().fuzzy);
        assert_eq!(dist, 12);
        // id+ gone (id 0 with DF) is a fuzzy match; a new quirk (urg ptr) is none.
        let (ip, tcp) = syn(64, 0, true, 29200, &opts);
        let (m, _) = db.find(true, &PacketSig::from_headers(&ip, &tcp, 0).unwrap(), 0);
        assert!(m.unwrap().fuzzy);
        let (ip, mut tcp) = syn(64, 7, true, 29200, &opts);
        tcp[19] = 1;
        assert_eq!(db.find(true, &PacketSig::from_headers(&ip, &tcp, 0).unwrap(), 0).0, None);
        // NMap's random TTL: anything at or below 64 matches, above does not; never fuzzy.
        let (ip, tcp) = syn(40, 0, false, 1024, &[2, 4, 0x05, 0xb4]);
        let p = PacketSig::from_headers(&ip, &tcp, 0).unwrap();
        assert_eq!(p.quirks, quirk::ZERO_ID);
        assert_eq!(db.find(true, &p, 0).0, None, "id- appearing would be fuzzy, and tools get no fuzzy match");
        let (ip, tcp) = syn(40, 9, false, 1024, &[2, 4, 0x05, 0xb4]);
        let (m, _) = db.find(true, &PacketSig::from_headers(&ip, &tcp, 0).unwrap(), 0);
        assert_eq!(label_of(&db, m).as_deref(), Some("NMap SYN scan"));
        let (ip, tcp) = syn(70, 9, false, 1024, &[2, 4, 0x05, 0xb4]);
        assert_eq!(db.find(true, &PacketSig::from_headers(&ip, &tcp, 0).unwrap(), 0).0, None);
    }

    #[test]
    fn window_multiples_and_responses() {
        let db = Database::parse(DB).unwrap();
        // A SYN+ACK whose window is 10 times the SYN's MSS but not its own.
        let (ip, mut tcp) = syn(64, 3, true, 10000, &[2, 4, 0x05, 0x78]);
        tcp[13] = 0x12;
        tcp[8..12].copy_from_slice(&1u32.to_be_bytes());
        let p = PacketSig::from_headers(&ip, &tcp, 0).unwrap();
        assert_eq!(p.mss, 1400);
        assert_eq!(db.find(false, &p, 0).0, None);
        let (m, _) = db.find(false, &p, 1000);
        assert_eq!(label_of(&db, m).as_deref(), Some("Linux 3.x"));
    }

    #[test]
    fn malformed_options_and_bad_files() {
        // An MSS option cut short, and bytes after EOL.
        let (ip, tcp) = syn(64, 1, true, 100, &[1, 1, 2, 4]);
        assert_ne!(PacketSig::from_headers(&ip, &tcp, 0).unwrap().quirks & quirk::OPT_BAD, 0);
        let (ip, tcp) = syn(64, 1, true, 100, &[0, 0, 7, 0]);
        let p = PacketSig::from_headers(&ip, &tcp, 0).unwrap();
        assert_eq!((p.layout.as_slice(), p.eol_pad), (&[0u8][..], 3));
        assert_ne!(p.quirks & quirk::OPT_EOL_NZ, 0);
        assert!(Database::parse("[tcp:request]\nlabel = s:unix:X:1\nsig = *:64:0:*:*,*:mss:nope:0\n").unwrap_err().contains("nope"));
        assert!(Database::parse("[tcp:request]\nsig = *:64:0:*:*,*:mss::0\n").is_err());
    }

    #[test]
    fn reads_the_installed_database() {
        let Ok(db) = Database::load(Path::new(DEFAULT_FILE)) else {
            eprintln!("skipped: {DEFAULT_FILE} absent (install the p0f package)");
            return;
        };
        assert!(db.request.len() > 50 && db.response.len() > 20, "{} {}", db.request.len(), db.response.len());
    }
}
