//! `weir new`: creates a handler project from the templates in `templates/`
//! (embedded in the binary), for Rust, Python, JavaScript or C.

use anyhow::{bail, Context};
use clap::ValueEnum;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Language of a new handler project.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Lang {
    /// Rust with the weir-guest crate.
    Rust,
    /// Python with componentize-py.
    Python,
    /// JavaScript with jco (QuickJS engine).
    Js,
    /// C with wit-bindgen's C generator, clang and wasi-libc.
    C,
}

const BUILD_SH: &str = include_str!("../templates/build.sh");
const WORLD_WIT: &str = include_str!("../templates/world.wit");
const GITIGNORE: &str = include_str!("../templates/gitignore");

impl Lang {
    /// Folder of this language in guest-sdk/.
    fn sdk_dir(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "javascript",
            Lang::C => "c",
        }
    }

    /// The project's files: (path, template text).
    fn files(self) -> Vec<(&'static str, &'static str)> {
        let mut files = vec![("build.sh", BUILD_SH), (".gitignore", GITIGNORE)];
        match self {
            Lang::Rust => {
                files.push(("Cargo.toml", include_str!("../templates/rust/Cargo.toml")));
                files.push(("src/lib.rs", include_str!("../templates/rust/src/lib.rs")));
            }
            Lang::Python => files.extend([("world.wit", WORLD_WIT), ("app.py", include_str!("../templates/python/app.py"))]),
            Lang::Js => files.extend([("world.wit", WORLD_WIT), ("app.js", include_str!("../templates/js/app.js"))]),
            Lang::C => files.extend([("world.wit", WORLD_WIT), ("app.c", include_str!("../templates/c/app.c"))]),
        }
        files
    }
}

/// A handler name usable as a WIT package name, a crate name and a log name:
/// lowercase words of letters and digits, each starting with a letter, joined by `-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// `scan-detector` → `ScanDetector`.
fn type_name(name: &str) -> String {
    name.split('-').map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect()
}

/// The guest-sdk folder: `--sdk`, else `$WEIR_SDK`, else the one of the
/// checkout this binary was built from.
fn find_sdk(sdk: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = sdk
        .or_else(|| std::env::var_os("WEIR_SDK").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk"));
    let dir = dir
        .canonicalize()
        .with_context(|| format!("weir's guest-sdk folder {} not found (give it with --sdk or WEIR_SDK)", dir.display()))?;
    if !dir.join("tools.sh").is_file() {
        bail!("{} is not weir's guest-sdk folder (no tools.sh)", dir.display());
    }
    Ok(dir)
}

/// The handler name and project folder of `weir new PATH [--name NAME] [--dir DIR]`:
/// as `cargo new`, the folder is PATH and the name its last part unless
/// `--name` gives it; with `--dir`, PATH is the name and DIR the folder.
fn place(path: &Path, name: Option<String>, dir: Option<PathBuf>) -> anyhow::Result<(String, PathBuf)> {
    let (name, dir) = match dir {
        Some(dir) => (name.unwrap_or_else(|| path.to_string_lossy().into_owned()), dir),
        None => {
            let last = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let Some(name) = name.or(last) else { bail!("{} names no folder", path.display()) };
            (name, path.to_path_buf())
        }
    };
    if !valid_name(&name) {
        bail!("invalid handler name {name:?}: use lowercase letters and digits, words joined by '-', each word starting with a letter (or give the name with --name)");
    }
    Ok((name, dir))
}

/// `weir new --lang LANG PATH`: writes the project into the folder PATH.
pub fn new(lang: Lang, path: &Path, name: Option<String>, dir: Option<PathBuf>, sdk: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (name, dir) = place(path, name, dir)?;
    let name = name.as_str();
    let sdk = find_sdk(sdk)?;
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk_text = sdk.to_str().context("the guest-sdk path is not UTF-8")?;
    for (rel, template) in lang.files() {
        let text = template
            .replace("{{name}}", name)
            .replace("{{type}}", &type_name(name))
            .replace("{{lang}}", lang.sdk_dir())
            .replace("{{sdk}}", sdk_text);
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        if rel.ends_with(".sh") {
            make_executable(&path)?;
        }
    }
    println!("created {} ({:?} handler {name})", dir.display(), lang);
    println!("build:  {}/build.sh        (toolchains: scripts/setup-guests in the weir repository)", dir.display());
    println!("run:    weir run -r TRACE --handler {}/{name}.wasm", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(path)?.permissions();
    perm.set_mode(0o755);
    std::fs::set_permissions(path, perm).with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("scan"));
        assert!(valid_name("port-scan2"));
        assert!(!valid_name("Scan"));
        assert!(!valid_name("2scan"));
        assert!(!valid_name("scan--x"));
        assert!(!valid_name("scan_x"));
        assert!(!valid_name(""));
        assert_eq!(type_name("port-scan2"), "PortScan2");
    }

    #[test]
    fn places() {
        let p = |path: &str, name: Option<&str>, dir: Option<&str>| place(Path::new(path), name.map(String::from), dir.map(PathBuf::from));
        assert_eq!(p("a/b/port-scan", None, None).unwrap(), ("port-scan".into(), PathBuf::from("a/b/port-scan")));
        assert_eq!(p("scan", None, None).unwrap(), ("scan".into(), PathBuf::from("scan")));
        assert_eq!(p("x/My_Scan", Some("scan"), None).unwrap(), ("scan".into(), PathBuf::from("x/My_Scan")));
        assert_eq!(p("scan", None, Some("out/s")).unwrap(), ("scan".into(), PathBuf::from("out/s")));
        assert!(p("x/My_Scan", None, None).is_err());
        assert!(p("..", None, None).is_err());
    }
}
