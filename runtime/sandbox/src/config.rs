//! What a sandbox is configured with: [`SandboxConfig`], a handler's share of
//! the instance pool ([`HandlerQuota`]), what the operator grants one handler
//! ([`HandlerOptions`]), and the defaults.

use std::path::PathBuf;
use std::time::Duration;

use weir_logs::LogFormat;

use crate::wasi_shims;

/// Limits and outputs of a [`Sandbox`](crate::Sandbox).
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Script options handlers read (`runtime.script-option`), by Zeek name: the
    /// `--set` values of [`crate::options::STANDARD`] options.
    pub options: std::sync::Arc<std::collections::BTreeMap<String, String>>,
    /// Fuel per handler call (about one unit per wasm instruction); 0 turns fuel
    /// metering off (the epoch deadline still applies).
    pub fuel: u64,
    /// Linear-memory cap per handler instance, in bytes.
    pub memory_bytes: usize,
    /// Folder for the logs.
    pub log_dir: PathBuf,
    /// Log format.
    pub log_format: LogFormat,
    /// Zeek's writer settings (`LogAscii::json_timestamps`, ...).
    pub log_options: weir_logs::WriterOptions,
    /// Where the rows go instead of files in `log_dir`: a cluster worker's
    /// link to its loggers (none: files).
    pub log_forward: Option<weir_logs::RecordForward>,
    /// Wall-clock backstop per call: the epoch ticks every `epoch_tick` and a call
    /// may run for `epoch_deadline_ticks` ticks.
    pub epoch_tick: Duration,
    /// See `epoch_tick`.
    pub epoch_deadline_ticks: u64,
    /// A handler that traps this many times within `trap_window` seconds of network
    /// time is disabled (a standard handler never is: its instance is replaced).
    pub max_traps: usize,
    /// See `max_traps`.
    pub trap_window: f64,
    /// Log records a handler may write per second of network time; more are dropped
    /// and counted in one reporter warning per second. The standard handlers'
    /// records (one per connection, weird, ...) are never dropped.
    pub max_records_per_sec: u64,
    /// Distinct reporter messages a handler may send per second of network time
    /// (repeats of a message within one queue drain are collapsed and not counted);
    /// more are dropped and counted in one reporter warning per second.
    pub max_messages_per_sec: u64,
    /// Most handler instances alive at once (pooling allocator slots): one per
    /// handler and worker. A handler that would need more is refused at load.
    pub max_instances: u32,
    /// Sandboxes (worker threads) that will each run an instance of every
    /// handler: the first one and its [`Sandbox::sibling`](crate::Sandbox::sibling)s.
    pub workers: u32,
    /// What each handler instance may hold; the pool holds exactly this much per slot.
    pub quota: HandlerQuota,
    /// Folder of compiled handlers reused across runs (see [`compile_cache`](crate::compile_cache));
    /// `None` compiles every handler at load.
    pub compile_cache: Option<PathBuf>,
    /// Longest wall-clock wait of one blocking WASI call (poll, block, blocking
    /// stream calls, file reads and writes); past it the call traps. Waits on the
    /// clocks are answered at once from network time.
    pub host_wait_limit: Duration,
    /// Fuel a (non-standard) handler may spend per second of network time, see
    /// [`DEFAULT_CPU_BUDGET`]; 0 turns the budget off, and so does turning fuel
    /// metering off (`fuel` 0). With several workers each has its own budget.
    pub cpu_budget: u64,
    /// Log bytes a (non-standard) handler may write per second of network time;
    /// records past it are dropped and counted in one reporter warning per second.
    /// 0 turns the cap off.
    pub max_log_bytes_per_sec: u64,
    /// Largest handler component file accepted, in bytes.
    pub max_component_bytes: u64,
    /// Longest a handler may take to compile (wall clock); a handler that takes
    /// longer is refused.
    pub max_compile_time: Duration,
    /// Address anonymization: the `anonymize` host call's methods and key, and
    /// whether logs are written with anonymized addresses.
    pub anonymization: weir_engine::anon::Settings,
}

/// Default [`SandboxConfig::max_component_bytes`]: 64 MiB, above the largest
/// real handlers: a Python handler bundles the CPython interpreter (the
/// Python scan detector is 18.4 MB), the StarlingMonkey JavaScript engine
/// makes 12.5 MB.
pub const DEFAULT_MAX_COMPONENT_BYTES: u64 = 64 << 20;

/// Default [`SandboxConfig::max_compile_time`]: 120 s. The Python scan detector
/// (`examples/scan/python`, 18.4 MB) compiles in 19 s on the 2-core development
/// machine under load; this leaves room for a busier machine.
pub const DEFAULT_MAX_COMPILE_TIME: Duration = Duration::from_secs(120);

/// Default [`SandboxConfig::cpu_budget`]: fuel per second of network time.
/// On the development machine a tight guest loop spends 12 fuel a nanosecond, so
/// this is 0.17 s of CPU per second for such code (more for code with costlier
/// instructions): a live link's handler may use a fraction of a core. The example
/// handlers spend at most 0.19 G (`event-trace`, every event) and 0.034 G
/// (`packet-census`, three calls per packet) in any second of the dev oracle
/// traces, the standard handlers at most 0.4 M.
pub const DEFAULT_CPU_BUDGET: u64 = 2_000_000_000;

/// Default [`SandboxConfig::max_log_bytes_per_sec`]: 16 MiB of log lines per second
/// of network time per handler (the record cap at conn.log's ~250 bytes a row is
/// 25 MB).
pub const DEFAULT_MAX_LOG_BYTES_PER_SEC: u64 = 16 << 20;

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            options: Default::default(),
            // 10 M: a Rust handler spends ~1-5 k per event and a Python one well under
            // 10 M, while a spinning guest is stopped within a few milliseconds.
            fuel: 10_000_000,
            memory_bytes: 64 << 20,
            log_dir: PathBuf::from("."),
            log_format: LogFormat::Tsv,
            log_options: weir_logs::WriterOptions::default(),
            log_forward: None,
            epoch_tick: Duration::from_millis(10),
            epoch_deadline_ticks: 100,
            max_traps: 5,
            trap_window: 60.0,
            max_records_per_sec: 100_000,
            max_messages_per_sec: 1_000,
            max_instances: 64,
            workers: 1,
            quota: HandlerQuota::default(),
            compile_cache: None,
            host_wait_limit: wasi_shims::DEFAULT_HOST_WAIT_LIMIT,
            cpu_budget: DEFAULT_CPU_BUDGET,
            max_log_bytes_per_sec: DEFAULT_MAX_LOG_BYTES_PER_SEC,
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
            max_compile_time: DEFAULT_MAX_COMPILE_TIME,
            anonymization: Default::default(),
        }
    }
}

/// Most handlers one sandbox loads (standard ones included).
pub const MAX_HANDLERS: u32 = 64;

/// One handler instance's share of the instance pool and of the log streams.
/// The pool is sized as [`SandboxConfig::max_instances`] times this, so what
/// one handler takes never comes out of another's share; a component that
/// needs more than its share is refused at load.
#[derive(Clone, Copy, Debug)]
pub struct HandlerQuota {
    /// Core module instances a component may contain.
    pub core_instances: u32,
    /// Linear memories a component may define.
    pub memories: u32,
    /// Tables a component may define.
    pub tables: u32,
    /// Log streams a handler may open (the standard handlers' own are reserved
    /// for them and never count against another handler).
    pub streams: u32,
}

impl Default for HandlerQuota {
    fn default() -> Self {
        // The per-store caps weir always had: Rust and C components use 2-4 core
        // instances, 1 memory and 1-2 tables; interpreted ones (Python,
        // JavaScript) more instances and tables, still well inside.
        HandlerQuota { core_instances: 32, memories: 4, tables: 32, streams: 16 }
    }
}

/// What the operator grants one handler beyond the defaults.
#[derive(Clone, Debug, Default)]
pub struct HandlerOptions {
    /// Fuel per call for this handler (overrides [`SandboxConfig::fuel`]; ignored when
    /// fuel metering is off).
    pub fuel: Option<u64>,
    /// A host folder the handler may read and write, seen by the guest as `/granted`.
    pub grant_dir: Option<PathBuf>,
    /// Linear-memory cap of this handler's instances, in bytes (at most
    /// [`SandboxConfig::memory_bytes`], the pool's slot size; default that).
    pub memory_bytes: Option<usize>,
}
