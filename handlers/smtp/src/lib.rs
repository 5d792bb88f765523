//! The standard smtp.log handler: Zeek's `base/protocols/smtp/main.zeek`
//! (and its `files.zeek`).
//!
//! One record per mail transaction. A connection's record is made at its
//! first SMTP event (`ts`), numbered by the messages transferred before it
//! (`trans_depth`), and starts with the session's `helo` and the path
//! `resp_h, orig_h`. Commands fill `helo` (HELO/EHLO), `mailfrom` (the first
//! address of MAIL FROM; a MAIL FROM also writes the pending record if the
//! client did something in it) and `rcptto` (the addresses of RCPT TO,
//! `ORCPT=rfc822;` removed, at most `SMTP::max_rcptto_addresses`); each
//! reply line becomes `last_reply`; the reply to the end of DATA, or the
//! final reply to a BDAT after the LAST chunk, writes the record if the
//! client did something in it, and a new one begins. The headers of the
//! message's first entity fill `date`, `from`, `to` and `cc` (split into
//! addresses, at most 1,000 each), `reply_to`, `msg_id`, `in_reply_to`,
//! `subject`, `x_originating_ip`, `first_received` / `second_received` (the
//! last two Received headers) and `user_agent` (X-Mailer, User-Agent,
//! X-User-Agent); each Received header's address (the second one found in
//! brackets, parentheses or blanks, else the first) is added to `path`
//! unless it repeats the last (`SMTP::mail_path_capture` is `ALL_HOSTS`; at
//! most `SMTP::max_path_length`). STARTTLS sets `tls`. The connection's
//! removal writes the pending record.
//!
//! Files (`files.zeek`, `entities.zeek`): each MIME entity's content is a
//! file named by Zeek's `SMTP::get_file_handle` (start time, `trans_depth`,
//! the connection's MIME depth); every file over the connection that comes
//! before STARTTLS joins `fuids`, and the handler describes an SMTP file to
//! files.log with its MIME depth and the entity's file name
//! (Content-Disposition `filename`, or Content-Type `name`).
//!
//! Not done here: the weirds of the script (`smtp_mail_transaction_invalid`,
//! `smtp_too_many_*_addresses`, `smtp_max_path_length_exceeded`), which a
//! handler cannot raise, and disabling the analyzer after
//! `SMTP::max_invalid_mail_transactions`.

use std::cell::RefCell;
use std::net::IpAddr;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{AnalyzerTag, Connection, FaFile, IpAddress, MimeHeaderRec};
use weir_guest::{files, ConnStates, Handler, Stream};

static SMTP: Stream = Stream::new(
    "smtp",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("trans_depth", T::Count),
        ("helo", T::String),
        ("mailfrom", T::String),
        ("rcptto", T::SetOfString),
        ("date", T::String),
        ("from", T::String),
        ("to", T::SetOfString),
        ("cc", T::SetOfString),
        ("reply_to", T::String),
        ("msg_id", T::String),
        ("in_reply_to", T::String),
        ("subject", T::String),
        ("x_originating_ip", T::Addr),
        ("first_received", T::String),
        ("second_received", T::String),
        ("last_reply", T::String),
        ("path", T::VectorOfString),
        ("user_agent", T::String),
        ("tls", T::Bool),
        ("fuids", T::VectorOfString),
    ],
);

/// `SMTP::max_rcptto_addresses`, `max_to_addresses`, `max_cc_addresses`.
const MAX_ADDRESSES: usize = 1000;

/// `SMTP::max_path_length`.
const MAX_PATH: usize = 1000;

/// Connections with SMTP state at once.
const MAX_TRACKED: usize = 200_000;

/// One transaction (`SMTP::Info`).
#[derive(Clone, Default)]
struct Info {
    ts: f64,
    trans_depth: u64,
    helo: Option<String>,
    mailfrom: Option<String>,
    rcptto: Option<Vec<String>>,
    date: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
    cc: Option<Vec<String>>,
    reply_to: Option<String>,
    msg_id: Option<String>,
    in_reply_to: Option<String>,
    subject: Option<String>,
    x_originating_ip: Option<IpAddr>,
    first_received: Option<String>,
    second_received: Option<String>,
    last_reply: Option<String>,
    path: Vec<IpAddr>,
    user_agent: Option<String>,
    tls: bool,
    process_received_from: bool,
    has_client_activity: bool,
    process_smtp_headers: bool,
    entity_count: u64,
    fuids: Vec<String>,
    /// The current MIME entity (`SMTP::Entity`), with its file name once a header gives one.
    entity: Option<Option<String>>,
}

/// A connection's SMTP state (`SMTP::State`) and its current record.
struct State {
    conn: Connection,
    helo: Option<String>,
    messages_transferred: u64,
    bdat_last_observed: bool,
    info: Info,
    /// MIME entities begun on the connection (`smtp_state$mime_depth`).
    mime_depth: u64,
}

thread_local! {
    static STATES: RefCell<ConnStates<State>> = const {
        RefCell::new(ConnStates::new(
            MAX_TRACKED,
            "smtp",
            "connections with SMTP state at once; mail of further ones is not logged",
        ))
    };
}

fn ip(a: &IpAddress) -> IpAddr {
    weir_guest::ip(a)
}

fn wit_ip(a: IpAddr) -> IpAddress {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            IpAddress::Ipv4((o[0], o[1], o[2], o[3]))
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
    }
}

/// A fresh record (`new_smtp_log`).
fn new_info(c: &Connection, helo: &Option<String>, messages: u64) -> Info {
    Info {
        ts: weir_guest::runtime::network_time(),
        trans_depth: messages + 1,
        helo: helo.clone(),
        path: vec![ip(&c.id.resp_h), ip(&c.id.orig_h)],
        process_received_from: true,
        process_smtp_headers: true,
        ..Info::default()
    }
}

fn opt_s(v: &Option<String>) -> V {
    v.clone().map_or(V::Unset, V::String)
}

fn opt_set(v: &Option<Vec<String>>) -> V {
    v.clone().map_or(V::Unset, V::SetOfString)
}

fn write(c: &Connection, i: &Info) {
    SMTP.write_conn(i.ts, &c.uid, &c.id, &[
        V::Count(i.trans_depth),
        opt_s(&i.helo),
        opt_s(&i.mailfrom),
        opt_set(&i.rcptto),
        opt_s(&i.date),
        opt_s(&i.from),
        opt_set(&i.to),
        opt_set(&i.cc),
        opt_s(&i.reply_to),
        opt_s(&i.msg_id),
        opt_s(&i.in_reply_to),
        opt_s(&i.subject),
        i.x_originating_ip.map_or(V::Unset, |a| V::Addr(wit_ip(a))),
        opt_s(&i.first_received),
        opt_s(&i.second_received),
        opt_s(&i.last_reply),
        V::VectorOfString(i.path.iter().map(|a| a.to_string()).collect()),
        opt_s(&i.user_agent),
        V::Bool(i.tls),
        V::VectorOfString(i.fuids.clone()),
    ]);
}

/// Runs `f` on the state of `c`, created on first use (`set_smtp_session`).
fn with_state(c: &Connection, f: impl FnOnce(&mut State)) {
    let init = || State {
        conn: c.clone(),
        helo: None,
        messages_transferred: 0,
        bdat_last_observed: false,
        info: new_info(c, &None, 0),
        mime_depth: 0,
    };
    STATES.with(|s| s.borrow_mut().with(&c.uid, init, f));
}

impl State {
    /// Writes the record if the client did something in it, and starts
    /// the next (`smtp_message`).
    fn message(&mut self) {
        if self.info.has_client_activity {
            write(&self.conn, &self.info);
            self.info = new_info(&self.conn, &self.helo, self.messages_transferred);
        }
    }
}

/// Adds `v` to the set `s` (created when missing) unless it holds `max`.
fn add(s: &mut Option<Vec<String>>, v: String, max: usize) -> bool {
    let s = s.get_or_insert_with(Vec::new);
    if s.contains(&v) {
        return true;
    }
    if max > 0 && s.len() >= max {
        return false;
    }
    s.push(v);
    true
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The addresses `extract_email_addrs_vec` finds: a local part and a
/// domain around `@`, after the start or one of `<,:` and blanks, ended by
/// one of `>,;`, a blank or the end; those delimiters removed.
pub fn email_addrs(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i <= b.len() {
        let mut starts = Vec::with_capacity(2);
        if i < b.len() && (b"<,:".contains(&b[i]) || is_blank(b[i])) {
            starts.push(i + 1);
        }
        if i == 0 {
            starts.push(0);
        }
        let mut matched = None;
        for st in starts {
            let local = b[st..].iter().take_while(|&&c| !(b"<,:@".contains(&c) || is_blank(c))).count();
            let at = st + local;
            if local == 0 || at >= b.len() || b[at] != b'@' {
                continue;
            }
            let dom = b[at + 1..].iter().take_while(|&&c| !(b">,;".contains(&c) || is_blank(c))).count();
            if dom == 0 {
                continue;
            }
            let end = (at + 1 + dom + 1).min(b.len());
            matched = Some(end);
            let raw = String::from_utf8_lossy(&b[i..end]);
            out.push(raw.chars().filter(|c| !"<>,:;\t ".contains(*c)).collect());
            break;
        }
        match matched {
            Some(end) => i = end.max(i + 1),
            None => i += 1,
        }
    }
    out
}

/// `split_mime_email_addresses`: each comma-free stretch (a leading quoted
/// string may hold commas) with `@` inside it, trimmed.
pub fn mime_addrs(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let has_at = |run: &[u8]| run.iter().enumerate().any(|(k, &c)| c == b'@' && k > 0 && k + 1 < run.len());
    let run_end = |from: usize| from + b[from..].iter().take_while(|&&c| c != b',').count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let mut end = None;
        let e = run_end(i);
        if has_at(&b[i..e]) {
            end = Some(e);
        }
        if b[i] == b'"' {
            if let Some(q) = b[i + 1..].iter().position(|&c| c == b'"') {
                let after = i + 1 + q + 1;
                let e2 = run_end(after);
                if after < b.len() && has_at(&b[after..e2]) && end.is_none_or(|e| e2 > e) {
                    end = Some(e2);
                }
            }
        }
        match end {
            Some(e) => {
                out.push(String::from_utf8_lossy(&b[i..e]).trim().to_string());
                i = e;
            }
            None => i += 1,
        }
    }
    out
}

fn is_ip_char(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':' || c == b'.'
}

/// `extract_ip_addresses`: the IP addresses in `s`, in order; with
/// `check_wrapping` only those alone, or wrapped in brackets, parentheses,
/// braces or blanks.
pub fn ip_addrs(s: &str, check_wrapping: bool) -> Vec<IpAddr> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_end = 0;
    while i < b.len() {
        if !is_ip_char(b[i]) {
            i += 1;
            continue;
        }
        let run = i + b[i..].iter().take_while(|&&c| is_ip_char(c)).count();
        let mut found = None;
        for end in (i + 1..=run.min(i + 64)).rev() {
            if let Ok(a) = s[i..end].parse::<IpAddr>() {
                found = Some((a, end));
                break;
            }
        }
        let Some((a, end)) = found else {
            i += 1;
            continue;
        };
        let before = if i > prev_end { Some(b[i - 1]) } else { None };
        let after = b.get(end).copied();
        let ok = !check_wrapping
            || (before.is_none() && after.is_none())
            || matches!((before, after), (Some(b'['), Some(b']')) | (Some(b'('), Some(b')')) | (Some(b'{'), Some(b'}')) | (Some(b' '), Some(b' ')));
        if ok {
            out.push(a);
        }
        prev_end = end;
        i = end;
    }
    out
}

/// `find_address_in_smtp_header`: the second address found, else the first.
fn received_addr(value: &str) -> Option<IpAddr> {
    let ips = ip_addrs(value, true);
    ips.get(1).or(ips.first()).copied()
}

struct Smtp;

impl Handler for Smtp {
    fn smtp_request(c: Connection, _is_orig: bool, command: String, arg: String) {
        with_state(&c, |st| {
            let upper = command.to_ascii_uppercase();
            let prefix = |p: &str| arg.len() >= p.len() && arg.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
            match upper.as_str() {
                "HELO" | "EHLO" => {
                    st.helo = Some(arg.clone());
                    st.info.helo = Some(arg);
                }
                "RCPT" if prefix("TO:") => {
                    st.info.rcptto.get_or_insert_with(Vec::new);
                    for a in email_addrs(&arg) {
                        let a = a.replace("ORCPT=rfc822;", "").replace("ORCPT=rfc822", "");
                        if !add(&mut st.info.rcptto, a, MAX_ADDRESSES) {
                            break;
                        }
                    }
                    st.info.has_client_activity = true;
                }
                "MAIL" if prefix("FROM:") => {
                    // The last message, in case the server's acknowledgement was not seen.
                    st.message();
                    if let Some(a) = email_addrs(&arg).into_iter().next() {
                        st.info.mailfrom = Some(a);
                    }
                    st.info.has_client_activity = true;
                }
                "BDAT" if arg.ends_with(" LAST") => st.bdat_last_observed = true,
                _ => {}
            }
        });
    }

    fn smtp_reply(c: Connection, _is_orig: bool, code: u64, cmd: String, msg: String, cont_resp: bool) {
        with_state(&c, |st| {
            st.info.last_reply = Some(format!("{code} {msg}"));
            if cmd == "." || (!cont_resp && cmd == "BDAT" && st.bdat_last_observed) {
                st.messages_transferred += 1;
                st.bdat_last_observed = false;
                st.message();
                st.info = new_info(&st.conn, &st.helo, st.messages_transferred);
            }
        });
    }

    fn smtp_starttls(c: Connection) {
        with_state(&c, |st| {
            st.info.tls = true;
            st.info.has_client_activity = true;
        });
    }

    fn mime_begin_entity(c: Connection) {
        with_state(&c, |st| {
            st.info.entity_count += 1;
            if st.info.entity_count > 1 {
                st.info.process_smtp_headers = false;
            }
            st.info.entity = Some(None);
            st.mime_depth += 1;
        });
    }

    fn mime_end_entity(c: Connection) {
        with_state(&c, |st| st.info.entity = None);
    }

    fn get_file_handle(tag: AnalyzerTag, c: Connection, _is_orig: bool) {
        if tag.name != "SMTP" {
            return;
        }
        let handle = STATES.with(|s| {
            let mut s = s.borrow_mut();
            let st = s.get_mut(&c.uid)?;
            Some(format!("Analyzer::ANALYZER_SMTP{:.6}{}{}", c.start_time, st.info.trans_depth, st.mime_depth))
        });
        if let Some(h) = handle {
            files::set_file_handle(&h);
        }
    }

    fn file_over_new_connection(f: FaFile, c: Connection, _is_orig: bool) {
        STATES.with(|s| {
            let mut s = s.borrow_mut();
            let Some(st) = s.get_mut(&c.uid) else { return };
            if !st.info.tls {
                st.info.fuids.push(f.id.clone());
            }
            if f.source == "SMTP" {
                let name = st.info.entity.clone().flatten();
                files::describe(&f.id, st.mime_depth, name.as_deref());
            }
        });
    }

    fn mime_one_header(c: Connection, h: MimeHeaderRec) {
        with_state(&c, |st| {
            if let Some(entity) = st.info.entity.as_mut() {
                if let Some(n) = weir_guest::bif::entity_filename(&h.name, &h.value) {
                    *entity = Some(n);
                }
            }
            let i = &mut st.info;
            if !i.process_smtp_headers {
                return;
            }
            let v = h.value;
            match h.name.as_str() {
                "MESSAGE-ID" => i.msg_id = Some(v.clone()),
                "RECEIVED" => {
                    if i.first_received.is_some() {
                        i.second_received = i.first_received.take();
                    }
                    i.first_received = Some(v.clone());
                }
                "IN-REPLY-TO" => i.in_reply_to = Some(v.clone()),
                "SUBJECT" => i.subject = Some(v.clone()),
                "FROM" => i.from = Some(v.clone()),
                "REPLY-TO" => i.reply_to = Some(v.clone()),
                "DATE" => i.date = Some(v.clone()),
                "TO" | "CC" => {
                    let set = if h.name == "TO" { &mut i.to } else { &mut i.cc };
                    set.get_or_insert_with(Vec::new);
                    for a in mime_addrs(&v) {
                        if !add(set, a, MAX_ADDRESSES) {
                            break;
                        }
                    }
                }
                "X-ORIGINATING-IP" => {
                    if let Some(a) = ip_addrs(&v, false).first() {
                        i.x_originating_ip = Some(*a);
                    }
                }
                "X-MAILER" | "USER-AGENT" | "X-USER-AGENT" => i.user_agent = Some(v.clone()),
                _ => {}
            }
            // The "Received: from" path.
            if h.name == "RECEIVED" && i.process_received_from {
                if let Some(a) = received_addr(&v) {
                    if i.path.last() != Some(&a) && (MAX_PATH == 0 || i.path.len() < MAX_PATH) {
                        i.path.push(a);
                    }
                }
            }
        });
    }

    fn connection_state_remove(c: Connection) {
        if let Some(mut st) = STATES.with(|s| s.borrow_mut().remove(&c.uid)) {
            st.conn = c;
            if st.info.has_client_activity {
                write(&st.conn, &st.info);
            }
        }
    }
}

weir_guest::export_handler!(
    Smtp: smtp_request,
    smtp_reply,
    smtp_starttls,
    mime_begin_entity,
    mime_end_entity,
    get_file_handle,
    file_over_new_connection,
    mime_one_header,
    connection_state_remove
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_addresses() {
        assert_eq!(email_addrs("FROM:<sender@example.com> SIZE=12"), ["sender@example.com"]);
        assert_eq!(email_addrs("TO:<a@x.org>"), ["a@x.org"]);
        assert_eq!(email_addrs("<a@x>,<b@y>"), ["a@x", "b@y"]);
        assert_eq!(email_addrs("FROM:<>"), Vec::<String>::new());
        assert_eq!(email_addrs("b@y"), ["b@y"]);
    }

    #[test]
    fn header_addresses() {
        assert_eq!(
            mime_addrs("Lukasz Luba <l@arm.com>, open list <k@vger.org>,\"r@k.org\" <r@k.org>"),
            ["Lukasz Luba <l@arm.com>", "open list <k@vger.org>", "\"r@k.org\" <r@k.org>"]
        );
        assert_eq!(mime_addrs("\"Wong, D\" <d@o.com>"), ["\"Wong, D\" <d@o.com>"]);
        assert_eq!(mime_addrs("nobody"), Vec::<String>::new());
    }

    #[test]
    fn addresses_in_received_headers() {
        let v = "from mail-pf1.google.com (mail-pf1.google.com [IPv6:2607:f8b0:4864:20::42f]) by x (Postfix) with ESMTPS id A02A7C061574";
        assert!(received_addr(v).is_none());
        let v = "from h.example ([170.253.51.130]) by smtp.gmail.com with ESMTPSA id 1.2";
        assert_eq!(received_addr(v), Some("170.253.51.130".parse().unwrap()));
        let v = "from a (a [10.0.0.1]) by b (b [10.0.0.2])";
        assert_eq!(received_addr(v), Some("10.0.0.2".parse().unwrap()));
        assert_eq!(ip_addrs("X 1.2.3.4", false), ["1.2.3.4".parse::<IpAddr>().unwrap()]);
    }
}
