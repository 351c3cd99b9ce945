//! Bind mounts of host paths: a pod runs on a node shared with other users, so only the
//! directories the policy lists in `allowed_host_paths` may be mounted (none by default).

use super::report::error;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{MountSource, Service};
use crate::options::Policy;

/// Each host-path mount of `service` that no `allowed_host_paths` prefix admits is refused.
pub(crate) fn host_paths(service: &Service, policy: &Policy, out: &mut Vec<Diagnostic>) {
    for mount in &service.volumes {
        let MountSource::HostPath(path) = &mount.source else {
            continue;
        };
        let allowed = policy.allowed_host_paths.iter().any(|prefix| {
            let prefix = prefix.trim_end_matches('/');
            path == prefix || path.starts_with(&format!("{prefix}/")) || prefix.is_empty()
        });
        if !allowed {
            let list = if policy.allowed_host_paths.is_empty() {
                "bind mounts are off".to_string()
            } else {
                format!("allowed: {}", policy.allowed_host_paths.join(", "))
            };
            error(
                out,
                codes::HOST_PATH_REFUSED,
                format!(
                    "bind mount of host path `{path}` is not allowed by the operator's policy ({list}); use a named volume or pvc://CLAIM"
                ),
                &mount.pos,
            );
        }
    }
}
