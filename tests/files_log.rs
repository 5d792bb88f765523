//! files.log and http.log's file columns from file analysis, on HTTP
//! transfers the test builds: a response body is one file (its id in
//! `resp_fuids`, its sniffed MIME type in `resp_mime_types` and files.log's
//! `mime_type`, its sizes), a multipart upload is one file per part with the
//! parts' file names, and the same file id names the file in both logs.

mod common;

use common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A little-endian pcap of raw IPv4 packets (LINKTYPE_RAW).
fn write_pcap(path: &Path, packets: &[(f64, Vec<u8>)]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (ts, p) in packets {
        out.extend_from_slice(&(ts.trunc() as u32).to_le_bytes());
        out.extend_from_slice(&((ts.fract() * 1e6).round() as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    std::fs::write(path, out).expect("write trace");
}

/// A TCP segment in IPv4 (checksums left at 0: the runs ignore them).
fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(ack.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend(payload);
    let mut p = vec![0x45, 0];
    p.extend(((20 + t.len()) as u16).to_be_bytes());
    p.extend([0, 1, 0, 0, 64, 6, 0, 0]);
    p.extend(src);
    p.extend(dst);
    p.extend(t);
    p
}

const C: [u8; 4] = [10, 0, 0, 2];
const S: [u8; 4] = [93, 184, 216, 34];

/// One HTTP connection from port `sport`: handshake, `request` (in one
/// segment), `reply` in segments of at most 1000 bytes, FIN both ways.
fn exchange(t: f64, sport: u16, request: &[u8], reply: &[u8]) -> Vec<(f64, Vec<u8>)> {
    let (mut cs, mut ss) = (1000u32, 5000u32);
    let mut p = vec![
        (t, tcp(C, sport, S, 80, cs, 0, 0x02, &[])),
        (t + 0.01, tcp(S, 80, C, sport, ss, cs + 1, 0x12, &[])),
        (t + 0.02, tcp(C, sport, S, 80, cs + 1, ss + 1, 0x10, &[])),
    ];
    cs += 1;
    ss += 1;
    p.push((t + 0.03, tcp(C, sport, S, 80, cs, ss, 0x18, request)));
    cs += request.len() as u32;
    let mut at = t + 0.04;
    for chunk in reply.chunks(1000) {
        p.push((at, tcp(S, 80, C, sport, ss, cs, 0x18, chunk)));
        ss += chunk.len() as u32;
        at += 0.001;
    }
    p.push((at + 0.01, tcp(C, sport, S, 80, cs, ss, 0x11, &[])));
    p.push((at + 0.02, tcp(S, 80, C, sport, ss, cs + 1, 0x11, &[])));
    p.push((at + 0.03, tcp(C, sport, S, 80, cs + 1, ss + 1, 0x10, &[])));
    p
}

/// The PNG body the trace carries.
fn png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(std::iter::repeat_n(0x42u8, 5000));
    png
}

/// The trace, written once per test run (the tests run in parallel).
fn trace() -> PathBuf {
    static TRACE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TRACE.get_or_init(write_trace).clone()
}

fn write_trace() -> PathBuf {
    let dir = scratch_dir("files-log-trace");
    let path = dir.join("files.pcap");
    let png = png();
    let mut reply = format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n", png.len()).into_bytes();
    reply.extend(&png);
    let mut packets = exchange(1_700_000_000.0, 40001, b"GET /logo.png HTTP/1.1\r\nHost: example.com\r\n\r\n", &reply);
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"notes.txt\"\r\n\r\nplain text notes here\r\n\
                --XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"doc.pdf\"\r\n\r\n%PDF-1.4 tiny\r\n--XyZ--\r\n";
    let request = format!(
        "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    packets.extend(exchange(1_700_000_010.0, 40002, request.as_bytes(), b"HTTP/1.1 204 No Content\r\n\r\n"));
    write_pcap(&path, &packets);
    path
}

fn field<'a>(r: &'a HashMap<String, String>, k: &str) -> &'a str {
    r.get(k).map(String::as_str).unwrap_or("<absent>")
}

#[test]
fn http_bodies_are_files_in_files_log_and_http_log() {
    let logdir = scratch_dir("files-log");
    run_trace(&trace(), &logdir, &["-C"]);
    let http = read_stream(&logdir, "http").expect("http.log");
    let files = read_stream(&logdir, "files").expect("files.log");
    assert_eq!(http.rows.len(), 2, "{:#?}", http.rows);
    assert_eq!(files.rows.len(), 3, "one body and two parts: {:#?}", files.rows);

    let get = &http.rows_with("method", "GET")[0];
    assert_eq!(field(get, "resp_mime_types"), "image/png");
    assert_eq!(field(get, "orig_fuids"), "-");
    let fuid = field(get, "resp_fuids");
    assert!(fuid.starts_with('F') && !fuid.contains(','), "{fuid}");
    let f = &files.rows_with("fuid", fuid);
    assert_eq!(f.len(), 1, "the same id in both logs");
    let f = f[0];
    assert_eq!(field(f, "uid"), field(get, "uid"));
    assert_eq!(field(f, "source"), "HTTP");
    assert_eq!(field(f, "mime_type"), "image/png");
    assert_eq!(field(f, "is_orig"), "F");
    assert_eq!(field(f, "local_orig"), "F", "the sender, 93.184.216.34, is not in the private address space");
    assert_eq!((field(f, "seen_bytes"), field(f, "total_bytes"), field(f, "missing_bytes")), ("5016", "5016", "0"));
    assert_eq!(field(f, "timedout"), "F");
    assert_eq!(field(f, "id.resp_p"), "80");

    let post = &http.rows_with("method", "POST")[0];
    assert_eq!(field(post, "orig_filenames"), "notes.txt,doc.pdf");
    assert_eq!(field(post, "orig_mime_types"), "text/plain,application/pdf");
    let ids: Vec<&str> = field(post, "orig_fuids").split(',').collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    for (id, mime) in ids.iter().zip(["text/plain", "application/pdf"]) {
        let r = files.rows_with("fuid", id);
        assert_eq!(r.len(), 1, "{id}");
        assert_eq!(field(r[0], "mime_type"), mime);
        assert_eq!(field(r[0], "is_orig"), "T");
        assert_eq!(field(r[0], "local_orig"), "T", "10.0.0.2 sent it");
    }
}

#[test]
fn file_ids_are_reproducible() {
    let a = scratch_dir("files-log-a");
    let b = scratch_dir("files-log-b");
    let t = trace();
    run_trace(&t, &a, &["-C"]);
    run_trace(&t, &b, &["-C"]);
    let ids = |d: &Path| {
        let mut v: Vec<String> = read_stream(d, "files").expect("files.log").rows.iter().map(|r| field(r, "fuid").to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&a), ids(&b));
}

/// `Files::hash_all_files` gives every file the three digests (checked
/// against coreutils' md5sum, sha1sum and sha256sum of the same bytes) and
/// files.log its hash columns; without it the columns are not there.
#[test]
fn hash_all_files_fills_the_hash_columns() {
    let body = scratch_dir("files-hash-body").join("png");
    std::fs::write(&body, png()).unwrap();
    let digest = |tool: &str| -> String {
        let out = std::process::Command::new(tool).arg(&body).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
        String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
    };
    let logdir = scratch_dir("files-hash");
    run_trace(&trace(), &logdir, &["-C", "--set", "Files::hash_all_files=T"]);
    let files = read_stream(&logdir, "files").expect("files.log");
    let f = &files.rows_with("mime_type", "image/png")[0];
    assert_eq!(field(f, "md5"), digest("md5sum"));
    assert_eq!(field(f, "sha1"), digest("sha1sum"));
    assert_eq!(field(f, "sha256"), digest("sha256sum"));
    assert_eq!(field(f, "analyzers"), "MD5,SHA1,SHA256");
    for r in &files.rows {
        assert_eq!(field(r, "sha1").len(), 40, "every file is whole, so every one has its hashes: {r:?}");
    }
    let logdir = scratch_dir("files-no-hash");
    run_trace(&trace(), &logdir, &["-C"]);
    let files = read_stream(&logdir, "files").expect("files.log");
    assert_eq!(field(&files.rows[0], "md5"), "<absent>");
    assert_eq!(field(&files.rows[0], "analyzers"), "(empty)");
}

/// `Files::extract_all_files` writes every file into `extract_files/` of
/// the log folder under the name files.log gives, and
/// `ZIP::analyze_archives` makes each member of a downloaded archive a
/// file of its own, named, with the archive as its parent; without the
/// options neither happens.
#[test]
fn extraction_and_zip_members() {
    let notes: &[u8] = b"plain text notes inside the archive\n";
    let png = png();
    let archive = weir_engine::files::zip::stored_archive(&[("docs/notes.txt", notes), ("img/logo.png", &png)]);
    let mut reply = format!("HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\n\r\n", archive.len()).into_bytes();
    reply.extend(&archive);
    let dir = scratch_dir("files-zip-trace");
    let path = dir.join("zip.pcap");
    write_pcap(&path, &exchange(1_700_000_100.0, 40010, b"GET /a.zip HTTP/1.1\r\nHost: example.com\r\n\r\n", &reply));

    let logdir = scratch_dir("files-zip");
    run_trace(&path, &logdir, &["-C", "--set", "Files::extract_all_files=T", "--set", "ZIP::analyze_archives=T"]);
    let files = read_stream(&logdir, "files").expect("files.log");
    assert_eq!(files.rows.len(), 3, "the archive and its two members: {:#?}", files.rows);
    let outer = &files.rows_with("source", "HTTP")[0];
    assert_eq!(field(outer, "mime_type"), "application/zip");
    assert_eq!(field(outer, "analyzers"), "EXTRACT,ZIP");
    for (name, mime, bytes) in [("docs/notes.txt", "text/plain", notes), ("img/logo.png", "image/png", &png[..])] {
        let m = &files.rows_with("filename", name);
        assert_eq!(m.len(), 1, "{name}");
        let m = m[0];
        assert_eq!(field(m, "source"), "ZIP");
        assert_eq!(field(m, "mime_type"), mime);
        assert_eq!(field(m, "parent_fuid"), field(outer, "fuid"));
        assert_eq!(field(m, "uid"), field(outer, "uid"), "over the archive's connection");
        assert_eq!(field(m, "seen_bytes"), bytes.len().to_string());
        let extracted = field(m, "extracted");
        assert_eq!(extracted, format!("extract-{}-ZIP-{}", field(m, "ts"), field(m, "fuid")));
        assert_eq!(std::fs::read(logdir.join("extract_files").join(extracted)).unwrap(), bytes);
        assert_eq!(field(m, "extracted_cutoff"), "F");
    }
    let on_disk = std::fs::read(logdir.join("extract_files").join(field(outer, "extracted"))).unwrap();
    assert_eq!(on_disk, archive);

    let logdir = scratch_dir("files-zip-off");
    run_trace(&path, &logdir, &["-C"]);
    let files = read_stream(&logdir, "files").expect("files.log");
    assert_eq!(files.rows.len(), 1);
    assert_eq!(field(&files.rows[0], "extracted"), "<absent>");
    assert!(!logdir.join("extract_files").exists(), "no grant, no folder");
}

/// `FileExtract::default_limit` cuts an extraction: files.log says so.
#[test]
fn the_extraction_limit_cuts_and_is_logged() {
    let logdir = scratch_dir("files-extract-limit");
    run_trace(&trace(), &logdir, &["-C", "--set", "Files::extract_all_files=T", "--set", "FileExtract::default_limit=100"]);
    let files = read_stream(&logdir, "files").expect("files.log");
    let f = &files.rows_with("mime_type", "image/png")[0];
    assert_eq!((field(f, "extracted_cutoff"), field(f, "extracted_size")), ("T", "100"));
    let on_disk = std::fs::read(logdir.join("extract_files").join(field(f, "extracted"))).unwrap();
    assert_eq!(on_disk, png()[..100]);
    let small = &files.rows_with("mime_type", "text/plain")[0];
    assert_eq!((field(small, "extracted_cutoff"), field(small, "extracted_size")), ("F", "-"), "under the limit");
}
