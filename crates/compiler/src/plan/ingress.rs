//! The Ingress (`connect.mode: ingress`): the operator's Ingress controller routes the host
//! and path of `connect.ingress` to the system's Service, with the policy's class, TLS Secret
//! and annotations.
//!
//! Ingress has no standard rewrite (each controller has its own annotation), so the Ingress
//! forwards the path unchanged and a file asking for `rewrite: strip` or a target gets a warning
//! (TY0410) unless the path is `/` anyway (a `{guid}` host); the operator may add the
//! controller's annotation through `connect.ingress.annotations`.

use super::edge_policy::{check_name, render_host, unique};
use super::identity::Identity;
use crate::codes;
use crate::connect::{ConnectTarget, Placeholders, Rewrite};
use crate::diagnostic::{Diagnostic, Severity};
use crate::names::check_qualified_name;
use crate::options::CompileOptions;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

/// The Ingress of a system, once the policy's values check out (`errors` gets those that do
/// not) and there is a target and a path.
pub(crate) fn ingress(
    identity: &Identity,
    connect: Option<&ConnectTarget>,
    path: Option<&str>,
    values: &Placeholders,
    options: &CompileOptions,
    errors: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Ingress> {
    let policy = &options.policy;
    let ingress = &policy.connect.ingress;
    let host = render_host(values, "connect.ingress.host", &ingress.host, errors);
    check_name("connect.ingress.class", &ingress.class, errors);
    check_name("connect.ingress.tls_secret", &ingress.tls_secret, errors);
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
    let (Some(target), Some(path), Some(host)) = (connect, path, host) else {
        return None;
    };
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
    Some(build_ingress(identity, target, path, &host, options))
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

fn rewrite_name(rewrite: &Rewrite) -> String {
    match rewrite {
        Rewrite::Keep => "keep".into(),
        Rewrite::Strip => "strip".into(),
        Rewrite::Target(to) => format!("target {to}"),
    }
}
