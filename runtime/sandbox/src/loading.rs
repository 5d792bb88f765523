//! Loading a handler: reading and compiling its component (through the
//! compile cache), granting it a folder, and validating it once, for
//! [`Sandbox::load_file`] and [`Sandbox::check`] alike ([`validate`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::Engine;

use weir_engine::events::EventKind;

use crate::exports::ExportIndices;
use crate::host::HostState;
use crate::limits::engine_settings;
use crate::{budget, compile_cache, typecheck, Handler, HandlerOptions, HandlerStats, Sandbox, SandboxConfig};
use crate::{MAX_HANDLERS, WIT_PACKAGE};

/// The compile cache of `cfg`, or `None` (with one warning) when its folder
/// or key cannot be trusted.
pub(crate) fn open_compile_cache(cfg: &SandboxConfig) -> Option<Arc<compile_cache::CompileCache>> {
    let dir = cfg.compile_cache.as_deref()?;
    let opened = match compile_cache::default_key_file() {
        Some(key) => compile_cache::CompileCache::open(dir, &key),
        None => Err("no place for its key ($WEIR_CACHE_KEY, $XDG_CONFIG_HOME and $HOME are unset)".into()),
    };
    match opened {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            tracing::warn!("compile cache {} not used: {e}; compiling every handler at load", dir.display());
            None
        }
    }
}

/// A granted folder as the handler will see it: an existing folder, not itself
/// a symbolic link (a link planted there, e.g. by a handler granted its parent
/// on an earlier run, would lead the grant elsewhere), resolved once to its
/// canonical path so every later instance opens the same folder. Links inside
/// the folder are resolved by WASI (cap-std), which refuses any that lead out.
pub(crate) fn resolve_grant(dir: &Path) -> anyhow::Result<PathBuf> {
    let meta = std::fs::symlink_metadata(dir).map_err(|_| anyhow!("granted folder {} does not exist", dir.display()))?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(dir).map(|t| t.display().to_string()).unwrap_or_default();
        bail!("granted folder {} is a symbolic link (to {target}); grant the folder itself", dir.display());
    }
    if !meta.is_dir() {
        bail!("granted folder {} is not a folder", dir.display());
    }
    dir.canonicalize().map_err(|e| anyhow!("granted folder {}: {e}", dir.display()))
}

/// Reads a handler file of at most `max_bytes` and checks its header: a
/// component (not a core module).
pub(crate) fn read_component_bytes(path: &Path, max_bytes: u64) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let too_big = |n: u64| {
        anyhow!(
            "{}: refused: {:.1} MiB, larger than the handler size limit of {} MiB (raise it with --max-handler-mb)",
            path.display(),
            n as f64 / (1u64 << 20) as f64,
            max_bytes >> 20
        )
    };
    let mut file = std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let meta = file.metadata().with_context(|| format!("{}: cannot read", path.display()))?;
    if !meta.is_file() {
        bail!("{}: not a regular file", path.display());
    }
    if meta.len() > max_bytes {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file).take(max_bytes + 1).read_to_end(&mut bytes).with_context(|| format!("{}: cannot read", path.display()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_big(bytes.len() as u64));
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!("{}: not a WebAssembly file", path.display());
    }
    if bytes[4..8] == [1, 0, 0, 0] {
        bail!(
            "{}: a core WebAssembly module, not a component (build for wasm32-wasip2 or wrap it with `wasm-tools component new`)",
            path.display()
        );
    }
    Ok(bytes)
}

/// A component that passed [`validate`].
pub(crate) struct Validated {
    /// Ready to instantiate with this host's imports.
    pub pre: InstancePre<HostState>,
    /// The event interfaces it exports.
    pub exports: ExportIndices,
    /// Every interface it exports.
    pub export_names: Vec<String>,
    /// Every interface it imports.
    pub imports: Vec<String>,
    /// Its `signature-eval` export, if any.
    pub eval: Option<crate::eval::Indices>,
}

/// The checks a handler component passes before it is loaded, and the ones
/// `weir check` makes: it is built for this version of the package, imports
/// nothing this host does not provide, exports at least one event interface,
/// and its exports have the types of the WIT.
pub(crate) fn validate(engine: &Engine, linker: &Linker<HostState>, component: &Component) -> anyhow::Result<Validated> {
    let (imports, export_names) = component_names(engine, component);
    check_version(&imports)?;
    check_version(&export_names)?;
    let pre = linker.instantiate_pre(component).map_err(|e| {
        let text = format!("{e:#}");
        anyhow!("imports something this host does not provide ({})", text.lines().next().unwrap_or(""))
    })?;
    // Events the engine does not raise (yet) may be exported; they are never called.
    if !export_names.iter().any(|n| event_name_of_interface(n).is_some() || n == crate::eval::INTERFACE) {
        bail!("exports no {WIT_PACKAGE} event interface");
    }
    typecheck::check_exports(engine, component)?;
    let exports = ExportIndices::find(&pre, &export_names)?;
    let eval = crate::eval::indices(&pre, &export_names)?;
    Ok(Validated { pre, exports, export_names, imports, eval })
}

/// Interface names a component imports and exports.
fn component_names(engine: &Engine, component: &Component) -> (Vec<String>, Vec<String>) {
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(n, _)| n.to_string()).collect();
    let exports = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    (imports, exports)
}

/// Refuses components written for another version of the package.
fn check_version(names: &[String]) -> anyhow::Result<()> {
    for n in names {
        if let Some(rest) = n.strip_prefix("weir:events/") {
            let version = rest.split_once('@').map(|(_, v)| v).unwrap_or("(none)");
            if version != "0.1.0" {
                bail!("built for weir:events@{version}, this host provides {WIT_PACKAGE}");
            }
        }
    }
    Ok(())
}

/// The Zeek name of the event an exported interface takes, if it is one.
pub(crate) fn event_name_of_interface(iface: &str) -> Option<&'static str> {
    let name = iface.strip_prefix("weir:events/")?.strip_suffix("@0.1.0")?.replace('-', "_");
    // WIT names are lower case; a few seed names are not (`OS_version_found`).
    let kind = EventKind::ALL.iter().find(|k| k.name().eq_ignore_ascii_case(&name))?;
    Some(kind.name())
}

impl Sandbox {
    /// Compiles a component (through the compile cache when there is one) on
    /// a thread of its own, waiting at most [`SandboxConfig::max_compile_time`].
    /// wasmtime cannot stop a compilation: past the limit the handler is
    /// refused and the compilation is left to finish unseen (`weir` exits).
    pub(crate) fn compile(&self, bytes: &[u8]) -> anyhow::Result<Component> {
        let (engine, cache, settings) = (self.engine.clone(), self.cache.clone(), engine_settings(&self.cfg));
        let bytes = bytes.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("weir-compile".into())
            .spawn(move || {
                let compiled = match &cache {
                    Some(cache) => cache.component(&engine, &bytes, &settings),
                    None => Component::new(&engine, &bytes),
                };
                let _ = tx.send(compiled);
            })
            .context("starting the compiler thread")?;
        let limit = self.cfg.max_compile_time;
        match rx.recv_timeout(limit) {
            Ok(compiled) => compiled.map_err(|e| anyhow!("not a valid component: {e}")),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => bail!(
                "refused: compiling it takes longer than the limit of {} s (raise it with --max-compile-secs)",
                limit.as_secs_f64()
            ),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => bail!("the compiler thread failed"),
        }
    }

    /// Adds a compiled handler named `name` (reported as loaded from `path`)
    /// after the sandbox's own limits and [`validate`].
    pub(crate) fn add(&mut self, name: String, path: String, component: &Component, options: HandlerOptions) -> anyhow::Result<()> {
        if self.handlers.iter().any(|h| h.name == name) {
            bail!("another handler is named {name}");
        }
        let count = self.handlers.len() as u32 + 1;
        if count > MAX_HANDLERS {
            bail!("too many handlers: at most {MAX_HANDLERS}, the standard ones included");
        }
        let (workers, slots) = (self.cfg.workers.max(1), self.cfg.max_instances.max(4));
        if count.saturating_mul(workers) > slots {
            bail!("too many handlers: {count} handlers on {workers} workers need more than the {slots} instance slots of the pool");
        }
        let Validated { pre, exports, eval, .. } = validate(&self.engine, &self.linker, component)?;
        let kinds = exports.kinds();
        tracing::debug!(handler = %name, events = ?kinds, "handler loaded");
        let fuel = options.fuel.unwrap_or(self.cfg.fuel);
        let memory_bytes = options.memory_bytes.unwrap_or(self.cfg.memory_bytes);
        if memory_bytes > self.cfg.memory_bytes {
            bail!(
                "a memory cap of {} MiB is over the sandbox's {} MiB per handler (raise --memory-mb)",
                memory_bytes >> 20,
                self.cfg.memory_bytes >> 20
            );
        }
        let stats = HandlerStats { name: name.clone(), ..HandlerStats::default() };
        self.handlers.push(Handler {
            name,
            standard: false,
            path,
            pre,
            exports,
            takes: kinds.iter().fold(weir_engine::events::Subscriptions::default(), |mut s, k| {
                s.insert(*k);
                s
            }),
            kinds,
            live: None,
            traps: VecDeque::new(),
            disabled: false,
            fuel,
            grant_dir: options.grant_dir,
            memory_bytes,
            stats,
            budget: budget::Budget::default(),
            eval,
            eval_functions: Vec::new(),
        });
        let i = self.handlers.len() - 1;
        if let Err(e) = self.ask_eval_functions(i) {
            self.handlers.pop();
            return Err(e);
        }
        Ok(())
    }
}
