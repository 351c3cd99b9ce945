//! What a container may ask of the node: privileged mode and privilege escalation, added
//! capabilities and running as root, each refused unless the policy allows it (the container's
//! security context is built from what remains, see `plan::container`).

use super::report::error;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::Service;
use crate::options::Policy;

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
