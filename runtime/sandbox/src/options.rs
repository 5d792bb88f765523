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
];

/// The standard option `name`, if there is one.
pub fn find(name: &str) -> Option<&'static HandlerOption> {
    STANDARD.iter().find(|o| o.name == name)
}

/// Checks `value` against the option's type; the value as handlers read it.
pub fn check(option: &HandlerOption, value: &str) -> Result<String, String> {
    let v = value.trim();
    match option.kind {
        Kind::Bool => match v {
            "T" | "true" => Ok("T".into()),
            "F" | "false" => Ok("F".into()),
            _ => Err(format!("'{v}' is not a bool (T or F)")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_normalised() {
        let o = find("HTTP::default_capture_password").unwrap();
        assert_eq!(check(o, " true ").unwrap(), "T");
        assert_eq!(check(o, "F").unwrap(), "F");
        assert!(check(o, "yes").unwrap_err().contains("not a bool"));
        assert!(find("HTTP::no_such_option").is_none());
    }

    #[test]
    fn every_option_is_documented_in_docs_options_md() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/options.md")).unwrap();
        for o in STANDARD {
            let row = format!("| `{}` | {} | {} |", o.name, o.default, o.handler);
            assert!(doc.contains(&row), "docs/options.md lacks the row starting {row}");
        }
    }
}
