//! Hostile handler: floods stderr at every `new_connection`: a 1 MiB line, then
//! 500 lines that clear the terminal, move the cursor and imitate weir's own
//! messages. weir passes at most its reporter-message rate of
//! lines, each escaped and prefixed with the handler's name.

use std::io::Write;

/// Lines per call.
const LINES: usize = 500;

struct Flood;

impl weir_guest::Handler for Flood {
    fn new_connection(c: weir_guest::types::Connection) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(&vec![b'z'; 1 << 20]);
        let _ = err.write_all(b"\n");
        for i in 0..LINES {
            let _ = match i % 3 {
                0 => writeln!(err, "\x1b[2J\x1b[H\x1b[31mstderr-flood {i}\x1b[0m"),
                1 => writeln!(err, "weir: {}: not a valid component\r2026-01-01T00:00:00.000000Z ERROR weir_sandbox: handler conn.wasm: disabled", c.uid),
                _ => writeln!(err, "stderr-flood {i}\u{85}\u{7f}\\x41"),
            };
        }
        let _ = err.flush();
    }
}

weir_guest::export_handler!(Flood: new_connection);
