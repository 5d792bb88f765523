//! `weir:events/anonymize`: Bro's `anonymize_addr`, under the operator's
//! anonymization settings ([`weir_engine::anon`]); every call queues
//! `anonymization_mapping`. The anonymizer (and so every mapping, sequential
//! numbers included) is shared by all handlers and workers of the run, with
//! the logs it also rewrites under `log_addr_anonymization`.

use std::net::IpAddr;

use weir_engine::anon::AddrClass;
use weir_engine::events::Event;

use super::HostState;
use crate::bindings::weir::events::anonymize as wanon;
use crate::bindings::weir::events::types as wtypes;
use crate::convert::{FromWit, ToWit};

impl wanon::Host for HostState {
    fn anonymize_addr(&mut self, a: wtypes::IpAddress, cl: wanon::AddrClass) -> wtypes::IpAddress {
        let orig = IpAddr::from_wit(a);
        let class = match cl {
            wanon::AddrClass::OrigAddr => AddrClass::Orig,
            wanon::AddrClass::RespAddr => AddrClass::Resp,
            wanon::AddrClass::OtherAddr => AddrClass::Other,
        };
        // Up to 128 AES blocks or keyed hashes for a new address.
        self.charge += 1_000;
        let mut shared = self.shared.lock().expect("sandbox state");
        let mapped = shared.logs.lock().expect("log streams").anon.anonymize_addr(orig, class);
        shared.caused.push(Event::AnonymizationMapping { orig, mapped });
        mapped.to_wit()
    }
}
