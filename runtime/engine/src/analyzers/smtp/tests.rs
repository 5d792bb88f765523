use super::*;
use crate::analyzers::mime;

/// Feeds `(is_orig, bytes)` steps to a fresh parser, then ends it.
fn run(steps: &[(bool, &str)]) -> Vec<Out> {
    let mut sink = Collect::default();
    let mut p = Parser::new(Settings::default());
    for (is_orig, d) in steps {
        p.stream(*is_orig, d.as_bytes(), &mut sink);
    }
    p.done(&mut sink);
    sink.out
}

fn requests(out: &[Out]) -> Vec<(String, String)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Request { command, arg, .. } => {
                Some((String::from_utf8_lossy(command).into_owned(), String::from_utf8_lossy(arg).into_owned()))
            }
            _ => None,
        })
        .collect()
}

fn replies(out: &[Out]) -> Vec<(u64, &'static str, String, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Reply { code, cmd, msg, cont_resp, .. } => {
                Some((*code, *cmd, String::from_utf8_lossy(msg).into_owned(), *cont_resp))
            }
            _ => None,
        })
        .collect()
}

fn unexpected(out: &[Out]) -> Vec<&'static str> {
    out.iter()
        .filter_map(|o| match o {
            Out::Unexpected { msg, .. } => Some(*msg),
            _ => None,
        })
        .collect()
}

fn headers(out: &[Out]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Out::Mime(mime::Out::OneHeader(h)) => Some(String::from_utf8_lossy(&h.value).into_owned()),
            _ => None,
        })
        .collect()
}

const SESSION: &[(bool, &str)] = &[
    (false, "220 mx.example.org ESMTP Postfix\r\n"),
    (true, "EHLO client.example.org\r\n"),
    (false, "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n"),
    (true, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
    (false, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
    (true, "Subject: hi\r\nX-Mailer: Mutt/1.5.21\r\n\r\n..leading dot\r\nbody\r\n.\r\n"),
    (false, "250 2.0.0 Ok: queued\r\n"),
    (true, "QUIT\r\n"),
    (false, "221 2.0.0 Bye\r\n"),
];

#[test]
fn a_pipelined_session() {
    let out = run(SESSION);
    assert_eq!(
        requests(&out),
        [
            ("EHLO".into(), "client.example.org".into()),
            ("MAIL".into(), "FROM:<a@example.org>".into()),
            ("RCPT".into(), "TO:<b@example.org>".into()),
            ("DATA".into(), "".into()),
            (".".into(), ".".into()),
            ("QUIT".into(), "".into()),
        ]
    );
    let r = replies(&out);
    assert_eq!(r[0], (220, ">", "mx.example.org ESMTP Postfix".into(), false));
    assert_eq!(r[1], (250, "EHLO", "mx.example.org".into(), true));
    assert_eq!(r[3], (250, "EHLO", "8BITMIME".into(), false));
    assert_eq!(r[4].1, "MAIL");
    assert_eq!(r[5].1, "RCPT");
    assert_eq!(r[6], (354, "DATA", "End data with <CR><LF>.<CR><LF>".into(), false));
    assert_eq!(r[7], (250, ".", "2.0.0 Ok: queued".into(), false));
    assert_eq!(r[8].1, "QUIT");
    assert!(unexpected(&out).is_empty(), "{out:?}");
    assert_eq!(headers(&out), ["hi", "Mutt/1.5.21"]);
    let data: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::Data { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(data, ["Subject: hi", "X-Mailer: Mutt/1.5.21", "", ".leading dot", "body"], "dot-unstuffed");
    let ends = out.iter().filter(|o| matches!(o, Out::Mime(mime::Out::EndEntity))).count();
    assert_eq!(ends, 1, "the message ends at the dot, once");
    let software: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::Software { orig_host, text } => Some((*orig_host, String::from_utf8_lossy(text).into_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(software, [(false, "mx.example.org ESMTP Postfix".into()), (true, "Mutt/1.5.21".into())]);
    assert!(out.contains(&Out::Confirm));
}

#[test]
fn bdat_chunks_carry_the_message() {
    let out = run(&[
        (false, "220 ready\r\n"),
        (true, "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"),
        (false, "250 hi\r\n250 ok\r\n250 ok\r\n"),
        (true, "BDAT 13\r\nSubject: x\r\n\r"),
        (false, "250 13 octets\r\n"),
        (true, "BDAT 6 LAST\r\n\nabc\r\n"),
        (false, "250 queued\r\n"),
        (true, "QUIT\r\n"),
    ]);
    assert_eq!(headers(&out), ["x"]);
    let r = replies(&out);
    assert_eq!(r[4], (250, "BDAT", "13 octets".into(), false));
    assert_eq!(r[5], (250, "BDAT", "queued".into(), false));
    assert_eq!(requests(&out).last().unwrap().0, "QUIT");
    let data: Vec<u8> = out
        .iter()
        .filter_map(|o| match o {
            Out::Mime(mime::Out::EntityData(d)) => Some(d.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(data, b"abc\r\n");
    // As in Zeek, the transfer's state is set before the command's, so each
    // BDAT is a command out of its state.
    assert_eq!(unexpected(&out), ["unexpected command", "unexpected command"], "{out:?}");
    let bad = run(&[(false, "220 ready\r\n"), (true, "BDAT 12x LAST\r\n")]);
    assert!(bad.contains(&Out::Weird("smtp_invalid_bdat_command", "BDAT chunk-size not valid".into())));
}

#[test]
fn starttls_ends_smtp_parsing() {
    let mut sink = Collect::default();
    let mut p = Parser::new(Settings::default());
    p.stream(false, b"220 ready\r\n", &mut sink);
    p.stream(true, b"EHLO c\r\nSTARTTLS\r\n", &mut sink);
    let reply = b"250 hi\r\n220 2.0.0 Ready to start TLS\r\n\x16\x03\x01";
    let used = p.stream(false, reply, &mut sink);
    assert_eq!(used, reply.len() - 3, "the TLS bytes are left to TLS");
    assert!(p.in_tls());
    assert_eq!(p.stream(true, b"\x16\x03\x01\x02\x00", &mut sink), 0);
    assert!(sink.out.contains(&Out::StartTls));
    assert_eq!(replies(&sink.out).last().unwrap().2, "2.0.0 Ready to start TLS");
}

#[test]
fn oddities_are_reported() {
    let out = run(&[(false, "220 ready\r\n"), (true, "FOO bar\r\n"), (false, "99 what\r\n")]);
    assert_eq!(unexpected(&out), ["unknown command", "reply code out of range"]);
    assert!(out.iter().any(|o| matches!(o, Out::Violate(r, _) if r == "reply code -1 out of range")));
    let out = run(&[(false, "250 hello?\r\n")]);
    assert_eq!(unexpected(&out), ["unexpected reply"]);
    // After a gap, the next reply recovers with an unknown command.
    let mut sink = Collect::default();
    let mut p = Parser::new(Settings::default());
    p.stream(false, b"220 ready\r\n", &mut sink);
    p.stream(true, b"EHLO c\r\n", &mut sink);
    p.gap(true, 10, &mut sink);
    p.stream(false, b"250 ok\r\n", &mut sink);
    assert!(sink.out.iter().any(|o| matches!(o, Out::Unexpected { msg: "content gap", detail, .. } if detail == b"seq = 9, len = 10")));
    assert_eq!(requests(&sink.out).last().unwrap().0, "(UNKNOWN)");
}

#[test]
fn auth_answers_and_turn() {
    let out = run(&[
        (false, "220 ready\r\n"),
        (true, "EHLO c\r\n"),
        (false, "250 ok\r\n"),
        (true, "AUTH LOGIN\r\n"),
        (false, "334 VXNlcm5hbWU6\r\n"),
        (true, "dXNlcg==\r\n"),
        (false, "235 ok\r\n"),
    ]);
    let r = requests(&out);
    assert_eq!(r[2], ("**".into(), "dXNlcg==".into()));
    assert_eq!(replies(&out).last().unwrap().1, "AUTH_ANSWER");
}

#[test]
fn the_analyzer_raises_smtp_mime_and_software_events() {
    use crate::analyzers::testing::{summary, Harness};
    use crate::events::Event;
    let mut h = Harness::new(6, 25);
    let mut a = Smtp::new(&h.cfg);
    let evs = h.stream(&mut a, false, b"220 mx.example.org ESMTP Postfix 2.9\r\n");
    assert_eq!(
        summary(&evs),
        ["software_version_found", "software_unparsed_version_found", "smtp_reply"],
        "{evs:?}"
    );
    match &evs[0] {
        Event::SoftwareVersionFound { host, s, descr, .. } => {
            assert_eq!(host.to_string(), "10.0.0.2", "the server's software");
            assert_eq!(s.name, "mx.example.org", "a dot before a letter separates nothing");
            assert_eq!(descr, "mx.example.org ESMTP Postfix 2.9");
        }
        e => panic!("{e:?}"),
    }
    let evs = h.stream(&mut a, true, b"EHLO c\r\n");
    assert!(summary(&evs).contains(&"smtp_request".to_string()), "{evs:?}");
    assert!(h.status.confirmed, "the first command confirms SMTP");
    h.stream(&mut a, false, b"250 ok\r\n");
    h.stream(&mut a, true, b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
    h.stream(&mut a, false, b"250 ok\r\n250 ok\r\n354 go\r\n");
    let evs = h.stream(&mut a, true, b"User-Agent: 1.2.3 (4)\r\n\r\nx\r\n.\r\n");
    let s = summary(&evs);
    for want in ["mime_one_header", "software_parse_error", "mime_all_headers", "smtp_data", "mime_entity_data", "mime_end_entity"] {
        assert!(s.contains(&want.to_string()), "{want} missing from {s:?}");
    }
    let evs = h.stream(&mut a, false, b"999 nonsense\r\n");
    assert!(summary(&evs).contains(&"smtp_unexpected".to_string()));
    assert!(h.status.disabled, "a reply code out of range violates SMTP");
}

#[test]
fn the_bytes_after_starttls_go_to_an_ssl_child() {
    use crate::analyzers::testing::{summary, Harness};
    use crate::events::Event;
    let mut h = Harness::new(6, 25);
    let mut a = Smtp::new(&h.cfg);
    h.stream(&mut a, false, b"220 mx ESMTP\r\n");
    h.stream(&mut a, true, b"EHLO c\r\n");
    h.stream(&mut a, false, b"250 ok\r\n");
    h.stream(&mut a, true, b"STARTTLS\r\n");
    let evs = h.stream(&mut a, false, b"220 go ahead\r\n");
    assert!(summary(&evs).contains(&"smtp_starttls".to_string()), "{evs:?}");
    // Not a TLS record: the SSL child, not SMTP, reports it.
    let evs = h.stream(&mut a, true, b"\x00\x00\x00\x00 plain text again\r\n");
    let violation = evs.iter().find_map(|e| match e {
        Event::ProtocolViolation { atype, aid, .. } => Some((atype.name.clone(), *aid)),
        _ => None,
    });
    assert_eq!(violation.as_ref().map(|v| v.0.as_str()), Some("SSL"), "{evs:?}");
    assert_ne!(violation.map(|v| v.1), Some(1), "the child has an instance id of its own");
    assert!(!h.status.disabled, "SMTP itself is not blamed");
}
