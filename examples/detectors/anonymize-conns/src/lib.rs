//! Example of the `anonymize` host interface: on each new connection it
//! anonymizes the originator (as `ORIG_ADDR`) and the responder (as
//! `RESP_ADDR`) and writes both to `anon_conns.log`; each
//! `anonymization_mapping` it is sent goes to `anon_mappings.log`.

use weir_guest::anonymize::AddrClass;
use weir_guest::log::{LogType, LogValue};
use weir_guest::types::{Connection, IpAddress};
use weir_guest::{anonymize_addr, ip, Handler, Stream};

static CONNS: Stream = Stream::new(
    "anon_conns",
    &[
        ("uid", LogType::String),
        ("orig_h", LogType::Addr),
        ("resp_h", LogType::Addr),
        ("orig_anon", LogType::Addr),
        ("resp_anon", LogType::Addr),
    ],
);

static MAPPINGS: Stream = Stream::new("anon_mappings", &[("orig", LogType::Addr), ("mapped", LogType::Addr)]);

struct AnonymizeConns;

impl Handler for AnonymizeConns {
    fn new_connection(c: Connection) {
        let orig = anonymize_addr(ip(&c.id.orig_h), AddrClass::OrigAddr);
        let resp = anonymize_addr(ip(&c.id.resp_h), AddrClass::RespAddr);
        CONNS.write(&[
            LogValue::String(c.uid.clone()),
            LogValue::Addr(c.id.orig_h),
            LogValue::Addr(c.id.resp_h),
            LogValue::Addr(weir_guest::wit_ip(orig)),
            LogValue::Addr(weir_guest::wit_ip(resp)),
        ]);
    }

    fn anonymization_mapping(orig: IpAddress, mapped: IpAddress) {
        MAPPINGS.write(&[LogValue::Addr(orig), LogValue::Addr(mapped)]);
    }
}

weir_guest::export_handler!(AnonymizeConns: new_connection, anonymization_mapping);
