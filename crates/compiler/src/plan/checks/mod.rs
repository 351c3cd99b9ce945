//! Checks that need the whole system or the operator's policy, before any object is built:
//! port clashes inside the pod, the user's annotations, existing claims, host paths,
//! privileges, and resource and size caps. Each error points at the offending text; each check
//! has a file named for it.

use crate::diagnostic::Diagnostic;
use crate::model::System;
use crate::options::CompileOptions;

mod allowed_claims;
mod annotations;
mod container_resources;
mod host_paths;
mod limits;
mod port_clashes;
mod privileges;
pub(super) mod report;

/// Every check, in an order the diagnostics keep (several may point at the same text).
pub(crate) fn check(system: &System, options: &CompileOptions, out: &mut Vec<Diagnostic>) {
    let policy = &options.policy;
    port_clashes::port_clashes(system, out);
    annotations::check(system, out);
    allowed_claims::check(system, options, out);
    limits::check(system, policy, out);
    privileges::root_images(system.needs_baseline.as_ref(), policy, out);
    for service in &system.services {
        host_paths::host_paths(service, policy, out);
        privileges::privileges(service, policy, out);
        container_resources::resources(service, policy, out);
    }
}
