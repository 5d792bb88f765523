//! Script options (`runtime.script-option`) read as their types: the value
//! the operator gave with `weir run --set NAME=VALUE`, else the standard
//! default (docs/options.md), else `None`.

use crate::runtime;

/// A bool option: true when it is `T`.
pub fn flag(name: &str) -> bool {
    runtime::script_option(name).as_deref() == Some("T")
}

/// A count option, if it has a value.
pub fn count(name: &str) -> Option<u64> {
    runtime::script_option(name)?.parse().ok()
}

/// A set option's elements (empty when it has no value).
pub fn set(name: &str) -> Vec<String> {
    runtime::script_option(name)
        .map(|v| v.split(',').filter(|e| !e.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// An interval option in seconds, if it has a value.
pub fn interval(name: &str) -> Option<f64> {
    runtime::script_option(name)?.parse().ok()
}
