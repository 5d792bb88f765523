//! Hostile handler: waits in the host. At `bro_init` it reads stdin (blocking),
//! then opens and reads `/granted/fifo` (a FIFO when the test grants a folder
//! holding one: opening it would block until a writer comes); at every
//! `new_connection` it sleeps for an hour. Handlers' clocks read network time, so
//! the sleep is over at once; each outcome is reported as `sleep-forever: ...`.

use std::io::Read;
use std::time::{Duration, Instant};

struct Sleep;

impl weir_guest::Handler for Sleep {
    fn bro_init() {
        let mut buf = [0u8; 16];
        let stdin = match std::io::stdin().read(&mut buf) {
            Ok(n) => format!("{n} bytes"),
            Err(_) => "error".into(),
        };
        weir_guest::reporter::info(&format!("sleep-forever: stdin read: {stdin}"));
        let fifo = match std::fs::File::open("/granted/fifo") {
            Ok(mut f) => match f.read(&mut buf) {
                Ok(n) => format!("opened, read {n} bytes"),
                Err(_) => "opened, read failed".into(),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "absent".into(),
            Err(_) => "denied".into(),
        };
        weir_guest::reporter::info(&format!("sleep-forever: open fifo: {fifo}"));
    }

    fn new_connection(_c: weir_guest::types::Connection) {
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(3600));
        let slept = t0.elapsed().as_secs_f64();
        weir_guest::reporter::info(&format!("sleep-forever: woke after {slept} s of network time"));
    }
}

weir_guest::export_handler!(Sleep: bro_init, new_connection);
