//! `weir run` and `weir check`: wiring the engine to the sandbox.

use crate::{LogFormat, RunArgs};
use anyhow::{bail, Context};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_engine::capture::{file::FileSource, live::LiveSource, PacketSource};
use weir_engine::config::{parse_port_list, Config, DEFAULT_LIKELY_SERVER_PORTS};
use weir_engine::Engine;
use std::collections::HashMap;
use std::path::PathBuf;
use weir_sandbox::{HandlerOptions, Sandbox, SandboxConfig};

/// Default fuel per handler call: stops a spinning guest within a few
/// milliseconds, yet leaves interpreted guests (Python, JavaScript) two
/// orders of magnitude of headroom over a connection event.
const DEFAULT_FUEL: u64 = 10_000_000;
/// Default linear-memory cap per handler instance.
const DEFAULT_MEMORY_MB: u64 = 64;

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
    for a in &args.set {
        cfg.set_assignment(a).map_err(anyhow::Error::msg).with_context(|| format!("--set {a}"))?;
    }
    Ok(cfg)
}

/// File name of a handler path (`loop.wasm`), the key of per-handler options.
fn handler_name(path: &Path) -> String {
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

/// Each `--handler` with its `--handler-fuel` and `--grant-dir` options.
fn handler_options(args: &RunArgs) -> anyhow::Result<Vec<(PathBuf, HandlerOptions)>> {
    let names: Vec<String> = args.handlers.iter().map(|p| handler_name(p)).collect();
    let mut opts: HashMap<&str, HandlerOptions> = HashMap::new();
    for a in &args.handler_fuel {
        let (name, value) = per_handler("--handler-fuel", a, &names)?;
        let fuel = value.parse().map_err(|_| anyhow::anyhow!("--handler-fuel {a}: {value} is not a number"))?;
        opts.entry(name).or_default().fuel = Some(fuel);
    }
    for a in &args.grant_dir {
        let (name, value) = per_handler("--grant-dir", a, &names)?;
        opts.entry(name).or_default().grant_dir = Some(PathBuf::from(value));
    }
    Ok(args.handlers.iter().zip(&names).map(|(p, n)| (p.clone(), opts.get(n.as_str()).cloned().unwrap_or_default())).collect())
}

/// Live progress on a terminal: packets, connections, rate.
struct Progress {
    enabled: bool,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        let now = Instant::now();
        Progress { enabled: std::io::stderr().is_terminal(), start: now, last: now }
    }

    fn tick(&mut self, engine: &Engine) {
        if !self.enabled || !engine.stats.packets.is_multiple_of(4096) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_millis(500) {
            return;
        }
        self.last = now;
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-9);
        eprint!(
            "\r\x1b[2K{} packets, {} connections open, {:.0} packets/s",
            engine.stats.packets,
            engine.connections(),
            engine.stats.packets as f64 / secs
        );
    }

    fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}

/// `weir run`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let cfg = engine_config(&args)?;
    std::fs::create_dir_all(&args.logdir).with_context(|| format!("cannot create log folder {}", args.logdir.display()))?;
    let log_format = match args.log_format {
        LogFormat::Tsv => weir_logs::LogFormat::Tsv,
        LogFormat::Json => weir_logs::LogFormat::Json,
    };
    let options = handler_options(&args)?;
    let defaults = SandboxConfig::default();
    let mut sandbox = Sandbox::new(SandboxConfig {
        fuel: args.fuel.unwrap_or(DEFAULT_FUEL),
        memory_bytes: (args.memory_mb.unwrap_or(DEFAULT_MEMORY_MB) * 1024 * 1024) as usize,
        log_dir: args.logdir.clone(),
        log_format,
        max_records_per_sec: args.max_log_records.unwrap_or(defaults.max_records_per_sec),
        max_messages_per_sec: args.max_reporter_messages.unwrap_or(defaults.max_messages_per_sec),
        ..defaults
    })?;
    if !args.no_default_handlers {
        sandbox.load_standard_handlers()?;
    }
    for (path, opts) in options {
        sandbox.load_file_with(&path, opts)?;
    }

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("cannot install signal handler")?;
    }

    let mut source: Box<dyn PacketSource> = match (&args.read, &args.interface) {
        (Some(path), _) => Box::new(FileSource::open(path, args.filter.as_deref())?),
        (None, Some(iface)) => {
            Box::new(LiveSource::open(iface, args.filter.as_deref(), 65535)?.with_stop_flag(Arc::clone(&stop)))
        }
        (None, None) => bail!("give a trace with -r or an interface with -i"),
    };

    let mut engine = Engine::new(cfg, sandbox.subscriptions());
    engine.start();
    for ev in sandbox.script_loaded_events() {
        engine.queue.push(ev);
    }
    sandbox.dispatch(&mut engine.queue, engine.network_time);

    let mut progress = Progress::new();
    let mut failure = None;
    while !stop.load(Ordering::Relaxed) {
        match source.next_packet() {
            Ok(Some(pkt)) => {
                engine.process(&pkt);
                sandbox.dispatch(&mut engine.queue, engine.network_time);
                progress.tick(&engine);
            }
            Ok(None) => break,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    progress.done();
    engine.finish();
    sandbox.dispatch(&mut engine.queue, engine.network_time);
    sandbox.finish()?;
    tracing::info!(packets = engine.stats.packets, "done");
    match failure {
        Some(e) => {
            eprintln!("weir: {e}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// `weir check`.
pub fn check(file: &Path) -> anyhow::Result<ExitCode> {
    let report = Sandbox::check(file)?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
