//! Assembles a [`Plan`] from the model: the identity every object shares, the checks, then one
//! call per object (claims, Deployment, Service, NetworkPolicy, edge).
//!
//! The orchestrator: it calls the object modules and none of them calls back, so a fact two
//! objects share lives in the module that owns it (e.g. names and labels in `identity`).

use super::identity::identity;
use super::{
    NotTranslated, Plan, checks, claim, deployment, edge, network_policy, service, stored,
};
use crate::connect;
use crate::diagnostic::Diagnostic;
use crate::model::System;
use crate::options::CompileOptions;

/// A plan and the diagnostics planning found (the plan is used only when none is an error).
pub(crate) struct Planned {
    pub plan: Plan,
    pub diagnostics: Vec<Diagnostic>,
}

/// Plans the loaded `system`; `text` is the compose file (the GUID may be derived from it).
pub(crate) fn plan(system: &System, text: &str, options: &CompileOptions) -> Planned {
    let mut diagnostics = Vec::new();
    let identity = identity(system, text, options, &mut diagnostics);
    checks::check(system, options, &mut diagnostics);
    let ports = service::published_ports(system);
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
    let config_map = stored::config_map(system, &identity, &options.policy, &mut diagnostics);
    let secret = stored::secret(system, &identity, &options.policy, &mut diagnostics);
    let deployment = deployment::deployment(
        system,
        &identity,
        options,
        &ports,
        connect.as_ref(),
        &mut diagnostics,
    );
    let service = service::service(&identity, &ports, connect.as_ref(), options);
    let network_policy =
        network_policy::network_policy(&identity, &ports, options, &mut diagnostics);
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
        config_map,
        secret,
        ports,
        connect,
        not_translated,
    };
    Planned { plan, diagnostics }
}
