//! A weir cluster on NATS: two workers, each keeping its share of
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
        Server::start_on(bin, store, port)
    }

    /// A server on `port` (a restart of an earlier one, with its store).
    fn start_on(bin: &Path, store: &Path, port: u16) -> Server {
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
    // `weir cluster status`: the logger is up, the workers not yet.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let st = finish(spawn_weir(["cluster".as_ref(), "status".as_ref(), file.as_os_str()]), Duration::from_secs(20));
        if st.stdout.contains("logger-1\tlogger\tlocalhost\tup") || Instant::now() > deadline {
            break st;
        }
    };
    assert_eq!(status.code(), Some(1), "{status:?}");
    assert_eq!(
        status.stdout,
        "logger-1\tlogger\tlocalhost\tup\nworker-1\tworker\tlocalhost\tdown\nworker-2\tworker\tlocalhost\tdown\n"
    );
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

/// The rows of the manager's peers.log (cluster_peers.wasm) as (event, peer, detail).
fn peer_rows(dir: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("peers.log")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[1].to_string(), f[2].to_string(), f.get(5).unwrap_or(&"").to_string())
        })
        .collect()
}

/// Waits (at most `limit`) until the manager's peers.log has event `event` for `peer`.
fn wait_for(dir: &Path, event: &str, peer: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if peer_rows(dir).iter().any(|(e, p, _)| e == event && p == peer) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Publishes `payload` on `subject` through NATS's text protocol.
fn publish_raw(port: u16, subject: &str, payload: &str) {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut info = String::new();
    BufReader::new(s.try_clone().unwrap()).read_line(&mut info).unwrap();
    assert!(info.starts_with("INFO"), "{info}");
    write!(s, "CONNECT {{\"verbose\":false}}\r\nPUB {subject} {}\r\n{payload}\r\nPING\r\n", payload.len()).unwrap();
    let mut pong = String::new();
    BufReader::new(s).read_line(&mut pong).unwrap();
    assert!(pong.starts_with("PONG"), "{pong}");
}

#[test]
fn the_manager_sees_its_peers_come_and_go() {
    let Some(bin) = nats_server() else { return };
    let dir = scratch_dir("cluster-peers");
    let server = Server::start(&bin, &dir.join("js"));
    let file = dir.join("cluster.toml");
    let text = format!(
        "name = \"peers\"\nnats = \"nats://127.0.0.1:{}\"\nheartbeat_secs = 0.2\nmissed_heartbeats = 3\nping_secs = 0.3\n\n\
         [[node]]\nname = \"manager\"\nrole = \"manager\"\n\n\
         [[node]]\nname = \"logger-1\"\nrole = \"logger\"\n\n\
         [[node]]\nname = \"worker-1\"\nrole = \"worker\"\n\n\
         [[node]]\nname = \"worker-2\"\nrole = \"worker\"\n",
        server.port
    );
    std::fs::write(&file, text).unwrap();
    let handler = dir.join("cluster_peers.wasm");
    std::fs::write(&handler, weir_sandbox::testing::example("cluster_peers.wasm")).unwrap();
    let (mdir, ldir) = (dir.join("manager"), dir.join("logger"));
    std::fs::create_dir_all(&mdir).unwrap();
    std::fs::create_dir_all(&ldir).unwrap();
    let mut logger = spawn_weir(node_args(&file, "logger-1", &ldir));
    let mut margs = node_args(&file, "manager", &mdir);
    margs.extend(["--handler".as_ref(), handler.as_os_str()]);
    let manager = spawn_weir(&margs);
    // The logger was there first: it answers the manager's hello.
    assert!(wait_for(&mdir, "handshake_done", "logger-1", Duration::from_secs(20)).is_some(), "{:?}", peer_rows(&mdir));
    assert!(wait_for(&mdir, "pong", "logger-1", Duration::from_secs(5)).is_some(), "no pong: {:?}", peer_rows(&mdir));
    // A worker runs a trace: hello, then goodbye at its end.
    let wdir = dir.join("worker-1");
    std::fs::create_dir_all(&wdir).unwrap();
    let mut wargs = node_args(&file, "worker-1", &wdir);
    let trace = repo_root().join("tests/traces/demo.pcap");
    wargs.extend(["-r".as_ref(), trace.as_os_str()]);
    let out = finish(spawn_weir(&wargs), Duration::from_secs(60));
    assert!(out.success(), "worker-1: {}", out.stderr);
    assert!(wait_for(&mdir, "closed", "worker-1", Duration::from_secs(5)).is_some(), "{:?}", peer_rows(&mdir));
    // A node of another version is refused.
    let hello = r#"{"kind":"hello","cluster":"peers","node":"worker-2","role":"worker","version":"0.0.0-other","topics":[]}"#;
    publish_raw(server.port, "weir.peers.control", hello);
    assert!(wait_for(&mdir, "error", "worker-2", Duration::from_secs(5)).is_some(), "{:?}", peer_rows(&mdir));
    // The logger is killed: no goodbye, its heartbeats stop.
    logger.kill().unwrap();
    let _ = logger.wait();
    let after = wait_for(&mdir, "closed", "logger-1", Duration::from_secs(10)).expect("logger-1 closed after missed heartbeats");
    assert!(after >= Duration::from_millis(300), "closed before three heartbeats were missed: {after:?}");
    eprintln!("remote_connection_closed {after:?} after SIGKILL (heartbeat 0.2 s, 3 missed)");
    let pid = manager.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let out = finish(manager, Duration::from_secs(30));
    assert!(out.success(), "manager: {}", out.stderr);

    let rows = peer_rows(&mdir);
    let of = |peer: &str| rows.iter().filter(|(_, p, _)| p == peer).map(|(e, _, d)| (e.as_str(), d.as_str())).collect::<Vec<_>>();
    let w = of("worker-1");
    assert_eq!(w.first().map(|r| r.0), Some("established"), "{w:?}");
    assert_eq!(w.get(1).map(|r| r.0), Some("handshake_done"), "{w:?}");
    // The standard conn handler takes connection_state_remove.
    assert!(w.contains(&("event_registered", "connection_state_remove")), "{w:?}");
    assert_eq!(w.last().map(|r| r.0), Some("closed"), "{w:?}");
    let l = of("logger-1");
    assert!(l.iter().any(|(e, d)| *e == "log" && d.contains("missed 3 heartbeats")), "{l:?}");
    assert!(!l.iter().any(|(e, _)| *e == "event_registered"), "a logger takes no events: {l:?}");
    let refused = of("worker-2");
    assert!(refused.iter().any(|(e, d)| *e == "error" && d.contains("runs weir 0.0.0-other")), "{refused:?}");
    assert!(!refused.iter().any(|(e, _)| *e == "handshake_done"), "{refused:?}");
    for (e, d) in &l {
        if *e == "pong" {
            let d1: f64 = d.split("d1=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
            assert!((0.0..5.0).contains(&d1), "round trip {d1}");
        }
    }
}

#[test]
fn a_logger_outlives_a_restart_of_the_server() {
    let Some(bin) = nats_server() else { return };
    let dir = scratch_dir("cluster-restart");
    let store = dir.join("js");
    let server = Server::start(&bin, &store);
    let port = server.port;
    let file = cluster_file(&dir, "restart", port);
    let logs = dir.join("logger");
    std::fs::create_dir_all(&logs).unwrap();
    let logger = spawn_weir(node_args(&file, "logger-1", &logs));
    std::thread::sleep(Duration::from_millis(500));
    // The server goes away under the logger and comes back with its store.
    drop(server);
    std::thread::sleep(Duration::from_millis(500));
    let _server = Server::start_on(&bin, &store, port);
    let trace = repo_root().join("tests/traces/scan.pcap");
    run_workers(&file, &trace, &dir);
    // Bounded: the logger reconnects within its client's backoff, then drains.
    std::thread::sleep(Duration::from_secs(2));
    let out = stop_logger(logger);
    assert!(out.success(), "logger failed ({:?}): {}", out.status, out.stderr);
    assert!(out.stderr.contains("lost the server"), "the logger did not see the restart: {}", out.stderr);
    let one = one_process(&trace, &dir);
    assert_eq!(rows_without_uids(&logs, "conn"), rows_without_uids(&one, "conn"), "rows after a server restart");
}

#[test]
fn cluster_start_and_stop_run_the_local_nodes() {
    let Some(bin) = nats_server() else { return };
    let dir = scratch_dir("cluster-start-stop");
    let server = Server::start(&bin, &dir.join("js"));
    let file = dir.join("cluster.toml");
    let text = format!(
        "name = \"local\"\nnats = \"nats://127.0.0.1:{}\"\nheartbeat_secs = 0.2\n\n\
         [[node]]\nname = \"manager\"\nrole = \"manager\"\n\n\
         [[node]]\nname = \"logger-1\"\nrole = \"logger\"\n\n\
         [[node]]\nname = \"remote-logger\"\nrole = \"logger\"\nhost = \"192.0.2.1\"\n",
        server.port
    );
    std::fs::write(&file, text).unwrap();
    let nodes = dir.join("nodes");
    let cmd = |what: &str| {
        finish(
            spawn_weir(["cluster".as_ref(), what.as_ref(), file.as_os_str(), "--dir".as_ref(), nodes.as_os_str()]),
            Duration::from_secs(40),
        )
    };
    let started = cmd("start");
    assert!(started.success(), "{started:?}");
    assert!(started.stdout.contains("manager\tstarted") && started.stdout.contains("logger-1\tstarted"), "{}", started.stdout);
    assert!(!started.stdout.contains("remote-logger"), "a node of another host was started: {}", started.stdout);
    let status = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let st = finish(spawn_weir(["cluster".as_ref(), "status".as_ref(), file.as_os_str()]), Duration::from_secs(20));
            if st.stdout.contains(want) || Instant::now() > deadline {
                return st.stdout;
            }
        }
    };
    let up = status("logger-1\tlogger\tlocalhost\tup");
    assert!(up.contains("manager\tmanager\tlocalhost\tup") && up.contains("logger-1\tlogger\tlocalhost\tup"), "{up}");
    assert!(up.contains("remote-logger\tlogger\t192.0.2.1\tdown"), "{up}");
    let stopped = cmd("stop");
    assert!(stopped.success(), "{stopped:?}");
    assert!(stopped.stdout.contains("manager\tstopped") && stopped.stdout.contains("logger-1\tstopped"), "{}", stopped.stdout);
    assert!(!nodes.join("manager/weir.pid").exists());
    let down = status("manager\tmanager\tlocalhost\tdown");
    assert!(down.contains("manager\tmanager\tlocalhost\tdown") && down.contains("logger-1\tlogger\tlocalhost\tdown"), "{down}");
}
