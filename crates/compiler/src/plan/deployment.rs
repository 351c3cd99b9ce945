//! The Deployment: one pod holding a container per compose service (Tycho's layout, so the
//! services reach each other on `localhost` and by name, as under compose), its template's
//! labels and the user's annotations, the pod-wide security settings, the replica count, and
//! the `tycho.io/…` annotations the shells read back (owner, system name, ports, resources,
//! connect target).
//!
//! The containers are built in [`super::container`], the pod's volumes in
//! [`super::pod_volumes`].

use super::PublishedPort;
use super::claim::home_mount;
use super::container::{container, startup_probe};
use super::identity::{Identity, annotation_map};
use super::pod_volumes::PodVolumes;
use super::startup::{Role, startup};
use crate::codes;
use crate::connect::ConnectTarget;
use crate::diagnostic::{Diagnostic, Severity};
use crate::labels;
use crate::model::{Pos, System};
use crate::options::{CompileOptions, Policy};
use crate::quantity::{format_bytes, format_cpu};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Container, HostAlias, PodSecurityContext, PodSpec, PodTemplateSpec, SeccompProfile, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;
use tycho_api::compiled::Resources;

/// The Deployment of a system: its one pod, and the annotations the shells read back.
pub(crate) fn deployment(
    system: &System,
    identity: &Identity,
    options: &CompileOptions,
    ports: &[PublishedPort],
    connect: Option<&ConnectTarget>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Deployment {
    let policy = &options.policy;
    let mut volumes = PodVolumes::with_home(home_mount(system, identity, policy));
    let mut built: Vec<Option<Container>> = system
        .services
        .iter()
        .map(|service| Some(container(service, system, identity, policy, &mut volumes)))
        .collect();
    let order = startup(system, policy, diagnostics);
    let mut init_containers = Vec::new();
    for &i in &order.init_order {
        let Some(mut c) = built[i].take() else {
            continue;
        };
        match order.roles[i] {
            Role::Init => {
                // The API server refuses probes on init containers that run to completion.
                c.readiness_probe = None;
                c.liveness_probe = None;
            }
            Role::Sidecar { gated } => {
                c.restart_policy = Some("Always".into());
                if gated {
                    c.startup_probe = startup_probe(&system.services[i]);
                }
            }
            Role::Main => {}
        }
        init_containers.push(c);
    }
    let containers: Vec<Container> = built.into_iter().flatten().collect();
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
            PublishedPort::to_annotation(ports),
        ),
        (
            labels::ANNOTATION_RESOURCES.to_string(),
            // What runs together: the containers and the sidecars (plain init containers
            // have finished by then).
            pod_resources(
                containers.iter().chain(
                    init_containers
                        .iter()
                        .filter(|c| c.restart_policy.is_some()),
                ),
                policy,
            )
            .to_annotation(),
        ),
    ]);
    if let Some(target) = connect {
        annotations.insert(
            labels::ANNOTATION_CONNECT.to_string(),
            serde_json::to_string(target).unwrap_or_default(),
        );
    }
    if !system.lifetime.is_empty() {
        annotations.insert(
            labels::ANNOTATION_LIFETIME.to_string(),
            serde_json::to_string(&system.lifetime).unwrap_or_default(),
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
            spec: Some(pod_spec(
                system,
                policy,
                (containers, init_containers),
                volumes.list,
            )),
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
    (containers, init_containers): (Vec<Container>, Vec<Container>),
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
        init_containers: (!init_containers.is_empty()).then_some(init_containers),
        volumes: (!volumes.is_empty()).then_some(volumes),
        host_aliases: Some(host_aliases(system)),
        // Pods get no API credentials unless the operator hands them out on purpose.
        automount_service_account_token: Some(false),
        // Service links would inject every Service of the namespace as env vars.
        enable_service_links: Some(false),
        termination_grace_period_seconds: grace,
        security_context: Some(PodSecurityContext {
            run_as_non_root: (!policy.root_allowed()).then_some(true),
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
                file: String::new(),
            });
        }
    }
    count as i32
}

/// The pod's requests, summed over containers: what the `tycho.io/resources` annotation holds.
fn pod_resources<'a>(
    containers: impl Iterator<Item = &'a Container>,
    policy: &Policy,
) -> Resources {
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
    Resources {
        cpu: format_cpu(cpu_milli),
        memory: format_bytes(memory),
        gpus: u32::try_from(gpus).unwrap_or(u32::MAX),
    }
}
