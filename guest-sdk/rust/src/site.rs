//! Zeek's Site framework (`base/utils/site.zeek`) as handlers see it: the
//! `Site::*` options the operator set (docs/options.md), read once per
//! handler instance. [`rules`] is the host's own parser and matcher.

use std::cell::OnceCell;
use std::net::IpAddr;

/// Subnet sets and the site's rules, shared with the host (which checks the options with them).
#[path = "../../../runtime/events/src/site.rs"]
pub mod rules;

pub use rules::Site;

thread_local! {
    static SITE: OnceCell<Site> = const { OnceCell::new() };
}

/// The site as the `Site::*` options give it (read on first use).
pub fn with<R>(f: impl FnOnce(&Site) -> R) -> R {
    SITE.with(|s| {
        f(s.get_or_init(|| {
            let opt = |n: &str| crate::runtime::script_option(n).unwrap_or_default();
            Site::new(
                &opt("Site::local_nets"),
                &opt("Site::private_address_space"),
                crate::options::flag("Site::private_address_space_is_local"),
                &opt("Site::neighbor_nets"),
                &crate::options::set("Site::local_zones"),
                &crate::options::set("Site::neighbor_zones"),
            )
        }))
    })
}

/// Whether `Site::local_nets` holds anything (Zeek's `|Site::local_nets| > 0`,
/// after the private space was added): conn.log and files.log leave
/// `local_orig` unset otherwise.
pub fn local_nets_defined() -> bool {
    with(|s| !s.local_nets.is_empty())
}

/// `Site::is_local_addr`.
pub fn is_local_addr(a: IpAddr) -> bool {
    with(|s| s.is_local_addr(a))
}

/// `Site::is_private_addr`.
pub fn is_private_addr(a: IpAddr) -> bool {
    with(|s| s.is_private_addr(a))
}

/// `Site::is_neighbor_addr`.
pub fn is_neighbor_addr(a: IpAddr) -> bool {
    with(|s| s.is_neighbor_addr(a))
}

/// `Site::is_local_name`.
pub fn is_local_name(name: &str) -> bool {
    with(|s| s.is_local_name(name))
}

/// `Site::is_neighbor_name`.
pub fn is_neighbor_name(name: &str) -> bool {
    with(|s| s.is_neighbor_name(name))
}

/// Zeek's `local_orig` / `local_resp` of an address: unset (`None`) when
/// `Site::local_nets` is empty, else whether the address is in it.
pub fn local(a: IpAddr) -> Option<bool> {
    with(|s| (!s.local_nets.is_empty()).then(|| s.is_local_addr(a)))
}
