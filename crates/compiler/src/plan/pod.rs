//! The Deployment: one pod with a container per compose service (Tycho's layout), its volumes,
//! and a claim for each named volume.

use super::PublishedPort;
use super::identity::{Identity, annotation_map};
use crate::codes;
use crate::connect::{BASE_PATH_ENV, ConnectTarget};
use crate::diagnostic::{Diagnostic, Severity};
use crate::labels;
use crate::model::{HealthTest, MountSource, Pos, Service, System, VolumeDecl};
use crate::options::{CompileOptions, Policy};
use crate::quantity::{format_bytes, format_cpu};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, ExecAction, HostAlias,
    HostPathVolumeSource, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, SecurityContext, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

pub(crate) fn deployment(
    system: &System,
    identity: &Identity,
    options: &CompileOptions,
    ports: &[PublishedPort],
    connect: Option<&ConnectTarget>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Deployment {
    let policy = &options.policy;
    let mut volumes = PodVolumes::default();
    let containers: Vec<Container> = system
        .services
        .iter()
        .map(|service| container(service, system, identity, policy, &mut volumes))
        .collect();
    let mut meta = identity.meta(&identity.object_name);
    let mut annotations = BTreeMap::from([
        (
            labels::ANNOTATION_USERNAME.to_string(),
            options.username.clone(),
        ),
        (
            labels::ANNOTATION_SYSTEM_NAME.to_string(),
            identity.name.clone(),
        ),
        (
            labels::ANNOTATION_PORTS.to_string(),
            serde_json::to_string(ports).unwrap_or_default(),
        ),
        (
            labels::ANNOTATION_RESOURCES.to_string(),
            pod_resources(&containers, policy),
        ),
    ]);
    if let Some(target) = connect {
        annotations.insert(
            labels::ANNOTATION_CONNECT.to_string(),
            serde_json::to_string(target).unwrap_or_default(),
        );
    }
    meta.annotations = Some(annotations);
    let pod_annotations = annotation_map(system.services.iter().flat_map(|s| &s.labels));
    let has_claims = volumes
        .list
        .iter()
        .any(|v| v.persistent_volume_claim.is_some());
    let spec = DeploymentSpec {
        replicas: Some(replicas(system, diagnostics)),
        selector: LabelSelector {
            match_labels: Some(identity.selector()),
            ..Default::default()
        },
        // A claim is usually ReadWriteOnce: the old pod must let go before the new one starts.
        strategy: has_claims.then(|| DeploymentStrategy {
            type_: Some("Recreate".into()),
            ..Default::default()
        }),
        template: PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(identity.labels.clone()),
                annotations: (!pod_annotations.is_empty()).then_some(pod_annotations),
                ..Default::default()
            }),
            spec: Some(pod_spec(system, policy, containers, volumes.list)),
        },
        ..Default::default()
    };
    Deployment {
        metadata: meta,
        spec: Some(spec),
        ..Default::default()
    }
}

fn pod_spec(
    system: &System,
    policy: &Policy,
    containers: Vec<Container>,
    volumes: Vec<Volume>,
) -> PodSpec {
    let fs_group = system
        .services
        .iter()
        .find_map(|s| s.security_context.fs_group);
    let grace = system
        .services
        .iter()
        .filter_map(|s| s.stop_grace_period.as_ref().map(|(seconds, _)| *seconds))
        .max();
    PodSpec {
        containers,
        volumes: (!volumes.is_empty()).then_some(volumes),
        host_aliases: Some(host_aliases(system)),
        // Pods get no API credentials unless the operator hands them out on purpose.
        automount_service_account_token: Some(false),
        // Service links would inject every Service of the namespace as env vars.
        enable_service_links: Some(false),
        termination_grace_period_seconds: grace,
        security_context: Some(PodSecurityContext {
            run_as_non_root: (!policy.allow_root).then_some(true),
            fs_group,
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Each compose service name resolves to the pod itself, so services find each other by name
/// as under compose; `extra_hosts` are added beside them.
fn host_aliases(system: &System) -> Vec<HostAlias> {
    let mut by_ip: BTreeMap<String, Vec<String>> = BTreeMap::new();
    by_ip.insert(
        "127.0.0.1".into(),
        system.services.iter().map(|s| s.name.clone()).collect(),
    );
    for service in &system.services {
        for (host, ip) in &service.extra_hosts {
            let hosts = by_ip.entry(ip.clone()).or_default();
            if !hosts.contains(host) {
                hosts.push(host.clone());
            }
        }
    }
    by_ip
        .into_iter()
        .map(|(ip, hostnames)| HostAlias {
            ip,
            hostnames: Some(hostnames),
        })
        .collect()
}

/// The pod's replica count: the largest of the services' `deploy.replicas`/`scale` (one pod
/// holds them all), and where it was asked for; 1 when none asks.
pub(crate) fn replica_count(system: &System) -> (u32, Option<&Pos>) {
    system
        .services
        .iter()
        .filter_map(|s| s.replicas.as_ref())
        .fold((1, None), |(count, pos), (n, at)| match pos {
            Some(_) if *n <= count => (count, pos),
            _ => (*n, Some(at)),
        })
}

/// The pod's replica count, with a warning at each service that asked for another one.
fn replicas(system: &System, diagnostics: &mut Vec<Diagnostic>) -> i32 {
    let (count, _) = replica_count(system);
    for (n, pos) in system.services.iter().filter_map(|s| s.replicas.as_ref()) {
        if *n != count {
            diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                code: codes::INVALID_VALUE.into(),
                message: format!(
                    "all services share one pod, so the pod runs {count} replica(s), not {n}"
                ),
                path: pos.path.clone(),
                line: pos.line,
                column: pos.column,
            });
        }
    }
    count as i32
}

fn container(
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
    let gpus = limits_in
        .gpus
        .as_ref()
        .or(requests_in.gpus.as_ref())
        .map(|(n, _)| *n)
        .unwrap_or(0);
    let gpus = if gpus == 0 {
        policy.default_resources.gpus
    } else {
        gpus
    };
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

/// The pod's requests, summed over containers, as JSON for the resources annotation.
fn pod_resources(containers: &[Container], policy: &Policy) -> String {
    let mut cpu_milli = 0u64;
    let mut memory = 0u64;
    let mut gpus = 0u64;
    for c in containers {
        let Some(resources) = &c.resources else {
            continue;
        };
        let requests = resources.requests.clone().unwrap_or_default();
        let limits = resources.limits.clone().unwrap_or_default();
        cpu_milli += requests
            .get("cpu")
            .and_then(|q| crate::quantity::parse_cpus(&q.0))
            .unwrap_or(0);
        memory += requests
            .get("memory")
            .and_then(|q| crate::quantity::parse_kube_bytes(&q.0))
            .unwrap_or(0);
        gpus += limits
            .get(&policy.gpu_resource_name)
            .and_then(|q| q.0.parse::<u64>().ok())
            .unwrap_or(0);
    }
    serde_json::json!({"cpu": format_cpu(cpu_milli), "memory": format_bytes(memory), "gpus": gpus})
        .to_string()
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
            drop: Some(vec!["ALL".into()]),
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

/// The pod's volumes, each added once however many containers mount it.
#[derive(Default)]
struct PodVolumes {
    list: Vec<Volume>,
}

impl PodVolumes {
    fn add(&mut self, name: String, make: impl FnOnce(&mut Volume)) -> String {
        if !self.list.iter().any(|v| v.name == name) {
            let mut volume = Volume {
                name: name.clone(),
                ..Default::default()
            };
            make(&mut volume);
            self.list.push(volume);
        }
        name
    }
}

fn volume_mounts(
    service: &Service,
    system: &System,
    identity: &Identity,
    volumes: &mut PodVolumes,
) -> Vec<VolumeMount> {
    let mut mounts = Vec::new();
    for (i, mount) in service.volumes.iter().enumerate() {
        let name = match &mount.source {
            MountSource::Claim(claim) => volumes.add(volume_name("claim", claim), |v| {
                v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim.clone(),
                    ..Default::default()
                });
            }),
            MountSource::Named(volume) => {
                let claim_name = system
                    .volumes
                    .iter()
                    .find(|d| &d.name == volume)
                    .and_then(|d| d.external.clone())
                    .unwrap_or_else(|| claim_name(volume, identity));
                volumes.add(volume_name("volume", volume), |v| {
                    v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                        claim_name,
                        ..Default::default()
                    });
                })
            }
            MountSource::HostPath(path) => {
                volumes.add(volume_name("host", &format!("{}-{i}", service.name)), |v| {
                    v.host_path = Some(HostPathVolumeSource {
                        path: path.clone(),
                        ..Default::default()
                    });
                })
            }
            MountSource::Anonymous => volumes.add(
                volume_name("scratch", &format!("{}-{i}", service.name)),
                |v| {
                    v.empty_dir = Some(EmptyDirVolumeSource::default());
                },
            ),
        };
        mounts.push(VolumeMount {
            name,
            mount_path: mount.target.clone(),
            read_only: mount.read_only.then_some(true),
            sub_path: mount.subpath.clone(),
            ..Default::default()
        });
    }
    for (i, tmpfs) in service.tmpfs.iter().enumerate() {
        let name = volumes.add(
            volume_name("tmpfs", &format!("{}-{i}", service.name)),
            |v| {
                v.empty_dir = Some(memory_dir(tmpfs.size));
            },
        );
        mounts.push(VolumeMount {
            name,
            mount_path: tmpfs.target.clone(),
            ..Default::default()
        });
    }
    if let Some(shm) = &service.shm_size {
        let name = volumes.add(volume_name("shm", &service.name), |v| {
            v.empty_dir = Some(memory_dir(Some(shm.bytes)))
        });
        mounts.push(VolumeMount {
            name,
            mount_path: "/dev/shm".into(),
            ..Default::default()
        });
    }
    mounts
}

fn memory_dir(size: Option<u64>) -> EmptyDirVolumeSource {
    EmptyDirVolumeSource {
        medium: Some("Memory".into()),
        size_limit: size.map(|b| Quantity(format_bytes(b))),
    }
}

/// A pod volume name: `<kind>-<name>` as a DNS label, shortened to 63 characters.
fn volume_name(kind: &str, name: &str) -> String {
    let cleaned: String = format!("{kind}-{name}")
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    cleaned.trim_end_matches('-').to_string()
}

/// The claim created for a named volume: `<volume>-<guid>`.
fn claim_name(volume: &str, identity: &Identity) -> String {
    let cleaned: String = volume
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{}-{}", cleaned.trim_matches('-'), identity.guid)
}

/// The size a named volume's claim asks for: the file's, else the policy's default.
pub(crate) fn claim_size(decl: &VolumeDecl, policy: &Policy) -> String {
    decl.size
        .as_ref()
        .map(|(size, _)| size.clone())
        .unwrap_or_else(|| policy.default_volume_size.clone())
}

/// Whether a named volume gets a claim of its own: declared, not external, and mounted.
pub(crate) fn gets_claim(decl: &VolumeDecl, system: &System) -> bool {
    decl.external.is_none()
        && system
            .services
            .iter()
            .flat_map(|s| &s.volumes)
            .any(|m| m.source == MountSource::Named(decl.name.clone()))
}

/// A claim for each declared, used, non-external named volume.
pub(crate) fn claims(
    system: &System,
    identity: &Identity,
    policy: &Policy,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<PersistentVolumeClaim> {
    let mut claims = Vec::new();
    for decl in system.volumes.iter().filter(|d| gets_claim(d, system)) {
        let name = claim_name(&decl.name, identity);
        if name.len() > 63 {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: codes::NAME_TOO_LONG.into(),
                message: format!("the claim for volume `{}` would be named `{name}` ({} characters); Kubernetes allows 63, so shorten the volume name", decl.name, name.len()),
                path: decl.pos.path.clone(),
                line: decl.pos.line,
                column: decl.pos.column,
            });
            continue;
        }
        let size = claim_size(decl, policy);
        if crate::quantity::parse_kube_bytes(&size).is_none() {
            let pos = decl.size.as_ref().map_or(&decl.pos, |(_, pos)| pos);
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: codes::INVALID_QUANTITY.into(),
                message: format!("volume size `{size}` is not a Kubernetes quantity (e.g. 10Gi)"),
                path: pos.path.clone(),
                line: pos.line,
                column: pos.column,
            });
            continue;
        }
        let mut meta = identity.meta(&name);
        if !decl.labels.is_empty() {
            meta.annotations = Some(annotation_map(&decl.labels));
        }
        claims.push(PersistentVolumeClaim {
            metadata: meta,
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: (!policy.storage_class.is_empty())
                    .then(|| policy.storage_class.clone()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), Quantity(size))])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    claims
}
