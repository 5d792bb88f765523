//! `weir`: the command line.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// A network-monitoring event engine whose event handlers are sandboxed
/// WebAssembly components.
#[derive(Parser, Debug)]
#[command(name = "weir", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Log output format.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    /// Zeek's tab-separated format with `#` header lines.
    Tsv,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Reads packets from a trace or an interface and runs the handlers.
    Run(RunArgs),
    /// Validates a handler component and lists the events it takes.
    Check {
        /// The component file.
        file: PathBuf,
    },
    /// Prints the WIT package handlers are written against.
    Wit,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Read packets from this pcap or pcapng trace.
    #[arg(short = 'r', long = "read", conflicts_with = "interface", required_unless_present = "interface")]
    read: Option<PathBuf>,
    /// Capture live from this interface.
    #[arg(short = 'i', long = "interface")]
    interface: Option<String>,
    /// BPF capture filter.
    #[arg(short = 'f', long = "filter")]
    filter: Option<String>,
    /// Ignore checksums (Zeek's -C).
    #[arg(short = 'C', long = "ignore-checksums")]
    ignore_checksums: bool,
    /// Folder for the logs (default: the current folder).
    #[arg(long, default_value = ".")]
    logdir: PathBuf,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Tsv)]
    log_format: LogFormat,
    /// A handler component to load (repeatable).
    #[arg(long = "handler")]
    handlers: Vec<PathBuf>,
    /// Do not load the standard handlers (conn.log, weird.log, reporter.log).
    #[arg(long)]
    no_default_handlers: bool,
    /// Fuel per handler call.
    #[arg(long)]
    fuel: Option<u64>,
    /// Linear-memory cap per handler, in MiB.
    #[arg(long)]
    memory_mb: Option<u64>,
    /// Ports that decide direction without a SYN, e.g. `80/tcp,53/udp`
    /// (replaces the default set).
    #[arg(long, value_delimiter = ',')]
    likely_server_ports: Option<Vec<String>>,
    /// Sets an engine option by its Zeek name, e.g. `tcp_inactivity_timeout=60`,
    /// `Tunnel::max_depth=2`, `report_gaps_for_partial=T` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Seed for deterministic connection UIDs.
    #[arg(long)]
    seed: Option<u64>,
}

fn main() {
    let cli = Cli::parse();
    let _ = cli;
    todo!()
}
