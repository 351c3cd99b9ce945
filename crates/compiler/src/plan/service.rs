//! The system's Service: one port per published compose port (`<protocol>-<port>`), selecting
//! the system's pod, of the policy's type; none when nothing is published.
//!
//! Behind Ambassador the Service is always `ClusterIP` (the proxy reaches it inside the
//! cluster) and carries the Ambassador `Mapping` in its `getambassador.io/config` annotation
//! (see [`super::ambassador`]).

use super::PublishedPort;
use super::ambassador;
use super::identity::Identity;
use crate::connect::ConnectTarget;
use crate::model::System;
use crate::options::{CompileOptions, ConnectMode, ServiceType};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Every port under `ports:`, once per Service port, in file order: what the Service, the
/// NetworkPolicy, the connect target and the ports annotation all publish.
pub(crate) fn published_ports(system: &System) -> Vec<PublishedPort> {
    let mut ports: Vec<PublishedPort> = Vec::new();
    for service in &system.services {
        for port in &service.ports {
            let published = PublishedPort {
                service: service.name.clone(),
                container_port: port.container,
                port: port.published.unwrap_or(port.container),
                protocol: port.protocol.clone(),
            };
            // Clashing Service ports are reported by the checks; keep the first.
            if !ports
                .iter()
                .any(|p| p.port == published.port && p.protocol == published.protocol)
            {
                ports.push(published);
            }
        }
    }
    ports
}

/// The Service of a system, or `None` when it publishes no port.
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
            ambassador::mapping(identity, &options.username, target),
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
