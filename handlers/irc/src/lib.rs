//! The standard irc.log handler: Zeek's `base/protocols/irc/main.zeek` and
//! the scheduling half of `dcc-send.zeek`.
//!
//! One record per connection, updated as the client registers: a NICK, a
//! USER and each channel of a JOIN from the client write a line (`command`,
//! `value`, `addl`) with the nick and user known before it. A DCC SEND
//! offer (either side) remembers the file's name and size and expects the
//! transfer: the `IRC_DATA` analyzer is scheduled for the offering address
//! and port for five minutes (the engine adds the `irc-dcc-data` service
//! when it is applied), at most `IRC::max_dcc_expected_transfers` (5000) at
//! once (Zeek then raises the weird `irc_max_dcc_expected_transfers_exceeded`,
//! which a handler cannot raise yet: the offer is just not followed). The DCC line Zeek writes once file analysis sniffs the
//! transfer's type is not written yet (the transfer is not handed to file
//! analysis).

use std::cell::RefCell;
use std::collections::HashMap;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{AnalyzerTag, Connection, IpAddress, IrcJoinInfo, Port, Transport};
use weir_guest::{analyzers, ip, runtime, ConnStates, Handler, Stream};

static IRC: Stream = Stream::new(
    "irc",
    &[
        ("ts", T::Time),
        ("uid", T::String),
        ("id.orig_h", T::Addr),
        ("id.orig_p", T::Port),
        ("id.resp_h", T::Addr),
        ("id.resp_p", T::Port),
        ("nick", T::String),
        ("user", T::String),
        ("command", T::String),
        ("value", T::String),
        ("addl", T::String),
        ("dcc_file_name", T::String),
        ("dcc_file_size", T::Count),
        ("dcc_mime_type", T::String),
        ("fuid", T::String),
    ],
);

/// `IRC::max_dcc_expected_transfers`.
const MAX_DCC_EXPECTED_TRANSFERS: usize = 5000;

/// How long an offered transfer is expected (the script's `5 min`).
const DCC_TIMEOUT: f64 = 300.0;

/// Connections with IRC state at once; past it further ones are not logged.
const MAX_TRACKED: usize = 200_000;

/// `IRC::Info`.
#[derive(Default)]
struct Info {
    conn: Option<Connection>,
    ts: f64,
    nick: Option<String>,
    user: Option<String>,
    command: Option<String>,
    value: Option<String>,
    addl: Option<String>,
    dcc_file_name: Option<String>,
    dcc_file_size: Option<u64>,
}

thread_local! {
    static STATES: RefCell<ConnStates<Info>> = const {
        RefCell::new(ConnStates::new(MAX_TRACKED, "irc", "connections with IRC state at once; further ones are not logged"))
    };
    /// Expected DCC transfers (responder address and port) and when each
    /// was offered.
    static EXPECTED: RefCell<HashMap<(std::net::IpAddr, u16), f64>> = RefCell::new(HashMap::new());
}

/// Runs `f` on the record of `c`, made on first use, with `ts` now
/// (`IRC::set_session`).
fn with_info(c: &Connection, f: impl FnOnce(&mut Info)) {
    let now = runtime::network_time();
    let init = || Info { conn: Some(c.clone()), ..Info::default() };
    STATES.with(|s| {
        s.borrow_mut().with(&c.uid, init, |i| {
            i.ts = now;
            f(i)
        })
    });
}

fn opt(v: &Option<String>) -> V {
    v.clone().map_or(V::Unset, V::String)
}

fn write(i: &Info) {
    let Some(c) = &i.conn else { return };
    IRC.write_conn(i.ts, &c.uid, &c.id, &[
        opt(&i.nick),
        opt(&i.user),
        opt(&i.command),
        opt(&i.value),
        opt(&i.addl),
        opt(&i.dcc_file_name),
        i.dcc_file_size.map_or(V::Unset, V::Count),
        V::Unset,
        V::Unset,
    ]);
}

struct Irc;

impl Handler for Irc {
    fn irc_nick_message(c: Connection, is_orig: bool, _who: String, newnick: String) {
        with_info(&c, |i| {
            if is_orig {
                i.command = Some("NICK".into());
                i.value = Some(newnick.clone());
                write(i);
                i.nick = Some(newnick);
            }
        });
    }

    fn irc_user_message(c: Connection, is_orig: bool, user: String, host: String, server: String, real_name: String) {
        with_info(&c, |i| {
            if is_orig {
                i.command = Some("USER".into());
                i.value = Some(user.clone());
                i.addl = Some(format!("{host} {server} {real_name}"));
                write(i);
                i.user = Some(user);
            }
        });
    }

    fn irc_join_message(c: Connection, is_orig: bool, info_list: Vec<IrcJoinInfo>) {
        with_info(&c, |i| {
            if is_orig {
                i.command = Some("JOIN".into());
                for l in &info_list {
                    i.value = Some(l.channel.clone());
                    i.addl = Some(if l.password.is_empty() {
                        String::new()
                    } else {
                        format!(" with channel key: '{}'", l.password)
                    });
                    write(i);
                }
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn irc_dcc_message(
        c: Connection,
        _is_orig: bool,
        _prefix: String,
        _target: String,
        dcc_type: String,
        argument: String,
        address: IpAddress,
        dest_port: u64,
        size: u64,
    ) {
        with_info(&c, |_| {});
        if dcc_type != "SEND" {
            return;
        }
        let now = runtime::network_time();
        let key = (ip(&address), dest_port as u16);
        let room = EXPECTED.with(|e| {
            let mut e = e.borrow_mut();
            e.retain(|_, t| now - *t < DCC_TIMEOUT);
            e.len() < MAX_DCC_EXPECTED_TRANSFERS || e.contains_key(&key)
        });
        if !room {
            return;
        }
        with_info(&c, |i| {
            i.dcc_file_name = Some(argument);
            i.dcc_file_size = Some(size);
        });
        let port = Port { number: dest_port as u16, proto: Transport::Tcp };
        let tag = AnalyzerTag { name: "IRC_DATA".into() };
        analyzers::schedule_analyzer(IpAddress::Ipv4((0, 0, 0, 0)), address, port, &tag, DCC_TIMEOUT);
        EXPECTED.with(|e| e.borrow_mut().insert(key, now));
    }

    fn connection_state_remove(c: Connection) {
        STATES.with(|s| s.borrow_mut().remove(&c.uid));
        EXPECTED.with(|e| e.borrow_mut().remove(&(ip(&c.id.resp_h), c.id.resp_p.number)));
    }
}

weir_guest::export_handler!(
    Irc: irc_nick_message,
    irc_user_message,
    irc_join_message,
    irc_dcc_message,
    connection_state_remove
);
