use super::parser::Parser;
use super::Sink;
use crate::analyzers::fuzz_input::placeholder_conn;
use crate::events::{Connection, Event, EventKind, IrcJoinInfo};

/// Keeps everything, taking the kinds in `only` (every kind when empty).
#[derive(Default)]
struct Collect {
    only: Vec<EventKind>,
    events: Vec<Event>,
    weirds: Vec<&'static str>,
    confirmed: usize,
    violations: Vec<String>,
}

impl Sink for Collect {
    fn wants(&self, kind: EventKind) -> bool {
        self.only.is_empty() || self.only.contains(&kind)
    }
    fn raise(&mut self, build: impl FnOnce(Box<Connection>) -> Event) {
        self.events.push(build(Box::new(placeholder_conn(6, 6667))));
    }
    fn weird(&mut self, name: &'static str, _: String) {
        self.weirds.push(name);
    }
    fn confirm(&mut self) {
        self.confirmed += 1;
    }
    fn violate(&mut self, reason: &str) {
        self.violations.push(reason.to_string());
    }
}

fn run(sink: &mut Collect, steps: &[(bool, &[u8])]) -> Parser {
    let mut p = Parser::default();
    for (is_orig, d) in steps {
        p.feed(*is_orig, d, sink);
    }
    p
}

#[test]
fn commands_raise_their_events_and_confirm_once() {
    let mut s = Collect::default();
    run(
        &mut s,
        &[
            (true, b"NICK :alice\r\nUSER al host srv :Alice Liddell Esq\r\n"),
            (false, b":irc.example 001 alice :Welcome\r\n"),
            (true, b"JOIN #a,#b key1\r\nPRIVMSG #a :hello there\r\nFOO bar\r\n"),
        ],
    );
    assert_eq!(s.confirmed, 1);
    let mut it = s.events.into_iter();
    assert!(matches!(it.next(), Some(Event::IrcNickMessage { who, newnick, .. }) if who.is_empty() && newnick == "alice"));
    assert!(matches!(it.next(), Some(Event::IrcUserMessage { user, host, server, real_name, .. })
        if user == "al" && host == "host" && server == "srv" && real_name == "AliceLiddell Esq "));
    assert!(matches!(it.next(), Some(Event::IrcReply { prefix, code: 1, params, .. })
        if prefix == "irc.example" && params == "alice :Welcome"));
    match it.next() {
        Some(Event::IrcJoinMessage { info_list, .. }) => assert_eq!(
            info_list,
            [
                IrcJoinInfo { nick: String::new(), channel: "#a".into(), password: "key1".into(), usermode: String::new() },
                IrcJoinInfo { nick: String::new(), channel: "#b".into(), password: String::new(), usermode: String::new() },
            ]
        ),
        e => panic!("{e:?}"),
    }
    assert!(matches!(it.next(), Some(Event::IrcPrivmsgMessage { target, message, .. }) if target == "#a" && message == "hello there"));
    assert!(matches!(it.next(), Some(Event::IrcRequest { command, arguments, .. }) if command == "FOO" && arguments == "bar"));
    assert!(it.next().is_none());
}

#[test]
fn without_a_handler_a_command_falls_back_to_the_generic_event() {
    let mut s = Collect { only: vec![EventKind::IrcRequest, EventKind::IrcMessage], ..Default::default() };
    run(&mut s, &[(true, b"NICK bob\r\n"), (false, b":bob!u@h NICK carol\r\n")]);
    assert!(matches!(&s.events[0], Event::IrcRequest { command, arguments, .. } if command == "NICK" && arguments == "bob"));
    assert!(matches!(&s.events[1], Event::IrcMessage { prefix, command, .. } if prefix == "bob!u@h" && command == "NICK"));
}

#[test]
fn dcc_offers_carry_address_and_port() {
    let mut s = Collect::default();
    run(&mut s, &[(false, b":a!b@c PRIVMSG bob :\x01DCC SEND file.txt 167772167 59130 1024\x01\r\n")]);
    match &s.events[..] {
        [Event::IrcDccMessage { dcc_type, argument, address, dest_port, size, .. }] => {
            assert_eq!((dcc_type.as_str(), argument.as_str(), *dest_port, *size), ("SEND", "file.txt", 59130, 1024));
            assert_eq!(address.to_string(), "10.0.0.7");
        }
        e => panic!("{e:?}"),
    }
    let mut s = Collect::default();
    run(&mut s, &[(false, b"PRIVMSG bob :\x01DCC SEND f 1 99999\x01\r\n")]);
    assert_eq!(s.weirds, ["irc_invalid_dcc_port"]);
}

#[test]
fn starttls_hands_over_the_rest() {
    let mut s = Collect::default();
    let mut p = run(&mut s, &[(true, b"STARTTLS\r\n")]);
    let data = b":srv 670 me :STARTTLS successful\r\n\x16\x03\x01";
    let used = p.feed(false, data, &mut s);
    assert_eq!(&data[used..], b"\x16\x03\x01");
    assert!(matches!(s.events[..], [Event::IrcStarttls { .. }]));
    assert_eq!(p.feed(true, b"\x16\x03\x01", &mut s), 0, "the client's side is TLS too");
}

#[test]
fn malformed_lines_are_violations_and_weirds_once_confirmed() {
    let mut s = Collect::default();
    run(&mut s, &[(false, b"12x foo\r\n:only-prefix\r\n")]);
    assert_eq!(s.violations, ["invalid reply number"]);
    assert!(s.weirds.is_empty(), "not confirmed yet");
    let mut s = Collect::default();
    run(&mut s, &[(true, b"PING x\r\n12x foo\r\n")]);
    assert_eq!(s.weirds, ["irc_invalid_reply_number"]);
}

#[test]
fn replies_with_their_own_events() {
    let mut s = Collect::default();
    run(
        &mut s,
        &[(
            false,
            b":s 251 me :There are 5 users and 2 services on 3 servers\r\n:s 353 me = #c :@op voice\r\n:s 433 * x :in use\r\n",
        )],
    );
    assert!(matches!(s.events[0], Event::IrcNetworkInfo { users: 5, services: 2, servers: 3, .. }));
    assert!(matches!(&s.events[1], Event::IrcNamesInfo { c_type, channel, users, .. }
        if c_type == "=" && channel == "#c" && users == &["op".to_string(), "voice".to_string()]));
    assert!(matches!(s.events[2], Event::IrcInvalidNick { .. }));
}
