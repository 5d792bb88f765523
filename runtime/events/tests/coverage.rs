//! The WIT is the one list of events: every event it declares is raised
//! somewhere in runtime/, or its doc says why not; and no event name is
//! spelled by hand in more than two source files (where it is raised, and one
//! table at most).

use std::path::{Path, PathBuf};
use weir_events::EventKind;

/// The doc marker of the events the seed page marks deprecated.
const NEVER: &str = "Deprecated on the seed page; weir never raises it";
/// The doc marker of events whose machinery is still to come.
const NOT_YET: &str = "Not raised yet";

/// The events Bro's seed page marks "Deprecated. Will be removed.".
const SEED_DEPRECATED: [&str; 8] = [
    "root_backdoor_signature_found",
    "napster_signature_found",
    "kazaa_signature_found",
    "gaobot_signature_found",
    "print_hook",
    "rotate_interval",
    "rotate_size",
    "anonymization_mapping",
];

/// Seed-deprecated events weir raises all the same (address anonymization: the
/// `anonymize` host call raises `anonymization_mapping`).
const DEPRECATED_BUT_RAISED: [&str; 1] = ["anonymization_mapping"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The non-test Rust sources under `dir`: (path, text before any `#[cfg(test)]`).
fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !matches!(name, "tests" | "benches" | "target" | "fuzz" | "testing" | "templates") {
                sources(&p, out);
            }
        } else if name.ends_with(".rs") && name != "testing.rs" && name != "tests.rs" && name != "build.rs" {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            out.push((p, strip_comments(code)));
        }
    }
}

/// `code` without its `//` comments (doc comments included): prose may name
/// events freely, code may not.
fn strip_comments(code: &str) -> String {
    let mut out = String::new();
    for line in code.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            }
            if !in_str && c == '/' && prev == '/' {
                cut = i - 1;
                break;
            }
            prev = c;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// The product's Rust sources: runtime/ and guest-sdk/, without tests and generators.
fn product_sources() -> Vec<(PathBuf, String)> {
    let mut v = Vec::new();
    sources(&repo().join("runtime"), &mut v);
    v.retain(|(p, _)| !p.components().any(|c| c.as_os_str() == "witgen"));
    sources(&repo().join("guest-sdk"), &mut v);
    assert!(v.len() > 20, "found only {} source files", v.len());
    v
}

/// Whether `text` holds `word` with no identifier character on either side.
fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(ident) && !text[i + word.len()..].chars().next().is_some_and(ident)
    })
}

#[test]
fn every_event_is_raised_or_says_why_not() {
    let src = product_sources();
    let mut wrong = Vec::new();
    for k in EventKind::ALL {
        let variant = format!("Event::{k:?}");
        let raised: Vec<_> = src.iter().filter(|(_, t)| has_word(t, &variant)).map(|(p, _)| p.display().to_string()).collect();
        let doc = k.doc();
        let documented = doc.contains(NEVER) || doc.contains(NOT_YET);
        match (raised.is_empty(), documented) {
            (true, false) => wrong.push(format!("{}: nothing raises it and its WIT doc does not say why", k.name())),
            (false, true) => wrong.push(format!("{}: its WIT doc says it is not raised, but {raised:?} raise it", k.name())),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn exactly_the_seed_deprecated_events_are_never_raised() {
    let never: Vec<&str> = EventKind::ALL.iter().filter(|k| k.doc().contains(NEVER)).map(|k| k.name()).collect();
    let mut want: Vec<&str> = SEED_DEPRECATED.into_iter().filter(|n| !DEPRECATED_BUT_RAISED.contains(n)).collect();
    want.sort();
    let mut got = never.clone();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn no_event_name_is_spelled_in_more_than_two_files() {
    let src = product_sources();
    let mut wrong = Vec::new();
    for k in EventKind::ALL {
        let camel = format!("{k:?}");
        let files: Vec<_> = src
            .iter()
            .filter(|(_, t)| has_word(t, k.name()) || has_word(t, &camel))
            .map(|(p, _)| p.strip_prefix(repo()).unwrap_or(p).display().to_string())
            .collect();
        if files.len() > 2 {
            wrong.push(format!("{} in {} files: {files:?}", k.name(), files.len()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
