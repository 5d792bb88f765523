//! The input layout of the `smtp` fuzz target (`runtime/engine/fuzz`): the
//! first byte picks small settings (BDAT line length, MIME nesting depth,
//! header byte limit, segment length) so that limits are reached; then
//! each step is a control byte and, for data, a length byte and that many
//! bytes: control bit 0 is the direction (1: originator), bits 1-2 the
//! kind (0, 1: data; 2: a gap of `length * 7` bytes; 3: the end of that
//! direction). After the last step the connection is removed. The
//! software parser gets every string the analyzer hands to software
//! identification.

use super::{Collect, Out, Parser, Settings};
use crate::analyzers::mime;

/// Runs one fuzz input through a fresh parser; returns what it found.
pub fn run(data: &[u8]) -> Collect {
    let mut sink = Collect::default();
    let Some((&first, mut rest)) = data.split_first() else { return sink };
    let settings = Settings {
        bdat_max_line_length: if first & 1 != 0 { 8 } else { 4096 },
        mime: mime::Settings {
            max_depth: if first & 2 != 0 { 2 } else { 100 },
            max_header_bytes: if first & 4 != 0 { 32 } else { 65536 },
            segment_length: 1 + (first >> 3) as usize * 40,
        },
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
    }
    p.done(&mut sink);
    for o in &sink.out {
        if let Out::Software { text, .. } = o {
            let _ = crate::analyzers::software::parse(text);
        }
    }
    sink
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_drives_both_directions() {
        let mut input = vec![0u8];
        let greeting = b"220 mx.example.org ESMTP Postfix\r\n";
        input.extend([0, greeting.len() as u8]);
        input.extend_from_slice(greeting);
        let hello = b"EHLO client.example.org\r\n";
        input.extend([1, hello.len() as u8]);
        input.extend_from_slice(hello);
        input.extend([7, 6]);
        let out = run(&input).out;
        assert!(out.iter().any(|o| matches!(o, Out::Reply { code: 220, cmd: ">", .. })), "{out:?}");
        assert!(out.iter().any(|o| matches!(o, Out::Request { command, .. } if command == b"EHLO")), "{out:?}");
    }
}
