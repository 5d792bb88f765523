//! Generates the per-event glue from `wit/` (see `generate_glue`), and builds
//! the guest components for wasm32-wasip2 and copies them into
//! `OUT_DIR`: the standard handlers of `handlers/`, which `src/lib.rs` embeds,
//! and, with the `testing` feature only, the example, bench and hostile
//! handlers of `examples/` (each folder a Cargo workspace of its own). The nested builds use their own target folder
//! next to the host's (`<target>/weir-guests`) so they never wait on the outer
//! build's lock.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The standard handlers (`handlers/`), embedded in the binary.
const STANDARD: &[&str] = &[
    "conn", "weird", "reporter", "tunnel", "analyzer", "dns", "http", "signatures", "smtp", "software", "ssh", "ftp", "files", "ssl",
    "x509", "irc", "quic",
];
/// Hostile handlers, for the tests (`testing::HOSTILE`).
const HOSTILE: &[&str] = &[
    "loop_forever",
    "allocate_forever",
    "recurse_forever",
    "trap_panic",
    "trap_every_nth",
    "flood_log",
    "flood_reporter",
    "huge_strings",
    "trap_in_reporter_error",
    "reporter_in_reporter",
    "ambient_authority",
    "claim_standard_logs",
    "grab_streams",
    "imitate_weir",
    "sleep_forever",
    "poll_forever",
    "burn_fuel",
    "random_flood",
    "huge_set",
    "stderr_flood",
    "forge_logs",
    "symlink_escape",
    "loop_in_eval",
];
/// Example handlers the tests run (`testing::EXAMPLES`).
const EXAMPLES: &[&str] = &["packet_census", "event_trace", "steer_analyzers", "anonymize_conns", "os_versions", "binary_payload", "cluster_peers"];
/// Benchmark handlers (`benches/`).
const BENCH: &[&str] = &["count_conns", "read_all", "empty"];

/// `(file name, bytes)` table of `names`, as Rust source for `include!`.
fn table(name: &str, doc: &str, names: &[&str]) -> String {
    let rows: String = names
        .iter()
        .map(|g| format!("    (\"{g}.wasm\", include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{g}.wasm\"))),\n"))
        .collect();
    format!("/// {doc}: file name and component bytes.\npub const {name}: &[(&str, &[u8])] = &[\n{rows}];\n")
}

/// Builds the guest workspace `dir` for wasm32-wasip2 into `guest_target`.
fn build_workspace(dir: &Path, guest_target: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(guest_target);
    if let Ok(jobs) = std::env::var("NUM_JOBS") {
        cmd.args(["-j", &jobs]);
    }
    // Nothing of the outer build may leak into the guest build.
    for (k, _) in std::env::vars() {
        let keep = matches!(k.as_str(), "CARGO_HOME" | "CARGO_NET_OFFLINE" | "CARGO_REGISTRIES_CRATES_IO_PROTOCOL");
        if (k.starts_with("CARGO_") && !keep)
            || matches!(k.as_str(), "RUSTFLAGS" | "RUSTC" | "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER" | "RUSTDOC"
                | "TARGET" | "HOST" | "OUT_DIR" | "OPT_LEVEL" | "PROFILE" | "DEBUG" | "NUM_JOBS" | "RUSTC_LINKER")
        {
            cmd.env_remove(&k);
        }
    }
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run cargo for the guest components: {e}"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("wasm32-wasip2") && (stderr.contains("target may not be installed") || stderr.contains("can't find crate for `core`") || stderr.contains("can't find crate for `std`")) {
            panic!("the wasm32-wasip2 Rust target is missing: run scripts/setup (or `rustup target add wasm32-wasip2`)");
        }
        panic!("building the guest components in {} failed:\n{stderr}", dir.display());
    }
}

/// Copies the built components `names` from `guest_target` into `out`.
fn copy(guest_target: &Path, out: &Path, names: &[&str]) {
    for g in names {
        let from = guest_target.join("wasm32-wasip2/release").join(format!("{g}.wasm"));
        std::fs::copy(&from, out.join(format!("{g}.wasm"))).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..").canonicalize().expect("repository root");
    generate_glue(&root);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    for p in ["wit", "guest-sdk/rust/src", "guest-sdk/rust/macros/src", "guest-sdk/rust/Cargo.toml", "guest-sdk/rust/macros/Cargo.toml", "handlers"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    // OUT_DIR is <target>/<profile>/build/<pkg>/out.
    let target_dir = out.ancestors().nth(4).map(Path::to_path_buf).unwrap_or_else(|| out.join("guests"));
    let guest_target = target_dir.join("weir-guests");
    build_workspace(&root.join("handlers"), &guest_target);
    copy(&guest_target, &out, STANDARD);

    // The rest only for tests and benchmarks (feature `testing`).
    if std::env::var_os("CARGO_FEATURE_TESTING").is_none() {
        return;
    }
    for p in ["examples/Cargo.toml", "examples/Cargo.lock", "examples/hostile", "examples/detectors", "examples/bench"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    build_workspace(&root.join("examples"), &guest_target);
    copy(&guest_target, &out, HOSTILE);
    copy(&guest_target, &out, EXAMPLES);
    copy(&guest_target, &out, BENCH);
    let tables = table("HOSTILE", "Every hostile handler", HOSTILE) + &table("EXAMPLES", "Example handlers the tests run", EXAMPLES);
    std::fs::write(out.join("testing.rs"), tables).expect("write testing.rs");
}

/// Writes the per-event export glue and the WIT conversions, generated from
/// `wit/`, to `OUT_DIR` (`exports.rs`, `convert.rs`).
fn generate_glue(root: &Path) {
    use weir_witgen::sandbox::{conversions, exports, Paths};
    let wit = weir_witgen::Wit::load(&root.join("wit")).unwrap_or_else(|e| panic!("{e}"));
    let events = wit.events().unwrap_or_else(|e| panic!("{e}"));
    let paths = Paths {
        plain: "weir_engine::events",
        wit: "crate::bindings::weir::events",
        exports: "crate::bindings::exports::weir::events",
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("exports.rs"), exports(&wit, &events, &paths)).expect("writing exports.rs");
    std::fs::write(out.join("convert.rs"), conversions(&wit, &paths)).expect("writing convert.rs");
}
