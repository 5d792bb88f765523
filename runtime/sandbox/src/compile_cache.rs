//! Compiled handlers kept on disk, so that a run does not compile with
//! Cranelift again what an earlier run already compiled (the four standard
//! handlers alone take about 0.4 s of CPU to compile).
//!
//! An entry is named by two hashes of the component's bytes and of the
//! engine's compatibility hash (wasmtime version, compiler and settings such
//! as fuel metering), so a changed handler or setting never reuses stale
//! code. Entries are loaded with `Component::deserialize_file`, which trusts
//! the file: the folder must be writable only by the user running weir, as
//! the default (`~/.cache/weir`) is.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// Where entries go by default: `$WEIR_CACHE_DIR`, else `$XDG_CACHE_HOME/weir`,
/// else `~/.cache/weir`; `None` when none of these is set.
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("WEIR_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("weir")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/weir")))
}

/// The entry file for `bytes` under `dir`.
fn entry(engine: &Engine, bytes: &[u8], dir: &Path) -> PathBuf {
    let word = |salt: &str| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        engine.precompile_compatibility_hash().hash(&mut h);
        bytes.hash(&mut h);
        h.finish()
    };
    dir.join(format!("{:016x}{:016x}.cwasm", word("weir-a"), word("weir-b")))
}

/// The compiled `bytes`: from `dir` when an entry is there and loads, else
/// compiled now and (best effort) stored there. Without `dir`, compiled now.
pub fn component(engine: &Engine, bytes: &[u8], dir: Option<&Path>) -> wasmtime::Result<Component> {
    let Some(dir) = dir else { return Component::new(engine, bytes) };
    let path = entry(engine, bytes, dir);
    if path.is_file() {
        // SAFETY: entries are only ever written below by `precompile_component`
        // of an engine with the same compatibility hash (part of the name);
        // wasmtime checks the header and settings again before loading.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok(c),
            Err(e) => tracing::debug!(path = %path.display(), "compile cache entry unusable, compiling again: {e}"),
        }
    }
    let compiled = engine.precompile_component(bytes)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let stored = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&tmp, &compiled)).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = stored {
        let _ = std::fs::remove_file(&tmp);
        tracing::debug!(dir = %dir.display(), "cannot store compiled handler: {e}");
    }
    // SAFETY: `compiled` comes from `precompile_component` of this engine.
    unsafe { Component::deserialize(engine, &compiled) }
}
