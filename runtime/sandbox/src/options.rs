//! Script options the standard handlers read through `runtime.script-option`: the
//! settings of Zeek's protocol scripts that change what a log holds, under
//! their Zeek names. `weir run --set NAME=VALUE` takes them besides the
//! engine's own settings; each value is checked against the option's type
//! before the run starts.

/// The type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `T` or `F` (also `true` / `false`).
    Bool,
    /// A count (a non-negative integer).
    Count,
    /// A set of strings, written `a,b` or as Zeek writes it (`{ "a", "b" }`);
    /// `NAME+=VALUE` adds to the default.
    Set,
    /// A set of subnets (`10.0.0.0/8`, `2001:db8::/32`; a bare address is
    /// one host), written like a set; `NAME+=VALUE` adds.
    Subnets,
    /// An interval, written as Zeek writes it (`0secs`, `1day`, `2.5 min`) or
    /// as seconds; handlers read it as seconds.
    Interval,
}

/// One option a standard handler reads.
#[derive(Clone, Copy, Debug)]
pub struct HandlerOption {
    /// Its Zeek name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// The value the handler uses when none is given.
    pub default: &'static str,
    /// The handler that reads it.
    pub handler: &'static str,
    /// What it changes.
    pub doc: &'static str,
}

/// The options of the standard handlers.
pub const STANDARD: &[HandlerOption] = &[
    HandlerOption {
        name: "Site::local_nets",
        kind: Kind::Subnets,
        default: "",
        handler: "conn",
        doc: "The site's own networks: conn.log's `local_orig` and `local_resp` say whether each side's address is in them (or, while `Site::private_address_space_is_local` is T, in the private address space).",
    },
    HandlerOption {
        name: "Site::private_address_space_is_local",
        kind: Kind::Bool,
        default: "T",
        handler: "conn",
        doc: "The private address space counts as local. With F and no `Site::local_nets`, `local_orig` and `local_resp` are unset, as in Zeek when it has no local networks.",
    },
    HandlerOption {
        name: "HTTP::default_capture_password",
        kind: Kind::Bool,
        default: "F",
        handler: "http",
        doc: "http.log's `password` shows the password of a Basic `Authorization` header.",
    },
    HandlerOption {
        name: "HTTP::log_client_header_names",
        kind: Kind::Bool,
        default: "F",
        handler: "http",
        doc: "http.log gets `client_header_names`: the request's header names, upper-cased, in order (Zeek's policy script protocols/http/header-names, which sets it to T when loaded).",
    },
    HandlerOption {
        name: "HTTP::log_server_header_names",
        kind: Kind::Bool,
        default: "F",
        handler: "http",
        doc: "http.log gets `server_header_names`: the reply's header names, likewise.",
    },
    HandlerOption {
        name: "DNS::log_auth_addl",
        kind: Kind::Bool,
        default: "F",
        handler: "dns",
        doc: "dns.log gets `auth` and `addl`: the names of the authority and additional sections' records (what Zeek's policy script protocols/dns/auth-addl adds).",
    },
    HandlerOption {
        name: "Files::hash_all_files",
        kind: Kind::Bool,
        default: "F",
        handler: "files",
        doc: "Every file gets the MD5, SHA1 and SHA256 analyzers, and files.log the `md5`, `sha1` and `sha256` columns (what Zeek's policy script frameworks/files/hash-all-files does).",
    },
    HandlerOption {
        name: "FTP::default_capture_password",
        kind: Kind::Bool,
        default: "F",
        handler: "ftp",
        doc: "ftp.log's `password` shows passwords of users not in `FTP::guest_ids` (otherwise `<hidden>`).",
    },
    HandlerOption {
        name: "FTP::logged_commands",
        kind: Kind::Set,
        default: "APPE,DELE,RETR,STOR,STOU,ACCT,PORT,PASV,EPRT,EPSV",
        handler: "ftp",
        doc: "The commands that get an ftp.log row.",
    },
    HandlerOption {
        name: "FTP::guest_ids",
        kind: Kind::Set,
        default: "anonymous,ftp,ftpuser,guest",
        handler: "ftp",
        doc: "User names whose passwords are always logged.",
    },
    HandlerOption {
        name: "FTP::max_user_length",
        kind: Kind::Count,
        default: "128",
        handler: "ftp",
        doc: "ftp.log's `user` is cut to this many bytes.",
    },
    HandlerOption {
        name: "FTP::max_password_length",
        kind: Kind::Count,
        default: "128",
        handler: "ftp",
        doc: "ftp.log's `password` is cut to this many bytes.",
    },
    HandlerOption {
        name: "FTP::max_arg_length",
        kind: Kind::Count,
        default: "4096",
        handler: "ftp",
        doc: "ftp.log's `arg` is cut to this many bytes.",
    },
    HandlerOption {
        name: "FTP::max_reply_msg_length",
        kind: Kind::Count,
        default: "4096",
        handler: "ftp",
        doc: "ftp.log's `reply_msg` is cut to this many bytes.",
    },
    HandlerOption {
        name: "SSL::max_ssl_history_length",
        kind: Kind::Count,
        default: "100",
        handler: "ssl",
        doc: "ssl.log's `ssl_history` holds at most this many letters.",
    },
    HandlerOption {
        name: "SSL::log_include_server_certificate_subject_issuer",
        kind: Kind::Bool,
        default: "F",
        handler: "ssl",
        doc: "ssl.log gets `subject` and `issuer`: those of the server's first certificate.",
    },
    HandlerOption {
        name: "SSL::log_include_client_certificate_subject_issuer",
        kind: Kind::Bool,
        default: "F",
        handler: "ssl",
        doc: "ssl.log gets `client_subject` and `client_issuer`: those of the client's first certificate.",
    },
    HandlerOption {
        name: "SSL::log_requested_client_certificate_authorities",
        kind: Kind::Bool,
        default: "F",
        handler: "ssl",
        doc: "ssl.log gets `requested_client_certificate_authorities`: the distinguished names of the CAs a server's certificate request names (what Zeek's policy script `protocols/ssl/certificate-request-info` adds).",
    },
    HandlerOption {
        name: "X509::relog_known_certificates_after",
        kind: Kind::Interval,
        default: "86400",
        handler: "x509",
        doc: "A certificate logged with the same fingerprint, `host_cert` and `client_cert` this long before is not logged again; 0 logs every certificate.",
    },
    HandlerOption {
        name: "X509::log_host_certificates_only",
        kind: Kind::Bool,
        default: "F",
        handler: "x509",
        doc: "x509.log holds only hosts' own certificates (`host_cert` T), not the rest of their chains (what Zeek's policy script `protocols/ssl/log-hostcerts-only` does).",
    },
];

/// The standard option `name`, if there is one.
pub fn find(name: &str) -> Option<&'static HandlerOption> {
    STANDARD.iter().find(|o| o.name == name)
}

/// Checks `value` against the option's type; the value as handlers read it
/// (a set as its elements joined by commas). With `add`, a set's elements
/// join those of `current` (the default when none was given).
pub fn check(option: &HandlerOption, value: &str, add: bool, current: Option<&str>) -> Result<String, String> {
    let v = value.trim();
    match option.kind {
        Kind::Bool if !add => match v {
            "T" | "true" => Ok("T".into()),
            "F" | "false" => Ok("F".into()),
            _ => Err(format!("'{v}' is not a bool (T or F)")),
        },
        Kind::Count if !add => v.parse::<u64>().map(|n| n.to_string()).map_err(|_| format!("'{v}' is not a count")),
        Kind::Set | Kind::Subnets => {
            if option.kind == Kind::Subnets {
                if let Some(bad) = elements(v).into_iter().find(|e| subnet(e).is_none()) {
                    return Err(format!("'{bad}' is not a subnet (ADDR/LENGTH)"));
                }
            }
            let mut items: Vec<String> = if add { elements(current.unwrap_or(option.default)) } else { Vec::new() };
            for e in elements(v) {
                if !items.contains(&e) {
                    items.push(e);
                }
            }
            Ok(items.join(","))
        }
        Kind::Interval if !add => interval(v).map(|s| s.to_string()).ok_or_else(|| format!("'{v}' is not an interval")),
        _ => Err("'+=' adds to sets only".into()),
    }
}

/// Seconds of an interval written as Zeek writes it (a number, then
/// optionally `usec`, `msec`, `sec`, `min`, `hr` or `day`, each also
/// with an `s`), or as plain seconds; `None` for anything else or a
/// negative value.
pub fn interval(v: &str) -> Option<f64> {
    let v = v.trim();
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let scale = match unit.trim().trim_end_matches('s') {
        "" | "sec" => 1.0,
        "usec" => 1e-6,
        "msec" => 1e-3,
        "min" => 60.0,
        "hr" => 3600.0,
        "day" => 86400.0,
        _ => return None,
    };
    Some(n * scale)
}

/// The elements of a set written `a,b` or `{ "a", "b" }`.
pub fn elements(v: &str) -> Vec<String> {
    let inner = v.trim().trim_start_matches('{').trim_end_matches('}');
    inner.split(',').map(|e| e.trim().trim_matches('"').to_string()).filter(|e| !e.is_empty()).collect()
}

/// A subnet `ADDR/LENGTH` (a bare address: all of its bits), if `s` is one.
pub fn subnet(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let (addr, len) = match s.trim().split_once('/') {
        Some((a, l)) => (a.trim().trim_start_matches('[').trim_end_matches(']'), Some(l.trim().parse::<u8>().ok()?)),
        None => (s.trim(), None),
    };
    let addr: std::net::IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((addr, len))
}

/// What `runtime.script-option(name)` returns: the value given, else the
/// default of a standard option.
pub fn value(given: &std::collections::BTreeMap<String, String>, name: &str) -> Option<String> {
    given.get(name).cloned().or_else(|| find(name).map(|o| o.default.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_normalised() {
        let o = find("HTTP::default_capture_password").unwrap();
        assert_eq!(check(o, " true ", false, None).unwrap(), "T");
        assert_eq!(check(o, "F", false, None).unwrap(), "F");
        assert!(check(o, "yes", false, None).unwrap_err().contains("not a bool"));
        assert!(check(o, "T", true, None).is_err(), "+= is for sets");
        assert!(find("HTTP::no_such_option").is_none());
        let n = find("FTP::max_arg_length").unwrap();
        assert_eq!(check(n, "13", false, None).unwrap(), "13");
        assert!(check(n, "-1", false, None).is_err());
        let s = find("FTP::logged_commands").unwrap();
        assert_eq!(check(s, r#"{ "USER", "PASS" }"#, false, None).unwrap(), "USER,PASS");
        let added = check(s, r#"{ "USER", "RETR" }"#, true, None).unwrap();
        assert!(added.starts_with("APPE,") && added.ends_with(",EPSV,USER"), "{added}");
        assert_eq!(check(s, "QUIT", true, Some("USER")).unwrap(), "USER,QUIT");
        let given = std::collections::BTreeMap::from([("FTP::max_arg_length".to_string(), "13".to_string())]);
        assert_eq!(value(&given, "FTP::max_arg_length").as_deref(), Some("13"));
        assert_eq!(value(&given, "FTP::max_user_length").as_deref(), Some("128"), "the default");
        assert_eq!(value(&given, "Other::option"), None);
        let i = find("X509::relog_known_certificates_after").unwrap();
        assert_eq!(check(i, "0secs", false, None).unwrap(), "0");
        assert_eq!(check(i, "1day", false, None).unwrap(), "86400");
        assert_eq!(check(i, "2.5 min", false, None).unwrap(), "150");
        assert_eq!(check(i, "30", false, None).unwrap(), "30");
        assert!(check(i, "3 fortnights", false, None).is_err());
        assert!(check(i, "-1secs", false, None).is_err());
    }

    #[test]
    fn every_option_is_documented_in_docs_options_md() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/options.md")).unwrap();
        for o in STANDARD {
            let row = format!("| `{}` | {} | {} |", o.name, o.default.replace(',', ", "), o.handler);
            assert!(doc.contains(&row), "docs/options.md lacks the row starting {row}");
        }
    }
}
