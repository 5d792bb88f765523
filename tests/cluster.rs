//! A weir cluster on NATS (issue 16): two workers, each keeping its share of
//! a trace (`split = true`), hand their log records to a logger through
//! JetStream; the logger's logs hold the rows of a one-process run. Each
//! test starts its own `nats-server` on 127.0.0.1 with JetStream in a scratch
//! folder, and is skipped, saying why, when the server is not installed
//! (scripts/setup installs it).

mod common;

use common::{finish, repo_root, rows_without_uids, run_trace, scratch_dir, spawn_weir, Outcome};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The nats-server binary, if installed.
fn nats_server() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("skipped: nats-server is not installed (scripts/setup installs it)");
    }
    found
}

/// A nats-server with JetStream on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(bin: &Path, store: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(bin)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on port {port} within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A cluster file of one logger and two workers that split their input.
fn cluster_file(dir: &Path, name: &str, port: u16) -> PathBuf {
    let file = dir.join("cluster.toml");
    let text = format!(
        "name = \"{name}\"\nnats = \"nats://127.0.0.1:{port}\"\nsplit = true\n\n\
         [[node]]\nname = \"logger-1\"\nrole = \"logger\"\n\n\
         [[node]]\nname = \"worker-1\"\nrole = \"worker\"\n\n\
         [[node]]\nname = \"worker-2\"\nrole = \"worker\"\n"
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn node_args<'a>(file: &'a Path, node: &'a str, logdir: &'a Path) -> Vec<&'a std::ffi::OsStr> {
    vec!["run".as_ref(), "--cluster".as_ref(), file.as_os_str(), "--node".as_ref(), node.as_ref(), "--logdir".as_ref(), logdir.as_os_str()]
}

/// Runs both workers over `trace` at once, each to its end.
fn run_workers(file: &Path, trace: &Path, dir: &Path) {
    let children: Vec<(String, Child)> = ["worker-1", "worker-2"]
        .iter()
        .map(|w| {
            let logdir = dir.join(w);
            std::fs::create_dir_all(&logdir).unwrap();
            let mut args = node_args(file, w, &logdir);
            args.extend(["-r".as_ref(), trace.as_os_str(), "--seed".as_ref(), "1".as_ref()]);
            (w.to_string(), spawn_weir(&args))
        })
        .collect();
    for (w, c) in children {
        let out = finish(c, Duration::from_secs(60));
        assert!(out.success(), "{w} failed ({:?}): {}", out.status, out.stderr);
        assert!(!dir.join(&w).join("conn.log").exists(), "{w} wrote its own conn.log");
    }
}

/// Stops the logger with SIGTERM: it writes what the stream still holds, then exits.
fn stop_logger(logger: Child) -> Outcome {
    let pid = logger.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    finish(logger, Duration::from_secs(30))
}

fn one_process(trace: &Path, dir: &Path) -> PathBuf {
    let one = dir.join("one");
    std::fs::create_dir_all(&one).unwrap();
    run_trace(trace, &one, &[]);
    one
}

#[test]
fn two_workers_and_a_logger_log_what_one_weir_logs() {
    let Some(bin) = nats_server() else { return };
    let dir = scratch_dir("cluster-logs");
    let server = Server::start(&bin, &dir.join("js"));
    let file = cluster_file(&dir, "logs", server.port);
    let logs = dir.join("logger");
    std::fs::create_dir_all(&logs).unwrap();
    let logger = spawn_weir(node_args(&file, "logger-1", &logs));
    let trace = repo_root().join("tests/traces/scan.pcap");
    run_workers(&file, &trace, &dir);
    let out = stop_logger(logger);
    assert!(out.success(), "logger failed ({:?}): {}", out.status, out.stderr);
    let one = one_process(&trace, &dir);
    for log in ["conn", "weird"] {
        assert_eq!(rows_without_uids(&logs, log), rows_without_uids(&one, log), "{log}.log of the cluster");
    }
    assert!(rows_without_uids(&logs, "conn").len() > 10, "scan.pcap has many connections");
}

#[test]
fn rows_wait_in_the_stream_for_a_logger_that_starts_late() {
    let Some(bin) = nats_server() else { return };
    let dir = scratch_dir("cluster-late-logger");
    let server = Server::start(&bin, &dir.join("js"));
    let file = cluster_file(&dir, "late", server.port);
    let trace = repo_root().join("tests/traces/demo.pcap");
    // No logger yet: the workers' records stay in JetStream.
    run_workers(&file, &trace, &dir);
    let logs = dir.join("logger");
    std::fs::create_dir_all(&logs).unwrap();
    let logger = spawn_weir(node_args(&file, "logger-1", &logs));
    // Its first second of taking records, then the stop: it drains the rest.
    std::thread::sleep(Duration::from_secs(1));
    let out = stop_logger(logger);
    assert!(out.success(), "logger failed ({:?}): {}", out.status, out.stderr);
    let one = one_process(&trace, &dir);
    assert_eq!(rows_without_uids(&logs, "conn"), rows_without_uids(&one, "conn"));
}

#[test]
fn a_node_without_a_server_fails_with_one_line() {
    let dir = scratch_dir("cluster-no-server");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let file = cluster_file(&dir, "none", port);
    let mut args = node_args(&file, "worker-1", &dir);
    let trace = repo_root().join("tests/traces/demo.pcap");
    args.extend(["-r".as_ref(), trace.as_os_str()]);
    let out = finish(spawn_weir(&args), Duration::from_secs(30));
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    common::assert_one_clear_line(&out, "cannot connect to NATS");
}

#[test]
fn an_unknown_node_is_refused() {
    let dir = scratch_dir("cluster-unknown-node");
    let file = cluster_file(&dir, "x", 4222);
    let out = finish(spawn_weir(node_args(&file, "worker-9", &dir)), Duration::from_secs(30));
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    common::assert_one_clear_line(&out, "no node worker-9 in cluster x");
}
