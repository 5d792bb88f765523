//! `weir run` and `weir check`: the engine and sandbox settings from the
//! command line, the progress line and the end-of-run lines; the pipeline
//! itself is weir-pipeline's.

use crate::RunArgs;
use anyhow::{bail, Context};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_engine::capture::{file::FileSource, live::LiveSource, PacketSource};
use weir_engine::config::{parse_port_list, Config, DEFAULT_LIKELY_SERVER_PORTS};
use std::collections::HashMap;
use std::path::PathBuf;
use crate::cluster::{Cluster, Role};
use weir_pipeline::{Observer, RunOptions, WorkerSummary};
use weir_sandbox::{HandlerOptions, Sandbox, SandboxConfig};

fn engine_config(args: &RunArgs) -> anyhow::Result<Config> {
    let mut cfg = Config {
        ignore_checksums: args.ignore_checksums,
        uid_seed: args.seed,
        max_connections: args.max_connections,
        ..Config::default()
    };
    let ports = match &args.likely_server_ports {
        Some(list) => list.join(","),
        None => DEFAULT_LIKELY_SERVER_PORTS.to_string(),
    };
    cfg.likely_server_ports = parse_port_list(&ports).map_err(anyhow::Error::msg).context("--likely-server-ports")?;
    for a in args.set.iter().filter(|a| handler_option(a).is_none() && writer_option(a).is_none()) {
        cfg.set_assignment(a).map_err(anyhow::Error::msg).with_context(|| format!("--set {a}"))?;
    }
    // The extraction folder is granted by naming it (`FileExtract::prefix`)
    // or by asking the files handler to extract every file (Zeek's default
    // folder then); a relative folder lies in the log folder, where Zeek,
    // run in its log folder, writes it.
    let extract_all = script_options(args)?.get("Files::extract_all_files").is_some_and(|v| v == "T");
    if extract_all && cfg.files.extract_dir.is_none() {
        cfg.files.extract_dir = Some(PathBuf::from("extract_files"));
    }
    if let Some(dir) = cfg.files.extract_dir.take() {
        cfg.files.extract_dir = Some(if dir.is_absolute() { dir } else { args.logdir.join(dir) });
    }
    if cfg.os_fingerprint.db.is_none() {
        // p0f's database where its Debian package puts it, unless
        // `passive_fingerprint_file` named another.
        match weir_engine::osfp::Database::load(std::path::Path::new(weir_engine::osfp::DEFAULT_FILE)) {
            Ok(db) => cfg.os_fingerprint.db = Some(Arc::new(db)),
            Err(e) => tracing::debug!("no OS fingerprints: {e}"),
        }
    }
    if !args.magic.is_empty() {
        let magic = weir_engine::files::Magic::load(&args.magic)?;
        tracing::info!("{} MIME signatures loaded from {} files", magic.len(), args.magic.len());
        cfg.magic = Some(Arc::new(magic));
    }
    let dpd = !args.no_dpd_signatures;
    if dpd || !args.signatures.is_empty() {
        let mut idents = weir_engine::signatures::Idents::new();
        for a in &args.signature_idents {
            let (name, value) = weir_engine::signatures::parse_ident(a).map_err(anyhow::Error::msg).with_context(|| format!("--signature-ident {a}"))?;
            idents.insert(name, value);
        }
        let set = weir_engine::signatures::RuleSet::load(dpd, &args.signatures, &idents)?;
        tracing::info!("{} signatures loaded from {} files", set.len(), args.signatures.len());
        cfg.signatures = Some(Arc::new(set));
    }
    Ok(cfg)
}

/// The standard handler option a `--set NAME=VALUE` (or `NAME+=VALUE`)
/// names, if it names one, and whether it adds.
pub(crate) fn handler_option(assignment: &str) -> Option<(&'static weir_sandbox::options::HandlerOption, bool)> {
    let name = assignment.split_once('=')?.0.trim();
    let (name, add) = match name.strip_suffix('+') {
        Some(n) => (n.trim_end(), true),
        None => (name, false),
    };
    weir_sandbox::options::find(name).map(|o| (o, add))
}

/// The writer setting (`LogAscii::json_timestamps`, ...) a `--set NAME=VALUE`
/// names, if it names one: the Zeek name.
pub(crate) fn writer_option(assignment: &str) -> Option<&'static str> {
    let name = assignment.split_once('=')?.0.trim();
    weir_logs::WRITER_OPTIONS.iter().map(|o| o.name).find(|n| *n == name)
}

/// The `--set` values of the log writer settings.
pub(crate) fn writer_options(set: &[String]) -> Result<weir_logs::WriterOptions, String> {
    let mut options = weir_logs::WriterOptions::default();
    for a in set {
        if let (Some(name), Some((_, value))) = (writer_option(a), a.split_once('=')) {
            options.set(name, value).unwrap_or(Ok(())).map_err(|e| format!("--set {a}: {e}"))?;
        }
    }
    Ok(options)
}

/// The `--set` values of handler options, checked against their types.
fn script_options(args: &RunArgs) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut options = std::collections::BTreeMap::new();
    for a in &args.set {
        if handler_option(a).is_some() {
            check_script_option(a, &mut options).map_err(anyhow::Error::msg).with_context(|| format!("--set {a}"))?;
        }
    }
    Ok(options)
}

/// Checks the handler option `NAME=VALUE` (or `NAME+=VALUE`) against its type
/// and records it in `options`.
pub(crate) fn check_script_option(assignment: &str, options: &mut std::collections::BTreeMap<String, String>) -> Result<(), String> {
    let (Some((o, add)), Some((_, value))) = (handler_option(assignment), assignment.split_once('=')) else {
        return Err(format!("'{assignment}' is not a handler option"));
    };
    let current = options.get(o.name).map(String::as_str);
    let v = weir_sandbox::options::check(o, value, add, current)?;
    options.insert(o.name.to_string(), v);
    Ok(())
}

/// File name of a handler path (`loop.wasm`), the key of per-handler options.
pub(crate) fn handler_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Splits `NAME=VALUE` of a per-handler option and checks NAME is a `--handler`.
fn per_handler<'a>(flag: &str, arg: &'a str, names: &[String]) -> anyhow::Result<(&'a str, &'a str)> {
    let Some((name, value)) = arg.split_once('=') else { bail!("{flag} {arg}: expected NAME=VALUE") };
    if !names.iter().any(|n| n == name) {
        bail!("{flag} {arg}: no --handler named {name}");
    }
    Ok((name, value))
}

/// Names of the standard handlers this run loads (`conn`, `weird`, ...).
fn standard_names(args: &RunArgs) -> Vec<String> {
    if args.no_default_handlers {
        return Vec::new();
    }
    weir_sandbox::standard::HANDLERS.iter().map(|s| s.name.to_string()).collect()
}

/// `--handler-fuel` options that name a standard handler: (name, fuel).
fn standard_fuel(args: &RunArgs) -> anyhow::Result<Vec<(String, u64)>> {
    let standard = standard_names(args);
    let mut v = Vec::new();
    for a in &args.handler_fuel {
        let Some((name, value)) = a.split_once('=') else { continue };
        if standard.iter().any(|n| n == name) && !args.handlers.iter().any(|p| handler_name(p) == name) {
            let fuel = value.parse().map_err(|_| anyhow::anyhow!("--handler-fuel {a}: {value} is not a number"))?;
            v.push((name.to_string(), fuel));
        }
    }
    Ok(v)
}

/// Each `--handler` with its `--handler-fuel` and `--grant-dir` options.
fn handler_options(args: &RunArgs) -> anyhow::Result<Vec<(PathBuf, HandlerOptions)>> {
    let names: Vec<String> = args.handlers.iter().map(|p| handler_name(p)).collect();
    let standard = standard_names(args);
    let mut opts: HashMap<&str, HandlerOptions> = HashMap::new();
    for a in &args.handler_fuel {
        // A standard handler's fuel is set once it is loaded (`standard_fuel`).
        if a.split_once('=').is_some_and(|(n, _)| standard.iter().any(|s| s == n) && !names.iter().any(|x| x == n)) {
            continue;
        }
        let (name, value) = per_handler("--handler-fuel", a, &names)?;
        let fuel = value.parse().map_err(|_| anyhow::anyhow!("--handler-fuel {a}: {value} is not a number"))?;
        opts.entry(name).or_default().fuel = Some(fuel);
    }
    for a in &args.grant_dir {
        let (name, value) = per_handler("--grant-dir", a, &names)?;
        opts.entry(name).or_default().grant_dir = Some(PathBuf::from(value));
    }
    for a in &args.handler_memory {
        let (name, value) = per_handler("--handler-memory", a, &names)?;
        let mb: usize = value.parse().map_err(|_| anyhow::anyhow!("--handler-memory {a}: {value} is not a number"))?;
        opts.entry(name).or_default().memory_bytes = Some(mb.saturating_mul(1 << 20));
    }
    Ok(args.handlers.iter().zip(&names).map(|(p, n)| (p.clone(), opts.get(n.as_str()).cloned().unwrap_or_default())).collect())
}

/// Live progress on a terminal (none otherwise): for a trace, a bar with
/// the share of the file read and the time left; always the packets, the
/// connections open and the packet rate.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    read: Option<weir_engine::capture::ReadProgress>,
    start: Instant,
    last: Instant,
}

impl Progress {
    /// Shows progress when stderr is a terminal; `read` tells how far a trace is.
    fn new(read: Option<weir_engine::capture::ReadProgress>) -> Self {
        let now = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match read.as_ref().filter(|r| r.total > 0) {
                Some(r) => (
                    indicatif::ProgressBar::new(r.total),
                    "{bar:30} {percent:>3}% {msg}, {eta} left",
                ),
                None => (indicatif::ProgressBar::no_length(), "{spinner} {msg}"),
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.set_message("starting");
            bar.tick();
            bar
        });
        Progress { bar, read, start: now, last: now }
    }

    /// Called per packet read; `open` (connections tracked) is asked only when a line is due.
    fn tick(&mut self, packets: u64, open: impl FnOnce() -> usize) {
        let Some(bar) = &self.bar else { return };
        if !packets.is_multiple_of(4096) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_millis(500) {
            return;
        }
        self.last = now;
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-9);
        // The message first: moving the bar redraws it.
        bar.set_message(format!("{packets} packets, {} connections open, {:.0} packets/s", open(), packets as f64 / secs));
        if let Some(r) = &self.read {
            bar.set_position(r.read());
        } else {
            bar.tick();
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What a run shows while it goes: the progress line, and a warning when a
/// signal stopped the reading.
struct Display<'a> {
    progress: Progress,
    stop: &'a AtomicBool,
}

impl Observer for Display<'_> {
    fn packet(&mut self, packets: u64, open: &dyn Fn() -> usize) {
        self.progress.tick(packets, open);
    }

    fn reading_done(&mut self) {
        self.progress.done();
        if self.stop.load(Ordering::Relaxed) {
            tracing::warn!("stopping on a signal: writing out the open connections (a second signal skips all but the standard handlers)");
        }
    }
}

/// The end-of-run lines of one worker (`WEIR_LOG=info`), and a warning when
/// its tables dropped state early.
fn log_worker(w: &WorkerSummary) {
    let t = &w.tables;
    tracing::info!(
        packets = w.packets,
        connections_evicted = t.connections_evicted,
        frag_datagrams_expired = t.frags.expired,
        frag_datagrams_evicted = t.frags.evicted,
        flow_weird_pairs = t.flow_weird_pairs,
        flow_weird_pairs_evicted = t.flow_weird_pairs_evicted,
        ip_tunnels = t.ip_tunnels,
        ip_tunnels_evicted = t.ip_tunnels_evicted,
        packets_backwards = t.clock.backwards,
        packets_far_ahead_held = t.clock.jump_held,
        "worker done"
    );
    if w.dropped_state() {
        tracing::warn!(
            frag_datagrams_evicted = t.frags.evicted,
            flow_weird_pairs_evicted = t.flow_weird_pairs_evicted,
            ip_tunnels_evicted = t.ip_tunnels_evicted,
            "engine tables were full: state was dropped early (max_frag_datagrams, max_frag_bytes, max_flow_weird_pairs, max_ip_tunnels)"
        );
    }
}

/// `--max-handler-mb` and `--max-compile-secs` as the sandbox takes them.
fn load_limits(l: crate::LoadLimits) -> (u64, std::time::Duration) {
    (l.max_handler_mb.saturating_mul(1 << 20), std::time::Duration::from_secs(l.max_compile_secs))
}

/// `weir run`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    // First of all, so that a signal while handlers load and compile already
    // ends the run cleanly (it then reads nothing).
    let (stop, signals) = stop_signals()?;
    let cluster = match (&args.cluster, &args.node) {
        (Some(file), Some(name)) => {
            let c = Cluster::load(file)?;
            let node = c.node(name)?.clone();
            Some((c, node))
        }
        _ => None,
    };
    let mut cfg = engine_config(&args)?;
    writer_options(&args.set).map_err(anyhow::Error::msg)?;
    if args.parse_only {
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&args.logdir).with_context(|| format!("cannot create log folder {}", args.logdir.display()))?;
    let mut publisher = None;
    if let Some((c, node)) = &cluster {
        match node.role {
            Role::Worker => {
                // Worker k's UIDs are those of worker thread k of one weir, so
                // that no two workers' UIDs collide.
                let k = c.workers().position(|n| n.name == node.name).unwrap_or(0);
                cfg.uid_seed = weir_pipeline::worker_seed(cfg.uid_seed, k);
                publisher = Some(crate::cluster::logs::Publisher::start(c, node)?);
                tracing::info!("worker {} of cluster {}: log records go to the loggers", node.name, c.name);
            }
            role => {
                if args.read.is_some() || args.interface.is_some() {
                    bail!("node {} is a {}: it reads no packets (-r and -i are for workers)", node.name, role.name());
                }
                if role == Role::Logger {
                    return run_logger(c, node, &args, &stop);
                }
            }
        }
    }
    let log_format = args.log_format;
    let options = handler_options(&args)?;
    let standard_fuel = standard_fuel(&args)?;
    let workers = args.workers.max(1);
    let defaults = SandboxConfig::default();
    // One pool slot per handler and worker: each handler instance has its whole
    // quota, so no handler can leave another without.
    let handlers = (standard_names(&args).len() + args.handlers.len()).min(weir_sandbox::MAX_HANDLERS as usize + 1) as u32;
    let mut sandbox = Sandbox::new(SandboxConfig {
        options: Arc::new(script_options(&args)?),
        fuel: args.fuel.unwrap_or(defaults.fuel),
        memory_bytes: args.memory_mb.map_or(defaults.memory_bytes, |mb| (mb * 1024 * 1024) as usize),
        log_dir: args.logdir.clone(),
        log_format,
        log_options: writer_options(&args.set).map_err(anyhow::Error::msg)?,
        max_records_per_sec: args.max_log_records.unwrap_or(defaults.max_records_per_sec),
        max_messages_per_sec: args.max_reporter_messages.unwrap_or(defaults.max_messages_per_sec),
        max_instances: handlers.max(1) * workers as u32,
        workers: workers as u32,
        quota: weir_sandbox::HandlerQuota {
            streams: args.max_log_streams.unwrap_or(defaults.quota.streams),
            ..defaults.quota
        },
        compile_cache: if args.no_compile_cache { None } else { weir_sandbox::compile_cache::default_dir() },
        cpu_budget: args.cpu_budget.unwrap_or(defaults.cpu_budget),
        max_log_bytes_per_sec: args.max_log_bytes.unwrap_or(defaults.max_log_bytes_per_sec),
        host_wait_limit: Duration::from_millis(args.host_wait_ms),
        max_component_bytes: load_limits(args.limits).0,
        max_compile_time: load_limits(args.limits).1,
        anonymization: cfg.anonymization.clone(),
        log_forward: publisher.clone().map(|p| weir_logs::RecordForward(p)),
        ..defaults
    })?;
    // A manager writes no logs of traffic: only its own handlers run there.
    let manager = cluster.as_ref().is_some_and(|(_, n)| n.role == Role::Manager);
    if !args.no_default_handlers && !manager {
        sandbox.load_standard_handlers()?;
    }
    for (path, opts) in options {
        sandbox.load_file_with(&path, opts)?;
    }
    for (name, fuel) in standard_fuel {
        sandbox.set_handler_fuel(&name, fuel)?;
    }
    if let Some(set) = &cfg.signatures {
        let known: Vec<String> = sandbox.eval_functions().into_iter().map(|(f, _)| f).collect();
        set.check_eval_functions(&known)?;
    }

    sandbox.watch_signals(signals);
    if let Some(p) = &publisher {
        p.announce(topics(&sandbox));
    }
    if let Some((c, node)) = cluster.as_ref().filter(|_| manager) {
        return run_manager(c, node, cfg, sandbox, &stop);
    }

    // `-f`, else the packet-filter framework's combination of its settings.
    let filter = cfg.packet_filter.build(args.filter.as_deref(), &cfg.likely_server_ports);
    if let Some(f) = &filter {
        tracing::info!("packet filter: {f}");
    }
    // A worker captures on its cluster node's interface unless told otherwise.
    let interface = args.interface.clone().or_else(|| cluster.as_ref().and_then(|(_, n)| n.interface.clone()));
    let mut source: Box<dyn PacketSource> = match (&args.read, &interface) {
        (Some(path), _) => Box::new(FileSource::open(path, filter.as_deref())?),
        (None, Some(iface)) => {
            Box::new(LiveSource::open(iface, filter.as_deref(), 65535)?.with_stop_flag(Arc::clone(&stop)))
        }
        (None, None) => bail!("give a trace with -r or an interface with -i (or capture.read or capture.interface in the --config file)"),
    };

    let mut display = Display { progress: Progress::new(source.read_progress()), stop: &stop };
    let share = cluster.as_ref().and_then(|(c, n)| c.share(&n.name));
    let summary = weir_pipeline::run(cfg, sandbox, source.as_mut(), RunOptions { workers, share }, &stop, &mut display)?;
    for w in &summary.workers {
        log_worker(w);
    }
    summary.sandbox.close_logs()?;
    if let Some(p) = publisher {
        let sent = p.finish();
        tracing::info!(records = sent.records, lost = sent.lost, "log records published");
        if sent.lost > 0 {
            eprintln!("weir: {} log records could not be handed to the cluster's stream", sent.lost);
            return Ok(ExitCode::FAILURE);
        }
    }
    match summary.failure {
        Some(e) => {
            eprintln!("weir: {e}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The events the loaded handlers take, by name: what a node tells its peers.
fn topics(sandbox: &Sandbox) -> Vec<String> {
    let subs = sandbox.subscriptions();
    weir_engine::events::EventKind::ALL.iter().filter(|k| subs.wants(**k)).map(|k| k.name().to_string()).collect()
}

/// A logger node: writes the workers' log records until a signal, then
/// what the stream still holds.
fn run_logger(c: &Cluster, node: &crate::cluster::Node, args: &RunArgs, stop: &AtomicBool) -> anyhow::Result<ExitCode> {
    let options = writer_options(&args.set).map_err(anyhow::Error::msg)?;
    let w = crate::cluster::logs::run_logger(c, node, &args.logdir, &options, stop)?;
    tracing::info!(records = w.records, refused = w.refused, "logger done");
    Ok(ExitCode::SUCCESS)
}

/// A manager node: its handlers get the peers' events (hello, goodbye,
/// pongs, ...) until a signal; then `bro_done`, and its logs are closed.
fn run_manager(c: &Cluster, node: &crate::cluster::Node, cfg: Config, sandbox: Sandbox, stop: &AtomicBool) -> anyhow::Result<ExitCode> {
    let topics = topics(&sandbox);
    let (tx, rx) = std::sync::mpsc::channel();
    let (bye_tx, bye_rx) = tokio::sync::oneshot::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (c2, n2) = (c.clone(), node.clone());
    let thread = std::thread::Builder::new().name("weir-cluster-peers".into()).spawn(move || {
        let rt = match crate::cluster::transport::runtime() {
            Ok(rt) => rt,
            Err(e) => return drop(ready_tx.send(Err(e))),
        };
        rt.block_on(async move {
            match crate::cluster::transport::connect(&c2, &n2).await {
                Ok(client) => {
                    let _ = ready_tx.send(Ok(()));
                    crate::cluster::peers::run(client, c2, n2, topics, Some(tx), bye_rx).await;
                }
                Err(e) => drop(ready_tx.send(Err(e))),
            }
        });
    })?;
    ready_rx.recv().map_err(|_| anyhow::anyhow!("the cluster thread stopped while connecting"))??;
    tracing::info!("manager {} of cluster {}: connected", node.name, c.name);
    let mut w = weir_pipeline::Worker::start(cfg, sandbox);
    while !stop.load(Ordering::Relaxed) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(e) => w.raise(e.event()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        w.advance_to(weir_pipeline::wall_clock());
        if let Err(e) = w.sandbox().flush_logs() {
            tracing::warn!("{e:#}");
        }
    }
    let _ = bye_tx.send(());
    let _ = thread.join();
    // Events that came before the goodbye still reach the handlers.
    while let Ok(e) = rx.try_recv() {
        w.raise(e.event());
    }
    let (sandbox, _) = w.finish();
    sandbox.close_logs()?;
    Ok(ExitCode::SUCCESS)
}

/// SIGINT and SIGTERM: the first stops reading (the run then ends as at the end
/// of its input: open connections are logged, `bro_done` runs, logs are flushed
/// and closed); from the second on only the standard handlers are called, so the
/// run ends as soon as the log writers are done. Returns the stop flag and the
/// signal count.
fn stop_signals() -> anyhow::Result<(Arc<AtomicBool>, Arc<AtomicUsize>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("cannot install signal handler")?;
        let count = Arc::clone(&count);
        // SAFETY: the action only increments an atomic, which is async-signal-safe.
        unsafe { signal_hook::low_level::register(sig, move || { count.fetch_add(1, Ordering::SeqCst); }) }
            .context("cannot install signal handler")?;
    }
    Ok((stop, count))
}

/// `weir config check FILE`: every error of the file with its line, then
/// what loading the engine settings and signatures finds; "FILE: ok" otherwise.
pub fn check_config(file: &Path) -> anyhow::Result<ExitCode> {
    let mut args = crate::default_run_args();
    if let Err(e) = crate::config::load(file, &mut args, &crate::config::NoFlags) {
        eprintln!("{e:#}");
        return Ok(ExitCode::FAILURE);
    }
    engine_config(&args).with_context(|| format!("{}", file.display()))?;
    script_options(&args).with_context(|| format!("{}", file.display()))?;
    handler_options(&args).with_context(|| format!("{}", file.display()))?;
    println!("{}: ok", file.display());
    Ok(ExitCode::SUCCESS)
}

/// `weir check`.
pub fn check(file: &Path, limits: crate::LoadLimits) -> anyhow::Result<ExitCode> {
    let (bytes, time) = load_limits(limits);
    let report = Sandbox::check_with(file, bytes, time)?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
