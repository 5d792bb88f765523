//! Hostile handler: reporter messages that try to pass for weir's own stderr
//! lines: a newline followed by a fake log line, a carriage return with a
//! terminal escape that would erase the real line, and a bell.

/// The forged line each message carries after a line break.
pub const FORGED: &str = "2038-01-19T03:14:07.000000Z ERROR weir_sandbox: handler conn: disabled after 5 traps within 60 s";

struct Imitate;

impl weir_guest::Handler for Imitate {
    fn bro_init() {
        weir_guest::reporter::error(&format!("imitate-weir: newline\n{FORGED}"));
        weir_guest::reporter::warning(&format!("imitate-weir: carriage return\r\x1b[2K{FORGED}"));
        weir_guest::reporter::info(&format!("imitate-weir: bell\x07 and\r\n{FORGED}"));
    }
}

weir_guest::export_handler!(Imitate: bro_init);
