//! Hostile handler: tries to forge log files. At `bro_init` it asks for
//! streams whose names are options, paths or carry control characters, and
//! for columns whose names inject header lines, repeat or are empty; each
//! answer is reported as `forge-logs: create NAME: accepted|refused`. Then it
//! writes rows into a valid stream `forge` (columns `msg` string, `tags`
//! set[string]) whose values imitate header lines, separators, the unset and
//! empty markers, terminal escapes and escape sequences themselves
//! ([`FORGED`], one row per value, in order).

use weir_guest::log::{self, Column, LogType, LogValue};

include!("forged.rs");

fn col(name: &str) -> Column {
    Column { name: name.to_string(), type_: LogType::String }
}

fn try_create(what: &str, name: &str, cols: &[Column]) {
    let answer = match log::create_stream(name, cols) {
        Ok(_) => "accepted",
        Err(_) => "refused",
    };
    weir_guest::reporter::info(&format!("forge-logs: create {what}: {answer}"));
}

struct Forge;

impl weir_guest::Handler for Forge {
    fn bro_init() {
        for name in ["-rf", "--help", "../escape", "a/b", "", ".hidden", "x\n#path\tconn", "x\u{1b}[2J"] {
            try_create(&format!("stream {name:?}"), name, &[col("msg")]);
        }
        try_create("column with a newline", "forge_nl", &[col("msg\n#fields\tts")]);
        try_create("column with a tab", "forge_tab", &[col("a\tb")]);
        try_create("duplicate columns", "forge_dup", &[col("msg"), col("msg")]);
        try_create("empty column", "forge_empty", &[col("")]);
        try_create("column with a quote", "forge_quote", &[col("a\"b")]);
        let cols = [col("msg"), Column { name: "tags".into(), type_: LogType::SetOfString }];
        let Ok(id) = log::create_stream("forge", &cols) else {
            weir_guest::reporter::error("forge-logs: the valid stream was refused");
            return;
        };
        for v in FORGED {
            let tags = vec![v.to_string(), "x,y".to_string(), String::new()];
            log::write(id, &[LogValue::String(v.to_string()), LogValue::SetOfString(tags)]);
        }
    }
}

weir_guest::export_handler!(Forge: bro_init);
