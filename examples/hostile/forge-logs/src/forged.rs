// The values forge_logs.wasm writes into `forge.log`, in order; included by
// the handler and by tests/loading.rs, which checks they read back unchanged.

/// The forged values written, one row each (`msg` = value, `tags` = [value, "x,y", ""]).
pub const FORGED: &[&str] = &[
    "#fields\tts\tuid",
    "line\n#close\t2038-01-19-03-14-07",
    "-",
    "(empty)",
    "",
    "\u{1b}[31mred\u{1b}[0m\r",
    "a\\x09b",
    "back\\slash",
    "comma,separated",
    "nul\u{0}del\u{7f}",
    "c1\u{85}ü",
    "grüße",
    "{\"ts\":1}",
];
