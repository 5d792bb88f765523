//! Unit tests of the HTTP parser: findings for small hand-made exchanges.

use super::content_line::{ContentLine, Piece};
use super::*;

/// Runs `steps` (direction, bytes) then both ends and the removal.
fn run(steps: &[(bool, &[u8])]) -> Vec<Out> {
    let mut p = Parser::new(Settings::default());
    let mut s = Collect::default();
    for (is_orig, d) in steps {
        p.stream(*is_orig, d, &mut s);
    }
    p.end_of_data(true, &mut s);
    p.end_of_data(false, &mut s);
    p.done(&mut s);
    s.out
}

fn weirds(out: &[Out]) -> Vec<&'static str> {
    out.iter().filter_map(|o| if let Out::Weird(w, _) = o { Some(*w) } else { None }).collect()
}

fn done(out: &[Out]) -> Vec<(bool, bool, u64)> {
    out.iter()
        .filter_map(|o| match o {
            Out::MessageDone { is_orig, stat } => Some((*is_orig, stat.interrupted, stat.body_length)),
            _ => None,
        })
        .collect()
}

fn requests(out: &[Out]) -> Vec<(String, String, String)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Request { method, unescaped_uri, version, .. } => Some((
                String::from_utf8_lossy(method).into(),
                String::from_utf8_lossy(unescaped_uri).into(),
                version.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn replies(out: &[Out]) -> Vec<(u64, String)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Reply { code, reason, .. } => Some((*code, String::from_utf8_lossy(reason).into())),
            _ => None,
        })
        .collect()
}

fn entity_data(out: &[Out], orig: bool) -> Vec<u8> {
    out.iter()
        .filter_map(|o| match o {
            Out::EntityData { is_orig, data } if *is_orig == orig => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn get_and_reply_with_content_length() {
    let out = run(&[
        (true, b"GET /a%20b HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"),
        (false, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhel"),
        (false, b"lo"),
    ]);
    assert_eq!(requests(&out), [("GET".into(), "/a b".into(), "1.1".into())]);
    assert_eq!(replies(&out), [(200, "OK".into())]);
    assert_eq!(done(&out), [(true, false, 0), (false, false, 5)]);
    assert_eq!(entity_data(&out, false), b"hello");
    assert_eq!(out.iter().filter(|o| **o == Out::Confirm).count(), 2, "request and its reply both confirm");
    assert!(weirds(&out).is_empty(), "{:?}", weirds(&out));
    assert!(out.contains(&Out::ContentType { is_orig: false, ty: b"TEXT".to_vec(), subty: b"HTML".to_vec() }));
    let hosts: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::Header { is_orig: true, name, value, .. } if name == b"HOST" => Some(value.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(hosts, [b"example.com".to_vec()]);
    let stats = out.last().unwrap();
    assert_eq!(*stats, Out::Stats { num_requests: 1, num_replies: 1, request_version: 1.1, reply_version: 1.1 });
}

#[test]
fn pipelined_requests_pair_in_order_and_head_has_no_body() {
    let out = run(&[
        (true, b"HEAD /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
        (false, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
    ]);
    assert_eq!(requests(&out).len(), 2);
    assert_eq!(replies(&out).len(), 2, "the HEAD reply's Content-Length announces no body");
    assert_eq!(done(&out), [(true, false, 0), (true, false, 0), (false, false, 0), (false, false, 3)]);
}

#[test]
fn chunked_body_with_trailer() {
    let out = run(&[
        (
            true,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nX-T: 1\r\n\r\n",
        ),
        (false, b"HTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    assert_eq!(entity_data(&out, true), b"Wikipedia");
    assert_eq!(done(&out), [(true, false, 9), (false, false, 0)]);
    assert!(out.iter().any(|o| matches!(o, Out::Header { name, .. } if name == b"X-T")), "trailer headers are raised");
    assert!(weirds(&out).is_empty(), "{:?}", weirds(&out));
}

#[test]
fn chunk_size_weirds_and_chunked_needs_http_1_1() {
    let out = run(&[(true, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n")]);
    assert!(weirds(&out).contains(&"HTTP_bad_chunk_size"));
    let out = run(&[(true, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n\r\nxyz")]);
    assert_eq!(weirds(&out), ["HTTP_chunked_multi", "HTTP_content_length_and_chunked", "HTTP_bad_chunk_size"]);
    let out = run(&[(true, b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc")]);
    assert_eq!(done(&out)[0], (true, false, 3), "HTTP/1.0 ignores chunked");
}

#[test]
fn informational_reply_then_final_reply() {
    let out = run(&[
        (true, b"POST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
        (false, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (true, b"ok"),
        (false, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(replies(&out), [(100, "Continue".into()), (201, "Created".into())]);
    assert_eq!(done(&out), [(false, false, 0), (true, false, 2), (false, false, 0)]);
    let out = run(&[(true, b"POST / HTTP/1.1\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n")]);
    assert_eq!(weirds(&out), ["HTTP_content_length_0_and_expect_100_cont"]);
}

#[test]
fn connect_hands_the_connection_over() {
    let out = run(&[
        (true, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        (false, b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01"),
        (true, b"\x16\x03\x01\x02\x00garbage\r\n"),
    ]);
    assert_eq!(requests(&out), [("CONNECT".into(), "example.com:443".into(), "1.1".into())]);
    assert_eq!(weirds(&out), ["protocol_data_with_HTTP_CONNECT_reply"]);
    assert!(!out.iter().any(|o| matches!(o, Out::Violate(_))), "tunnelled bytes are not HTTP");
    assert_eq!(done(&out), [(true, false, 0), (false, false, 0)], "the reply ends with its direction");
}

#[test]
fn gzip_and_raw_deflate_bodies_count_decoded_bytes() {
    use flate2::write::{DeflateEncoder, GzEncoder};
    use std::io::Write;
    let text = b"hello hello hello hello hello";
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text).unwrap();
    let gz = gz.finish().unwrap();
    let mut raw = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    raw.write_all(text).unwrap();
    let raw = raw.finish().unwrap();
    for (enc, body) in [("x-gzip", gz), ("deflate", raw)] {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Encoding: {enc}\r\nContent-Length: {}\r\n\r\n", body.len());
        let (a, b) = body.split_at(body.len() / 2);
        let out = run(&[(true, b"GET / HTTP/1.1\r\n\r\n"), (false, head.as_bytes()), (false, a), (false, b)]);
        assert_eq!(entity_data(&out, false), text, "{enc}");
        assert_eq!(done(&out)[1], (false, false, text.len() as u64), "{enc}");
    }
}

#[test]
fn multipart_parts_are_entities() {
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n--XyZ\r\nContent-Disposition: form-data; name=\"g\"\r\n\r\nv\r\n--XyZ--\r\n";
    let head = format!(
        "POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let out = run(&[(true, head.as_bytes()), (true, body), (false, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]);
    let begins = out.iter().filter(|o| matches!(o, Out::BeginEntity { is_orig: true })).count();
    let ends = out.iter().filter(|o| matches!(o, Out::EndEntity { is_orig: true })).count();
    assert_eq!((begins, ends), (3, 3), "the message and its two parts");
    assert_eq!(entity_data(&out, true), b"line1\r\nline2v");
    assert_eq!(done(&out)[0], (true, false, body.len() as u64));
    assert!(weirds(&out).is_empty(), "{:?}", weirds(&out));
}

#[test]
fn content_range_of_a_partial_reply() {
    let out = run(&[
        (true, b"GET /f HTTP/1.1\r\nRange: bytes=0-3\r\n\r\n"),
        (false, b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/100\r\nContent-Length: 5\r\n\r\nabcde"),
    ]);
    assert_eq!(weirds(&out), ["HTTP_range_not_matching_len"]);
    assert_eq!(done(&out)[1], (false, false, 5), "the larger of both lengths");
    let out = run(&[
        (true, b"GET /f HTTP/1.1\r\n\r\n"),
        (false, b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 9-3/100\r\nContent-Length: 1\r\n\r\na"),
    ]);
    assert_eq!(weirds(&out), ["HTTP_non_positive_content_range"]);
}

#[test]
fn lenient_lines_raise_zeek_weirds() {
    let out = run(&[(true, b"GET /x%zz%%41 http/1.1\r\nX-Long: a\r\n  b\r\n\r\n")]);
    assert_eq!(
        weirds(&out),
        ["lowercase_HTTP_keyword", "unescaped_%_in_URI", "double_%_in_URI", "HTTP_obsolete_line_folding"]
    );
    assert_eq!(requests(&out), [("GET".into(), "/x%zzA".into(), "1.1".into())]);
    assert!(out.iter().any(|o| matches!(o, Out::Header { value, .. } if value == b"a  b")));
    let out = run(&[(true, b"\x16\x03\x01\x00\x05hello\r\n")]);
    assert!(out.contains(&Out::Violate("not a http request line")));
    assert!(!out.contains(&Out::Confirm));
    let out = run(&[(true, b"GET /a b c HTTP/1.0\r\n\r\n")]);
    assert_eq!(requests(&out), [("GET".into(), "/a b c".into(), "1.0".into())]);
}

#[test]
fn http_0_9_reply_is_raw_data() {
    let out = run(&[(true, b"GET /old\r\n"), (false, b"<html>\r\nhi</html>")]);
    assert_eq!(requests(&out), [("GET".into(), "/old".into(), "0.9".into())]);
    assert_eq!(replies(&out), [(0, "<empty>".into())]);
    assert_eq!(entity_data(&out, false), b"<html>\r\nhi</html>");
}

#[test]
fn line_ends_and_delivery_size() {
    let mut cl = ContentLine::default();
    let mut pos = 0;
    let d = b"a\rb\r\nc\nd";
    let mut got = Vec::new();
    while let Some(p) = cl.next(d, &mut pos) {
        got.push(p);
    }
    assert_eq!(
        got,
        [
            Piece::Line(b"a".to_vec()),
            Piece::Weird("line_terminated_with_single_CR"),
            Piece::Line(b"b".to_vec()),
            Piece::Line(b"c".to_vec())
        ]
    );
    assert!(cl.has_partial_line());
    // A request whose Content-Length ends inside a line: the partial line ends there.
    let out = run(&[
        (true, b"POST / HTTP/1.1\r\nContent-Type: multipart/x; boundary=b\r\nContent-Length: 6\r\n\r\n"),
        (true, b"--b--x"),
    ]);
    assert!(weirds(&out).contains(&"line_terminated_without_CRLF"), "{:?}", weirds(&out));
}

#[test]
fn a_gap_inside_a_body_is_skipped_and_one_in_headers_stops() {
    let mut p = Parser::new(Settings::default());
    let mut s = Collect::default();
    p.stream(true, b"GET / HTTP/1.1\r\n\r\n", &mut s);
    p.stream(false, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab", &mut s);
    p.gap(false, 5, &mut s);
    p.stream(false, b"cde", &mut s);
    p.stream(false, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &mut s);
    let d = done(&s.out);
    assert_eq!(d[1], (false, false, 10), "gap bytes count as body");
    assert!(s.out.iter().any(|o| matches!(o, Out::MessageDone { stat, .. } if stat.content_gap_length == 5)));
    let mut p = Parser::new(Settings::default());
    let mut s = Collect::default();
    p.stream(true, b"GET / HTTP/1.1\r\nHo", &mut s);
    p.gap(true, 5, &mut s);
    p.stream(true, b"GET /2 HTTP/1.1\r\n\r\n", &mut s);
    assert_eq!(requests(&s.out).len(), 1, "parsing stops after a gap outside a body");
    assert_eq!(done(&s.out), [(true, true, 0)]);
}

#[test]
fn partial_connections_are_not_read() {
    let mut p = Parser::new(Settings::default());
    p.partial = true;
    let mut s = Collect::default();
    p.stream(true, b"GET / HTTP/1.1\r\n\r\n", &mut s);
    p.done(&mut s);
    assert!(s.out.is_empty());
}

#[test]
fn the_analyzer_raises_events_and_confirms_once() {
    use crate::analyzers::analyzer::Analyzer;
    use crate::analyzers::testing::{summary, Harness};
    let mut h = Harness::new(6, 80);
    let mut a = Http::new(&h.cfg);
    assert_eq!(a.tag(), crate::analyzers::Tag::Http);
    let evs = h.stream(&mut a, true, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let names: Vec<String> = summary(&evs).into_iter().filter(|n| n.starts_with("http_")).collect();
    assert_eq!(evs.len(), names.len() + 2, "the confirmation, and get_file_handle as the request's entity ends");
    let all = summary(&evs);
    assert_eq!(all[all.len() - 2..], ["get_file_handle", "http_message_done"], "the entity's end asks for its file, body or not");
    assert!(h.status.confirmed);
    assert_eq!(
        names,
        [
            "http_request",
            "http_begin_entity",
            "http_header",
            "http_all_headers",
            "http_content_type",
            "http_end_entity",
            "http_message_done"
        ]
    );
    assert!(
        matches!(&evs[1], crate::events::Event::HttpRequest { c, method, .. } if method == "GET" && c.service == ["HTTP"])
    );
    let evs = h.stream(&mut a, false, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    assert!(summary(&evs).iter().all(|n| n.starts_with("http_") || n == "get_file_handle"), "confirmed once");
    assert!(evs
        .iter()
        .any(|e| matches!(e, crate::events::Event::HttpEntityData { length: 2, data, .. } if data == b"hi")));
    let evs = h.run(&mut a, |a, cx| a.stream(true, b"\x00\x01garbage\r\n", cx));
    assert_eq!(summary(&evs)[0], "weird:bad_HTTP_request");
    assert_eq!((evs.len(), h.status.violations), (2, 1), "then the violation");
}

#[test]
fn entity_bodies_go_to_file_analysis_with_size_offsets_and_end() {
    let mut p = Parser::new(Settings::default());
    let mut s = Collect::default();
    p.stream(true, b"GET / HTTP/1.1\r\n\r\n", &mut s);
    p.stream(false, b"HTTP/1.1 206 Partial\r\nContent-Range: bytes 10-13/100\r\nContent-Length: 4\r\n\r\nabcd", &mut s);
    p.stream(true, b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nx", &mut s);
    p.gap(true, 1, &mut s);
    p.stream(true, b"z", &mut s);
    let files: Vec<&Out> = s
        .out
        .iter()
        .filter(|o| matches!(o, Out::FileSize { .. } | Out::FileChunk { .. } | Out::FileHole { .. } | Out::FileEnd { .. }))
        .collect();
    assert_eq!(
        files,
        [
            &Out::FileEnd { is_orig: true },
            &Out::FileSize { is_orig: false, size: 100 },
            &Out::FileChunk { is_orig: false, data: b"abcd".to_vec(), offset: Some(10) },
            &Out::FileSize { is_orig: true, size: 3 },
            &Out::FileChunk { is_orig: true, data: b"x".to_vec(), offset: None },
            &Out::FileHole { is_orig: true, offset: 1, len: 1 },
            &Out::FileChunk { is_orig: true, data: b"z".to_vec(), offset: None },
            &Out::FileEnd { is_orig: true },
        ],
        "a 206 reply's file does not end with its message"
    );
}

/// The `signature_match` messages of `evs`, with the side that matched.
fn sig_matches(evs: &[weir_events::Event]) -> Vec<(String, bool)> {
    evs.iter()
        .filter_map(|e| match e {
            weir_events::Event::SignatureMatch { state, msg, .. } => Some((msg.clone(), state.is_orig)),
            _ => None,
        })
        .collect()
}

#[test]
fn http_content_goes_to_its_signature_pattern_types() {
    use crate::analyzers::testing::Harness;
    let mut h = Harness::new(6, 80);
    h.with_signatures(
        r#"
signature uri { http-request /^\/a b$/ event "uri" }
signature host { http-request-header /^Host: ex/ event "host" }
signature no-cross { http-request-header /^Host.*Accept/ event "one header at a time" }
signature server { http-reply-header /^server: x/i event "server" }
signature body { http-reply-body /^<html>/ event "body" }
signature reqbody { http-request-body /^k=v/ event "reqbody" }
signature payload-too { payload /^POST/ event "payload is not fed here" }
"#,
    );
    let mut a = crate::analyzers::http::Http::new(&h.cfg);
    let mut seen = Vec::new();
    seen.extend(sig_matches(&h.stream(&mut a, true, b"POST /a%20b HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nContent-Length: 3\r\n\r\nk=v")));
    seen.extend(sig_matches(&h.stream(&mut a, false, b"HTTP/1.1 200 OK\r\nServer: X/1\r\nContent-Length: 6\r\n\r\n<html>")));
    assert_eq!(
        seen,
        [
            ("uri".to_string(), true),
            ("host".to_string(), true),
            ("reqbody".to_string(), true),
            ("server".to_string(), false),
            ("body".to_string(), false)
        ],
        "each kind sees its own content: the unescaped URI, each header on its own, bodies"
    );
}
