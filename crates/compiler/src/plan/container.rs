//! One container per compose service: image, command, env (with `TYCHO_BASE_PATH`), ports,
//! mounts, readiness and liveness probes, resources and the security context.
//!
//! All services of a system share one pod (see `plan::deployment`), so each becomes a
//! container named after it. Resources always get a CPU and memory request and a memory limit
//! (the policy's defaults where the file gives none) so that one system cannot starve its
//! neighbours; the security context is the secure baseline, loosened only where the policy
//! allows it (the checks refuse the rest).

use super::identity::Identity;
use super::pod_volumes::{PodVolumes, volume_mounts};
use crate::connect::BASE_PATH_ENV;
use crate::model::{HealthTest, Service, System};
use crate::options::Policy;
use crate::quantity::{format_bytes, format_cpu};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, ExecAction, Probe, ResourceRequirements,
    SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// The container of one compose service, its mounts' volumes added to `volumes`.
pub(crate) fn container(
    service: &Service,
    system: &System,
    identity: &Identity,
    policy: &Policy,
    volumes: &mut PodVolumes,
) -> Container {
    let mut container_ports: Vec<ContainerPort> = Vec::new();
    for port in service.ports.iter().chain(&service.expose) {
        let protocol = Some(port.protocol.clone());
        if !container_ports
            .iter()
            .any(|p| p.container_port == i32::from(port.container) && p.protocol == protocol)
        {
            container_ports.push(ContainerPort {
                container_port: port.container.into(),
                protocol,
                ..Default::default()
            });
        }
    }
    // The loader left out a `TYCHO_BASE_PATH` of the service's own (with a warning).
    let env: Vec<EnvVar> = service
        .environment
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain([(BASE_PATH_ENV, identity.base_path.as_str())])
        .map(|(name, value)| EnvVar {
            name: name.to_string(),
            value: Some(value.to_string()),
            ..Default::default()
        })
        .collect();
    let mounts = volume_mounts(service, system, identity, volumes);
    Container {
        name: service.name.clone(),
        image: Some(service.image.clone()),
        command: service.entrypoint.clone(),
        args: service.command.clone(),
        env: (!env.is_empty()).then_some(env),
        ports: (!container_ports.is_empty()).then_some(container_ports),
        resources: Some(resources(service, policy)),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        working_dir: service.working_dir.clone(),
        image_pull_policy: service.pull_policy.clone(),
        stdin: service.stdin_open.then_some(true),
        tty: service.tty.then_some(true),
        readiness_probe: probe(service, &service.readiness_probe),
        liveness_probe: service
            .liveness_probe
            .as_ref()
            .and_then(|p| serde_json::from_value(p.clone()).ok()),
        security_context: Some(security_context(service, policy)),
        ..Default::default()
    }
}

/// For a sidecar others wait on (`service_healthy`): its healthcheck as a startup probe,
/// checked every few seconds so its dependents start soon after it is healthy, and given the
/// healthcheck's start period plus its retries before the kubelet gives up on it.
pub(crate) fn startup_probe(service: &Service) -> Option<Probe> {
    let check = service.healthcheck.as_ref()?;
    let mut probe = probe(service, &None)?;
    let period = probe.period_seconds.unwrap_or(30).clamp(1, 5);
    let allowed = check.start_period.unwrap_or(0)
        + check.interval.unwrap_or(30) * i64::from(check.retries.unwrap_or(3).max(1));
    probe.period_seconds = Some(period);
    probe.initial_delay_seconds = None;
    probe.failure_threshold =
        Some((allowed / i64::from(period)).clamp(1, i64::from(i32::MAX)) as i32);
    Some(probe)
}

/// Readiness from Tycho's `ext.kube.readinessProbe`, else from the compose healthcheck.
fn probe(service: &Service, explicit: &Option<serde_json::Value>) -> Option<Probe> {
    if let Some(json) = explicit {
        return serde_json::from_value(json.clone()).ok();
    }
    let check = service.healthcheck.as_ref()?;
    let command = match &check.test {
        HealthTest::Exec(words) => words.clone(),
        HealthTest::Shell(line) => vec!["/bin/sh".into(), "-c".into(), line.clone()],
        HealthTest::Disabled => return None,
    };
    Some(Probe {
        exec: Some(ExecAction {
            command: Some(command),
        }),
        // compose's defaults: every 30s, 30s timeout, 3 retries.
        period_seconds: Some(check.interval.unwrap_or(30).max(1) as i32),
        timeout_seconds: Some(check.timeout.unwrap_or(30).max(1) as i32),
        failure_threshold: Some(check.retries.unwrap_or(3).max(1)),
        initial_delay_seconds: check.start_period.map(|s| s as i32),
        ..Default::default()
    })
}

/// What one container counts for when its pod's resources are summed: its limit, else its
/// request, else the policy's default. The one rule behind `max_pod_resources` (the check in
/// `checks::limits`, on the file's amounts) and the resources report's system totals (on the
/// built containers').
pub(crate) fn counted<T>(limit: Option<T>, request: Option<T>, default: impl FnOnce() -> T) -> T {
    limit.or(request).unwrap_or_else(default)
}

fn resources(service: &Service, policy: &Policy) -> ResourceRequirements {
    let limits_in = &service.resources.limits;
    let requests_in = &service.resources.reservations;
    let mut limits = BTreeMap::new();
    let mut requests = BTreeMap::new();
    let cpu_limit = limits_in.cpu.as_ref().map(|(m, _)| format_cpu(*m));
    let cpu_request = requests_in
        .cpu
        .as_ref()
        .map(|(m, _)| format_cpu(*m))
        .or_else(|| cpu_limit.clone());
    let memory_limit = limits_in.memory.as_ref().map(|(b, _)| format_bytes(*b));
    let memory_request = requests_in
        .memory
        .as_ref()
        .map(|(b, _)| format_bytes(*b))
        .or_else(|| memory_limit.clone());
    if let Some(cpu) = cpu_limit {
        limits.insert("cpu".to_string(), Quantity(cpu));
    }
    requests.insert(
        "cpu".to_string(),
        Quantity(cpu_request.unwrap_or_else(|| policy.default_resources.cpu.clone())),
    );
    let memory_request = memory_request.unwrap_or_else(|| policy.default_resources.memory.clone());
    // A memory limit keeps one notebook from starving its neighbours.
    limits.insert(
        "memory".to_string(),
        Quantity(memory_limit.unwrap_or_else(|| memory_request.clone())),
    );
    requests.insert("memory".to_string(), Quantity(memory_request));
    // A service that says `gpus: 0` asks for none, whatever the default.
    let gpus = limits_in
        .gpus
        .as_ref()
        .or(requests_in.gpus.as_ref())
        .map_or(policy.default_resources.gpus, |(n, _)| *n);
    if gpus > 0 {
        limits.insert(policy.gpu_resource_name.clone(), Quantity(gpus.to_string()));
    }
    requests.retain(|_, q| !q.0.is_empty());
    limits.retain(|_, q| !q.0.is_empty());
    ResourceRequirements {
        limits: (!limits.is_empty()).then_some(limits),
        requests: (!requests.is_empty()).then_some(requests),
        ..Default::default()
    }
}

/// The secure baseline, loosened only where the policy allowed it (the checks refused the rest).
fn security_context(service: &Service, policy: &Policy) -> SecurityContext {
    let sc = &service.security_context;
    let privileged = service.privileged.is_some() && policy.allow_privileged;
    let escalation = privileged
        || (sc
            .allow_privilege_escalation
            .as_ref()
            .is_some_and(|(b, _)| *b)
            && policy.allow_privileged);
    let add: Vec<String> = if policy.allow_cap_add {
        service.cap_add.iter().map(|(c, _)| c.clone()).collect()
    } else {
        Vec::new()
    };
    let run_as_user = service
        .user
        .as_ref()
        .map(|u| u.uid)
        .or(sc.run_as_user.as_ref().map(|(u, _)| *u));
    let run_as_group = service
        .user
        .as_ref()
        .and_then(|u| u.gid)
        .or(sc.run_as_group);
    SecurityContext {
        privileged: privileged.then_some(true),
        allow_privilege_escalation: Some(escalation),
        capabilities: Some(Capabilities {
            drop: Some(policy.profile.dropped_capabilities()),
            add: (!add.is_empty()).then_some(add),
        }),
        read_only_root_filesystem: Some(
            service.read_only || sc.read_only_root_filesystem == Some(true),
        ),
        run_as_user,
        run_as_group,
        ..Default::default()
    }
}
