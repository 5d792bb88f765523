//! A census of the packet-level events: how many packets of each layer-3
//! protocol were captured (`raw_packet`), how many belonged to connections
//! (`new_packet`), how many of those were bare SYNs, how many payload bytes
//! they carried (`packet_contents`), and how many packets TCPStats counted
//! (`conn_stats`). One line in `packets.log` at the end of the run.

use std::cell::Cell;
use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{Connection, EndpointStats, Layer3Proto, PktHdr, RawPktHdr};
use weir_guest::{Handler, Stream};

static PACKETS: Stream = Stream::new(
    "packets",
    &[
        ("raw_packets", T::Count),
        ("ethernet", T::Count),
        ("ipv4", T::Count),
        ("ipv6", T::Count),
        ("arp", T::Count),
        ("other", T::Count),
        ("new_packets", T::Count),
        ("syns", T::Count),
        ("payload_bytes", T::Count),
        ("tcp_stats_pkts", T::Count),
    ],
);

thread_local! {
    static COUNTS: [Cell<u64>; 10] = Default::default();
}

fn add(i: usize, n: u64) {
    COUNTS.with(|c| c[i].set(c[i].get() + n));
}

struct Census;

impl Handler for Census {
    fn raw_packet(p: RawPktHdr) {
        add(0, 1);
        if matches!(p.l2.encap, weir_guest::types::LinkEncap::Ethernet) {
            add(1, 1);
        }
        add(
            match p.l2.proto {
                Layer3Proto::Ipv4 => 2,
                Layer3Proto::Ipv6 => 3,
                Layer3Proto::Arp => 4,
                Layer3Proto::Unknown => 5,
            },
            1,
        );
    }

    fn new_packet(_c: Connection, p: PktHdr) {
        add(6, 1);
        if p.tcp.is_some_and(|t| t.flags & 0x12 == 0x02) {
            add(7, 1);
        }
    }

    fn packet_contents(_c: Connection, contents: Vec<u8>) {
        add(8, contents.len() as u64);
    }

    fn conn_stats(_c: Connection, os: EndpointStats, rs: EndpointStats) {
        add(9, os.num_pkts + rs.num_pkts);
    }

    fn bro_done() {
        let row: Vec<V> = COUNTS.with(|c| c.iter().map(|v| V::Count(v.get())).collect());
        PACKETS.write(&row);
    }
}

weir_guest::export_handler!(Census: raw_packet, new_packet, packet_contents, conn_stats, bro_done);
