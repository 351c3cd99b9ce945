//! The system's NetworkPolicy: its pods talk to each other; the published ports admit Tycho's
//! server pods (unless the operator's edge is the way in), the policy's namespaces (e.g. the
//! edge controller's) and the allowed client CIDRs; egress is open, DNS only, or none, as the
//! policy says. None when the policy turns network policies off.
//!
//! A request's client CIDRs may only narrow the policy's (see [`allowed_cidrs`]), so a user
//! cannot open a system wider than the operator allows.

use super::PublishedPort;
use super::cidr::Cidr;
use super::identity::Identity;
use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::labels;
use crate::options::{CompileOptions, ConnectMode, EgressMode, ServerPods};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The NetworkPolicy of a system, with a warning when the edge controller is admitted nowhere.
pub(crate) fn network_policy(
    identity: &Identity,
    ports: &[PublishedPort],
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<NetworkPolicy> {
    let network = &options.policy.network;
    if !network.enabled {
        return None;
    }
    let own_pods = NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(identity.selector()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut ingress = vec![NetworkPolicyIngressRule {
        from: Some(vec![own_pods.clone()]),
        ..Default::default()
    }];
    let mode = options.policy.connect_mode();
    let mut sources: Vec<NetworkPolicyPeer> = Vec::new();
    // Behind the operator's edge the controller's namespace (below) is the way in, not Tycho.
    if mode != ConnectMode::None && !mode.is_edge() {
        sources.extend(server_pods(&network.server_pods));
    }
    sources.extend(
        allowed_cidrs(&network.ingress_cidrs, &options.client_cidrs, diagnostics)
            .into_iter()
            .map(|cidr| NetworkPolicyPeer {
                ip_block: Some(IPBlock { cidr, except: None }),
                ..Default::default()
            }),
    );
    sources.extend(
        network
            .ingress_namespaces
            .iter()
            .map(|ns| NetworkPolicyPeer {
                namespace_selector: Some(namespace_selector(ns)),
                ..Default::default()
            }),
    );
    if mode.is_edge() && !ports.is_empty() && sources.is_empty() {
        let which = if mode == ConnectMode::Ingress {
            "Ingress"
        } else {
            "Gateway"
        };
        diagnostics.push(Diagnostic::unpositioned(
            Severity::Warning,
            codes::CONTROLLER_NOT_ADMITTED,
            format!(
                "connect mode `{}` sends users through the {which} controller, but the policy sets no `network.ingress_namespaces` and no `network.ingress_cidrs` (or no client CIDR is left): the NetworkPolicy admits nothing to the published ports, so the controller cannot reach the system; set `network.ingress_namespaces` to the controller's namespace",
                if mode == ConnectMode::Ingress { "ingress" } else { "gateway" }
            ),
        ));
    }
    if !ports.is_empty() && !sources.is_empty() {
        let open_ports = ports
            .iter()
            .map(|p| NetworkPolicyPort {
                port: Some(IntOrString::Int(p.container_port.into())),
                protocol: Some(p.protocol.clone()),
                ..Default::default()
            })
            .collect();
        ingress.push(NetworkPolicyIngressRule {
            from: Some(sources),
            ports: Some(open_ports),
        });
    }
    let dns = NetworkPolicyEgressRule {
        ports: Some(
            ["UDP", "TCP"]
                .into_iter()
                .map(|protocol| NetworkPolicyPort {
                    port: Some(IntOrString::Int(53)),
                    protocol: Some(protocol.into()),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    };
    let own = NetworkPolicyEgressRule {
        to: Some(vec![own_pods]),
        ..Default::default()
    };
    let egress = match network.egress {
        EgressMode::Open => vec![NetworkPolicyEgressRule::default()],
        EgressMode::DnsOnly => vec![own, dns],
        EgressMode::None => vec![own],
    };
    Some(NetworkPolicy {
        metadata: identity.meta(&identity.object_name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(identity.selector()),
                ..Default::default()
            }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(ingress),
            egress: Some(egress),
        }),
    })
}

fn namespace_selector(namespace: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "kubernetes.io/metadata.name".to_string(),
            namespace.to_string(),
        )])),
        ..Default::default()
    }
}

/// The Tycho server's pods: their labels, and no `executor` label (every system pod has
/// `executor: tycho`, so no system, whatever its name, passes for the server).
fn server_pods(server: &ServerPods) -> Option<NetworkPolicyPeer> {
    // An empty selector would match every pod: no labels means no server peer.
    if server.labels.is_empty() {
        return None;
    }
    Some(NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(server.labels.clone()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: labels::EXECUTOR.into(),
                operator: "DoesNotExist".into(),
                values: None,
            }]),
        }),
        namespace_selector: (!server.namespace.is_empty())
            .then(|| namespace_selector(&server.namespace)),
        ..Default::default()
    })
}

/// The CIDRs admitted to the published ports. The request's CIDRs may only narrow the
/// policy's: when it gives any, they replace the policy's list, each one kept only if it lies
/// inside one of the policy's (else dropped with a warning). An unparsable CIDR is an error (the
/// API server would refuse the NetworkPolicy).
fn allowed_cidrs(
    policy: &[String],
    request: &[String],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut parse = |text: &str, whose: &str| {
        let parsed = Cidr::parse(text);
        if parsed.is_none() {
            diagnostics.push(Diagnostic::unpositioned(
                Severity::Error,
                codes::INVALID_CIDR,
                format!("{whose} CIDR `{text}` is not an IPv4 or IPv6 CIDR (like 10.0.0.0/8 or fd00::/8)"),
            ));
        }
        parsed
    };
    let allowed: Vec<Cidr> = policy
        .iter()
        .filter_map(|c| parse(c, "the policy's ingress"))
        .collect();
    let requested: Vec<(String, Option<Cidr>)> = request
        .iter()
        .map(|c| (c.clone(), parse(c, "the request's client")))
        .collect();
    if request.is_empty() {
        return policy.to_vec();
    }
    let mut kept = Vec::new();
    for (text, cidr) in requested {
        let Some(cidr) = cidr else { continue };
        if allowed.iter().any(|outer| outer.contains(&cidr)) {
            kept.push(text);
        } else {
            diagnostics.push(Diagnostic::unpositioned(
                Severity::Warning,
                codes::CIDR_NOT_ALLOWED,
                format!(
                    "client CIDR `{text}` is dropped: it is not inside the policy's ingress CIDRs ({}); a request may only narrow them",
                    if policy.is_empty() { "none".to_string() } else { policy.join(", ") }
                ),
            ));
        }
    }
    kept
}
