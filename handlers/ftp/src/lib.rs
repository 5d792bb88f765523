//! The standard ftp.log handler: Zeek's `base/protocols/ftp` scripts.
//!
//! Each command waits in the connection's pending commands (at most
//! `FTP::max_pending_commands`, 20; the greeting answers a shim `<init>`
//! command); a reply goes to the pending command that fits it best (its
//! code expected for the command by `FTP::cmd_reply_code`, 500 fitting any,
//! then the command or its argument named in the reply text, then the
//! oldest). A command and its reply are one record, written when the next
//! command comes (or at once when more commands are pending, or when the
//! connection is removed), if the command is one of `FTP::logged_commands`;
//! a session that logged none but had a user writes one record at its end.
//! File commands log their argument as an `ftp://` URL built from the
//! working directory (CWD, CDUP, PWD replies). The password is kept only
//! for guest users (`FTP::guest_ids`) unless `FTP::default_capture_password`,
//! otherwise written `<hidden>`.
//!
//! PORT and EPRT commands and 227 / 229 replies to PASV and EPSV announce
//! data connections: they fill `data_channel` and schedule the `FTP_DATA`
//! analyzer for five minutes (`Analyzer::schedule_analyzer`), so the data
//! connection's service is `ftp-data`. A data connection's bytes are a file
//! (`FTP::get_file_handle` names it): its id becomes the announcing
//! session's `fuid` and its sniffed type the `mime_type`, both logged with
//! the session's next record (the transfer command's). The weirds Zeek's scripts raise here (`FTP_user_too_long`,
//! `FTP_too_many_pending_commands`, ...) are not raised: a handler cannot
//! raise weirds.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{AnalyzerTag, Connection, FaFile, FaMetadata, IpAddress, Port, Transport};
use weir_guest::{analyzers, files, ip, runtime, ConnStates, Handler, Stream};

static FTP: Stream = Stream::new(
    "ftp",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("user", T::String),
        ("password", T::String),
        ("command", T::String),
        ("arg", T::String),
        ("mime_type", T::String),
        ("file_size", T::Count),
        ("reply_code", T::Count),
        ("reply_msg", T::String),
        ("data_channel.passive", T::Bool),
        ("data_channel.orig_h", T::Addr),
        ("data_channel.resp_h", T::Addr),
        ("data_channel.resp_p", T::Port),
        ("fuid", T::String),
    ],
);

/// The options this handler reads (docs/options.md), once.
struct Options {
    /// `FTP::logged_commands`.
    logged_commands: Vec<String>,
    /// `FTP::guest_ids`.
    guest_ids: Vec<String>,
    /// `FTP::default_capture_password`.
    capture_password: bool,
    /// `FTP::max_user_length`, `max_password_length`, `max_arg_length`, `max_reply_msg_length`.
    max_user_length: usize,
    max_password_length: usize,
    max_arg_length: usize,
    max_reply_msg_length: usize,
}

/// The options, read once.
fn options() -> &'static Options {
    static OPTIONS: std::sync::OnceLock<Options> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| {
        use weir_guest::options::{count, flag, set};
        let len = |name| count(name).map_or(usize::MAX, |n| n as usize);
        Options {
            logged_commands: set("FTP::logged_commands"),
            guest_ids: set("FTP::guest_ids"),
            capture_password: flag("FTP::default_capture_password"),
            max_user_length: len("FTP::max_user_length"),
            max_password_length: len("FTP::max_password_length"),
            max_arg_length: len("FTP::max_arg_length"),
            max_reply_msg_length: len("FTP::max_reply_msg_length"),
        }
    })
}

/// `FTP::max_pending_commands`.
const MAX_PENDING_COMMANDS: usize = 20;
/// `FTP::max_expected_data_channels`.
const MAX_EXPECTED_DATA_CHANNELS: usize = 100_000;
/// `FTP::log_at_least_one_command`.
const LOG_AT_LEAST_ONE_COMMAND: bool = true;
/// How long an expected data connection is waited for (5 min).
const DATA_CHANNEL_TIMEOUT: f64 = 300.0;
/// Connections with FTP state at once; past it further ones are not logged.
const MAX_TRACKED: usize = 200_000;

/// Commands whose argument is a file name (logged as a URL).
const FILE_CMDS: &[&str] = &["APPE", "CWD", "DELE", "MKD", "RETR", "RMD", "RNFR", "RNTO", "STOR", "STOU", "REST", "SIZE", "MDTM"];

/// `FTP::cmd_reply_code`: the replies RFC 959 and its extensions expect per command.
const CMD_REPLY_CODE: &[(&str, &[u64])] = &[
    ("<init>", &[120, 220, 421, 0]),
    ("USER", &[230, 331, 332, 421, 530, 500, 501]),
    ("PASS", &[230, 202, 332, 421, 530, 500, 501, 503]),
    ("ACCT", &[230, 202, 421, 530, 500, 501, 503]),
    ("CWD", &[250, 421, 500, 501, 502, 530, 550]),
    ("CDUP", &[200, 250, 421, 500, 501, 502, 530, 550]),
    ("SMNT", &[202, 250, 421, 500, 501, 502, 530, 550]),
    ("REIN", &[120, 220, 421, 500, 502]),
    ("QUIT", &[221, 500, 0]),
    ("PORT", &[200, 421, 500, 501, 530]),
    ("PASV", &[227, 421, 500, 501, 502, 530]),
    ("MODE", &[200, 421, 500, 501, 502, 504, 530]),
    ("TYPE", &[200, 421, 500, 501, 504, 530]),
    ("STRU", &[200, 421, 500, 501, 504, 530]),
    ("ALLO", &[200, 202, 421, 500, 501, 504, 530]),
    ("REST", &[200, 350, 421, 500, 501, 502, 530]),
    ("STOR", &[110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501, 530, 550]),
    ("STOU", &[110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501, 530, 550]),
    ("RETR", &[110, 125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 530, 550]),
    ("LIST", &[125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550]),
    ("NLST", &[125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550]),
    ("APPE", &[125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 550, 452, 553, 500, 501, 502, 530]),
    ("RNFR", &[350, 421, 450, 550, 500, 501, 502, 530]),
    ("RNTO", &[250, 421, 532, 553, 500, 501, 502, 503, 530]),
    ("DELE", &[250, 421, 450, 550, 500, 501, 502, 530]),
    ("RMD", &[250, 421, 500, 501, 502, 530, 550]),
    ("MKD", &[257, 421, 500, 501, 502, 530, 550]),
    ("PWD", &[257, 421, 500, 501, 502, 550]),
    ("ABOR", &[225, 226, 421, 500, 501, 502]),
    ("SYST", &[215, 421, 500, 501, 502, 530]),
    ("STAT", &[211, 212, 213, 421, 450, 500, 501, 502, 530]),
    ("HELP", &[200, 211, 214, 421, 500, 501, 502]),
    ("SITE", &[200, 202, 214, 500, 501, 502, 530]),
    ("NOOP", &[200, 421, 500]),
    ("LPRT", &[500, 501, 521]),
    ("FEAT", &[211, 500, 502]),
    ("OPTS", &[200, 451, 501]),
    ("EPSV", &[229, 500, 501]),
    ("EPRT", &[200, 500, 501, 522]),
    ("SIZE", &[213, 500, 501, 550]),
    ("MDTM", &[213, 500, 501, 550]),
    ("MLST", &[150, 226, 250, 500, 501, 550]),
    ("MLSD", &[150, 226, 250, 500, 501, 550]),
    ("CLNT", &[200, 500]),
    ("MACB", &[200, 500, 550]),
    ("<missing>", &[0]),
];

/// `FTP::CmdArg`: one command waiting for its reply.
#[derive(Clone, Debug, PartialEq)]
struct CmdArg {
    ts: f64,
    cmd: String,
    arg: String,
    seq: u64,
    cwd_consumed: bool,
}

/// `FTP::ExpectedDataChannel`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Channel {
    passive: bool,
    orig_h: IpAddr,
    resp_h: IpAddr,
    resp_p: u16,
}

/// `FTP::Info`: the session and the record being built.
struct Info {
    conn: Connection,
    ts: f64,
    user: String,
    password: Option<String>,
    command: Option<String>,
    arg: Option<String>,
    file_size: Option<u64>,
    reply_code: Option<u64>,
    reply_msg: Option<String>,
    data_channel: Option<Channel>,
    cwd: String,
    cmdarg: Option<CmdArg>,
    pending: BTreeMap<u64, CmdArg>,
    command_seq: u64,
    passive: bool,
    logged_command_seen: bool,
    /// The type file analysis found for the data connection's file.
    mime_type: Option<String>,
    /// The data connection's file.
    fuid: Option<String>,
}

thread_local! {
    static STATES: RefCell<ConnStates<Info>> = const {
        RefCell::new(ConnStates::new(MAX_TRACKED, "ftp", "connections with FTP state at once; further ones are not logged"))
    };
    /// Expected data connections by responder and port: when they were
    /// announced, and the uid of the control connection that announced them.
    static EXPECTED: RefCell<HashMap<(IpAddr, u16), (f64, String)>> = RefCell::new(HashMap::new());
    /// Files of data connections: the control connection's uid, by file id.
    static FILE_SESSIONS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

fn wit_ip(a: IpAddr) -> IpAddress {
    match a {
        IpAddr::V4(v) => {
            let [a, b, c, d] = v.octets();
            IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
    }
}

fn tcp(p: u16) -> Port {
    Port { number: p, proto: Transport::Tcp }
}

/// `s` cut to at most `n` bytes (at a character boundary).
fn cut(s: &str, n: usize) -> String {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    s[..n].to_string()
}

/// Runs `f` on the session of `c`, made on first use (`FTP::set_ftp_session`).
fn with_session<R>(c: &Connection, f: impl FnOnce(&mut Info) -> R) -> Option<R> {
    let init = || {
        let now = runtime::network_time();
        let mut pending = BTreeMap::new();
        pending.insert(1, CmdArg { ts: now, cmd: "<init>".into(), arg: String::new(), seq: 1, cwd_consumed: false });
        Info {
            conn: c.clone(),
            ts: now,
            user: "<unknown>".into(),
            password: None,
            command: None,
            arg: None,
            file_size: None,
            reply_code: None,
            reply_msg: None,
            data_channel: None,
            cwd: ".".into(),
            cmdarg: None,
            pending,
            command_seq: 1,
            passive: false,
            logged_command_seen: false,
            mime_type: None,
            fuid: None,
        }
    };
    STATES.with(|s| s.borrow_mut().with(&c.uid, init, f))
}

fn should_hide_password(s: &Info) -> bool {
    let o = options();
    !o.capture_password && !o.guest_ids.iter().any(|g| *g == s.user.to_lowercase())
}

fn opt_s(v: &Option<String>) -> V {
    v.clone().map_or(V::Unset, V::String)
}

fn write(s: &Info) {
    let c = &s.conn;
    let dc = s.data_channel;
    FTP.write_conn(s.ts, &c.uid, &c.id, &[
        V::String(s.user.clone()),
        opt_s(&s.password),
        opt_s(&s.command),
        opt_s(&s.arg),
        opt_s(&s.mime_type),
        s.file_size.map_or(V::Unset, V::Count),
        s.reply_code.map_or(V::Unset, V::Count),
        opt_s(&s.reply_msg),
        dc.map_or(V::Unset, |d| V::Bool(d.passive)),
        dc.map_or(V::Unset, |d| V::Addr(wit_ip(d.orig_h))),
        dc.map_or(V::Unset, |d| V::Addr(wit_ip(d.resp_h))),
        dc.map_or(V::Unset, |d| V::Port(tcp(d.resp_p))),
        opt_s(&s.fuid),
    ]);
}

/// `FTP::ftp_message`: the current command and its reply as a record.
fn ftp_message(s: &mut Info) {
    let Some(ca) = s.cmdarg.clone() else { return };
    s.ts = ca.ts;
    s.command = Some(ca.cmd.clone());
    let mut arg = ca.arg.clone();
    if FILE_CMDS.contains(&ca.cmd.as_str()) {
        arg = build_url_ftp(ip(&s.conn.id.resp_h), &s.cwd, &arg);
    }
    if arg.len() > options().max_arg_length {
        arg = cut(&arg, options().max_arg_length);
    }
    if let Some(m) = &s.reply_msg {
        if m.len() > options().max_reply_msg_length {
            s.reply_msg = Some(cut(m, options().max_reply_msg_length));
        }
    }
    if ca.cmd == "PASS" && should_hide_password(s) {
        arg = "<hidden>".into();
    }
    s.arg = (!arg.is_empty()).then_some(arg);
    if s.password.is_some() && should_hide_password(s) {
        s.password = Some("<hidden>".into());
    }
    if options().logged_commands.contains(&ca.cmd) {
        write(s);
        s.logged_command_seen = true;
    }
    s.mime_type = None;
    s.file_size = None;
    s.data_channel = None;
    s.fuid = None;
}

/// `FTP::add_expected_data_channel`.
fn add_expected_data_channel(s: &mut Info, chan: Channel) {
    let now = runtime::network_time();
    let room = EXPECTED.with(|e| {
        let mut e = e.borrow_mut();
        e.retain(|_, (t, _)| now - *t < DATA_CHANNEL_TIMEOUT);
        let key = (chan.resp_h, chan.resp_p);
        if !e.contains_key(&key) && e.len() >= MAX_EXPECTED_DATA_CHANNELS {
            return false;
        }
        e.insert(key, (now, s.conn.uid.clone()));
        true
    });
    if !room {
        return;
    }
    s.passive = chan.passive;
    s.data_channel = Some(chan);
    let tag = AnalyzerTag { name: "FTP_DATA".into() };
    analyzers::schedule_analyzer(wit_ip(chan.orig_h), wit_ip(chan.resp_h), tcp(chan.resp_p), &tag, DATA_CHANNEL_TIMEOUT);
}

/// `FTP::get_pending_cmd`: the pending command that fits a reply best.
fn get_pending_cmd(pending: &BTreeMap<u64, CmdArg>, code: u64, msg: &str) -> Option<CmdArg> {
    let mut best: Option<(i64, &CmdArg)> = None;
    for ca in pending.values() {
        let mut score = 0;
        if code == 500 || CMD_REPLY_CODE.iter().any(|(c, codes)| *c == ca.cmd && codes.contains(&code)) {
            score += 100;
        }
        if msg.contains(ca.cmd.as_str()) {
            score += 20;
        }
        if msg.contains(ca.arg.as_str()) {
            score += 10;
        }
        // Ties go to the oldest (pending is in sequence order).
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, ca));
        }
    }
    best.map(|(_, ca)| ca.clone())
}

/// Whether a continued reply line looks like a reply of its own
/// (`^[1-9][0-9]{2} [[:print:]]{10}`).
fn looks_like_reply(msg: &str) -> bool {
    let b = msg.as_bytes();
    b.len() >= 14
        && (b'1'..=b'9').contains(&b[0])
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b' '
        && b[4..14].iter().all(|c| (0x20..0x7f).contains(c))
}

/// `extract_count(s, F)`: the last run of digits, 0 if none.
fn extract_last_count(s: &str) -> u64 {
    let b = s.as_bytes();
    let Some(end) = b.iter().rposition(|c| c.is_ascii_digit()) else { return 0 };
    let start = b[..end].iter().rposition(|c| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    s[start..=end].parse().unwrap_or(0)
}

/// `extract_path`: the first path in `s` (from `/` or a drive letter, up to
/// a blank or quote; `\ ` is kept), or the empty string.
fn extract_path(s: &str) -> String {
    let b = s.as_bytes();
    let start = (0..b.len()).find(|&i| {
        b[i] == b'/' || (b[i].is_ascii_alphabetic() && b.get(i + 1) == Some(&b':') && matches!(b.get(i + 2), Some(b'\\' | b'/')))
    });
    let Some(start) = start else { return String::new() };
    let mut i = if b[start] == b'/' { start + 1 } else { start + 3 };
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b' ') {
            i += 2;
        } else if b[i] != b'"' && b[i] != b' ' {
            i += 1;
        } else {
            break;
        }
    }
    String::from_utf8_lossy(&b[start..i]).into_owned()
}

/// Whether `f` is an absolute path (`/...` or `X:\...`, `X:/...`).
fn is_absolute(f: &str) -> bool {
    let b = f.as_bytes();
    b.first() == Some(&b'/') || (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
}

/// `build_path_compressed`.
fn build_path_compressed(dir: &str, file: &str) -> String {
    let sep = if dir.ends_with('/') { "" } else { "/" };
    let p = if is_absolute(file) || dir.is_empty() { file.to_string() } else { format!("{dir}{sep}{file}") };
    compress_path(&p)
}

/// `compress_path`: `..` removes its parent, empty and `.` parts go.
fn compress_path(path: &str) -> String {
    if !path.contains("/.") && !path.contains("//") {
        return if path.len() > 1 && path.ends_with('/') { path[..path.len() - 1].to_string() } else { path.to_string() };
    }
    let mut out = String::from(if path.starts_with('/') { "/" } else { "" });
    let mut parts: Vec<&str> = Vec::new();
    for (i, comp) in path.split('/').enumerate() {
        if comp.is_empty() || (comp == "." && i != 0) {
            continue;
        }
        parts.push(comp);
        if comp == ".." {
            let cur = parts.len() - 1;
            if cur != 0 {
                let last = parts[cur - 1];
                if last == "/" || last == "~" || last == ".." {
                    continue;
                }
                if last == "." {
                    parts[cur - 1] = "..";
                    parts.pop();
                } else {
                    parts.pop();
                    parts.pop();
                }
            }
        }
    }
    for p in parts {
        out.push_str(p);
        out.push('/');
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

/// `FTP::build_url_ftp`.
fn build_url_ftp(resp_h: IpAddr, cwd: &str, arg: &str) -> String {
    let mut p = build_path_compressed(cwd, arg);
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    match resp_h {
        IpAddr::V4(a) => format!("ftp://{a}{p}"),
        IpAddr::V6(a) => format!("ftp://[{a}]{p}"),
    }
}

/// C's `strtol` in base 10: the value and the bytes it used (0 when none).
fn strtol(b: &[u8]) -> (i64, usize) {
    let mut i = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let neg = matches!(b.get(i), Some(b'-'));
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let start = i;
    let mut v: i64 = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    (if neg { -v } else { v }, i)
}

/// An `ftp_port`: address, port and whether it parsed.
type FtpPort = (IpAddr, u16, bool);

/// `parse_ftp_port`: `h1,h2,h3,h4,p1,p2`.
fn parse_ftp_port(s: &[u8]) -> FtpPort {
    let bad = (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, false);
    if s.len() < 11 {
        return bad;
    }
    let mut v = [0i64; 6];
    let mut rest = s;
    for (k, slot) in v.iter_mut().enumerate() {
        let (n, used) = strtol(rest);
        if used == 0 {
            return bad;
        }
        *slot = n;
        rest = &rest[used..];
        if k < 5 {
            if rest.first() != Some(&b',') {
                return bad;
            }
            rest = &rest[1..];
        }
    }
    if v.iter().any(|&b| !(0..=255).contains(&b)) {
        return (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, false);
    }
    let a = Ipv4Addr::new(v[0] as u8, v[1] as u8, v[2] as u8, v[3] as u8);
    (IpAddr::V4(a), ((v[4] as u16) << 8) | v[5] as u16, true)
}

/// `parse_ftp_pasv`: the six numbers of a 227 reply.
fn parse_ftp_pasv(s: &str) -> FtpPort {
    let b = s.as_bytes();
    let start = if let Some(i) = s.find('(') {
        i + 1
    } else if let Some(i) = s.find("PORT") {
        i + 5
    } else if let Some(i) = s.find(',') {
        b[..i].iter().rposition(|c| !c.is_ascii_digit()).map_or(0, |j| j + 1)
    } else {
        return parse_ftp_port(b"");
    };
    if start > b.len() {
        return parse_ftp_port(b"");
    }
    parse_ftp_port(&b[start..])
}

/// `parse_eftp_port` (EPRT `|proto|addr|port|`) and the body of
/// `parse_ftp_epsv`; `None` input is a missing `(`.
fn parse_eftp(line: Option<&[u8]>) -> FtpPort {
    let unspec = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let Some(l) = line else { return (unspec, 0, false) };
    let mut i = l.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(l.len());
    let (mut addr, mut port, mut good) = (unspec, 0i64, false);
    if let Some(&delim) = l.get(i) {
        good = true;
        i += 1;
        let (_, used) = strtol(&l[i..]);
        let next = i + used;
        if l.get(next) != Some(&delim) {
            good = false;
        }
        i = next;
        if i < l.len() {
            i += 1;
        }
        if i < l.len() && l[i] != delim {
            let end = l[i..].iter().position(|&c| c == delim).map_or(l.len(), |j| i + j);
            let parsed = std::str::from_utf8(&l[i..end]).ok().and_then(|s| s.parse::<IpAddr>().ok());
            good = parsed.is_some();
            if let Some(a) = parsed {
                addr = a;
            }
        }
        if let Some(j) = l[i.min(l.len())..].iter().position(|&c| c == delim) {
            let at = i + j + 1;
            let (p, used) = strtol(&l[at..]);
            if l.get(at + used) != Some(&delim) {
                good = false;
            }
            port = p;
            if !(0..=65535).contains(&port) {
                port = 0;
                good = false;
            }
        }
    }
    (addr, port as u16, good)
}

/// `parse_ftp_epsv`: what follows the `(` of a 229 reply.
fn parse_ftp_epsv(s: &str) -> FtpPort {
    parse_eftp(s.find('(').map(|i| &s.as_bytes()[i + 1..]))
}

struct Ftp;

impl Handler for Ftp {
    fn ftp_request(c: Connection, command: String, arg: String) {
        with_session(&c, |s| {
            if let (Some(ca), Some(_)) = (s.cmdarg.clone(), s.reply_code) {
                if s.pending.remove(&ca.seq).is_some() {
                    ftp_message(s);
                }
            }
            if s.pending.len() < MAX_PENDING_COMMANDS {
                s.command_seq += 1;
                let seq = s.command_seq;
                let ca = CmdArg { ts: runtime::network_time(), cmd: command.clone(), arg: arg.clone(), seq, cwd_consumed: false };
                s.pending.insert(seq, ca);
            }
            match command.as_str() {
                "USER" => s.user = cut(&arg, options().max_user_length),
                "PASS" => s.password = Some(cut(&arg, options().max_password_length)),
                "PORT" | "EPRT" => {
                    let (h, p, valid) = if command == "PORT" { parse_ftp_port(arg.as_bytes()) } else { parse_eftp(Some(arg.as_bytes())) };
                    if valid {
                        let orig_h = ip(&c.id.resp_h);
                        add_expected_data_channel(s, Channel { passive: false, orig_h, resp_h: h, resp_p: p });
                    }
                }
                _ => {}
            }
        });
    }

    fn ftp_reply(c: Connection, code: u64, msg: String, cont_resp: bool) {
        with_session(&c, |s| {
            if cont_resp && code == 0 && s.reply_code.is_some() && !looks_like_reply(&msg) {
                return;
            }
            s.cmdarg = get_pending_cmd(&s.pending, code, &msg);
            s.reply_code = Some(code);
            s.reply_msg = Some(msg.clone());
            if cont_resp {
                return;
            }
            let Some(ca) = s.cmdarg.clone() else { return };
            if (code == 150 && ca.cmd == "RETR") || (code == 213 && ca.cmd == "SIZE") {
                s.file_size = Some(extract_last_count(&msg));
            } else if (code == 227 || code == 229) && (ca.cmd == "PASV" || ca.cmd == "EPSV") {
                let (mut h, p, valid) = if code == 227 { parse_ftp_pasv(&msg) } else { parse_ftp_epsv(&msg) };
                if valid {
                    s.passive = true;
                    if code == 229 && h == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
                        h = ip(&c.id.resp_h);
                    }
                    let orig_h = ip(&c.id.orig_h);
                    add_expected_data_channel(s, Channel { passive: true, orig_h, resp_h: h, resp_p: p });
                }
            }
            let dir_cmd = matches!((ca.cmd.as_str(), code), ("CWD", 250) | ("CDUP", 200 | 250) | ("PWD" | "XPWD", 257));
            if dir_cmd && !ca.cwd_consumed {
                if let Some(x) = s.cmdarg.as_mut() {
                    x.cwd_consumed = true;
                }
                if let Some(x) = s.pending.get_mut(&ca.seq) {
                    x.cwd_consumed = true;
                }
                match ca.cmd.as_str() {
                    "CWD" => s.cwd = build_path_compressed(&s.cwd, &ca.arg),
                    "CDUP" => s.cwd = build_path_compressed(&s.cwd, "/.."),
                    _ => s.cwd = extract_path(&msg),
                }
            }
            if s.pending.len() > 1 {
                s.pending.remove(&ca.seq);
                ftp_message(s);
            }
        });
    }

    fn get_file_handle(tag: AnalyzerTag, c: Connection, is_orig: bool) {
        if tag.name != "FTP_DATA" || expected_session(&c).is_none() {
            return;
        }
        let (id, t) = (&c.id, if is_orig { "T" } else { "F" });
        files::set_file_handle(&format!(
            "Analyzer::ANALYZER_FTP_DATA{:.6}[orig_h={}, orig_p={}/tcp, resp_h={}, resp_p={}/tcp]{t}",
            c.start_time,
            ip(&id.orig_h),
            id.orig_p.number,
            ip(&id.resp_h),
            id.resp_p.number
        ));
    }

    fn file_over_new_connection(f: FaFile, c: Connection, _is_orig: bool) {
        let Some(uid) = expected_session(&c) else { return };
        STATES.with(|st| {
            if let Some(s) = st.borrow_mut().get_mut(&uid) {
                s.fuid = Some(f.id.clone());
            }
        });
        FILE_SESSIONS.with(|m| m.borrow_mut().insert(f.id, uid));
    }

    fn file_sniff(f: FaFile, meta: FaMetadata) {
        let Some(mime) = meta.mime_type else { return };
        let Some(uid) = FILE_SESSIONS.with(|m| m.borrow().get(&f.id).cloned()) else { return };
        STATES.with(|st| {
            if let Some(s) = st.borrow_mut().get_mut(&uid) {
                s.mime_type = Some(mime);
            }
        });
    }

    fn file_state_remove(f: FaFile) {
        FILE_SESSIONS.with(|m| m.borrow_mut().remove(&f.id));
    }

    fn connection_state_remove(c: Connection) {
        if c.service.iter().any(|x| x == "ftp-data") {
            let key = (ip(&c.id.resp_h), c.id.resp_p.number);
            EXPECTED.with(|e| e.borrow_mut().remove(&key));
        }
        let Some(mut s) = STATES.with(|st| st.borrow_mut().remove(&c.uid)) else { return };
        for ca in std::mem::take(&mut s.pending).into_values() {
            s.cmdarg = Some(ca);
            ftp_message(&mut s);
        }
        if !s.logged_command_seen && LOG_AT_LEAST_ONE_COMMAND {
            write(&s);
        }
    }
}

/// The uid of the control connection that announced data connection `c`
/// (`FTP::ftp_data_expected`).
fn expected_session(c: &Connection) -> Option<String> {
    let key = (ip(&c.id.resp_h), c.id.resp_p.number);
    EXPECTED.with(|e| e.borrow().get(&key).map(|(_, uid)| uid.clone()))
}

weir_guest::export_handler!(
    Ftp: ftp_request,
    ftp_reply,
    get_file_handle,
    file_over_new_connection,
    file_sniff,
    file_state_remove,
    connection_state_remove
);

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ports_and_passive_replies() {
        assert_eq!(parse_ftp_port(b"141,142,220,235,131,46"), (v4("141.142.220.235"), 33582, true));
        assert_eq!(parse_ftp_port(b"1,2,3,4,5"), (v4("0.0.0.0"), 0, false));
        assert_eq!(parse_ftp_port(b"1,2,3,4,5,256").2, false);
        assert_eq!(parse_ftp_port(b" 1, 2,3,4,0,21").1, 21, "blanks before numbers, as sscanf skips them");
        assert_eq!(parse_ftp_pasv("Entering Passive Mode (199,233,217,249,221,90)"), (v4("199.233.217.249"), 56666, true));
        assert_eq!(parse_ftp_pasv("Entering Passive Mode 10,0,0,1,4,1").1, 1025);
        assert_eq!(parse_ftp_pasv("no numbers").2, false);
        let unspec = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        assert_eq!(parse_ftp_epsv("Entering Extended Passive Mode (|||6446|)"), (unspec, 6446, true));
        assert_eq!(parse_ftp_epsv("Entering Extended Passive Mode").2, false);
        assert_eq!(parse_eftp(Some(b"|2|2001:db8::1|5282|")), ("2001:db8::1".parse().unwrap(), 5282, true));
        assert_eq!(parse_eftp(Some(b"|1|10.0.0.1|99999|")), (v4("10.0.0.1"), 0, false));
        assert_eq!(parse_eftp(Some(b"|1|nope|21|")).2, false);
    }

    #[test]
    fn paths_and_urls() {
        assert_eq!(build_url_ftp(v4("199.233.217.249"), ".", "robots.txt"), "ftp://199.233.217.249/./robots.txt");
        assert_eq!(build_url_ftp(v4("1.2.3.4"), "/pub", "../etc/x"), "ftp://1.2.3.4/etc/x");
        assert_eq!(build_url_ftp("::1".parse().unwrap(), "/", "/abs"), "ftp://[::1]/abs");
        assert_eq!(compress_path("/a/b/../c//d/./e/"), "/a/c/d/e");
        assert_eq!(compress_path("a/"), "a");
        assert_eq!(compress_path("./x/.."), ".");
        assert_eq!(build_path_compressed(".", "/.."), "/..");
        assert_eq!(extract_path("\"/home/user\" is current directory"), "/home/user");
        assert_eq!(extract_path("257 C:\\dir\\ x y"), "C:\\dir\\ x");
        assert_eq!(extract_path("nothing here"), "");
    }

    #[test]
    fn replies_find_their_command() {
        let ca = |seq: u64, cmd: &str, arg: &str| CmdArg { ts: 0.0, cmd: cmd.into(), arg: arg.into(), seq, cwd_consumed: false };
        let mut p = BTreeMap::new();
        p.insert(1, ca(1, "<init>", ""));
        p.insert(2, ca(2, "USER", "anonymous"));
        p.insert(3, ca(3, "PASS", "x"));
        assert_eq!(get_pending_cmd(&p, 220, "ready").unwrap().seq, 1);
        assert_eq!(get_pending_cmd(&p, 331, "Guest login ok for anonymous").unwrap().seq, 2);
        assert_eq!(get_pending_cmd(&p, 230, "welcome").unwrap().seq, 2, "a tie goes to the oldest");
        assert_eq!(get_pending_cmd(&p, 500, "bad PASS").unwrap().seq, 3);
        assert!(get_pending_cmd(&BTreeMap::new(), 200, "").is_none());
        assert!(looks_like_reply("226 Transfer complete."));
        assert!(!looks_like_reply("   File may not have transferred"));
        assert_eq!(extract_last_count("Opening BINARY mode data connection for robots.txt (77 bytes)."), 77);
        assert_eq!(extract_last_count("none"), 0);
        assert_eq!(cut("abcdef", 4), "abcd");
        assert_eq!(cut("aé", 2), "a");
    }
}
