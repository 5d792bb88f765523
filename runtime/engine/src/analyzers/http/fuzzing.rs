//! The input layout of the `http` fuzz target (`runtime/engine/fuzz`): the
//! first byte picks small settings (entity data chunk size, header byte
//! limit, nesting depth) so that limits are reached; then each step is a
//! control byte and, for data, a length byte and that many bytes:
//! control bit 0 is the direction (1: originator), bits 1-2 the kind
//! (0, 1: data; 2: a gap of `length * 7` bytes; 3: the end of that
//! direction). After the last step the connection is removed. What the
//! parser hands to file analysis is then replayed through a small file
//! manager (tiny BOF and reassembly buffers, at most four files, handles
//! reused across files), so the fuzzer reaches file analysis too.

use super::{Collect, Out, Parser, Settings};
use crate::events::{Drain, Event, EventQueue, Subscriptions};
use crate::files::{Manager, Origin};

/// Runs one fuzz input through a fresh parser; returns what it found.
pub fn run(data: &[u8]) -> Collect {
    let mut sink = Collect::default();
    let Some((&first, mut rest)) = data.split_first() else { return sink };
    let settings = Settings {
        entity_data_delivery_size: 1 + (first & 7) as usize * 200,
        truncate_uri: if first & 8 != 0 { 16 } else { -1 },
        max_header_bytes: if first & 16 != 0 { 64 } else { 65536 },
        max_depth: if first & 32 != 0 { 2 } else { 100 },
    };
    let mut p = Parser::new(settings);
    while let Some((&ctl, r)) = rest.split_first() {
        rest = r;
        let is_orig = ctl & 1 == 1;
        match (ctl >> 1) & 3 {
            2 => {
                let Some((&n, r)) = rest.split_first() else { break };
                rest = r;
                p.gap(is_orig, n as u64 * 7, &mut sink);
            }
            3 => p.end_of_data(is_orig, &mut sink),
            _ => {
                let Some((&n, r)) = rest.split_first() else { break };
                let n = (n as usize).min(r.len());
                p.stream(is_orig, &r[..n], &mut sink);
                rest = &r[n..];
            }
        }
        sink.now += 0.5;
    }
    p.done(&mut sink);
    replay_files(&sink.out);
    sink
}

/// Answers `get_file_handle` with one of three handles in turn.
struct Handles(u64);

impl Drain for Handles {
    fn drain(&mut self, q: &mut EventQueue, _now: f64) -> Option<String> {
        let asked = q.take().iter().any(|e| matches!(e, Event::GetFileHandle { .. }));
        self.0 += 1;
        asked.then(|| format!("h{}", self.0 % 3))
    }
}

/// Runs the parser's file findings through a file manager as the HTTP
/// analyzer does (one cached id per direction); returns the events raised.
pub fn replay_files(out: &[Out]) -> usize {
    let settings = crate::files::Settings { bof_buffer_size: 64, reassembly_buffer_size: 256, max_files: 4, ..Default::default() };
    let mut m = Manager::new(settings, Some(std::sync::Arc::new(crate::files::Magic::builtin())));
    let mut q = EventQueue::new(Subscriptions::all());
    q.set_drain(Box::new(Handles(0)));
    let a = ("10.0.0.1".parse().unwrap(), 1234);
    let b = ("10.0.0.2".parse().unwrap(), 80);
    let key = crate::sessions::key::ConnKey::new(a, b, 6, false);
    let uid = crate::sessions::uid::UidGen::new(Some(1)).next_words();
    let conn = crate::sessions::conn::Conn::new(key, a, b, 6, uid, 1.0, &Default::default(), &[], 0);
    let mut ids: [Option<String>; 2] = [None, None];
    let mut events = 0;
    for (i, o) in out.iter().enumerate() {
        let now = 1.0 + i as f64;
        let is_orig = match o {
            Out::FileSize { is_orig, .. } | Out::FileChunk { is_orig, .. } | Out::FileHole { is_orig, .. } | Out::FileEnd { is_orig } => *is_orig,
            _ => continue,
        };
        let origin = Origin { tag: crate::analyzers::Tag::Http, conn: &conn, is_orig };
        let slot = &mut ids[usize::from(!is_orig)];
        let id = slot.take();
        *slot = match o {
            Out::FileSize { size, .. } => m.set_size(&mut q, now, &origin, *size, id.as_deref()),
            Out::FileChunk { data, offset, .. } => m.data_in(&mut q, now, &origin, data, *offset, id.as_deref()),
            Out::FileHole { offset, len, .. } => m.gap(&mut q, now, &origin, *offset, *len, id.as_deref()),
            _ => {
                m.end_of_file(&mut q, now, &origin, id.as_deref());
                None
            }
        };
        m.expire(&mut q, now);
        events += q.take().len();
    }
    m.terminate(&mut q, 1e9);
    events + q.take().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzers::http::Out;

    #[test]
    fn the_layout_drives_both_directions() {
        let mut input = vec![0u8];
        let req = b"GET / HTTP/1.1\r\n\r\n";
        input.extend([1, req.len() as u8]);
        input.extend_from_slice(req);
        let rep = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        input.extend([0, rep.len() as u8]);
        input.extend_from_slice(rep);
        input.extend([7, 6]);
        let out = run(&input).out;
        assert!(out.iter().any(|o| matches!(o, Out::Request { .. })));
        assert!(out.iter().any(|o| matches!(o, Out::MessageDone { is_orig: false, stat } if stat.body_length == 3)));
        assert!(matches!(out.last(), Some(Out::Stats { num_requests: 1, num_replies: 1, .. })));
        let body: Vec<u8> = out
            .iter()
            .filter_map(|o| if let Out::FileChunk { is_orig: false, data, .. } = o { Some(data.clone()) } else { None })
            .flatten()
            .collect();
        assert_eq!(body, b"abc", "one-byte chunks at this chunk size");
        assert!(replay_files(&out) > 0, "the reply's body went through file analysis");
    }

    /// Random steps built from HTTP fragments: nothing panics.
    #[test]
    fn random_exchanges_never_panic() {
        const PARTS: &[&[u8]] = &[
            b"GET /a%2 HTTP/1.1\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 206 P\r\nContent-Range: bytes 1-9/99\r\n",
            b"Content-Type: multipart/mixed; boundary=\"b\"\r\n",
            b"Content-Type: message/rfc822\r\n",
            b"Content-Encoding: gzip\r\n",
            b"Content-Length: 5\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: quoted-printable\r\n",
            b"--b\r\n",
            b"--b--\r\n",
            b"\r\n",
            b"\r",
            b"\n",
            b"ff\r\n",
            b"0\r\n\r\n",
            b" folded\r\n",
            b"=4\r\nZm9v\r\n",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
            b"CONNECT h:1 HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            b"GET /x\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\n",
        ];
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..3000 {
            let mut input = vec![next() as u8];
            for _ in 0..(next() % 24) {
                let ctl = next() as u8;
                input.push(ctl);
                let mut chunk = Vec::new();
                for _ in 0..(1 + next() % 4) {
                    chunk.extend_from_slice(PARTS[(next() % PARTS.len() as u64) as usize]);
                }
                if next() % 5 == 0 {
                    let i = (next() as usize) % chunk.len();
                    chunk[i] = next() as u8;
                }
                chunk.truncate(255);
                input.push(chunk.len() as u8);
                input.extend_from_slice(&chunk);
            }
            run(&input);
        }
    }
}
