//! How a user reaches a system: the path prefix Tycho's proxy serves it under, the env the app
//! sees, and which published port is the primary one. The server only forwards; every decision
//! about the path is made here.

use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::labels;
use crate::model::{ConnectSpec, System};
use crate::names::is_dns_label;
use crate::options::{CompileOptions, ConnectMode, Policy};
use std::collections::BTreeMap;
use std::net::IpAddr;
use tycho_api::PublishedPort;

/// Env var set in every container and available to `${…}` interpolation.
pub const BASE_PATH_ENV: &str = "TYCHO_BASE_PATH";

/// `/connect/<guid>/`: where Tycho's proxy serves a system's primary port.
pub fn connect_path(guid: &str) -> String {
    format!("/connect/{guid}/")
}

/// `/connect/<guid>.<port>/`: another published (Service) port of the system.
pub fn port_path(guid: &str, port: u16) -> String {
    format!("/connect/{guid}.{port}/")
}

// The wire types: shared with the server, the CLI and the dashboard (one definition).
pub use tycho_api::connect::{ConnectTarget, Rewrite, ServedBy};

/// The [`ConnectTarget`] a Deployment's annotations carry (`tycho.io/connect`), if any.
pub fn connect_target(annotations: &BTreeMap<String, String>) -> Option<ConnectTarget> {
    serde_json::from_str(annotations.get(labels::ANNOTATION_CONNECT)?).ok()
}

/// The base path of a system: what `TYCHO_BASE_PATH` holds and the prefix of its connect target.
/// It depends only on the mode, the name, the owner and the GUID (not on the port chosen), so
/// the loader can compute it before it interpolates the file.
pub(crate) fn base_path(policy: &Policy, name: &str, username: &str, guid: &str) -> String {
    match policy.connect_mode() {
        ConnectMode::Proxy => connect_path(guid),
        ConnectMode::Ambassador => format!("/private/{name}/{username}/{guid}/"),
        ConnectMode::None => "/".into(),
        // A bad template is reported by the planner; the env gets the default meanwhile.
        ConnectMode::Ingress | ConnectMode::Gateway => {
            edge_path(policy, &Placeholders::new(name, username, guid))
                .unwrap_or_else(|_| connect_path(guid))
        }
    }
}

/// The values of `{guid}`, `{name}` and `{user}` in the connect templates of `ingress` and
/// `gateway` mode. `user` is the owner as a DNS label ([`labels::username_dns_label`]), so a
/// username can add nothing to a host or a path but letters, digits and `-`.
pub(crate) struct Placeholders<'a> {
    pub guid: &'a str,
    pub name: &'a str,
    pub user: String,
}

impl<'a> Placeholders<'a> {
    pub fn new(name: &'a str, username: &str, guid: &'a str) -> Self {
        Placeholders {
            guid,
            name,
            user: labels::username_dns_label(username),
        }
    }

    /// `template` with every `{guid}`, `{name}` and `{user}` replaced; an unknown placeholder or
    /// an unmatched brace is an error (the text says which).
    pub fn render(&self, template: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(format!("`{template}` has a `}}` without a `{{`"));
            }
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                return Err(format!("`{template}` has a `{{` without a `}}`"));
            };
            out.push_str(match &after[..close] {
                "guid" => self.guid,
                "name" => self.name,
                "user" => &self.user,
                other => {
                    return Err(format!(
                        "`{template}` has the placeholder `{{{other}}}`; the placeholders are {{guid}}, {{name}} and {{user}}"
                    ));
                }
            });
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// The path prefix of `ingress` or `gateway` mode (also the base path): the policy's template,
/// by default `/` when a host template holds `{guid}` (each system has its own host), else
/// `/connect/{guid}/`. Always ends with `/`. `Err` names the policy key and what is wrong.
pub(crate) fn edge_path(policy: &Policy, values: &Placeholders) -> Result<String, String> {
    let connect = &policy.connect;
    let (key, template, hosts): (&str, &str, Vec<&str>) = match policy.connect_mode() {
        ConnectMode::Gateway => (
            "connect.gateway.path",
            &connect.gateway.path,
            connect
                .gateway
                .hostnames
                .iter()
                .map(String::as_str)
                .collect(),
        ),
        _ => (
            "connect.ingress.path",
            &connect.ingress.path,
            vec![connect.ingress.host.as_str()],
        ),
    };
    let template = match template {
        "" if hosts.iter().any(|h| h.contains("{guid}")) => "/",
        "" => "/connect/{guid}/",
        t => t,
    };
    let mut path = values
        .render(template)
        .map_err(|e| format!("policy `{key}`: {e}"))?;
    if !path.ends_with('/') {
        path.push('/');
    }
    check_path(&path).map_err(|e| format!("policy `{key}` gives the path `{path}`, which {e}"))?;
    Ok(path)
}

/// A path prefix every Ingress controller and Gateway takes as it is: absolute, only unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`) and `/`, no empty, `.` or `..` segment.
fn check_path(path: &str) -> Result<(), &'static str> {
    if !path.starts_with('/') {
        return Err("does not start with `/`");
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
    {
        return Err("may hold only letters, digits, `-`, `.`, `_`, `~` and `/`");
    }
    let inner = &path[1..path.len().saturating_sub(1).max(1)];
    if path != "/"
        && inner
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err("has an empty, `.` or `..` segment");
    }
    Ok(())
}

/// Chooses the primary port: `options.primary`, then the file's `x-tycho: {connect: …}`, then
/// the first published TCP port. `None` when nothing TCP is published or the mode is `none`.
pub(crate) fn target(
    system: &System,
    ports: &[PublishedPort],
    options: &CompileOptions,
    base_path: &str,
    placeholders: &Placeholders<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ConnectTarget> {
    let tcp: Vec<&PublishedPort> = ports.iter().filter(|p| p.protocol == "TCP").collect();
    let spec = &system.connect;
    // The file's choice is checked even when the request overrides it: the file is wrong either way.
    let from_file = from_spec(spec, &tcp, diagnostics);
    let chosen = match &options.primary {
        Some(primary) => {
            let found = tcp.iter().copied().find(|p| {
                p.service == crate::names::kubernetes_name(&primary.service)
                    && (p.container_port == primary.port || p.port == primary.port)
            });
            if found.is_none() {
                diagnostics.push(Diagnostic {
                    severity: Severity::Error,
                    code: codes::UNKNOWN_CONNECT_PORT.into(),
                    message: format!(
                        "the primary port `{}:{}` is not a published TCP port; {}",
                        primary.service,
                        primary.port,
                        published_list(&tcp, Some(&primary.service))
                    ),
                    path: String::new(),
                    line: 0,
                    column: 0,
                    file: String::new(),
                });
            }
            found
        }
        None => from_file.unwrap_or_else(|| tcp.first().copied()),
    }?;
    if options.policy.connect_mode() == ConnectMode::None {
        return None;
    }
    let rewrite = spec
        .rewrite
        .clone()
        .unwrap_or_else(|| default_rewrite(&options.policy));
    Some(ConnectTarget {
        service: chosen.service.clone(),
        container_port: chosen.container_port,
        port: chosen.port,
        path: base_path.to_string(),
        rewrite,
        url: edge_url(&options.policy, placeholders, base_path).unwrap_or_default(),
        served_by: match options.policy.connect_mode() {
            ConnectMode::Ingress => ServedBy::Ingress,
            ConnectMode::Gateway => ServedBy::Gateway,
            ConnectMode::Ambassador => ServedBy::Ambassador,
            ConnectMode::Proxy | ConnectMode::None => ServedBy::Proxy,
        },
    })
}

/// Where users open a system that the operator's edge serves under a known host: the Ingress
/// host (`https` with a TLS secret), or the Gateway's first hostname (`https`: listeners that
/// name hosts for browsers terminate TLS). Bad templates are reported by the planner.
fn edge_url(policy: &Policy, values: &Placeholders<'_>, path: &str) -> Option<String> {
    let mut ignored = Vec::new();
    let render = |t: &str, ignored: &mut Vec<String>| {
        render_host(values, "", t, ignored).filter(|h| !h.is_empty())
    };
    match policy.connect_mode() {
        ConnectMode::Ingress => {
            let ingress = &policy.connect.ingress;
            let host = render(&ingress.host, &mut ignored)?;
            let scheme = if ingress.tls_secret.is_empty() {
                "http"
            } else {
                "https"
            };
            Some(format!("{scheme}://{host}{path}"))
        }
        ConnectMode::Gateway => {
            let host = policy
                .connect
                .gateway
                .hostnames
                .iter()
                .find_map(|t| render(t, &mut ignored))?;
            Some(format!("https://{host}{path}"))
        }
        _ => None,
    }
}

/// Without a rewrite in the file: proxy mode keeps the path (the app reads `TYCHO_BASE_PATH`);
/// ambassador mode does what the original Tycho's `ambassador` options said.
fn default_rewrite(policy: &Policy) -> Rewrite {
    let ambassador = &policy.ambassador;
    match policy.connect_mode() {
        ConnectMode::Ambassador if !ambassador.rewrite_target.is_empty() => {
            Rewrite::Target(ambassador.rewrite_target.clone())
        }
        ConnectMode::Ambassador if !ambassador.rewrite_to_prefix => Rewrite::Strip,
        _ => Rewrite::Keep,
    }
}

/// The port the file's `x-tycho: {connect: {service, port}}` names: `Some(None)` when it names
/// one that is not published (reported), `None` when it names neither.
fn from_spec<'p>(
    spec: &ConnectSpec,
    tcp: &[&'p PublishedPort],
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Option<&'p PublishedPort>> {
    if spec.service.is_none() && spec.port.is_none() {
        return None;
    }
    let service = spec.service.as_ref().map(|(s, _)| s.as_str());
    let found = tcp.iter().copied().find(|p| {
        service.is_none_or(|s| p.service == s)
            && spec
                .port
                .as_ref()
                .is_none_or(|(n, _)| p.container_port == *n || p.port == *n)
    });
    if found.is_some() {
        return Some(found);
    }
    // Point at the value that is wrong: the service when it publishes nothing, else the port.
    let service_publishes = service.is_some_and(|s| tcp.iter().any(|p| p.service == s));
    let (pos, what) = match (&spec.service, &spec.port) {
        (Some((s, pos)), _) if !service_publishes => (pos, format!("service `{s}`")),
        (Some((s, _)), Some((n, pos))) => (pos, format!("port {n} of `{s}`")),
        (None, Some((n, pos))) => (pos, format!("port {n}")),
        (Some((s, pos)), None) => (pos, format!("service `{s}`")),
        (None, None) => return None,
    };
    diagnostics.push(Diagnostic {
        severity: Severity::Error,
        code: codes::UNKNOWN_CONNECT_PORT.into(),
        message: format!(
            "`x-tycho.connect` names {what}, which is not a published TCP port; {}",
            published_list(tcp, service)
        ),
        path: pos.path.clone(),
        line: pos.line,
        column: pos.column,
        file: String::new(),
    });
    Some(None)
}

/// "published TCP ports: `web` 8080 (container 80), …" for a message, preferring `service`'s.
fn published_list(tcp: &[&PublishedPort], service: Option<&str>) -> String {
    let describe = |p: &&PublishedPort| {
        if p.port == p.container_port {
            format!("`{}` {}", p.service, p.port)
        } else {
            format!(
                "`{}` {} (container {})",
                p.service, p.port, p.container_port
            )
        }
    };
    let own: Vec<String> = tcp
        .iter()
        .filter(|p| service.is_some_and(|s| p.service == s))
        .map(describe)
        .collect();
    if !own.is_empty() {
        return format!("published TCP ports of that service: {}", own.join(", "));
    }
    if tcp.is_empty() {
        return "the system publishes no TCP port".into();
    }
    let all: Vec<String> = tcp.iter().map(describe).collect();
    format!("published TCP ports: {}", all.join(", "))
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

    #[test]
    fn templates_render_and_refuse_unknown_placeholders() {
        let v = Placeholders::new("lab", "Alice@Example.org", "abc");
        assert_eq!(
            v.render("{user}-{name}-{guid}.apps.example.org").unwrap(),
            "alice-example-org-lab-abc.apps.example.org"
        );
        assert_eq!(v.render("/fixed/").unwrap(), "/fixed/");
        assert!(v.render("{host}").unwrap_err().contains("`{host}`"));
        assert!(v.render("{guid").is_err());
        assert!(v.render("guid}").is_err());
    }

    #[test]
    fn edge_paths_default_by_host_and_are_checked() {
        let mut policy = Policy::default();
        policy.connect.mode = ConnectMode::Ingress;
        let v = Placeholders::new("lab", "alice", "abc");
        assert_eq!(edge_path(&policy, &v).unwrap(), "/connect/abc/");
        policy.connect.ingress.host = "{guid}.apps.example.org".into();
        assert_eq!(edge_path(&policy, &v).unwrap(), "/");
        policy.connect.ingress.path = "/u/{user}/{guid}".into();
        assert_eq!(edge_path(&policy, &v).unwrap(), "/u/alice/abc/");
        for bad in [
            "u/{guid}/",
            "/a//b/",
            "/a/../b/",
            "/a b/",
            "/a%2fb/",
            "/x/{nope}/",
        ] {
            policy.connect.ingress.path = bad.into();
            let e = edge_path(&policy, &v).unwrap_err();
            assert!(e.starts_with("policy `connect.ingress.path`"), "{bad}: {e}");
        }
        policy.connect.mode = ConnectMode::Gateway;
        policy.connect.gateway.hostnames = vec!["{guid}.gw.example.org".into()];
        assert_eq!(edge_path(&policy, &v).unwrap(), "/");
    }

    #[test]
    fn paths() {
        assert_eq!(connect_path("abc"), "/connect/abc/");
        assert_eq!(port_path("abc", 8080), "/connect/abc.8080/");
    }

    #[test]
    fn rewrite_serde_shapes() {
        let json = |r: &Rewrite| serde_json::to_string(r).unwrap();
        assert_eq!(json(&Rewrite::Keep), "\"keep\"");
        assert_eq!(json(&Rewrite::Strip), "\"strip\"");
        assert_eq!(json(&Rewrite::Target("/x/".into())), "{\"target\":\"/x/\"}");
    }

    #[test]
    fn annotation_round_trips() {
        let target = ConnectTarget {
            service: "web".into(),
            container_port: 80,
            port: 8080,
            path: connect_path("abc"),
            rewrite: Rewrite::Target("/app/".into()),
            url: String::new(),
            served_by: ServedBy::Proxy,
        };
        let annotations = BTreeMap::from([(
            labels::ANNOTATION_CONNECT.to_string(),
            serde_json::to_string(&target).unwrap(),
        )]);
        assert_eq!(connect_target(&annotations), Some(target));
        assert_eq!(connect_target(&BTreeMap::new()), None);
    }
}
