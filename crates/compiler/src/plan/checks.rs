//! Checks that need the whole system or the operator's policy: port clashes inside the pod,
//! annotations, existing claims, host paths, privilege, root, and resource and size caps. Each
//! error points at the offending text.

use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{MountSource, Pos, ResourceAmounts, Service, System};
use crate::options::{CompileOptions, Policy};
use crate::quantity::{format_bytes, format_cpu, parse_cpus, parse_kube_bytes};
use std::collections::BTreeMap;

pub(crate) fn check(system: &System, options: &CompileOptions, out: &mut Vec<Diagnostic>) {
    let policy = &options.policy;
    port_clashes(system, out);
    super::annotations::check(system, out);
    super::allowed_claims::check(system, options, out);
    super::limits::check(system, policy, out);
    for service in &system.services {
        host_paths(service, policy, out);
        privileges(service, policy, out);
        resources(service, policy, out);
    }
}

pub(crate) fn error(out: &mut Vec<Diagnostic>, code: &str, message: String, pos: &Pos) {
    out.push(Diagnostic {
        severity: Severity::Error,
        code: code.into(),
        message,
        path: pos.path.clone(),
        line: pos.line,
        column: pos.column,
    });
}

/// Services share one pod network: a container port can be bound by one service only, and a
/// Service port can be published once.
fn port_clashes(system: &System, out: &mut Vec<Diagnostic>) {
    let mut container_ports: BTreeMap<(u16, &str), (&str, &Pos)> = BTreeMap::new();
    let mut service_ports: BTreeMap<(u16, &str), &Pos> = BTreeMap::new();
    for service in &system.services {
        for port in service.ports.iter().chain(&service.expose) {
            let key = (port.container, port.protocol.as_str());
            match container_ports.get(&key) {
                Some((owner, first)) if *owner != service.name => error(
                    out,
                    codes::PORT_CLASH,
                    format!(
                        "port {}/{} is already used by service `{owner}` (line {}); services share one pod network, so each port can be bound once",
                        port.container, port.protocol, first.line
                    ),
                    &port.pos,
                ),
                Some(_) => {}
                None => {
                    container_ports.insert(key, (&service.name, &port.pos));
                }
            }
        }
        for port in &service.ports {
            let published = port.published.unwrap_or(port.container);
            let key = (published, port.protocol.as_str());
            match service_ports.get(&key) {
                Some(first) if *first != &port.pos => error(
                    out,
                    codes::PORT_CLASH,
                    format!(
                        "port {published}/{} is published twice (first at line {})",
                        port.protocol, first.line
                    ),
                    &port.pos,
                ),
                _ => {
                    service_ports.insert(key, &port.pos);
                }
            }
        }
    }
}

fn host_paths(service: &Service, policy: &Policy, out: &mut Vec<Diagnostic>) {
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

fn privileges(service: &Service, policy: &Policy, out: &mut Vec<Diagnostic>) {
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
    if !policy.allow_root {
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
                    "service `{name}` asks to run as root, which the operator's policy does not allow"
                ),
                pos,
            );
        }
    }
}

fn resources(service: &Service, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let limits = &service.resources.limits;
    let requests = &service.resources.reservations;
    if let (Some((request, pos)), Some((limit, _))) = (&requests.cpu, &limits.cpu)
        && request > limit
    {
        error(
            out,
            codes::REQUEST_ABOVE_LIMIT,
            format!(
                "reserved cpus ({}) exceed the limit ({})",
                format_cpu(*request),
                format_cpu(*limit)
            ),
            pos,
        );
    }
    if let (Some((request, pos)), Some((limit, _))) = (&requests.memory, &limits.memory)
        && request > limit
    {
        error(
            out,
            codes::REQUEST_ABOVE_LIMIT,
            format!(
                "reserved memory ({}) exceeds the limit ({})",
                format_bytes(*request),
                format_bytes(*limit)
            ),
            pos,
        );
    }
    for amounts in [limits, requests] {
        above_max(amounts, policy, out);
    }
}

fn above_max(amounts: &ResourceAmounts, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let max = &policy.max_resources;
    if let (Some((cpu, pos)), Some(max_cpu)) = (&amounts.cpu, parse_cpus(&max.cpu))
        && *cpu > max_cpu
    {
        error(
            out,
            codes::ABOVE_POLICY_MAX,
            format!(
                "{} CPUs is above the operator's maximum of {} per container (policy `max_resources.cpu`)",
                format_cpu(*cpu),
                max.cpu
            ),
            pos,
        );
    }
    if let (Some((memory, pos)), Some(max_memory)) =
        (&amounts.memory, parse_kube_bytes(&max.memory))
        && *memory > max_memory
    {
        error(
            out,
            codes::ABOVE_POLICY_MAX,
            format!(
                "{} of memory is above the operator's maximum of {} per container (policy `max_resources.memory`)",
                format_bytes(*memory),
                max.memory
            ),
            pos,
        );
    }
    if let Some((gpus, pos)) = &amounts.gpus
        && *gpus > max.gpus
    {
        error(
            out,
            codes::ABOVE_POLICY_MAX,
            format!(
                "{gpus} GPU(s) is above the operator's maximum of {} per container (policy `max_resources.gpus`)",
                max.gpus
            ),
            pos,
        );
    }
}
