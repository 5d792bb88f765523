use super::*;

fn run(settings: Settings, lines: &[&str]) -> Vec<Out> {
    let mut sink = Collect::default();
    let mut m = Mail::new(settings, &mut sink);
    for l in lines {
        m.deliver(l.as_bytes(), true, &mut sink);
    }
    m.done(&mut sink);
    sink.out
}

fn headers(out: &[Out]) -> Vec<(String, String)> {
    out.iter()
        .filter_map(|o| match o {
            Out::OneHeader(h) => {
                Some((String::from_utf8_lossy(&h.name).into_owned(), String::from_utf8_lossy(&h.value).into_owned()))
            }
            _ => None,
        })
        .collect()
}

fn entity_data(out: &[Out]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Out::EntityData(d) => Some(String::from_utf8_lossy(d).into_owned()),
            _ => None,
        })
        .collect()
}

fn count(out: &[Out], want: &Out) -> usize {
    out.iter().filter(|o| *o == want).count()
}

#[test]
fn headers_are_joined_and_the_body_is_handed_on() {
    let out = run(
        Settings::default(),
        &["Subject: one", "  two", "From: a@b", "", "hello", "world"],
    );
    assert_eq!(headers(&out), [("SUBJECT".into(), "one  two".into()), ("FROM".into(), "a@b".into())]);
    assert_eq!(entity_data(&out), ["hello\r\nworld\r\n"]);
    assert_eq!(out.first(), Some(&Out::BeginEntity));
    assert!(matches!(out.last(), Some(Out::AllData(d)) if d == b"hello\r\nworld\r\n"));
    let all = out.iter().find_map(|o| match o {
        Out::AllHeaders(h) => Some(h.len()),
        _ => None,
    });
    assert_eq!(all, Some(2));
}

#[test]
fn multipart_parts_are_entities_and_decoded() {
    let out = run(
        Settings::default(),
        &[
            "Content-Type: multipart/mixed; boundary=\"XX\"",
            "",
            "preamble is ignored",
            "--XX",
            "Content-Type: text/plain",
            "",
            "part one",
            "--XX",
            "Content-Transfer-Encoding: base64",
            "",
            "aGVsbG8=",
            "--XX",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "a=3Db=",
            "c",
            "--XX--",
            "epilogue",
        ],
    );
    assert_eq!(count(&out, &Out::BeginEntity), 4);
    assert_eq!(count(&out, &Out::EndEntity), 4);
    // The CRLF before a boundary belongs to the boundary.
    assert_eq!(entity_data(&out), ["part one", "hello", "a=bc\r\n", ""]);
}

#[test]
fn nesting_stops_at_the_depth_limit() {
    let nested = [
        "Content-Type: multipart/mixed; boundary=a",
        "",
        "--a",
        "Content-Type: multipart/mixed; boundary=b",
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "deep",
        "--b--",
        "--a--",
    ];
    let out = run(Settings::default(), &nested);
    assert_eq!(count(&out, &Out::BeginEntity), 3);
    assert!(!out.iter().any(|o| matches!(o, Out::Limit(..))));
    let out = run(Settings { max_depth: 1, ..Settings::default() }, &nested);
    assert_eq!(count(&out, &Out::BeginEntity), 2, "{out:?}");
    assert!(out.contains(&Out::Limit("exceeded_mime_max_depth", "1".into())));
}

#[test]
fn problems_are_mime_events() {
    let out = run(Settings::default(), &["Content-Type: multipart/mixed", "", "x"]);
    assert!(out.iter().any(|o| matches!(o, Out::Event("illegal format", d) if d.starts_with("boundary delimiter"))));
    assert_eq!(entity_data(&out), ["x\r\n"], "treated as a plain body");
    let out = run(Settings::default(), &["Subject: never ends"]);
    assert!(out.contains(&Out::Event("illegal format", "entity body missing".into())));
    let out = run(Settings::default(), &["Content-Transfer-Encoding: quoted-printable", "", "a=zz"]);
    assert!(out.iter().any(|o| matches!(o, Out::Event("illegal encoding", _))));
}

#[test]
fn long_headers_and_segments_are_cut() {
    let out = run(
        Settings { max_header_bytes: 10, ..Settings::default() },
        &["Subject: 0123456789", " more", "", ""],
    );
    assert!(out.contains(&Out::Limit("exceeded_mime_max_header_bytes", "19".into())));
    assert_eq!(headers(&out), [("SUBJECT".into(), "0123456789".into())]);
    let out = run(Settings { segment_length: 4, ..Settings::default() }, &["", "abcdefghij"]);
    let segs: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::SegmentData(d) => Some(d.len()),
            _ => None,
        })
        .collect();
    assert_eq!(segs, [4, 4, 4]);
}
