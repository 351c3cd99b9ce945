//! The system's Service (published ports, optional Ambassador mapping) and NetworkPolicy.

use super::PublishedPort;
use super::identity::Identity;
use crate::codes;
use crate::connect::{ConnectTarget, Rewrite};
use crate::diagnostic::{Diagnostic, Severity};
use crate::labels;
use crate::options::{CompileOptions, ConnectMode, EgressMode, ServerPods, ServiceType};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::IpAddr;

pub(crate) fn service(
    identity: &Identity,
    ports: &[PublishedPort],
    connect: Option<&ConnectTarget>,
    options: &CompileOptions,
) -> Option<Service> {
    if ports.is_empty() {
        return None;
    }
    let ambassador = options.policy.connect_mode() == ConnectMode::Ambassador;
    // Behind Ambassador the proxy reaches the Service inside the cluster.
    let kind = if ambassador {
        ServiceType::ClusterIP
    } else {
        options.policy.service_type
    };
    let mut meta = identity.meta(&identity.object_name);
    if let Some(target) = connect.filter(|_| ambassador) {
        meta.annotations = Some(BTreeMap::from([(
            "getambassador.io/config".to_string(),
            ambassador_mapping(identity, &options.username, target),
        )]));
    }
    let service_ports = ports
        .iter()
        .map(|p| ServicePort {
            name: Some(format!("{}-{}", p.protocol.to_ascii_lowercase(), p.port)),
            port: p.port.into(),
            target_port: Some(IntOrString::Int(p.container_port.into())),
            protocol: Some(p.protocol.clone()),
            ..Default::default()
        })
        .collect();
    Some(Service {
        metadata: meta,
        spec: Some(ServiceSpec {
            type_: Some(kind.as_str().into()),
            selector: Some(identity.selector()),
            ports: Some(service_ports),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// An Ambassador `Mapping` under `/private/<app>/<user>/<guid>/` (the target's path), as the
/// original Tycho wrote it: one YAML document starting with `---`. Built as a JSON value and
/// rendered by the YAML writer, so a username (or any value) stays one quoted scalar and
/// cannot add keys.
fn ambassador_mapping(identity: &Identity, username: &str, target: &ConnectTarget) -> String {
    let rewrite = match &target.rewrite {
        Rewrite::Keep => target.path.clone(),
        Rewrite::Strip => "/".into(),
        Rewrite::Target(path) => path.clone(),
    };
    let service = &identity.object_name;
    let namespace = identity
        .namespace
        .as_deref()
        .map(|ns| format!(".{ns}"))
        .unwrap_or_default();
    let mapping = json!({
        "apiVersion": "ambassador/v1",
        "kind": "Mapping",
        "name": format!("{service}-mapping"),
        "prefix": target.path,
        "headers": {"remote_user": username},
        "service": format!("{service}{namespace}:{}", target.port),
        "rewrite": rewrite,
        "use_websocket": true,
        "timeout_ms": 300000,
        "idle_timeout_ms": 600000,
    });
    tycho_yaml::render::documents(&[mapping])
}

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

/// An IPv4 or IPv6 network as `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    address: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = text.split_once('/')?;
        let address: IpAddr = address.parse().ok()?;
        // Digits only: `u8::from_str` would also take a leading `+`.
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { address, prefix })
    }

    /// Whether every address of `inner` is in `self` (same family only).
    fn contains(&self, inner: &Cidr) -> bool {
        if inner.prefix < self.prefix {
            return false;
        }
        let mask = |bits: u32, width: u32| -> u128 {
            if bits == 0 {
                0
            } else {
                (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width))
            }
        };
        match (self.address, inner.address) {
            (IpAddr::V4(outer), IpAddr::V4(addr)) => {
                let m = mask(self.prefix.into(), 32);
                u128::from(u32::from(outer)) & m == u128::from(u32::from(addr)) & m
            }
            (IpAddr::V6(outer), IpAddr::V6(addr)) => {
                let m = mask(self.prefix.into(), 128);
                u128::from(outer) & m == u128::from(addr) & m
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_contain() {
        let c = |s: &str| Cidr::parse(s).unwrap_or_else(|| panic!("{s} parses"));
        assert!(c("10.0.0.0/8").contains(&c("10.1.2.0/24")));
        assert!(c("10.0.0.0/8").contains(&c("10.0.0.0/8")));
        assert!(!c("10.0.0.0/8").contains(&c("0.0.0.0/0")));
        assert!(!c("10.0.0.0/8").contains(&c("11.0.0.0/24")));
        assert!(c("0.0.0.0/0").contains(&c("192.168.1.7/32")));
        assert!(c("fd00::/8").contains(&c("fd12:3456::/32")));
        assert!(!c("fd00::/8").contains(&c("fe80::/16")));
        assert!(c("::/0").contains(&c("2001:db8::1/128")));
        assert!(!c("0.0.0.0/0").contains(&c("::/0")));
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "fd00::/129",
            "x/8",
            "10.0.0.0/+8",
            "10.0.0.0/",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
