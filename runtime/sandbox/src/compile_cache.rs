//! Compiled handlers kept on disk, so that a run does not compile with
//! Cranelift again what an earlier run already compiled (the four standard
//! handlers alone take about 0.4 s of CPU to compile).
//!
//! wasmtime loads compiled code without checking it (deserialising is as
//! trusting as running it), so the cache is guarded three ways:
//!
//! - The folder must belong to the user running weir and be writable by
//!   nobody else; otherwise it is not used at all (one warning, then every
//!   handler is compiled at load). A missing folder is created with mode 0700.
//! - Every entry carries an HMAC-SHA256 tag made with a secret key kept
//!   outside the folder ([`default_key_file`], created with mode 0600). The tag
//!   covers the entry's name and its code, so an entry that was altered,
//!   forged without the key, or copied in under another handler's name fails
//!   the check and that handler is compiled again.
//! - An entry is named by a SHA-256 of the component's bytes, weir's version,
//!   weir's engine settings (fuel, epochs, memory) and wasmtime's
//!   compatibility hash (wasmtime's version, compiler, target and settings),
//!   so a changed handler, weir or setting never reuses code compiled for
//!   another.

use std::fs::{File, OpenOptions};
use std::hash::Hasher;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

/// Bytes of the tag at the start of every entry.
const TAG_BYTES: usize = 32;

/// Bytes of the secret key.
const KEY_BYTES: usize = 32;

/// Largest entry read back (a compiled handler far larger than any real one
/// is not read into memory).
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Names the layout of entries; changed whenever it changes.
const FORMAT: &str = "weir-compile-cache-2";

/// Where entries go by default: `$WEIR_CACHE_DIR`, else `$XDG_CACHE_HOME/weir`,
/// else `~/.cache/weir`; `None` when none of these is set.
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("WEIR_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("weir")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/weir")))
}

/// Where the key that signs entries is kept by default: `$WEIR_CACHE_KEY`,
/// else `$XDG_CONFIG_HOME/weir/compile-cache.key`, else
/// `~/.config/weir/compile-cache.key`.
pub fn default_key_file() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("WEIR_CACHE_KEY")
        .or_else(|| env("XDG_CONFIG_HOME").map(|d| d.join("weir/compile-cache.key")))
        .or_else(|| env("HOME").map(|d| d.join(".config/weir/compile-cache.key")))
}

/// A usable cache folder and the key its entries are signed with.
pub struct CompileCache {
    dir: PathBuf,
    key: [u8; KEY_BYTES],
}

impl std::fmt::Debug for CompileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompileCache").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// `Hash` output of wasmtime's compatibility hash, fed into a SHA-256.
struct DigestHasher<'a>(&'a mut Sha256);

impl Hasher for DigestHasher<'_> {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl CompileCache {
    /// Opens the cache in `dir` with the key in `key_file` (created when
    /// missing). Returns why not when the folder or the key cannot be trusted
    /// or used: the caller warns once and compiles without a cache.
    pub fn open(dir: &Path, key_file: &Path) -> Result<CompileCache, String> {
        let uid = unsafe { libc::geteuid() };
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a folder", dir.display()));
        }
        if meta.uid() != uid {
            return Err(format!("{} belongs to another user (uid {})", dir.display(), meta.uid()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!("{} can be written by other users (mode {:o})", dir.display(), meta.mode() & 0o7777));
        }
        if key_file.starts_with(dir) {
            return Err(format!("the key {} must not be inside the cache folder", key_file.display()));
        }
        let key = load_or_create_key(key_file, uid)?;
        Ok(CompileCache { dir: dir.to_path_buf(), key })
    }

    /// The folder the entries are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry name (hex SHA-256) for `bytes` compiled by `engine` with weir's `settings`.
    fn entry_id(engine: &Engine, bytes: &[u8], settings: &str) -> String {
        let mut h = Sha256::new();
        for part in [FORMAT, env!("CARGO_PKG_VERSION"), settings] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut DigestHasher(&mut h));
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac(&self, id: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(FORMAT.as_bytes());
        mac.update(id.as_bytes());
        mac
    }

    /// The entry's code if it is there, is a plain file and its tag checks.
    fn read_entry(&self, path: &Path, id: &str) -> Result<Vec<u8>, String> {
        let mut f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| e.to_string())?;
        let meta = f.metadata().map_err(|e| e.to_string())?;
        if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES || meta.len() < TAG_BYTES as u64 {
            return Err("not a plausible entry".into());
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        f.read_to_end(&mut data).map_err(|e| e.to_string())?;
        let (tag, code) = data.split_at(TAG_BYTES.min(data.len()));
        let mut mac = self.mac(id);
        mac.update(code);
        mac.verify_slice(tag).map_err(|_| "its tag does not match (altered, or written without this key)".to_string())?;
        Ok(code.to_vec())
    }

    /// The compiled `bytes`: from the cache when a valid entry is there, else
    /// compiled now and (best effort) stored. `settings` names weir's engine
    /// settings that change the code.
    pub fn component(&self, engine: &Engine, bytes: &[u8], settings: &str) -> wasmtime::Result<Component> {
        let id = CompileCache::entry_id(engine, bytes, settings);
        let path = self.dir.join(format!("{id}.cwasm"));
        if path.exists() || path.symlink_metadata().is_ok() {
            match self.read_entry(&path, &id) {
                // SAFETY: the tag proves the code was stored by a weir holding
                // the key, under this name, i.e. compiled from these bytes by an
                // engine with these settings; wasmtime checks its header again.
                Ok(code) => match unsafe { Component::deserialize(engine, &code) } {
                    Ok(c) => return Ok(c),
                    // Only entries that loaded are stored, so this one was stored
                    // under limits (pool sizes) that have changed since: compile again.
                    Err(e) => tracing::debug!(path = %path.display(), "compile cache entry unusable, compiling again: {e}"),
                },
                Err(e) => tracing::warn!(path = %path.display(), "compile cache entry refused, compiling again: {e}"),
            }
        }
        let compiled = engine.precompile_component(bytes)?;
        // SAFETY: `compiled` comes from `precompile_component` of this engine.
        let component = unsafe { Component::deserialize(engine, &compiled) }?;
        // Stored only once it loaded: a component this engine refuses (over the
        // pool's limits) is refused again at every run, without a cache entry.
        if let Err(e) = self.store(&path, &id, &compiled) {
            tracing::debug!(dir = %self.dir.display(), "cannot store compiled handler: {e}");
        }
        Ok(component)
    }

    /// Writes an entry (tag, then code) through a fresh temporary file.
    fn store(&self, path: &Path, id: &str, compiled: &[u8]) -> std::io::Result<()> {
        let mut mac = self.mac(id);
        mac.update(compiled);
        let tag = mac.finalize().into_bytes();
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .and_then(|mut f| f.write_all(&tag).and_then(|()| f.write_all(compiled)))
            .and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// Reads the key, or creates it (random, mode 0600) when there is none.
/// A key file another user owns or others can read or write is refused.
fn load_or_create_key(file: &Path, uid: u32) -> Result<[u8; KEY_BYTES], String> {
    let read = |file: &Path| -> Result<Option<[u8; KEY_BYTES]>, String> {
        let mut f = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read the key {}: {e}", file.display())),
        };
        let meta = f.metadata().map_err(|e| format!("{}: {e}", file.display()))?;
        if !meta.is_file() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
            return Err(format!(
                "the key {} must be a file of this user readable by nobody else (mode 0600)",
                file.display()
            ));
        }
        let mut key = [0u8; KEY_BYTES];
        let mut rest = Vec::new();
        f.read_exact(&mut key).map_err(|_| format!("the key {} is too short", file.display()))?;
        f.read_to_end(&mut rest).map_err(|e| format!("{}: {e}", file.display()))?;
        if !rest.is_empty() {
            return Err(format!("the key {} is not {KEY_BYTES} bytes long", file.display()));
        }
        Ok(Some(key))
    };
    if let Some(key) = read(file)? {
        return Ok(key);
    }
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let mut key = [0u8; KEY_BYTES];
    File::open("/dev/urandom")
        .and_then(|mut r| r.read_exact(&mut key))
        .map_err(|e| format!("no random bytes for the key: {e}"))?;
    // Written aside, then linked into place: two runs starting at once agree on one key.
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let made = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&key))
        .and_then(|()| std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)))
        .and_then(|()| std::fs::hard_link(&tmp, file));
    let _ = std::fs::remove_file(&tmp);
    match made {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(file)?.ok_or_else(|| format!("the key {} vanished", file.display()))
        }
        Err(e) => Err(format!("cannot create the key {}: {e}", file.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("weir-cc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn folders_others_can_write_or_own_are_refused() {
        let d = scratch("perm");
        let cache = d.join("cache");
        let key = d.join("key");
        assert!(CompileCache::open(&cache, &key).is_ok(), "a new folder is created and used");
        assert_eq!(std::fs::metadata(&cache).unwrap().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(&key).unwrap().mode() & 0o777, 0o600);
        for mode in [0o777, 0o775, 0o757] {
            std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = CompileCache::open(&cache, &key).unwrap_err();
            assert!(e.contains("can be written by other users"), "{e}");
        }
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(CompileCache::open(&cache, &key).is_ok());
        if unsafe { libc::geteuid() } != 0 {
            let e = CompileCache::open(Path::new("/"), &key).unwrap_err();
            assert!(e.contains("belongs to another user"), "{e}");
        }
        // A readable key is refused; a key inside the folder too.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(CompileCache::open(&cache, &key).unwrap_err().contains("mode 0600"));
        assert!(CompileCache::open(&cache, &cache.join("k")).unwrap_err().contains("inside the cache folder"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn entries_are_named_by_settings_and_bytes() {
        let engine = Engine::default();
        let a = CompileCache::entry_id(&engine, b"abc", "fuel on");
        assert_eq!(a, CompileCache::entry_id(&engine, b"abc", "fuel on"));
        assert_ne!(a, CompileCache::entry_id(&engine, b"abd", "fuel on"));
        assert_ne!(a, CompileCache::entry_id(&engine, b"abc", "fuel off"));
        let mut c = wasmtime::Config::new();
        c.consume_fuel(true);
        assert_ne!(a, CompileCache::entry_id(&Engine::new(&c).unwrap(), b"abc", "fuel on"));
    }
}
