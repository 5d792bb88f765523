//! WIT names as Rust identifiers, spelled exactly as wasmtime's `bindgen!`
//! spells them so that generated code can name its types and functions.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords wasmtime's `bindgen!` escapes by appending `_`.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box",
    "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// `snake_case` identifier of a WIT name (`orig-h` → `orig_h`, `type` → `type_`).
pub fn ident(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_snake_case()
    }
}

/// `UpperCamelCase` type or case name of a WIT name (`ip6-ext-hdr` → `Ip6ExtHdr`).
pub fn camel(name: &str) -> String {
    if name == "host" {
        "Host_".into()
    } else {
        name.to_upper_camel_case()
    }
}

/// The name a WIT name takes in Zeek's scripting language (`conn-id` → `conn_id`).
pub fn zeek(name: &str) -> String {
    name.replace('-', "_")
}

/// Doc comment lines (`/// ...`) of `docs`, or of `fallback` when the WIT has none.
pub fn doc_lines(docs: Option<&str>, fallback: &str, indent: &str) -> String {
    let text = docs.map(str::trim).filter(|d| !d.is_empty()).unwrap_or(fallback);
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str(&format!("{indent}///\n"));
        } else {
            out.push_str(&format!("{indent}/// {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_bindgen() {
        assert_eq!(ident("orig-h"), "orig_h");
        assert_eq!(ident("type"), "type_");
        assert_eq!(camel("ip6-ext-hdr"), "Ip6ExtHdr");
        assert_eq!(camel("set-of-string"), "SetOfString");
        assert_eq!(zeek("conn-id"), "conn_id");
    }

    #[test]
    fn docs_fall_back() {
        assert_eq!(doc_lines(None, "x", ""), "/// x\n");
        assert_eq!(doc_lines(Some(" a\n\nb "), "x", "    "), "    /// a\n    ///\n    /// b\n");
    }
}
