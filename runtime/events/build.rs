//! Generates the event set and the value types from the WIT package in `wit/`.

use std::fmt::Write as _;
use std::path::PathBuf;

use weir_witgen::{events, plain, Wit};

fn main() {
    // Read at run time: a build script compiled for another checkout sharing
    // the target directory must still read this checkout's WIT.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(manifest).join("../../wit").canonicalize().expect("wit/ exists");
    println!("cargo:rerun-if-changed={}", dir.display());
    let wit = Wit::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let evs = wit.events().unwrap_or_else(|e| panic!("{e}"));
    let mut code = String::new();
    code.push_str(&plain::types(&wit, render_by_hand()));
    code.push_str(&events::events(&wit, &evs));

    writeln!(code, "/// The WIT package handlers are written against.\npub const WIT_PACKAGE: &str = \"{}\";", wit.package_id()).unwrap();
    code.push_str("/// The WIT package's files: (file name, text), the one declaring the package first.\npub const WIT_FILES: &[(&str, &str)] = &[\n");
    for f in &wit.files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
        writeln!(code, "    ({name:?}, include_str!({:?})),", f.display().to_string()).unwrap();
    }
    code.push_str("];\n/// The WIT package as one text: its files in [`WIT_FILES`] order (one `package` line, at the top).\npub const WIT_TEXT: &str = concat!(\n");
    for f in &wit.files {
        writeln!(code, "    include_str!({:?}), \"\\n\",", f.display().to_string()).unwrap();
    }
    code.push_str(");\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("wit.rs");
    std::fs::write(&out, code).expect("writing the generated code");
}

/// Types whose Zeek text `src/render.rs` writes itself.
fn render_by_hand() -> &'static [&'static str] {
    &["port"]
}
