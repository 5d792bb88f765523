//! The benchmark floor: a bare libpcap read loop over a trace file that
//! touches every packet (sums captured and wire lengths and the first
//! byte) and does nothing else.
//!
//!   pcap-floor TRACE
//!
//! Prints `packets bytes wire_bytes checksum` on one line.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: pcap-floor TRACE");
        return ExitCode::FAILURE;
    };
    let mut cap = match pcap::Capture::from_file(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pcap-floor: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (mut packets, mut bytes, mut wire, mut sum) = (0u64, 0u64, 0u64, 0u64);
    loop {
        match cap.next_packet() {
            Ok(p) => {
                packets += 1;
                bytes += p.data.len() as u64;
                wire += u64::from(p.header.len);
                sum = sum.wrapping_add(u64::from(p.data.first().copied().unwrap_or(0)));
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                eprintln!("pcap-floor: {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{packets} {bytes} {wire} {sum}");
    ExitCode::SUCCESS
}
