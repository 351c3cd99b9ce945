//! The HTTPRoute (`connect.mode: gateway`): a Gateway API route from the hostnames and path of
//! `connect.gateway` to the system's Service, attached to the policy's Gateways. A file's
//! `rewrite: strip` or target becomes the standard `URLRewrite` filter. The types are in
//! [`super::gateway`] (k8s-openapi has none: Gateway API is a CRD).

use super::edge_policy::{check_name, render_host, unique};
use super::gateway::{
    HttpBackendRef, HttpPathMatch, HttpPathModifier, HttpRoute, HttpRouteFilter, HttpRouteMatch,
    HttpRouteRule, HttpRouteSpec, HttpUrlRewriteFilter, ParentReference,
};
use super::identity::Identity;
use crate::codes;
use crate::connect::{ConnectTarget, Placeholders, Rewrite};
use crate::diagnostic::{Diagnostic, Severity};
use crate::options::CompileOptions;

/// The HTTPRoute of a system, once the policy's values check out (`errors` gets those that do
/// not) and there is a target and a path.
pub(crate) fn http_route(
    identity: &Identity,
    connect: Option<&ConnectTarget>,
    path: Option<&str>,
    values: &Placeholders,
    options: &CompileOptions,
    errors: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<HttpRoute> {
    let policy = &options.policy;
    let gateway = &policy.connect.gateway;
    if gateway.parent_refs.is_empty() {
        errors.push("policy `connect.gateway.parent_refs` is empty: the HTTPRoute would attach to no Gateway; name the Gateway(s) that serve the systems".into());
    }
    for (i, parent) in gateway.parent_refs.iter().enumerate() {
        let at = format!("connect.gateway.parent_refs[{i}]");
        if parent.name.is_empty() {
            errors.push(format!("policy `{at}.name` is empty"));
        }
        check_name(&format!("{at}.name"), &parent.name, errors);
        check_name(&format!("{at}.namespace"), &parent.namespace, errors);
        check_name(&format!("{at}.section_name"), &parent.section_name, errors);
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
            render_host(values, &key, t, errors).filter(|h| !h.is_empty())
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
    let (Some(target), Some(path)) = (connect, path) else {
        return None;
    };
    Some(build_http_route(identity, target, path, hostnames, options))
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
