//! A handler's WASI stderr: cut into lines, escaped, prefixed with the handler's
//! name and counted against its reporter-message rate cap before it reaches
//! weir's own stderr.
//!
//! A line is at most [`crate::MAX_MESSAGE_BYTES`] long (the rest of it is counted
//! and dropped); control bytes, `\` and bytes that are not UTF-8 are written as
//! `\xNN`, so a handler can neither move the terminal's cursor nor write a line
//! that looks like one of weir's.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::host::Shared;
use crate::MAX_MESSAGE_BYTES;

/// Escapes what [`crate::host::is_terminal_control`] names (control bytes and
/// bidirectional-text overrides, as in reporter messages), `\` and invalid
/// UTF-8 of `line` as `\xNN`.
pub fn escape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    for chunk in line.utf8_chunks() {
        for c in chunk.valid().chars() {
            if crate::host::is_terminal_control(c) || c == '\\' {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The stderr of one handler instance: the line being written and where whole
/// lines go.
pub(crate) struct LineSink {
    shared: Arc<Mutex<Shared>>,
    handler: usize,
    name: String,
    line: Vec<u8>,
    /// Bytes of the current line past [`MAX_MESSAGE_BYTES`], dropped.
    cut: u64,
}

impl LineSink {
    pub(crate) fn new(shared: Arc<Mutex<Shared>>, handler: usize, name: &str) -> Arc<Mutex<LineSink>> {
        Arc::new(Mutex::new(LineSink { shared, handler, name: name.to_string(), line: Vec::new(), cut: 0 }))
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (part, rest, eol) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                None => (bytes, &[][..], false),
            };
            let room = MAX_MESSAGE_BYTES.saturating_sub(self.line.len());
            let take = part.len().min(room);
            self.line.extend_from_slice(&part[..take]);
            self.cut += (part.len() - take) as u64;
            if eol {
                self.emit();
            }
            bytes = rest;
        }
    }

    /// Sends the pending (possibly partial) line, if any.
    pub(crate) fn flush(&mut self) {
        if !self.line.is_empty() || self.cut > 0 {
            self.emit();
        }
    }

    fn emit(&mut self) {
        let mut text = escape(&self.line);
        if self.cut > 0 {
            text.push_str(&format!("... (cut, {} bytes)", self.line.len() as u64 + self.cut));
        }
        self.line.clear();
        self.cut = 0;
        self.shared.lock().expect("sandbox state").stderr_line(self.handler, &self.name, text);
    }
}

/// The `StdoutStream` given to WASI as a handler's stderr.
#[derive(Clone)]
pub(crate) struct HandlerStderr(pub Arc<Mutex<LineSink>>);

impl IsTerminal for HandlerStderr {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for HandlerStderr {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for HandlerStderr {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for HandlerStderr {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.0.lock().expect("stderr").push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for HandlerStderr {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.0.lock().expect("stderr").push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_bytes_backslash_and_bad_utf8_are_escaped() {
        assert_eq!(escape(b"a\x1b[2Kb"), "a\\x1b[2Kb");
        assert_eq!(escape(b"x\ry\tz\\"), "x\\x0dy\\x09z\\x5c");
        assert_eq!(escape(b"\xff\xfe ok \xc2\x85"), "\\xff\\xfe ok \\xc2\\x85");
        assert_eq!(escape("caf\u{e9}".as_bytes()), "caf\u{e9}");
        // A right-to-left override would reorder the rest of the line on a terminal.
        assert_eq!(escape("ok\u{202e}txt".as_bytes()), "ok\\xe2\\x80\\xaetxt");
    }
}
