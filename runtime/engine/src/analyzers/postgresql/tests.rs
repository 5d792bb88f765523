use super::parser::{Out, Parser};

const SSL_REQUEST: &[u8] = b"\x00\x00\x00\x08\x04\xd2\x16\x2f";

/// A StartupMessage of protocol 3.0 with `params` (name, value).
fn startup(params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = vec![0, 3, 0, 0];
    for (n, v) in params {
        body.extend_from_slice(n.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut m = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    m.extend(body);
    m
}

/// A typed message.
fn msg(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![typ];
    m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn run(steps: &[(bool, Vec<u8>)]) -> Vec<Out> {
    let (mut p, mut out) = (Parser::default(), Vec::new());
    for (is_orig, d) in steps {
        p.feed(*is_orig, d, &mut out);
    }
    out
}

#[test]
fn plain_login_and_query() {
    let out = run(&[
        (true, startup(&[("user", "alice"), ("database", "db")])),
        (false, [msg(b'R', &[0, 0, 0, 0]), msg(b'S', b"TimeZone\0UTC\0"), msg(b'K', &[0, 0, 0, 7, 0, 0, 1, 0]), msg(b'Z', b"I")].concat()),
        (true, msg(b'Q', b"select now();\0")),
        (false, [msg(b'T', b"x"), msg(b'D', &[0, 1, 0, 0, 0, 1, b'x']), msg(b'Z', b"I")].concat()),
        (true, msg(b'X', b"")),
    ]);
    assert_eq!(
        out,
        [
            Out::StartupParameter { name: b"user".to_vec(), value: b"alice".to_vec() },
            Out::StartupParameter { name: b"database".to_vec(), value: b"db".to_vec() },
            Out::StartupMessage { major: 3, minor: 0 },
            Out::Confirm,
            Out::AuthenticationOk,
            Out::ParameterStatus { name: b"TimeZone".to_vec(), value: b"UTC".to_vec() },
            Out::BackendKeyData { process_id: 7, secret_key: 256 },
            Out::ReadyForQuery(b'I'),
            Out::SimpleQuery(b"select now();".to_vec()),
            Out::NotImplemented { is_orig: false, typ: b'T', chunk: b"x".to_vec() },
            Out::DataRow(1),
            Out::ReadyForQuery(b'I'),
            Out::Terminate,
        ]
    );
}

#[test]
fn ssl_accepted_hands_both_sides_to_tls() {
    let out = run(&[(true, SSL_REQUEST.to_vec()), (false, b"S\x16\x03\x01".to_vec()), (true, b"\x16\x03\x01\x00".to_vec())]);
    assert_eq!(
        out,
        [
            Out::SslRequest,
            Out::SslReply(b'S'),
            Out::Confirm,
            Out::Tls { is_orig: false, data: b"\x16\x03\x01".to_vec() },
            Out::Tls { is_orig: true, data: b"\x16\x03\x01\x00".to_vec() },
        ]
    );
}

#[test]
fn ssl_refused_goes_on_in_plain_text() {
    let out = run(&[(true, SSL_REQUEST.to_vec()), (false, b"N".to_vec()), (true, startup(&[("user", "u")]))]);
    assert_eq!(out[..3], [Out::SslRequest, Out::SslReply(b'N'), Out::Confirm]);
    assert_eq!(out[4], Out::StartupMessage { major: 3, minor: 0 });
}

#[test]
fn server_bytes_before_the_client_wait_for_it() {
    let out = run(&[(false, msg(b'Z', b"T")), (true, startup(&[("user", "u")]))]);
    assert_eq!(out.last(), Some(&Out::ReadyForQuery(b'T')));
}

#[test]
fn errors_and_notices_carry_their_fields() {
    let out = run(&[(true, startup(&[("user", "u")])), (false, msg(b'E', b"SFATAL\0C28000\0\0"))]);
    assert_eq!(
        out[3..],
        [
            Out::ErrorField { code: b'S', value: b"FATAL".to_vec() },
            Out::ErrorField { code: b'C', value: b"28000".to_vec() },
            Out::ErrorResponse,
        ]
    );
}

#[test]
fn broken_input_is_a_violation_and_the_side_stops() {
    let out = run(&[(true, b"\x00\x00\x00\x10\x00\x02\x00\x00rest".to_vec())]);
    assert!(matches!(&out[..], [Out::Violate(r)] if r.contains("major version 2")));
    let out = run(&[(true, startup(&[("user", "u")])), (false, msg(b'Z', b"Q")), (false, msg(b'Z', b"I"))]);
    assert!(matches!(out.last(), Some(Out::Violate(_))), "a bad status, then nothing: {out:?}");
    let out = run(&[(true, SSL_REQUEST.to_vec()), (false, b"x".to_vec())]);
    assert!(matches!(out.last(), Some(Out::Violate(_))));
}

#[test]
fn messages_split_across_deliveries() {
    let whole = startup(&[("user", "bob")]);
    let (mut p, mut out) = (Parser::default(), Vec::new());
    for b in &whole {
        p.feed(true, &[*b], &mut out);
    }
    assert_eq!(out.len(), 3, "{out:?}");
}
