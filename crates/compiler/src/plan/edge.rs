//! The operator's own edge: an Ingress (`connect.mode: ingress`) or a Gateway API HTTPRoute
//! (`connect.mode: gateway`) in front of the system's Service.
//!
//! Hosts and paths come from the policy's templates with `{guid}`, `{name}` and `{user}` (the
//! owner as a DNS label), so nothing a user sends can add a character outside `[a-z0-9-]` to a
//! host or a path; every object is typed (no text is pasted into YAML).
//!
//! Rewrites: the HTTPRoute strips or replaces the prefix with the standard `URLRewrite` filter.
//! Ingress has no standard rewrite (each controller has its own annotation), so the Ingress
//! forwards the path unchanged and a file asking for `rewrite: strip` or a target gets a warning
//! (TY0410) unless the path is `/` anyway (a `{guid}` host); the operator may add the
//! controller's annotation through `connect.ingress.annotations`.

use super::gateway::{
    HttpBackendRef, HttpPathMatch, HttpPathModifier, HttpRoute, HttpRouteFilter, HttpRouteMatch,
    HttpRouteRule, HttpRouteSpec, HttpUrlRewriteFilter, ParentReference,
};
use super::identity::Identity;
use crate::codes;
use crate::connect::{self, ConnectTarget, Placeholders, Rewrite};
use crate::diagnostic::{Diagnostic, Severity};
use crate::names::{check_qualified_name, is_dns_label};
use crate::options::{CompileOptions, ConnectMode};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use std::net::IpAddr;

/// What the edge adds to a plan: at most one of the two.
#[derive(Default)]
pub(crate) struct Edge {
    pub ingress: Option<Ingress>,
    pub http_route: Option<HttpRoute>,
}

pub(crate) fn edge(
    identity: &Identity,
    connect: Option<&ConnectTarget>,
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Edge {
    let policy = &options.policy;
    let mode = policy.connect_mode();
    if !mode.is_edge() {
        return Edge::default();
    }
    let values = Placeholders::new(&identity.name, &options.username, &identity.guid);
    let mut errors = Vec::new();
    let path = connect::edge_path(policy, &values)
        .map_err(|e| errors.push(e))
        .ok();
    let mut edge = Edge::default();
    if mode == ConnectMode::Ingress {
        let ingress = &policy.connect.ingress;
        let host = render_host(&values, "connect.ingress.host", &ingress.host, &mut errors);
        check_name("connect.ingress.class", &ingress.class, &mut errors);
        check_name(
            "connect.ingress.tls_secret",
            &ingress.tls_secret,
            &mut errors,
        );
        for key in ingress.annotations.keys() {
            if let Err(why) = check_qualified_name(key) {
                errors.push(format!(
                    "policy `connect.ingress.annotations` has the key `{key}`, which {why}"
                ));
            }
        }
        if !unique(&[&ingress.host], &ingress.path) {
            diagnostics.push(Diagnostic::unpositioned(
                Severity::Warning,
                codes::ROUTE_NOT_UNIQUE,
                "neither `connect.ingress.host` nor `connect.ingress.path` holds `{guid}`: every system of a user gets the same host and path, and the controller picks one of them".into(),
            ));
        }
        if let (Some(target), Some(path), Some(host)) = (connect, &path, host) {
            if target.rewrite != Rewrite::Keep && path != "/" {
                diagnostics.push(Diagnostic::unpositioned(
                    Severity::Warning,
                    codes::REWRITE_NOT_APPLIED,
                    format!(
                        "the file asks for the `{}` rewrite, but an Ingress has no standard rewrite: the app receives paths under `{path}` unchanged; give `connect.ingress.host` a `{{guid}}` (the path is then `/`) or add the controller's rewrite annotation to `connect.ingress.annotations`",
                        rewrite_name(&target.rewrite)
                    ),
                ));
            }
            edge.ingress = Some(build_ingress(identity, target, path, &host, options));
        }
    } else {
        let gateway = &policy.connect.gateway;
        if gateway.parent_refs.is_empty() {
            errors.push("policy `connect.gateway.parent_refs` is empty: the HTTPRoute would attach to no Gateway; name the Gateway(s) that serve the systems".into());
        }
        for (i, parent) in gateway.parent_refs.iter().enumerate() {
            let at = format!("connect.gateway.parent_refs[{i}]");
            if parent.name.is_empty() {
                errors.push(format!("policy `{at}.name` is empty"));
            }
            check_name(&format!("{at}.name"), &parent.name, &mut errors);
            check_name(&format!("{at}.namespace"), &parent.namespace, &mut errors);
            check_name(
                &format!("{at}.section_name"),
                &parent.section_name,
                &mut errors,
            );
        }
        if gateway.hostnames.len() > 16 {
            errors.push("policy `connect.gateway.hostnames` has more than 16 hostnames".into());
        }
        let hostnames: Vec<String> = gateway
            .hostnames
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let key = format!("connect.gateway.hostnames[{i}]");
                render_host(&values, &key, t, &mut errors).filter(|h| !h.is_empty())
            })
            .collect();
        let hosts: Vec<&String> = gateway.hostnames.iter().collect();
        if !unique(&hosts, &gateway.path) {
            diagnostics.push(Diagnostic::unpositioned(
                Severity::Warning,
                codes::ROUTE_NOT_UNIQUE,
                "neither `connect.gateway.hostnames` nor `connect.gateway.path` holds `{guid}`: every system of a user gets the same hostnames and path, and the Gateway picks one of them".into(),
            ));
        }
        if let (Some(target), Some(path)) = (connect, &path) {
            edge.http_route = Some(build_http_route(identity, target, path, hostnames, options));
        }
    }
    diagnostics.extend(
        errors
            .into_iter()
            .map(|e| Diagnostic::unpositioned(Severity::Error, codes::INVALID_OPTION, e)),
    );
    edge
}

fn build_ingress(
    identity: &Identity,
    target: &ConnectTarget,
    path: &str,
    host: &str,
    options: &CompileOptions,
) -> Ingress {
    let policy = &options.policy.connect.ingress;
    let mut metadata = identity.meta(&identity.object_name);
    if !policy.annotations.is_empty() {
        metadata.annotations = Some(policy.annotations.clone());
    }
    let host = (!host.is_empty()).then(|| host.to_string());
    let rule = IngressRule {
        host: host.clone(),
        http: Some(HTTPIngressRuleValue {
            paths: vec![HTTPIngressPath {
                path: Some(path.to_string()),
                path_type: "Prefix".into(),
                backend: IngressBackend {
                    service: Some(IngressServiceBackend {
                        name: identity.object_name.clone(),
                        port: Some(ServiceBackendPort {
                            number: Some(target.port.into()),
                            name: None,
                        }),
                    }),
                    resource: None,
                },
            }],
        }),
    };
    let tls = (!policy.tls_secret.is_empty()).then(|| {
        vec![IngressTLS {
            hosts: host.map(|h| vec![h]),
            secret_name: Some(policy.tls_secret.clone()),
        }]
    });
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: (!policy.class.is_empty()).then(|| policy.class.clone()),
            rules: Some(vec![rule]),
            tls,
            default_backend: None,
        }),
        status: None,
    }
}

fn build_http_route(
    identity: &Identity,
    target: &ConnectTarget,
    path: &str,
    hostnames: Vec<String>,
    options: &CompileOptions,
) -> HttpRoute {
    let some = |s: &String| (!s.is_empty()).then(|| s.clone());
    let parent_refs = options
        .policy
        .connect
        .gateway
        .parent_refs
        .iter()
        .map(|p| ParentReference {
            name: p.name.clone(),
            namespace: some(&p.namespace),
            section_name: some(&p.section_name),
        })
        .collect();
    let replacement = match &target.rewrite {
        Rewrite::Keep => None,
        Rewrite::Strip => Some("/".to_string()),
        Rewrite::Target(to) => Some(to.clone()),
    };
    // Replacing `/` with `/` changes nothing: no filter then.
    let filters = replacement
        .filter(|to| !(path == "/" && to == "/"))
        .map(|to| HttpRouteFilter {
            type_: "URLRewrite".into(),
            url_rewrite: Some(HttpUrlRewriteFilter {
                path: HttpPathModifier {
                    type_: "ReplacePrefixMatch".into(),
                    replace_prefix_match: to,
                },
            }),
        })
        .into_iter()
        .collect();
    HttpRoute::new(
        identity.meta(&identity.object_name),
        HttpRouteSpec {
            parent_refs,
            hostnames,
            rules: vec![HttpRouteRule {
                matches: vec![HttpRouteMatch {
                    path: HttpPathMatch {
                        type_: "PathPrefix".into(),
                        value: path.to_string(),
                    },
                }],
                filters,
                backend_refs: vec![HttpBackendRef {
                    name: identity.object_name.clone(),
                    port: target.port,
                }],
            }],
        },
    )
}

/// Whether each system gets its own route: a host or the path holds `{guid}` (the default path
/// does).
fn unique(hosts: &[&String], path: &str) -> bool {
    hosts.iter().any(|h| h.contains("{guid}")) || path.is_empty() || path.contains("{guid}")
}

fn rewrite_name(rewrite: &Rewrite) -> String {
    match rewrite {
        Rewrite::Keep => "keep".into(),
        Rewrite::Strip => "strip".into(),
        Rewrite::Target(to) => format!("target {to}"),
    }
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
fn check_name(key: &str, name: &str, errors: &mut Vec<String>) {
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
