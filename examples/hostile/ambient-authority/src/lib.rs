//! Hostile handler: at `bro_init`, tries files, sockets, environment variables,
//! arguments and clocks, and reports each outcome as `ambient-authority: WHAT: RESULT`.
//! Without grants every attempt is denied or empty and the clocks read network time;
//! with `--grant-dir ambient_authority.wasm=DIR` it writes `DIR/probe.txt`.

use std::io::Write;

fn report(what: &str, result: String) {
    weir_guest::reporter::info(&format!("ambient-authority: {what}: {result}"));
}

fn outcome<T>(r: std::io::Result<T>) -> String {
    match r {
        Ok(_) => "allowed".into(),
        Err(_) => "denied".into(),
    }
}

struct Ambient;

impl weir_guest::Handler for Ambient {
    fn bro_init() {
        report("read /etc/passwd", outcome(std::fs::read("/etc/passwd")));
        report("create escape.txt", outcome(std::fs::File::create("escape.txt")));
        report("create /tmp/weir-escape.txt", outcome(std::fs::File::create("/tmp/weir-escape.txt")));
        report("list .", outcome(std::fs::read_dir(".")));
        report("tcp connect", outcome(std::net::TcpStream::connect("127.0.0.1:9")));
        report("udp bind", outcome(std::net::UdpSocket::bind("127.0.0.1:0")));
        report("env vars", std::env::vars().count().to_string());
        report("args", std::env::args().count().to_string());
        let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(-1.0);
        report("wall clock", format!("{wall}"));
        let granted = std::fs::File::create("/granted/probe.txt").and_then(|mut f| f.write_all(b"written through a grant\n"));
        report("write /granted/probe.txt", outcome(granted));
    }
}

weir_guest::export_handler!(Ambient: bro_init);
