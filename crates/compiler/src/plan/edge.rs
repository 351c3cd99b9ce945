//! The operator's own edge in front of the system's Service: an Ingress (`connect.mode:
//! ingress`, [`super::ingress`]) or a Gateway API HTTPRoute (`connect.mode: gateway`,
//! [`super::http_route`]); nothing for the other modes (Ambassador's Mapping is an annotation
//! of the Service, see [`super::ambassador`]).
//!
//! Hosts and paths come from the policy's templates (see [`super::edge_policy`]); every object
//! is typed (no text is pasted into YAML). An invalid policy value is an error of the options.

use super::gateway::HttpRoute;
use super::identity::Identity;
use super::{http_route, ingress};
use crate::codes;
use crate::connect::{self, ConnectTarget, Placeholders};
use crate::diagnostic::{Diagnostic, Severity};
use crate::options::{CompileOptions, ConnectMode};
use k8s_openapi::api::networking::v1::Ingress;

/// What the edge adds to a plan: at most one of the two.
#[derive(Default)]
pub(crate) struct Edge {
    pub ingress: Option<Ingress>,
    pub http_route: Option<HttpRoute>,
}

/// The edge object the connect mode asks for, with an option error for each invalid policy value.
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
    let path = path.as_deref();
    let mut edge = Edge::default();
    if mode == ConnectMode::Ingress {
        edge.ingress = ingress::ingress(
            identity,
            connect,
            path,
            &values,
            options,
            &mut errors,
            diagnostics,
        );
    } else {
        edge.http_route = http_route::http_route(
            identity,
            connect,
            path,
            &values,
            options,
            &mut errors,
            diagnostics,
        );
    }
    diagnostics.extend(
        errors
            .into_iter()
            .map(|e| Diagnostic::unpositioned(Severity::Error, codes::INVALID_OPTION, e)),
    );
    edge
}
