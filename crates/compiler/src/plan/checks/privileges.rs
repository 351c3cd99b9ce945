//! What a container may ask of the node: privileged mode and privilege escalation, added
//! capabilities and running as root, each refused unless the policy allows it (the container's
//! security context is built from what remains, see `plan::container`).

use super::report::error;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{Pos, Service};
use crate::options::Policy;

/// Refuses a file that says its images start as root (`x-tycho: {profile: baseline}`) under a
/// policy that does not let them: they would only fail at start.
pub(crate) fn root_images(
    needs_baseline: Option<&Pos>,
    policy: &Policy,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(pos) = needs_baseline
        && !policy.root_allowed()
    {
        error(
            out,
            codes::ROOT_REFUSED,
            "this system's images start as root (it says `profile: baseline`), which the operator's `restricted` profile does not let them: the operator can set `profile: baseline` in the policy, or the services can run as a numeric `user:` their images support".to_string(),
            pos,
        );
    }
}

/// Refuses each privilege `service` asks for that the policy does not allow.
pub(crate) fn privileges(service: &Service, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let name = &service.name;
    if let Some(pos) = &service.privileged
        && !policy.allow_privileged
    {
        error(
            out,
            codes::PRIVILEGED_REFUSED,
            format!(
                "service `{name}` asks to run privileged, which the operator's policy does not allow"
            ),
            pos,
        );
    }
    if let Some((true, pos)) = &service.security_context.allow_privilege_escalation
        && !policy.allow_privileged
    {
        error(
            out,
            codes::PRIVILEGED_REFUSED,
            format!(
                "service `{name}` asks for privilege escalation, which the operator's policy does not allow"
            ),
            pos,
        );
    }
    if !policy.allow_cap_add {
        for (capability, pos) in &service.cap_add {
            error(
                out,
                codes::CAP_ADD_REFUSED,
                format!("adding capability {capability} is not allowed by the operator's policy"),
                pos,
            );
        }
    }
    if !policy.root_allowed() {
        let root_user = service.user.as_ref().filter(|u| u.uid == 0).map(|u| &u.pos);
        let root_sc = service
            .security_context
            .run_as_user
            .as_ref()
            .filter(|(uid, _)| *uid == 0)
            .map(|(_, p)| p);
        let non_root_off = service
            .security_context
            .run_as_non_root
            .as_ref()
            .filter(|(b, _)| !b)
            .map(|(_, p)| p);
        if let Some(pos) = root_user.or(root_sc).or(non_root_off) {
            error(
                out,
                codes::ROOT_REFUSED,
                format!(
                    "service `{name}` asks to run as root, which the operator's policy does not allow (its `profile` is restricted; `profile: baseline` allows root)"
                ),
                pos,
            );
        }
    }
}
