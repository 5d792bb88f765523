//! Live capture on the loopback interface: weir sees a UDP exchange and a TCP
//! connection made by this test. The UDP connection times out on the wall
//! clock while the interface is quiet and its conn.log row appears while weir
//! still runs (logs are flushed every second); the TCP row is written after
//! SIGINT.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

#[test]
fn live_capture_on_loopback() {
    live_capture("1", 45679, 45680);
}

#[test]
fn live_capture_on_loopback_with_two_workers() {
    live_capture("2", 45681, 45682);
}

/// Captures a UDP exchange on `udp_port` and a TCP connection on `tcp_port`
/// with `--workers workers`.
fn live_capture(workers: &str, udp_port: u16, tcp_port: u16) {
    if !is_root() {
        println!("skipped: live capture needs root");
        return;
    }
    if !has_cap_net_raw() {
        println!("skipped: no CAP_NET_RAW (capture not permitted here)");
        return;
    }
    if !std::path::Path::new("/sys/class/net/lo").exists() {
        println!("skipped: no lo interface");
        return;
    }
    let dir = scratch_dir(&format!("live-lo-{workers}"));
    let filter = format!("udp port {udp_port} or tcp port {tcp_port}");
    // -C: the kernel leaves transport checksums of loopback packets unfinished
    // (checksum offload), so every captured TCP/UDP checksum looks wrong.
    let child = spawn_weir([
        "run".as_ref(),
        "-i".as_ref(),
        "lo".as_ref(),
        "-C".as_ref(),
        "-f".as_ref(),
        filter.as_str().as_ref(),
        "--logdir".as_ref(),
        dir.as_os_str(),
        "--workers".as_ref(),
        workers.as_ref(),
        "--set".as_ref(),
        "udp_inactivity_timeout=1".as_ref(),
    ]);
    let pid = child.id();
    // Give weir time to open the interface and install the filter.
    std::thread::sleep(Duration::from_secs(2));

    // UDP: three datagrams, each answered.
    let server = UdpSocket::bind(("127.0.0.1", udp_port)).expect("bind UDP server");
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind UDP client");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for i in 0..3u8 {
        client.send_to(&[b'q', i], ("127.0.0.1", udp_port)).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf).expect("UDP request");
        server.send_to(&buf[..n], from).unwrap();
        client.recv_from(&mut buf).expect("UDP answer");
    }
    let udp_client_port = client.local_addr().unwrap().port();

    // Quiet for more than the UDP timeout: the row shows up while weir runs.
    let conn_log = dir.join("conn.log");
    let udp_row = format!("127.0.0.1\t{udp_client_port}\t127.0.0.1\t{udp_port}\tudp");
    let t0 = std::time::Instant::now();
    while !std::fs::read_to_string(&conn_log).unwrap_or_default().contains(&udp_row) {
        assert!(t0.elapsed() < Duration::from_secs(10), "no UDP row in conn.log 10 s after the exchange (weir still running)");
        std::thread::sleep(Duration::from_millis(200));
    }

    // TCP: connect, one request and one answer, both sides close.
    let listener = TcpListener::bind(("127.0.0.1", tcp_port)).expect("bind TCP listener");
    let acceptor = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut req = [0u8; 5];
        s.read_exact(&mut req).expect("read request");
        s.write_all(b"world").expect("write answer");
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).expect("read to EOF");
    });
    let mut conn = TcpStream::connect(("127.0.0.1", tcp_port)).expect("connect");
    let tcp_client_port = conn.local_addr().unwrap().port();
    conn.write_all(b"hello").unwrap();
    let mut answer = [0u8; 5];
    conn.read_exact(&mut answer).expect("read answer");
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    acceptor.join().expect("TCP server thread");
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).expect("read to EOF");
    drop(conn);

    // Let the last packets reach weir, then stop it the way an operator would.
    std::thread::sleep(Duration::from_secs(2));
    let st = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -INT {pid} failed (weir exited early?)");
    let out = finish(child, Duration::from_secs(30));
    assert!(
        out.status.is_some(),
        "weir did not exit within 30 s of SIGINT"
    );
    assert!(
        out.success(),
        "weir exited with {:?} after SIGINT; stderr:\n{}",
        out.status,
        out.stderr
    );

    let log = read_zeek_tsv(&dir.join("conn.log")).expect("conn.log");
    let udp = log.conn("127.0.0.1", udp_client_port, "127.0.0.1", udp_port, "udp");
    assert_eq!(udp.len(), 1, "UDP row missing: {:?}", log.rows);
    assert_eq!(udp[0]["conn_state"], "SF", "{:?}", udp[0]);
    assert_eq!(udp[0]["history"], "Dd", "{:?}", udp[0]);
    assert_eq!(udp[0]["orig_pkts"], "3", "{:?}", udp[0]);
    assert_eq!(udp[0]["resp_pkts"], "3", "{:?}", udp[0]);
    assert_eq!(udp[0]["orig_bytes"], "6", "{:?}", udp[0]);

    let tcp = log.conn("127.0.0.1", tcp_client_port, "127.0.0.1", tcp_port, "tcp");
    assert_eq!(tcp.len(), 1, "TCP row missing: {:?}", log.rows);
    assert_eq!(tcp[0]["conn_state"], "SF", "{:?}", tcp[0]);
    assert_eq!(tcp[0]["orig_bytes"], "5", "{:?}", tcp[0]);
    assert_eq!(tcp[0]["resp_bytes"], "5", "{:?}", tcp[0]);
    assert!(tcp[0]["history"].starts_with("ShA"), "{:?}", tcp[0]);
    assert_eq!(
        log.rows.len(),
        2,
        "only the two flows pass the filter: {:?}",
        log.rows
    );
}
