//! Example of `OS_version_found` (passive OS fingerprinting): one
//! `os_versions.log` row per event, with the connection, the host and what
//! its SYN or SYN+ACK matched.

use weir_guest::log::{LogType, LogValue};
use weir_guest::types::{Connection, IpAddress, OsVersion, OsVersionInference};
use weir_guest::{Handler, Stream};

static OS: Stream = Stream::new(
    "os_versions",
    &[
        ("uid", LogType::String),
        ("host", LogType::Addr),
        ("genre", LogType::String),
        ("detail", LogType::String),
        ("dist", LogType::Count),
        ("match_type", LogType::Enum),
    ],
);

struct OsVersions;

impl Handler for OsVersions {
    fn os_version_found(c: Connection, host: IpAddress, os: OsVersion) {
        let kind = match os.match_type {
            OsVersionInference::DirectInference => "direct_inference",
            OsVersionInference::GenericInference => "generic_inference",
            OsVersionInference::FuzzyInference => "fuzzy_inference",
        };
        OS.write(&[
            LogValue::String(c.uid),
            LogValue::Addr(host),
            LogValue::String(os.genre),
            LogValue::String(os.detail),
            LogValue::Count(os.dist),
            LogValue::Enum(kind.into()),
        ]);
    }
}

weir_guest::export_handler!(OsVersions: os_version_found);
