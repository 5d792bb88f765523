//! IRC lines as Zeek's IRC analyzer reads them: each direction cut into
//! lines (CR, LF or CRLF; at most 1000 bytes), lines over 512 bytes
//! ignored, IRCv3 tags skipped, then the optional `:prefix`, a numeric
//! reply (three digits and a space) or a command, and its parameters. A
//! command or reply with an event of its own raises that event when a
//! handler takes it, and otherwise the generic `irc_request` (client) or
//! `irc_message` (server); numeric replies without one raise `irc_reply`.
//! Reply 670 (STARTTLS accepted) ends the line reading: what follows is TLS.

use super::Sink;
use crate::analyzers::http::content_line::{ContentLine, Piece};
use crate::events::{Event, EventKind as K, IrcJoinInfo};
use std::net::{IpAddr, Ipv4Addr};
use weir_events::text::from_bytes as text;

/// Longest line the splitter keeps (Zeek's IRC gives its content line
/// analyzers 1000).
const MAX_LINE: usize = 1000;
/// Longer lines are not parsed (RFC 2812 allows 512 bytes).
const MAX_PARSED: usize = 512;
/// Over-long commands tolerated before the protocol counts as violated.
const MAX_INVALID: u32 = 20;

/// The commands a client sends; the first of them confirms the protocol.
const CLIENT_COMMANDS: [&str; 53] = [
    "ADMIN", "AWAY", "CNOTICE", "CPRIVMSG", "CONNECT", "DIE", "ENCAP", "ERROR", "INFO", "INVITE", "ISON", "JOIN",
    "KICK", "KILL", "KNOCK", "LINKS", "LIST", "LUSERS", "MODE", "MOTD", "NAMES", "NICK", "NOTICE", "OPER", "PART",
    "PASS", "PING", "PONG", "PRIVMSG", "QUIT", "REHASH", "RULES", "SERVER", "SERVICE", "SERVLIST", "SETNAME",
    "SILENCE", "SQUERY", "SQUIT", "STATS", "SUMMON", "TIME", "TOPIC", "TRACE", "USER", "USERHOST", "USERS",
    "VERSION", "WALLOPS", "WHO", "WHOIS", "WHOWAS", "STARTTLS",
];

/// The line reader of one connection.
#[derive(Clone, Debug)]
pub struct Parser {
    cl: [ContentLine; 2],
    /// Reply 670 came: everything after it is TLS.
    pub starttls: bool,
    confirmed: bool,
    invalid: u32,
    /// Weirds of the line splitter already reported (once per connection).
    splitter_weirds: Vec<&'static str>,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            cl: [ContentLine::with_max_line(MAX_LINE), ContentLine::with_max_line(MAX_LINE)],
            starttls: false,
            confirmed: false,
            invalid: 0,
            splitter_weirds: Vec::new(),
        }
    }
}

/// `input` cut at `split`, empty words dropped (Zeek's `SplitWords`).
fn words(input: &[u8], split: u8) -> Vec<&[u8]> {
    input.split(|&c| c == split).filter(|w| !w.is_empty()).collect()
}

fn trim_start(s: &[u8]) -> &[u8] {
    let i = s.iter().position(|&c| c != b' ').unwrap_or(s.len());
    &s[i..]
}

fn strip(s: &[u8], c: u8) -> &[u8] {
    s.strip_prefix(&[c]).unwrap_or(s)
}

fn find(s: &[u8], c: u8) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// C's `atoi`: leading blanks, a sign, digits; 0 without any.
fn atoi(s: &[u8]) -> u64 {
    let s = trim_start(s);
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &c in s.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    let n = (if neg { -n } else { n }) as i32;
    u64::from(n as u32)
}

/// All digits, fitting 32 bits.
fn number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// The nick of a `nick!user@host` prefix, or `whole` when it has no `!`.
fn nick_of<'a>(prefix: &'a [u8], whole: &'a [u8]) -> &'a [u8] {
    find(prefix, b'!').map_or(whole, |i| &prefix[..i])
}

/// A set's members in first-seen order, each once.
fn set(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for i in items {
        if !v.contains(&i) {
            v.push(i);
        }
    }
    v
}

/// Target and message of PRIVMSG, NOTICE and SQUERY.
fn target_message(params: &[u8]) -> Option<(&[u8], &[u8])> {
    let pos = find(params, b' ')?;
    Some((&params[..pos], strip(trim_start(&params[pos + 1..]), b':')))
}

impl Parser {
    /// Takes the next in-order bytes of one direction; returns how many
    /// were read as IRC (the rest, after a STARTTLS, is TLS).
    pub fn feed(&mut self, is_orig: bool, data: &[u8], s: &mut impl Sink) -> usize {
        if self.starttls {
            return 0;
        }
        let d = usize::from(!is_orig);
        let mut pos = 0;
        while let Some(piece) = self.cl[d].next(data, &mut pos) {
            match piece {
                Piece::Line(l) => {
                    self.line(is_orig, &l, s);
                    if self.starttls {
                        return pos;
                    }
                }
                Piece::Plain(..) => {}
                Piece::Weird(w) => {
                    if !self.splitter_weirds.contains(&w) {
                        self.splitter_weirds.push(w);
                        s.weird(w, String::new());
                    }
                }
            }
        }
        data.len()
    }

    /// Bytes of one direction never came: its partial line is dropped.
    pub fn gap(&mut self, is_orig: bool) {
        self.cl[usize::from(!is_orig)] = ContentLine::with_max_line(MAX_LINE);
    }

    fn weird_if_confirmed(&self, name: &'static str, s: &mut impl Sink) {
        if self.confirmed {
            s.weird(name, String::new());
        }
    }

    /// One line of one direction.
    pub fn line(&mut self, is_orig: bool, line: &[u8], s: &mut impl Sink) {
        if line.len() > MAX_PARSED {
            return self.weird_if_confirmed("irc_line_size_exceeded", s);
        }
        let mut l = trim_start(line);
        if l.len() < 3 {
            return self.weird_if_confirmed("irc_line_too_short", s);
        }
        if l[0] == b'@' {
            // IRCv3 message tags, not read.
            let Some(sp) = find(l, b' ') else { return };
            l = &l[sp + 1..];
        }
        let mut prefix: &[u8] = b"";
        if l.first() == Some(&b':') {
            let Some(sp) = find(l, b' ') else {
                return self.weird_if_confirmed("irc_invalid_line", s);
            };
            prefix = &l[1..sp];
            l = trim_start(&l[sp + 1..]);
        }
        if l.len() < 3 {
            self.weird_if_confirmed("irc_invalid_line", s);
            return s.violate("line too short");
        }
        let (mut code, mut command) = (0u64, Vec::new());
        if l[0].is_ascii_digit() {
            if l[1].is_ascii_digit() && l[2].is_ascii_digit() && l.get(3) == Some(&b' ') {
                code = u64::from(l[0] - b'0') * 100 + u64::from(l[1] - b'0') * 10 + u64::from(l[2] - b'0');
                l = &l[4..];
            } else {
                self.weird_if_confirmed("irc_invalid_reply_number", s);
                return s.violate("invalid reply number");
            }
        } else {
            let sp = find(l, b' ').unwrap_or(l.len());
            command = l[..sp].to_ascii_uppercase();
            l = trim_start(l.get(sp + 1..).unwrap_or(b""));
        }
        let params = l;
        let cmd = std::str::from_utf8(&command).unwrap_or("");
        if !self.confirmed && is_orig && CLIENT_COMMANDS.contains(&cmd) {
            self.confirmed = true;
            s.confirm();
        }
        if cmd == "STARTTLS" {
            return;
        }
        if code > 0 {
            return self.reply(is_orig, prefix, code, params, s);
        }
        if command.len() > 20 {
            s.weird("irc_invalid_command", String::new());
            self.invalid += 1;
            if self.invalid > MAX_INVALID {
                s.weird("irc_too_many_invalid", String::new());
                s.violate("too many long lines");
            }
            return;
        }
        self.command(is_orig, prefix, cmd, &command, params, s);
    }

    /// A numeric reply.
    fn reply(&mut self, is_orig: bool, prefix: &[u8], code: u64, params: &[u8], s: &mut impl Sink) {
        let parts = words(params, b' ');
        match code {
            251 | 255 => {
                let kind = if code == 251 { K::IrcNetworkInfo } else { K::IrcServerInfo };
                if !s.wants(kind) {
                    return;
                }
                let (mut users, mut services, mut servers) = (0, 0, 0);
                for i in 1..parts.len() {
                    let n = atoi(parts[i - 1]);
                    match parts[i] {
                        b"users" if code == 251 => users = n,
                        b"users," | b"clients" if code == 255 => users = n,
                        b"services" => services = n,
                        b"servers" => servers = n,
                        _ => {}
                    }
                }
                if code == 251 {
                    s.raise(|c| Event::IrcNetworkInfo { c, is_orig, users, services, servers });
                } else {
                    s.raise(|c| Event::IrcServerInfo { c, is_orig, users, services, servers });
                }
            }
            353 if s.wants(K::IrcNamesInfo) => {
                if parts.len() < 3 {
                    return s.weird("irc_invalid_names_line", String::new());
                }
                let (c_type, channel) = (text(parts[1]), text(parts[2]));
                let users = set(parts[3..].iter().enumerate().map(|(i, p)| {
                    let p = if i == 0 { strip(p, b':') } else { p };
                    text(strip(p, b'@'))
                }));
                s.raise(|c| Event::IrcNamesInfo { c, is_orig, c_type, channel, users });
            }
            254 if s.wants(K::IrcChannelInfo) => {
                let chans = (1..parts.len()).filter(|&i| parts[i] == b":channels").map(|i| atoi(parts[i - 1])).last();
                let chans = chans.unwrap_or(0);
                s.raise(|c| Event::IrcChannelInfo { c, is_orig, chans });
            }
            266 if s.wants(K::IrcGlobalUsers) => {
                let Some(sp) = find(params, b' ') else {
                    return s.weird("invalid_irc_global_users_reply", String::new());
                };
                let Some(colon) = find(&params[sp + 1..], b':') else {
                    return s.weird("invalid_irc_global_users_reply", String::new());
                };
                let (prefix, msg) = (text(&params[..sp + 1]), text(&params[sp + 1 + colon + 1..]));
                s.raise(|c| Event::IrcGlobalUsers { c, is_orig, prefix, msg });
            }
            311 if s.wants(K::IrcWhoisUserLine) => {
                let p = if parts.len() > 1 { &parts[1..] } else { &parts[..] };
                if p.len() < 5 {
                    return s.weird("irc_invalid_whois_user_line", String::new());
                }
                let real = p[4..].join(&b' ');
                let (nick, user, host, real_name) = (text(p[0]), text(p[1]), text(p[2]), text(strip(&real, b':')));
                s.raise(|c| Event::IrcWhoisUserLine { c, is_orig, nick, user, host, real_name });
            }
            313 if s.wants(K::IrcWhoisOperatorLine) => {
                let p = if parts.len() > 1 { &parts[1..] } else { &parts[..] };
                if p.len() < 2 {
                    return s.weird("irc_invalid_whois_operator_line", String::new());
                }
                let nick = text(p[0]);
                s.raise(|c| Event::IrcWhoisOperatorLine { c, is_orig, nick });
            }
            319 if s.wants(K::IrcWhoisChannelLine) => {
                if parts.len() < 2 {
                    return s.weird("irc_invalid_whois_channel_line", String::new());
                }
                let nick = text(parts[0]);
                let chans =
                    set(parts[1..].iter().enumerate().map(|(i, p)| text(if i == 0 { strip(p, b':') } else { p })));
                s.raise(|c| Event::IrcWhoisChannelLine { c, is_orig, nick, chans });
            }
            332 if s.wants(K::IrcChannelTopic) => {
                if parts.len() < 4 {
                    return s.weird("irc_invalid_topic_reply", String::new());
                }
                let Some(colon) = find(params, b':') else {
                    return s.weird("irc_invalid_topic_reply", String::new());
                };
                let (channel, topic) = (text(parts[1]), text(strip(&params[colon + 1..], b':')));
                s.raise(|c| Event::IrcChannelTopic { c, is_orig, channel, topic });
            }
            352 if s.wants(K::IrcWhoLine) => {
                if parts.len() < 9 {
                    return s.weird("irc_invalid_who_line", String::new());
                }
                let t = |i: usize| text(parts[i]);
                let (target_nick, channel, user, host) = (t(0), t(1), text(strip(parts[2], b'~')), t(3));
                let (server, nick, params, hops, real_name) = (t(4), t(5), t(6), atoi(strip(parts[7], b':')), t(8));
                s.raise(|c| Event::IrcWhoLine {
                    c,
                    is_orig,
                    target_nick,
                    channel,
                    user,
                    host,
                    server,
                    nick,
                    params,
                    hops,
                    real_name,
                });
            }
            431 | 432 | 433 | 436 => {
                if s.wants(K::IrcInvalidNick) {
                    s.raise(|c| Event::IrcInvalidNick { c, is_orig });
                }
            }
            381 | 491 => {
                if s.wants(K::IrcOperResponse) {
                    s.raise(|c| Event::IrcOperResponse { c, is_orig, got_oper: code == 381 });
                }
            }
            670 => {
                self.starttls = true;
                if s.wants(K::IrcStarttls) {
                    s.raise(|c| Event::IrcStarttls { c });
                }
            }
            254 | 266 | 311 | 313 | 319 | 332 | 352 | 353 => {}
            _ => {
                if s.wants(K::IrcReply) {
                    let (prefix, params) = (text(prefix), text(params));
                    s.raise(|c| Event::IrcReply { c, is_orig, prefix, code, params });
                }
            }
        }
    }

    /// A command (not a numeric reply).
    fn command(&mut self, is_orig: bool, prefix: &[u8], cmd: &str, command: &[u8], params: &[u8], s: &mut impl Sink) {
        let p = text(prefix);
        match cmd {
            "PRIVMSG" if s.wants(K::IrcPrivmsgMessage) || s.wants(K::IrcDccMessage) => {
                let Some((target, message)) = target_message(params) else {
                    return s.weird("irc_invalid_privmsg_message_format", String::new());
                };
                let message = strip(message, 1);
                if message.len() > 3 && message.starts_with(b"DCC") {
                    let message = message.strip_suffix(&[1]).unwrap_or(message);
                    let parts = words(message, b' ');
                    if (parts.len() < 5 || parts.len() > 6) && !(parts.len() == 7 && parts[6] == b"T") {
                        return s.weird("irc_invalid_dcc_message_format", String::new());
                    }
                    let Some(host) = number(parts[3]) else {
                        return s.weird("irc_invalid_dcc_host", String::new());
                    };
                    let port = match number(parts[4]) {
                        Some(p) if p <= 65535 => p,
                        p => return s.weird("irc_invalid_dcc_port", format!("{}", p.unwrap_or(0))),
                    };
                    if s.wants(K::IrcDccMessage) {
                        let size = if parts.len() >= 6 { atoi(parts[5]) } else { 0 };
                        let (target, dcc_type, argument) = (text(target), text(parts[1]), text(parts[2]));
                        let address = IpAddr::V4(Ipv4Addr::from(host));
                        s.raise(|c| Event::IrcDccMessage {
                            c,
                            is_orig,
                            prefix: p,
                            target,
                            dcc_type,
                            argument,
                            address,
                            dest_port: u64::from(port),
                            size,
                        });
                    }
                } else if s.wants(K::IrcPrivmsgMessage) {
                    let (target, message) = (text(target), text(message));
                    s.raise(|c| Event::IrcPrivmsgMessage { c, is_orig, source: p, target, message });
                }
            }
            "NOTICE" | "SQUERY" if s.wants(if cmd == "NOTICE" { K::IrcNoticeMessage } else { K::IrcSqueryMessage }) => {
                let Some((target, message)) = target_message(params) else {
                    let w = if cmd == "NOTICE" {
                        "irc_invalid_notice_message_format"
                    } else {
                        "irc_invalid_squery_message_format"
                    };
                    return s.weird(w, String::new());
                };
                let (target, message) = (text(target), text(message));
                if cmd == "NOTICE" {
                    s.raise(|c| Event::IrcNoticeMessage { c, is_orig, source: p, target, message });
                } else {
                    s.raise(|c| Event::IrcSqueryMessage { c, is_orig, source: p, target, message });
                }
            }
            "USER" if s.wants(K::IrcUserMessage) => {
                let parts = words(params, b' ');
                let get = |i: usize| parts.get(i).map_or_else(String::new, |w| text(w));
                // Zeek's spacing: a blank after every word but the first.
                let mut real = Vec::new();
                for (i, w) in parts.iter().enumerate().skip(3) {
                    real.extend_from_slice(w);
                    if i > 3 {
                        real.push(b' ');
                    }
                }
                let (user, host, server, real_name) = (get(0), get(1), get(2), text(strip(&real, b':')));
                s.raise(|c| Event::IrcUserMessage { c, is_orig, user, host, server, real_name });
            }
            "OPER" if s.wants(K::IrcOperMessage) => {
                let parts = words(params, b' ');
                if parts.len() != 2 {
                    return s.weird("irc_invalid_oper_message_format", String::new());
                }
                let (user, password) = (text(parts[0]), text(parts[1]));
                s.raise(|c| Event::IrcOperMessage { c, is_orig, user, password });
            }
            "KICK" if s.wants(K::IrcKickMessage) => {
                let parts = words(params, b' ');
                if parts.len() <= 1 {
                    return s.weird("irc_invalid_kick_message_format", String::new());
                }
                let comment = if parts.len() > 2 { text(strip(&parts[2..].join(&b' '), b':')) } else { String::new() };
                let (chans, users) = (text(parts[0]), text(parts[1]));
                s.raise(|c| Event::IrcKickMessage { c, is_orig, prefix: p, chans, users, comment });
            }
            "JOIN" if s.wants(K::IrcJoinMessage) => {
                let parts = words(strip(params, b':'), b' ');
                if parts.is_empty() {
                    return s.weird("irc_invalid_join_line", String::new());
                }
                let nick = text(nick_of(prefix, b""));
                let keys = parts.get(1).map(|k| words(k, b',')).unwrap_or_default();
                let mut info_list: Vec<IrcJoinInfo> = Vec::new();
                for (i, ch) in words(parts[0], b',').into_iter().enumerate() {
                    let info = IrcJoinInfo {
                        nick: nick.clone(),
                        channel: text(ch),
                        password: keys.get(i).map_or_else(String::new, |k| text(k)),
                        usermode: String::new(),
                    };
                    if !info_list.contains(&info) {
                        info_list.push(info);
                    }
                }
                s.raise(|c| Event::IrcJoinMessage { c, is_orig, info_list });
            }
            "NJOIN" if s.wants(K::IrcJoinMessage) => {
                let parts = words(params, b' ');
                if parts.len() != 2 {
                    return s.weird("irc_invalid_njoin_line", String::new());
                }
                let channel = text(parts[0]);
                let mut info_list: Vec<IrcJoinInfo> = Vec::new();
                for nick in words(strip(parts[1], b':'), b',') {
                    let (nick, mode) = match nick {
                        [b'@', b'@', rest @ ..] => (rest, "creator"),
                        [b'@', rest @ ..] => (rest, "operator"),
                        [b'+', rest @ ..] => (rest, "voice"),
                        _ => (nick, "none"),
                    };
                    let info = IrcJoinInfo {
                        nick: text(nick),
                        channel: channel.clone(),
                        password: String::new(),
                        usermode: mode.to_string(),
                    };
                    if !info_list.contains(&info) {
                        info_list.push(info);
                    }
                }
                s.raise(|c| Event::IrcJoinMessage { c, is_orig, info_list });
            }
            "PART" if s.wants(K::IrcPartMessage) => {
                let (channels, message) = match find(params, b' ') {
                    Some(sp) => (&params[..sp], strip(trim_start(&params[sp + 1..]), b':')),
                    None => (params, &b""[..]),
                };
                let nick = text(nick_of(prefix, prefix));
                let chans = set(words(channels, b',').into_iter().map(text));
                let message = text(message);
                s.raise(|c| Event::IrcPartMessage { c, is_orig, nick, chans, message });
            }
            "QUIT" if s.wants(K::IrcQuitMessage) => {
                let (nick, message) = (text(nick_of(prefix, b"")), text(strip(params, b':')));
                s.raise(|c| Event::IrcQuitMessage { c, is_orig, nick, message });
            }
            "NICK" if s.wants(K::IrcNickMessage) => {
                let newnick = text(strip(params, b':'));
                s.raise(|c| Event::IrcNickMessage { c, is_orig, who: p, newnick });
            }
            "WHO" if s.wants(K::IrcWhoMessage) => {
                let parts = words(params, b' ');
                if parts.len() > 2 {
                    return s.weird("irc_invalid_who_message_format", String::new());
                }
                let oper = parts.len() == 2 && parts[1] == b"o";
                let mask = parts.first().map_or_else(String::new, |m| text(strip(m, b':')));
                s.raise(|c| Event::IrcWhoMessage { c, is_orig, mask, oper });
            }
            "WHOIS" if s.wants(K::IrcWhoisMessage) => {
                let parts = words(params, b' ');
                let (server, users) = match parts[..] {
                    [u] => (String::new(), text(u)),
                    [sv, u] => (text(sv), text(u)),
                    _ => return s.weird("irc_invalid_whois_message_format", String::new()),
                };
                s.raise(|c| Event::IrcWhoisMessage { c, is_orig, server, users });
            }
            "ERROR" if s.wants(K::IrcErrorMessage) => {
                let message = text(strip(params, b':'));
                s.raise(|c| Event::IrcErrorMessage { c, is_orig, prefix: p, message });
            }
            "INVITE" if s.wants(K::IrcInviteMessage) => {
                let parts = words(params, b' ');
                if parts.len() != 2 {
                    return s.weird("irc_invalid_invite_message_format", String::new());
                }
                let (nickname, channel) = (text(parts[0]), text(strip(parts[1], b':')));
                s.raise(|c| Event::IrcInviteMessage { c, is_orig, prefix: p, nickname, channel });
            }
            "MODE" if s.wants(K::IrcModeMessage) => {
                if params.is_empty() {
                    return s.weird("irc_invalid_mode_message_format", String::new());
                }
                let params = text(params);
                s.raise(|c| Event::IrcModeMessage { c, is_orig, prefix: p, params });
            }
            "PASS" if s.wants(K::IrcPasswordMessage) => {
                let password = text(params);
                s.raise(|c| Event::IrcPasswordMessage { c, is_orig, password });
            }
            "SQUIT" if s.wants(K::IrcSquitMessage) => {
                let (server, message) = match find(params, b' ') {
                    Some(sp) => (text(&params[..sp]), text(strip(trim_start(&params[sp + 1..]), b':'))),
                    None => (String::new(), String::new()),
                };
                s.raise(|c| Event::IrcSquitMessage { c, is_orig, prefix: p, server, message });
            }
            _ if is_orig => {
                if s.wants(K::IrcRequest) {
                    let (command, arguments) = (text(command), text(params));
                    s.raise(|c| Event::IrcRequest { c, is_orig, prefix: p, command, arguments });
                }
            }
            _ => {
                if s.wants(K::IrcMessage) {
                    let (command, message) = (text(command), text(params));
                    s.raise(|c| Event::IrcMessage { c, is_orig, prefix: p, command, message });
                }
            }
        }
    }
}
