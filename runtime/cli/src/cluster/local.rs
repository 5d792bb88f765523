//! `weir cluster start|stop`: the nodes of a cluster file that run on this
//! machine, as background processes with a folder each.

use super::config::{Cluster, Node, Role};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// How long `stop` waits for a node to end after SIGTERM.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// Whether `node` runs on this machine.
fn is_local(node: &Node) -> bool {
    let host = node.host.as_str();
    if matches!(host, "localhost" | "127.0.0.1" | "::1") {
        return true;
    }
    std::fs::read_to_string("/etc/hostname").is_ok_and(|h| h.trim() == host)
}

fn pid_file(dir: &Path, node: &Node) -> PathBuf {
    dir.join(&node.name).join("weir.pid")
}

/// Whether process `pid` is alive (Linux: it has a /proc entry that is not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

/// Starts the local nodes: manager first, then loggers, then workers.
pub fn start(file: &Path, dir: &Path) -> anyhow::Result<ExitCode> {
    let cluster = Cluster::load(file)?;
    let file = std::fs::canonicalize(file).with_context(|| format!("{}", file.display()))?;
    let exe = std::env::current_exe().context("cannot find the weir binary")?;
    let mut nodes: Vec<&Node> = cluster.nodes.iter().filter(|n| is_local(n)).collect();
    nodes.sort_by_key(|n| match n.role {
        Role::Manager => 0,
        Role::Logger => 1,
        Role::Worker => 2,
    });
    for n in &nodes {
        if n.role == Role::Worker && n.interface.is_none() {
            bail!("worker {} has no interface in {}", n.name, file.display());
        }
    }
    for n in nodes {
        let folder = dir.join(&n.name);
        std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
        let pid = pid_file(dir, n);
        if let Some(p) = std::fs::read_to_string(&pid).ok().and_then(|s| s.trim().parse().ok()).filter(|p| alive(*p)) {
            println!("{}\talready running (pid {p})", n.name);
            continue;
        }
        let stderr = std::fs::File::create(folder.join("weir.stderr")).with_context(|| format!("{}", folder.display()))?;
        let child = Command::new(&exe)
            .args(["run", "--cluster"])
            .arg(&file)
            .args(["--node", &n.name, "--logdir"])
            .arg(&folder)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot start node {}", n.name))?;
        std::fs::write(&pid, format!("{}\n", child.id())).with_context(|| format!("{}", pid.display()))?;
        println!("{}\tstarted (pid {})", n.name, child.id());
    }
    Ok(ExitCode::SUCCESS)
}

/// Stops the local nodes `start` started: SIGTERM to each, then waits for it.
pub fn stop(file: &Path, dir: &Path) -> anyhow::Result<ExitCode> {
    let cluster = Cluster::load(file)?;
    let mut ok = true;
    for n in cluster.nodes.iter().filter(|n| is_local(n)) {
        let pid_path = pid_file(dir, n);
        let Some(pid) = std::fs::read_to_string(&pid_path).ok().and_then(|s| s.trim().parse::<u32>().ok()) else { continue };
        if alive(pid) {
            let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().is_ok_and(|s| s.success());
            let start = Instant::now();
            while sent && alive(pid) && start.elapsed() < STOP_WAIT {
                std::thread::sleep(Duration::from_millis(50));
            }
            if alive(pid) {
                eprintln!("weir: node {} (pid {pid}) did not stop within {} s", n.name, STOP_WAIT.as_secs());
                ok = false;
                continue;
            }
        }
        let _ = std::fs::remove_file(&pid_path);
        println!("{}\tstopped", n.name);
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
