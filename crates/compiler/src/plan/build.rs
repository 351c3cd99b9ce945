//! Assembles a [`Plan`] from the model: names and labels, then the pod, Service, policy, claims.

use super::{NotTranslated, Plan, PublishedPort, checks, edge, network, pod};
use crate::connect;
use crate::diagnostic::Diagnostic;
use crate::labels;
use crate::model::System;
use crate::options::CompileOptions;
use crate::{MAX_GUID, MAX_SYSTEM_NAME};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

pub(crate) struct Planned {
    pub plan: Plan,
    pub diagnostics: Vec<Diagnostic>,
}

/// What every object of one system shares.
pub(crate) struct Identity {
    pub name: String,
    pub guid: String,
    pub object_name: String,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `TYCHO_BASE_PATH` (see [`crate::connect::base_path`]).
    pub base_path: String,
}

impl Identity {
    /// Metadata for an object of this system, named `name`.
    pub fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: self.namespace.clone(),
            labels: Some(self.labels.clone()),
            ..Default::default()
        }
    }

    /// The labels that select this system's pods.
    pub fn selector(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(labels::GUID.to_string(), self.guid.clone())])
    }
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
    let claims = pod::claims(system, &identity, &options.policy, &mut diagnostics);
    let deployment = pod::deployment(
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

fn identity(
    system: &System,
    text: &str,
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Identity {
    let name = system_name(options, system.name.as_deref());
    if name.len() > MAX_SYSTEM_NAME || !crate::names::is_dns_label(&name) {
        diagnostics.push(Diagnostic::option_error(format!(
            "system name `{name}` must be at most {MAX_SYSTEM_NAME} lowercase letters, digits or `-`, starting and ending with a letter or digit"
        )));
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        diagnostics.push(Diagnostic::option_error(format!(
            "system name `{name}` must start with a letter (it names a Kubernetes Service)"
        )));
    }
    let guid = system_guid(text, &name, options);
    if !crate::is_guid(&guid) {
        diagnostics.push(Diagnostic::option_error(format!(
            "GUID `{guid}` must be at most {MAX_GUID} lowercase letters and digits"
        )));
    }
    let object_name = format!("{name}-{guid}");
    let labels = BTreeMap::from([
        (
            labels::EXECUTOR.to_string(),
            labels::EXECUTOR_VALUE.to_string(),
        ),
        (labels::GUID.to_string(), guid.clone()),
        (
            labels::USERNAME.to_string(),
            labels::username_label(&options.username),
        ),
        (labels::NAME.to_string(), name.clone()),
        (labels::INSTANCE.to_string(), object_name.clone()),
        (
            labels::MANAGED_BY.to_string(),
            labels::MANAGED_BY_VALUE.to_string(),
        ),
    ]);
    let namespace = (!options.namespace.is_empty()).then(|| options.namespace.clone());
    let base_path = connect::base_path(&options.policy, &name, &options.username, &guid);
    Identity {
        name,
        guid,
        object_name,
        namespace,
        labels,
        base_path,
    }
}

/// The system name: the option, else the file's top-level `name:` (interpolated), else `system`.
pub(crate) fn system_name(options: &CompileOptions, top_name: Option<&str>) -> String {
    [options.name.as_str(), top_name.unwrap_or("")]
        .into_iter()
        .find(|n| !n.is_empty())
        .unwrap_or("system")
        .to_string()
}

/// The GUID: the option, else one derived from the text and the name.
pub(crate) fn system_guid(text: &str, name: &str, options: &CompileOptions) -> String {
    if options.guid.is_empty() {
        crate::content_guid(text, name)
    } else {
        options.guid.clone()
    }
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
