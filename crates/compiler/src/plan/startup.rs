//! Compose's startup order inside Tycho's one pod. A service others `depends_on` starts before
//! them as an init container: a plain one for `service_completed_successfully` (it must exit
//! 0 first), a native sidecar (`restartPolicy: Always`, Kubernetes ≥ 1.29) otherwise, whose
//! `startupProbe` from its healthcheck holds its dependents back for `service_healthy`. The
//! kubelet starts init containers one after another, so they are listed dependencies first.
//! Services nobody depends on are the pod's ordinary containers. With the policy's
//! `sidecars: false` (older clusters) every service is an ordinary container again, and a
//! condition that can then not be kept is said once per dependency.

use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{StartCondition, System};
use crate::options::Policy;

/// How one service runs in the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// An ordinary container, started with the others once the init containers are done.
    Main,
    /// A native sidecar; `gated`: its startup probe must pass before the next one starts.
    Sidecar { gated: bool },
    /// A plain init container: runs to completion before the next one starts.
    Init,
}

pub(crate) struct Startup {
    /// Per service, in file order.
    pub roles: Vec<Role>,
    /// The services that are init containers (sidecars included), in the order they start.
    pub init_order: Vec<usize>,
}

pub(crate) fn startup(system: &System, policy: &Policy, out: &mut Vec<Diagnostic>) -> Startup {
    let count = system.services.len();
    let index = |name: &str| system.services.iter().position(|s| s.name == name);
    if !policy.sidecars {
        for service in &system.services {
            for dependency in service
                .depends_on
                .iter()
                .filter(|d| d.condition != StartCondition::Started)
            {
                let pos = dependency.condition_pos.as_ref().unwrap_or(&dependency.pos);
                out.push(Diagnostic {
                    severity: Severity::Warning,
                    code: codes::NOT_TRANSLATED.into(),
                    message: format!(
                        "`{}` and `{}` start together: the operator's policy turns native sidecars off (`sidecars: false`, for clusters older than Kubernetes 1.29), so `depends_on` conditions are not kept",
                        service.name, dependency.service
                    ),
                    path: pos.path.clone(),
                    line: pos.line,
                    column: pos.column,
                    file: String::new(),
                });
            }
        }
        return Startup {
            roles: vec![Role::Main; count],
            init_order: Vec::new(),
        };
    }
    // The strongest condition any dependent asks of each service.
    let mut strongest: Vec<Option<StartCondition>> = vec![None; count];
    for service in &system.services {
        for dependency in &service.depends_on {
            if let Some(i) = index(&dependency.service) {
                strongest[i] = strongest[i].max(Some(dependency.condition));
            }
        }
    }
    let roles: Vec<Role> = strongest
        .iter()
        .map(|condition| match condition {
            None => Role::Main,
            Some(StartCondition::Started) => Role::Sidecar { gated: false },
            Some(StartCondition::Healthy) => Role::Sidecar { gated: true },
            Some(StartCondition::CompletedSuccessfully) => Role::Init,
        })
        .collect();
    // Dependencies first (depth first, in file order); `load` refused cycles.
    let mut init_order = Vec::new();
    let mut placed = vec![false; count];
    fn place(
        at: usize,
        system: &System,
        index: &dyn Fn(&str) -> Option<usize>,
        placed: &mut [bool],
        order: &mut Vec<usize>,
    ) {
        if placed[at] {
            return;
        }
        placed[at] = true;
        for dependency in &system.services[at].depends_on {
            if let Some(next) = index(&dependency.service) {
                place(next, system, index, placed, order);
            }
        }
        order.push(at);
    }
    for (i, role) in roles.iter().enumerate() {
        if *role != Role::Main {
            place(i, system, &index, &mut placed, &mut init_order);
        }
    }
    // Anything depended upon is an init container, so `place` never reaches a Main service.
    Startup { roles, init_order }
}
