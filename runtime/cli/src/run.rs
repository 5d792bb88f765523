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
use weir_sandbox::{Sandbox, SandboxConfig};

/// Default fuel per handler call: stops a spinning guest within a few
/// milliseconds, yet leaves interpreted guests (Python, JavaScript) two
/// orders of magnitude of headroom over a connection event.
const DEFAULT_FUEL: u64 = 10_000_000;
/// Default linear-memory cap per handler instance.
const DEFAULT_MEMORY_MB: u64 = 64;

fn engine_config(args: &RunArgs) -> anyhow::Result<Config> {
    let mut cfg = Config { ignore_checksums: args.ignore_checksums, uid_seed: args.seed, ..Config::default() };
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
        if !self.enabled || engine.stats.packets % 4096 != 0 {
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
    let mut sandbox = Sandbox::new(SandboxConfig {
        fuel: args.fuel.unwrap_or(DEFAULT_FUEL),
        memory_bytes: (args.memory_mb.unwrap_or(DEFAULT_MEMORY_MB) * 1024 * 1024) as usize,
        log_dir: args.logdir.clone(),
        log_format,
        ..SandboxConfig::default()
    })?;
    if !args.no_default_handlers {
        sandbox.load_standard_handlers()?;
    }
    for h in &args.handlers {
        sandbox.load_file(h)?;
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
