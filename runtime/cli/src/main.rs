//! `weir`: the command line.

mod cluster;
mod config;
mod new;
mod run;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use weir_logs::LogFormat;

/// A network-monitoring event engine whose event handlers are sandboxed
/// WebAssembly components.
#[derive(Parser, Debug)]
#[command(name = "weir", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Reads packets from a trace or an interface and runs the handlers.
    Run(Box<RunArgs>),
    /// Validates a handler component and lists the events it takes.
    Check {
        /// The component file.
        file: PathBuf,
        #[command(flatten)]
        limits: LoadLimits,
    },
    /// Prints the WIT package handlers are written against.
    Wit,
    /// Configuration files (`weir run --config FILE`).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// A cluster on NATS (`weir run --cluster FILE --node NAME` starts a node).
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Creates a handler project at PATH, as `cargo new` does: the folder's
    /// name is the handler's name; `build.sh` in it builds NAME.wasm.
    New {
        /// Language of the handler.
        #[arg(long, value_enum)]
        lang: new::Lang,
        /// The project folder to create (its last part is the handler name:
        /// lowercase words joined by '-'); with --dir, the handler name.
        path: PathBuf,
        /// Handler name, when it is not the folder's name.
        #[arg(long)]
        name: Option<String>,
        /// Create the project in this folder (PATH is then the name).
        #[arg(long)]
        dir: Option<PathBuf>,
    /// weir's guest-sdk folder (default: $WEIR_SDK, else the checkout weir was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
}

/// `weir config ...`.
#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Checks a configuration file: prints each error with its line.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
}

/// `weir cluster ...`.
#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Starts the file's nodes that run on this machine (host localhost,
    /// 127.0.0.1, ::1 or this host's name) in the background, each logging
    /// into DIR/NODE (its pid in DIR/NODE/weir.pid, its messages in
    /// DIR/NODE/weir.stderr).
    Start {
        /// The cluster file.
        file: PathBuf,
        /// The folder of the nodes' folders.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Stops the nodes `weir cluster start` started (SIGTERM, then waits for each).
    Stop {
        /// The cluster file.
        file: PathBuf,
        /// The folder given to `weir cluster start`.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Lists the nodes of a cluster file and whether each is up: listens to
    /// the cluster's heartbeats for `missed_heartbeats` heartbeats.
    Status {
        /// The cluster file.
        file: PathBuf,
    },
}

/// Limits on loading a handler component (`weir run` and `weir check`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LoadLimits {
    /// Largest handler component file accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = weir_sandbox::DEFAULT_MAX_COMPONENT_BYTES >> 20)]
    pub max_handler_mb: u64,
    /// Longest a handler may take to compile, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = weir_sandbox::DEFAULT_MAX_COMPILE_TIME.as_secs())]
    pub max_compile_secs: u64,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// A TOML configuration file holding any of the other settings (see the
    /// README); a flag given besides wins over the file's value, and lists
    /// (handlers, `--set`, signatures) add to the file's.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read packets from this pcap or pcapng trace.
    #[arg(short = 'r', long = "read", conflicts_with = "interface", required_unless_present_any = ["interface", "parse_only", "config", "cluster"])]
    pub read: Option<PathBuf>,
    /// Capture live from this interface.
    #[arg(short = 'i', long = "interface")]
    pub interface: Option<String>,
    /// BPF capture filter.
    #[arg(short = 'f', long = "filter")]
    pub filter: Option<String>,
    /// Ignore checksums (Zeek's -C).
    #[arg(short = 'C', long = "ignore-checksums")]
    pub ignore_checksums: bool,
    /// Folder for the logs (default: the current folder).
    #[arg(long, default_value = ".")]
    pub logdir: PathBuf,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Tsv)]
    pub log_format: LogFormat,
    /// A handler component to load (repeatable).
    #[arg(long = "handler")]
    pub handlers: Vec<PathBuf>,
    /// Do not load the standard handlers (conn.log, weird.log, reporter.log).
    #[arg(long)]
    pub no_default_handlers: bool,
    /// Fuel per handler call (about one unit per wasm instruction, plus a fixed
    /// cost per host call and one unit per byte passed to it); 0 turns metering off.
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Fuel per call for one handler, by its file name (`loop.wasm=50000000`) or,
    /// for a standard handler, its name (`conn=50000000`) (repeatable).
    #[arg(long = "handler-fuel", value_name = "NAME=N")]
    pub handler_fuel: Vec<String>,
    /// Lets one handler read and write a host folder, seen by it as `/granted`:
    /// `mine.wasm=/srv/data` (repeatable). Handlers get no files otherwise.
    #[arg(long = "grant-dir", value_name = "NAME=PATH")]
    pub grant_dir: Vec<String>,
    /// Linear-memory cap of one handler's instances, in MiB, by its file name
    /// (`big.wasm=256`; at most --memory-mb) (repeatable).
    #[arg(long = "handler-memory", value_name = "NAME=MIB")]
    pub handler_memory: Vec<String>,
    /// Log records each handler may write per second of network time (the
    /// standard handlers are not held to it: their rows are never dropped).
    #[arg(long)]
    pub max_log_records: Option<u64>,
    /// Distinct reporter messages each handler may send per second of network time.
    #[arg(long)]
    pub max_reporter_messages: Option<u64>,
    /// Log streams each handler may open (default 16; the standard handlers'
    /// logs are reserved for them and count for no one else).
    #[arg(long)]
    pub max_log_streams: Option<u32>,
    /// Log bytes each (non-standard) handler may write per second of network
    /// time; records past it are dropped and counted (default 16 MiB; 0 = no cap).
    #[arg(long)]
    pub max_log_bytes: Option<u64>,
    /// Fuel each (non-standard) handler may spend per second of network time;
    /// past it its events are skipped for the rest of that second, and a handler
    /// over budget in 5 seconds within 60 is disabled (default 2000000000; 0 = off).
    #[arg(long)]
    pub cpu_budget: Option<u64>,
    /// Longest wall-clock wait, in milliseconds, of one blocking WASI call of a
    /// handler (poll, blocking stream and file calls); past it the call traps.
    #[arg(long, default_value_t = 100)]
    pub host_wait_ms: u64,
    /// Linear-memory cap per handler, in MiB.
    #[arg(long)]
    pub memory_mb: Option<u64>,
    /// Ports that decide direction without a SYN, e.g. `80/tcp,53/udp`
    /// (replaces the default set).
    #[arg(long, value_delimiter = ',')]
    pub likely_server_ports: Option<Vec<String>>,
    /// Sets an engine option by its Zeek name, e.g. `tcp_inactivity_timeout=60`,
    /// `Tunnel::max_depth=2`, `report_gaps_for_partial=T` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// A signature file in Zeek's `.sig` language to load (repeatable).
    #[arg(long = "signatures", value_name = "FILE")]
    pub signatures: Vec<PathBuf>,
    /// Leave out weir's own protocol detection signatures (an analyzer then
    /// runs only on its registered ports, or when a loaded signature enables it).
    #[arg(long)]
    pub no_dpd_signatures: bool,
    /// The value of a script identifier the signatures use in place of a
    /// value: `NAME=17`, `NAME=1,2`, `NAME={10.0.0.0/8, 192.168.1.0/24}` or
    /// `NAME="text"` (repeatable).
    #[arg(long = "signature-ident", value_name = "NAME=VALUE")]
    pub signature_idents: Vec<String>,
    /// A signature file whose `file-magic` rules sniff files' MIME types
    /// (repeatable); they replace weir's own MIME signatures.
    #[arg(long = "magic", value_name = "FILE")]
    pub magic: Vec<PathBuf>,
    /// Load the configuration and signature files, then stop without reading
    /// packets (Zeek's -a): the exit status says whether they load.
    #[arg(long)]
    pub parse_only: bool,
    /// Seed for deterministic connection UIDs.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Most connections tracked at once; past it the least recently active of a
    /// sample is evicted (logged as at a timeout, `connection_table_full` weird).
    /// 0 = no cap.
    #[arg(long, default_value_t = 0)]
    pub max_connections: usize,
    /// Worker threads: packets are spread by a symmetric hash of their outer
    /// IP addresses, each worker with its own connection table and handler
    /// instances, all writing the same logs. 1 = everything on one thread.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub workers: usize,
    /// Compile every handler at load instead of reusing compiled code kept in
    /// $WEIR_CACHE_DIR (default ~/.cache/weir).
    #[arg(long)]
    pub no_compile_cache: bool,
    #[command(flatten)]
    pub limits: LoadLimits,
    /// A cluster file (see the README's Cluster section): this run is the
    /// node --node of that cluster.
    #[arg(long, value_name = "FILE", requires = "node")]
    pub cluster: Option<PathBuf>,
    /// The node of the --cluster file this run is (`worker-1`).
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub node: Option<String>,
}

/// The run arguments of `weir run --parse-only`: every default.
pub(crate) fn default_run_args() -> RunArgs {
    match Cli::try_parse_from(["weir", "run", "--parse-only"]).map(|c| c.command) {
        Ok(Command::Run(args)) => *args,
        _ => unreachable!("`weir run --parse-only` parses"),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WEIR_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Run(mut args) => match &args.config {
            Some(file) => {
                let given = matches.subcommand_matches("run").expect("run's matches");
                let file = file.clone();
                config::load(&file, &mut args, given).and_then(|()| run::run(*args))
            }
            None => run::run(*args),
        },
        Command::Config(ConfigCommand::Check { file }) => run::check_config(&file),
        Command::Cluster(ClusterCommand::Status { file }) => cluster::status::status(&file),
        Command::Cluster(ClusterCommand::Start { file, dir }) => cluster::local::start(&file, &dir),
        Command::Cluster(ClusterCommand::Stop { file, dir }) => cluster::local::stop(&file, &dir),
        Command::Check { file, limits } => run::check(&file, limits),
        Command::New { lang, path, name, dir, sdk } => new::new(lang, &path, name, dir, sdk),
        Command::Wit => {
            print!("{}", weir_sandbox::WIT_TEXT);
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<config::ConfigErrors>().is_some() => {
            // Already one `FILE:LINE: message` line per error.
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("weir: {e:#}");
            ExitCode::FAILURE
        }
    }
}
