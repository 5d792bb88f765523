//! Test handler for the `analyzers` host interface: stops every analyzer
//! that confirms its protocol, and on each new connection to TCP port 21
//! schedules FTP for a connection from anywhere to the same responder on
//! port 2121 (60 s). Reports what it did and each
//! `scheduled_analyzer_applied` as reporter info messages.

use weir_guest::analyzers::{disable_analyzer, schedule_analyzer};
use weir_guest::types::{AnalyzerTag, Connection, IpAddress, Port, Transport};
use weir_guest::{reporter, Handler};

struct Steer;

impl Handler for Steer {
    fn new_connection(c: Connection) {
        if c.id.resp_p.number != 21 || c.id.resp_p.proto != Transport::Tcp {
            return;
        }
        let port = Port { number: 2121, proto: Transport::Tcp };
        let ftp = AnalyzerTag { name: "FTP".into() };
        let ok = schedule_analyzer(IpAddress::Ipv4((0, 0, 0, 0)), c.id.resp_h, port, &ftp, 60.0);
        let unknown = schedule_analyzer(IpAddress::Ipv4((0, 0, 0, 0)), c.id.resp_h, port, &AnalyzerTag { name: "NOPE".into() }, 60.0);
        reporter::info(&format!("steer: scheduled FTP for {}: {ok}, NOPE: {unknown}", c.uid));
    }

    fn protocol_confirmation(c: Connection, atype: AnalyzerTag, aid: u64) {
        disable_analyzer(c.id.clone(), aid);
        reporter::info(&format!("steer: disable {} {aid} on {}", atype.name, c.uid));
    }

    fn scheduled_analyzer_applied(c: Connection, a: AnalyzerTag) {
        reporter::info(&format!("steer: {} applied to {} port {}", a.name, c.uid, c.id.resp_p.number));
    }
}

weir_guest::export_handler!(Steer: new_connection, protocol_confirmation, scheduled_analyzer_applied);
