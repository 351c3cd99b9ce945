//! The operator's edge policy (`connect.ingress`, `connect.gateway`) as the edge objects use it:
//! hosts rendered from templates and checked as DNS names (the rule lives in `crate::connect`,
//! which renders the connect URL with it), object names checked as DNS-1123, and whether each
//! system gets a route of its own.
//!
//! Hosts come from templates with `{guid}`, `{name}` and `{user}` (the owner as a DNS label),
//! so nothing a user sends can add a character outside `[a-z0-9-]` to a host.

pub(crate) use crate::connect::render_host;
use crate::names::is_dns_label;

/// Whether each system gets its own route: a host or the path holds `{guid}` (the default path
/// does).
pub(crate) fn unique(hosts: &[&String], path: &str) -> bool {
    hosts.iter().any(|h| h.contains("{guid}")) || path.is_empty() || path.contains("{guid}")
}

/// An object name (class, Secret, Gateway, namespace, listener): empty is allowed (not set).
pub(crate) fn check_name(key: &str, name: &str, errors: &mut Vec<String>) {
    if !name.is_empty() && (name.len() > 253 || !name.split('.').all(is_dns_label)) {
        errors.push(format!(
            "policy `{key}` is `{name}`, which is not a lowercase DNS-1123 name"
        ));
    }
}
