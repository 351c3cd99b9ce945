//! The system's Service (published ports, optional Ambassador mapping) and NetworkPolicy.

use super::PublishedPort;
use super::build::Identity;
use crate::options::{CompileOptions, EgressMode, ServiceType};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub(crate) fn service(
    identity: &Identity,
    ports: &[PublishedPort],
    options: &CompileOptions,
) -> Option<Service> {
    if ports.is_empty() {
        return None;
    }
    let ambassador = &options.policy.ambassador;
    // Behind Ambassador the proxy reaches the Service inside the cluster.
    let kind = if ambassador.enabled {
        ServiceType::ClusterIP
    } else {
        options.policy.service_type
    };
    let mut meta = identity.meta(&identity.object_name);
    if ambassador.enabled {
        meta.annotations = Some(BTreeMap::from([(
            "getambassador.io/config".to_string(),
            ambassador_mapping(identity, &options.username, ports[0].port, options),
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

/// An Ambassador `Mapping` under `/private/<app>/<user>/<guid>/`, as the original Tycho wrote it.
fn ambassador_mapping(
    identity: &Identity,
    username: &str,
    port: u16,
    options: &CompileOptions,
) -> String {
    let prefix = format!("/private/{}/{}/{}/", identity.name, username, identity.guid);
    let ambassador = &options.policy.ambassador;
    let rewrite = if !ambassador.rewrite_target.is_empty() {
        ambassador.rewrite_target.clone()
    } else if ambassador.rewrite_to_prefix {
        prefix.clone()
    } else {
        "/".into()
    };
    let service = &identity.object_name;
    let namespace = identity
        .namespace
        .as_deref()
        .map(|ns| format!(".{ns}"))
        .unwrap_or_default();
    format!(
        "---\napiVersion: ambassador/v1\nkind: Mapping\nname: {service}-mapping\nprefix: {prefix}\nheaders:\n  remote_user: {username}\nservice: {service}{namespace}:{port}\nrewrite: {rewrite}\nuse_websocket: true\ntimeout_ms: 300000\nidle_timeout_ms: 600000\n"
    )
}

pub(crate) fn network_policy(
    identity: &Identity,
    ports: &[PublishedPort],
    options: &CompileOptions,
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
    let sources: Vec<NetworkPolicyPeer> = network
        .ingress_cidrs
        .iter()
        .chain(&options.client_cidrs)
        .map(|cidr| NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: cidr.clone(),
                except: None,
            }),
            ..Default::default()
        })
        .chain(
            network
                .ingress_namespaces
                .iter()
                .map(|ns| NetworkPolicyPeer {
                    namespace_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([(
                            "kubernetes.io/metadata.name".to_string(),
                            ns.clone(),
                        )])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
        )
        .collect();
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
