//! Assembles a [`Plan`] from the model: the identity every object shares, the checks, then one
//! call per object (claims, Deployment, Service, NetworkPolicy, edge).
//!
//! The orchestrator: it calls the object modules and none of them calls back, so a fact two
//! objects share lives in the module that owns it (e.g. names and labels in `identity`).

use super::identity::identity;
use super::{NotTranslated, Plan, PublishedPort, checks, claim, deployment, edge, network};
use crate::connect;
use crate::diagnostic::Diagnostic;
use crate::model::System;
use crate::options::CompileOptions;

pub(crate) struct Planned {
    pub plan: Plan,
    pub diagnostics: Vec<Diagnostic>,
}

pub(crate) fn plan(system: &System, text: &str, options: &CompileOptions) -> Planned {
    let mut diagnostics = Vec::new();
    let identity = identity(system, text, options, &mut diagnostics);
    checks::check(system, options, &mut diagnostics);
    let ports = published_ports(system);
    let placeholders =
        connect::Placeholders::new(&identity.name, &options.username, &identity.guid);
    let connect = connect::target(
        system,
        &ports,
        options,
        &identity.base_path,
        &placeholders,
        &mut diagnostics,
    );
    let claims = claim::claims(system, &identity, &options.policy, &mut diagnostics);
    let deployment = deployment::deployment(
        system,
        &identity,
        options,
        &ports,
        connect.as_ref(),
        &mut diagnostics,
    );
    let service = network::service(&identity, &ports, connect.as_ref(), options);
    let network_policy = network::network_policy(&identity, &ports, options, &mut diagnostics);
    let edge = edge::edge(&identity, connect.as_ref(), options, &mut diagnostics);
    let not_translated = system
        .not_translated
        .iter()
        .map(|(key, pos, reason)| NotTranslated {
            key: key.clone(),
            path: pos.path.clone(),
            line: pos.line,
            column: pos.column,
            reason: reason.clone(),
        })
        .collect();
    let plan = Plan {
        name: identity.name.clone(),
        guid: identity.guid.clone(),
        username: options.username.clone(),
        object_name: identity.object_name.clone(),
        deployment,
        service,
        network_policy,
        ingress: edge.ingress,
        http_route: edge.http_route,
        claims,
        ports,
        connect,
        not_translated,
    };
    Planned { plan, diagnostics }
}

/// Every port under `ports:`, once per Service port, in file order.
fn published_ports(system: &System) -> Vec<PublishedPort> {
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
