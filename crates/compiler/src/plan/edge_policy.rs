//! The operator's edge policy (`connect.ingress`, `connect.gateway`) as the edge objects use it:
//! hosts rendered from templates and checked as DNS names, object names checked as DNS-1123,
//! and whether each system gets a route of its own.
//!
//! Hosts come from templates with `{guid}`, `{name}` and `{user}` (the owner as a DNS label),
//! so nothing a user sends can add a character outside `[a-z0-9-]` to a host.

use crate::connect::Placeholders;
use crate::names::is_dns_label;
use std::net::IpAddr;

/// Whether each system gets its own route: a host or the path holds `{guid}` (the default path
/// does).
pub(crate) fn unique(hosts: &[&String], path: &str) -> bool {
    hosts.iter().any(|h| h.contains("{guid}")) || path.is_empty() || path.contains("{guid}")
}

/// The host a template gives (empty stays empty: every host); `None` after an error.
pub(crate) fn render_host(
    values: &Placeholders,
    key: &str,
    template: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    let host = match values.render(template) {
        Ok(host) => host,
        Err(e) => {
            errors.push(format!("policy `{key}`: {e}"));
            return None;
        }
    };
    if host.is_empty() {
        return Some(host);
    }
    match check_host(&host) {
        Ok(()) => Some(host),
        Err(why) => {
            errors.push(format!(
                "policy `{key}` gives the host `{host}`, which {why}"
            ));
            None
        }
    }
}

/// A host an Ingress rule and an HTTPRoute both take: a lowercase DNS name, not an IP, and no
/// wildcard (a system's route has a host of its own or shares a fixed one).
fn check_host(host: &str) -> Result<(), &'static str> {
    if host.contains('*') {
        return Err(
            "is a wildcard: a system's route needs a host of its own (use `{guid}`) or a fixed one",
        );
    }
    if host.parse::<IpAddr>().is_ok() {
        return Err("is an IP address; Ingress and Gateway hosts are DNS names");
    }
    if host.len() > 253 {
        return Err("is longer than 253 characters");
    }
    if !host.split('.').all(is_dns_label) {
        return Err(
            "is not a lowercase DNS name (dot-separated labels of at most 63 lowercase letters, digits and `-`, each starting and ending with a letter or digit)",
        );
    }
    Ok(())
}

/// An object name (class, Secret, Gateway, namespace, listener): empty is allowed (not set).
pub(crate) fn check_name(key: &str, name: &str, errors: &mut Vec<String>) {
    if !name.is_empty() && (name.len() > 253 || !name.split('.').all(is_dns_label)) {
        errors.push(format!(
            "policy `{key}` is `{name}`, which is not a lowercase DNS-1123 name"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_dns_names_without_wildcards_or_ips() {
        assert!(check_host("abc.apps.example.org").is_ok());
        assert!(check_host("*.apps.example.org").is_err());
        assert!(check_host("10.0.0.1").is_err());
        assert!(check_host("Apps.example.org").is_err());
        assert!(check_host("a..b").is_err());
        assert!(check_host(&format!("{}.org", "a".repeat(64))).is_err());
    }
}
