//! Phase, readiness and plain-words reasons, computed from a system's objects. Pure: the
//! Kubernetes executor lists the objects, this module only reads them (as their
//! [`super::view`]s: only the fields status needs).

use super::view::{Deployment, Pod, Service};
use k8s_openapi::jiff::Timestamp;
use std::collections::BTreeMap;
use tycho_api::{ContainerState, Phase, PortStatus, PublishedPort, Resources, SystemStatus};
use tycho_compiler::{labels, parse_cpus, parse_kube_bytes};

/// A system's objects, as listed by label.
#[derive(Debug, Default)]
pub struct Objects<'a> {
    pub deployment: Option<&'a Deployment>,
    pub pods: Vec<&'a Pod>,
    pub services: Vec<&'a Service>,
}

/// Why a system is not running, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cause {
    phase: Phase,
    reason: String,
    message: String,
    /// What the cluster or the container runtime said, as it said it (behind `message`).
    detail: String,
}

/// Computes the status of one system. `guid` is the system's label value; `namespace` is used
/// for in-cluster URLs.
pub fn compute(guid: &str, objects: &Objects<'_>, namespace: &str, now: Timestamp) -> SystemStatus {
    let dep = objects.deployment;
    let meta = dep.map(|d| &d.metadata);
    let any_labels = meta
        .and_then(|m| m.labels.as_ref())
        .or_else(|| objects.pods.iter().find_map(|p| p.metadata.labels.as_ref()))
        .or_else(|| {
            objects
                .services
                .iter()
                .find_map(|s| s.metadata.labels.as_ref())
        });
    let annotations = meta.and_then(|m| m.annotations.as_ref());
    let annotation = |key: &str| annotations.and_then(|a| a.get(key)).cloned();

    // Exactly as given, from whichever object still has it; never from the sanitised label
    // (`../bob` and `bob` share it): an owner not known exactly is empty (admins only).
    let username = annotation(labels::ANNOTATION_USERNAME)
        .or_else(|| exact_owner(objects))
        .unwrap_or_default();
    let name = annotation(labels::ANNOTATION_SYSTEM_NAME)
        .or_else(|| any_labels.and_then(|l| l.get(labels::NAME)).cloned())
        .unwrap_or_default();

    let desired = dep
        .and_then(|d| d.spec.as_ref())
        .and_then(|s| s.replicas)
        .unwrap_or(1)
        .max(0) as u32;
    let ready = dep
        .and_then(|d| d.status.as_ref())
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
        .max(0) as u32;

    let live_pods: Vec<&Pod> = objects
        .pods
        .iter()
        .copied()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();

    let terminating = dep.is_none() || meta.is_some_and(|m| m.deletion_timestamp.is_some());
    let incomplete = annotation(super::ANNOTATION_COMPLETE).is_some_and(|c| c == "false");
    let cause = if terminating {
        Some(Cause {
            phase: Phase::Terminating,
            reason: "Terminating".into(),
            message: "The system is being deleted.".into(),
            detail: String::new(),
        })
    } else if incomplete {
        Some(Cause {
            phase: Phase::Pending,
            reason: "Incomplete".into(),
            message: "Not every object of the system exists yet, so no pod runs: the start is still creating them, or it was interrupted and the system will be removed.".into(),
        detail: String::new(),
})
    } else if desired > 0 && ready >= desired {
        None
    } else {
        marked_failed(&annotation)
            .or_else(|| deployment_cause(dep))
            .or_else(|| pods_cause(&live_pods))
    };
    let (phase, reason, message, detail) = match cause {
        Some(c) => (c.phase, c.reason, c.message, c.detail),
        None if desired > 0 && ready >= desired => {
            (Phase::Running, String::new(), String::new(), String::new())
        }
        None if live_pods.is_empty() => (
            Phase::Pending,
            "NoPods".into(),
            "Waiting for the cluster to create the pod.".into(),
            String::new(),
        ),
        None => (
            Phase::Starting,
            "Starting".into(),
            "The pod is starting; not every container is ready yet.".into(),
            String::new(),
        ),
    };

    let ports = ports(
        annotation(labels::ANNOTATION_PORTS),
        &objects.services,
        namespace,
    );
    let url = ports.iter().find_map(|p| p.url.clone());
    let resources = annotation(labels::ANNOTATION_RESOURCES)
        .map(|r| Resources::from_annotation(&r))
        .unwrap_or_else(|| pods_resources(&objects.pods));
    let created_ts = meta
        .and_then(|m| m.creation_timestamp.as_ref())
        .map(|t| t.0);
    let created = created_ts.map(|t| t.to_string()).unwrap_or_default();
    let age_seconds = created_ts
        .map(|t| now.as_second().saturating_sub(t.as_second()).max(0) as u64)
        .unwrap_or(0);

    SystemStatus {
        guid: guid.to_string(),
        name,
        username,
        phase,
        ready,
        desired,
        reason,
        message,
        detail,
        ports,
        url,
        created,
        age_seconds,
        resources,
        containers: containers(dep, &live_pods),
        object_name: meta.and_then(|m| m.name.clone()).unwrap_or_default(),
        address: address(&objects.services),
        connect: annotations.and_then(tycho_compiler::connect::connect_target),
        connect_url: None,
        last_activity: annotation(super::ANNOTATION_LAST_ACTIVITY).unwrap_or_default(),
        cull_at: annotation(super::ANNOTATION_CULL_AT).unwrap_or_default(),
        cull_reason: annotation(super::ANNOTATION_CULL_REASON).unwrap_or_default(),
        warning: annotation(super::ANNOTATION_WARNING).unwrap_or_default(),
        ready_at: annotation(super::ANNOTATION_READY_AT).unwrap_or_default(),
        lifetime: annotation(labels::ANNOTATION_LIFETIME)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
    }
}

/// A failure the lifetime task marked (a start that timed out): it stands while the system
/// is not ready.
fn marked_failed(annotation: &impl Fn(&str) -> Option<String>) -> Option<Cause> {
    let reason = annotation(super::ANNOTATION_FAILED_REASON)?;
    Some(Cause {
        phase: Phase::Failed,
        message: annotation(super::ANNOTATION_FAILED_MESSAGE).unwrap_or_default(),
        reason,
        detail: String::new(),
    })
}

/// What the pods left ask for together, the terminating ones too: the resources of a system
/// whose Deployment (and its annotation) is gone while its pods stop, so a quota counts them
/// until they are gone. Summed as the compiler's annotation sums one pod: CPU and memory
/// requests of the containers and sidecars, and GPU limits (any `*gpu` resource).
fn pods_resources(pods: &[&Pod]) -> Resources {
    let (mut cpu, mut memory, mut gpus) = (0u64, 0u64, 0u64);
    let running_together = pods.iter().filter_map(|p| p.spec.as_ref()).flat_map(|s| {
        s.init_containers
            .iter()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"))
            .chain(&s.containers)
    });
    for c in running_together {
        let Some(r) = &c.resources else { continue };
        let request = |key: &str| r.requests.as_ref().and_then(|q| q.get(key));
        cpu += request("cpu").and_then(|q| parse_cpus(q)).unwrap_or(0);
        memory += request("memory")
            .and_then(|q| parse_kube_bytes(q))
            .unwrap_or(0);
        gpus += r
            .limits
            .iter()
            .flatten()
            .filter(|(k, _)| k.ends_with("gpu"))
            .filter_map(|(_, q)| q.trim().parse::<u64>().ok())
            .sum::<u64>();
    }
    if (cpu, memory, gpus) == (0, 0, 0) {
        return Resources::default();
    }
    Resources {
        cpu: format!("{cpu}m"),
        memory: memory.to_string(),
        gpus: u32::try_from(gpus).unwrap_or(u32::MAX),
    }
}

/// Failures the Deployment itself reports (quota, progress deadline).
fn deployment_cause(dep: Option<&Deployment>) -> Option<Cause> {
    let conditions = dep?.status.as_ref()?.conditions.as_ref()?;
    for c in conditions {
        if c.type_ == "ReplicaFailure" && c.status == "True" {
            let msg = c.message.clone().unwrap_or_default();
            if msg.contains("exceeded quota") || msg.contains("forbidden: exceeded") {
                return Some(Cause {
                    phase: Phase::Failed,
                    reason: "QuotaExceeded".into(),
                    message: format!(
                        "The namespace's resource quota does not leave room for this system: {msg}"
                    ),
                    detail: String::new(),
                });
            }
            return Some(Cause {
                phase: Phase::Failed,
                reason: c.reason.clone().unwrap_or_else(|| "ReplicaFailure".into()),
                message: format!("The cluster cannot create the pod: {msg}"),
                detail: String::new(),
            });
        }
        if c.type_ == "Progressing"
            && c.status == "False"
            && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        {
            return Some(Cause {
                phase: Phase::Failed,
                reason: "ProgressDeadlineExceeded".into(),
                message: "The system did not become ready in time.".into(),
                detail: String::new(),
            });
        }
    }
    None
}

/// Failures and waits the pods report, the most serious first.
fn pods_cause(pods: &[&Pod]) -> Option<Cause> {
    let mut found: Vec<Cause> = Vec::new();
    for pod in pods {
        let Some(status) = pod.status.as_ref() else {
            continue;
        };
        let statuses = status
            .init_container_statuses
            .iter()
            .flatten()
            .chain(status.container_statuses.iter().flatten());
        for cs in statuses {
            let image = cs.image.as_str();
            if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                let reason = w.reason.clone().unwrap_or_default();
                let detail = w.message.clone().unwrap_or_default();
                let cause = match reason.as_str() {
                    "ErrImagePull" | "ImagePullBackOff" => Some(Cause {
                        phase: Phase::Failed,
                        reason: reason.clone(),
                        message: format!(
                            "The image \"{image}\" of container \"{}\" cannot be pulled: check its name and tag, and that the registry is reachable and allows access.",
                            cs.name
                        ),
                        detail: detail.to_string(),
                    }),
                    "InvalidImageName" => Some(Cause {
                        phase: Phase::Failed,
                        reason: reason.clone(),
                        message: format!(
                            "The image name \"{image}\" of container \"{}\" is not valid.",
                            cs.name
                        ),
                        detail: detail.to_string(),
                    }),
                    "CrashLoopBackOff" => {
                        let exit = cs
                            .last_state
                            .as_ref()
                            .and_then(|s| s.terminated.as_ref())
                            .map(|t| format!(" (last exit code {})", t.exit_code))
                            .unwrap_or_default();
                        Some(Cause {
                            phase: Phase::Failed,
                            reason: reason.clone(),
                            message: format!(
                                "Container \"{}\" keeps crashing: restarted {} times{exit}. Check its logs.",
                                cs.name, cs.restart_count
                            ),
                            detail: String::new(),
                        })
                    }
                    // The kubelet's words when the restricted profile meets an image whose USER is
                    // root: say both ways out, the user's and the operator's.
                    "CreateContainerConfigError" if detail.contains("image will run as root") => {
                        Some(Cause {
                            phase: Phase::Failed,
                            reason: "RunsAsRoot".into(),
                            message: format!(
                                "The image \"{image}\" of container \"{}\" runs as root, which this server's policy does not allow: give the service a numeric `user:` (e.g. user: \"1000\") if the image supports running as another user, or ask the operator for the `baseline` profile.",
                                cs.name
                            ),
                            detail: String::new(),
                        })
                    }
                    "CreateContainerConfigError" | "CreateContainerError" | "RunContainerError" => {
                        Some(Cause {
                            phase: Phase::Failed,
                            reason: reason.clone(),
                            message: format!("Container \"{}\" cannot be created.", cs.name),
                            detail: detail.to_string(),
                        })
                    }
                    _ => None,
                };
                found.extend(cause);
            }
        }
        for c in status.conditions.iter().flatten() {
            if c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
            {
                let detail = c.message.as_deref().unwrap_or_default();
                if let Some(claim) = missing_claim(detail) {
                    found.push(Cause {
                        phase: Phase::Pending,
                        reason: "ClaimNotFound".into(),
                        message: format!(
                            "The volume claim \"{claim}\" does not exist, so the pod cannot be scheduled: create it or fix the volume's claim name."
                        ),
                    detail: String::new(),
});
                    continue;
                }
                found.push(Cause {
                    phase: Phase::Pending,
                    reason: "Unschedulable".into(),
                    message: "No node can run this system now (not enough CPU, memory or GPUs, or no matching node).".into(),
 detail: c.message.as_deref().unwrap_or_default().to_string(),
                });
            }
        }
    }
    // Failed beats Pending: a system that cannot pull its image will not start when scheduled.
    found.sort_by_key(|c| match c.phase {
        Phase::Failed => 0,
        _ => 1,
    });
    found.into_iter().next()
}

/// The claim named in the scheduler's `persistentvolumeclaim "x" not found`.
fn missing_claim(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("persistentvolumeclaim \"")?;
    let (claim, rest) = rest.split_once('"')?;
    rest.trim_start().starts_with("not found").then_some(claim)
}

/// The username annotation of any pod or Service (the executor writes it on every object).
fn exact_owner(objects: &Objects<'_>) -> Option<String> {
    let pods = objects.pods.iter().map(|p| &p.metadata);
    let services = objects.services.iter().map(|s| &s.metadata);
    pods.chain(services)
        .find_map(|m| m.annotations.as_ref()?.get(labels::ANNOTATION_USERNAME))
        .cloned()
}

fn ports(annotation: Option<String>, services: &[&Service], namespace: &str) -> Vec<PortStatus> {
    let published = annotation
        .map(|a| PublishedPort::from_annotation(&a))
        .unwrap_or_default();
    let service = services
        .iter()
        .find(|s| s.metadata.deletion_timestamp.is_none());
    let service_name = service.and_then(|s| s.metadata.name.clone());
    let lb_host = service
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .and_then(|i| i.first())
        .and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()));
    published
        .into_iter()
        .map(|p| {
            let spec_port = service
                .and_then(|s| s.spec.as_ref())
                .and_then(|s| s.ports.as_ref())
                .and_then(|ports| {
                    ports.iter().find(|sp| {
                        sp.port == i32::from(p.port)
                            && sp.protocol.as_deref().unwrap_or("TCP") == p.protocol
                    })
                });
            let node_port = spec_port
                .and_then(|sp| sp.node_port)
                .and_then(|n| u16::try_from(n).ok());
            let url = match (&lb_host, &service_name) {
                _ if p.protocol != "TCP" => None,
                (Some(host), _) => Some(format!("http://{host}:{}/", p.port)),
                (None, Some(svc)) => Some(format!("http://{svc}.{namespace}.svc:{}/", p.port)),
                (None, None) => None,
            };
            PortStatus {
                published: p,
                node_port,
                url,
            }
        })
        .collect()
}

fn address(services: &[&Service]) -> String {
    let Some(service) = services.first() else {
        return String::new();
    };
    service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .and_then(|i| i.first())
        .and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()))
        .or_else(|| service.spec.as_ref().and_then(|s| s.cluster_ip.clone()))
        .filter(|ip| ip != "None")
        .unwrap_or_default()
}

/// Every service's container: the pod's init containers (the services others `depends_on`,
/// in the order they start) and its containers.
fn containers(dep: Option<&Deployment>, pods: &[&Pod]) -> Vec<ContainerState> {
    let pod_spec = dep
        .and_then(|d| d.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref());
    let spec_containers: Vec<_> = pod_spec
        .into_iter()
        .flat_map(|s| s.init_containers.iter().chain(&s.containers))
        .collect();
    let statuses: Vec<_> = pods
        .iter()
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        })
        .collect();
    spec_containers
        .iter()
        .map(|c| {
            let cs = statuses.iter().find(|s| s.name == c.name);
            let (state, reason) = match cs.and_then(|s| s.state.as_ref()) {
                Some(s) if s.running.is_some() => ("running", String::new()),
                Some(s) if s.terminated.is_some() => (
                    "terminated",
                    s.terminated
                        .as_ref()
                        .and_then(|t| t.reason.clone())
                        .unwrap_or_default(),
                ),
                Some(s) => (
                    "waiting",
                    s.waiting
                        .as_ref()
                        .and_then(|w| w.reason.clone())
                        .unwrap_or_default(),
                ),
                None => ("waiting", String::new()),
            };
            let limits: BTreeMap<String, String> = c
                .resources
                .as_ref()
                .and_then(|r| r.limits.as_ref())
                .cloned()
                .unwrap_or_default();
            ContainerState {
                name: c.name.clone(),
                image: c.image.clone().unwrap_or_default(),
                ready: cs.is_some_and(|s| s.ready),
                restarts: cs.map(|s| s.restart_count).unwrap_or(0),
                state: state.into(),
                reason,
                limits,
            }
        })
        .collect()
}

/// The original Tycho's creation-time format: `M-D-YYYY H:M:S` (UTC, no zero padding).
pub fn compat_time(rfc3339: &str) -> String {
    let Ok(ts) = rfc3339.parse::<Timestamp>() else {
        return String::new();
    };
    let dt = ts.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC).datetime();
    format!(
        "{}-{}-{} {}:{}:{}",
        dt.month(),
        dt.day(),
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(extra_status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {
                "name": "web-abc", "uid": "u1",
                "creationTimestamp": "2026-01-02T03:04:05Z",
                "labels": {"executor": "tycho", "tycho-guid": "abc", "username": "alice"},
                "annotations": {
                    "tycho.io/username": "alice@example.org",
                    "tycho.io/system-name": "web",
                    "tycho.io/ports": "[{\"service\":\"web\",\"containerPort\":8080,\"port\":80,\"protocol\":\"TCP\"}]",
                    "tycho.io/resources": "{\"cpu\":\"250m\",\"memory\":\"256Mi\",\"gpus\":0}"
                }
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"tycho-guid": "abc"}},
                "template": {"spec": {"containers": [{
                    "name": "web", "image": "nginx:bad",
                    "resources": {"limits": {"cpu": "1", "memory": "512Mi"}}
                }]}}
            },
            "status": extra_status
        }))
        .unwrap()
    }

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-abc-x", "labels": {"tycho-guid": "abc"}},
            "status": status
        }))
        .unwrap()
    }

    fn service() -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web-abc", "labels": {"tycho-guid": "abc"}},
            "spec": {"clusterIP": "10.0.0.7", "type": "NodePort",
                     "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080, "name": "web-80"}]}
        }))
        .unwrap()
    }

    fn now() -> Timestamp {
        "2026-01-02T03:05:05Z".parse().unwrap()
    }

    fn run(d: &Deployment, pods: &[Pod], services: &[Service]) -> SystemStatus {
        let objects = Objects {
            deployment: Some(d),
            pods: pods.iter().collect(),
            services: services.iter().collect(),
        };
        compute("abc", &objects, "ns1", now())
    }

    #[test]
    fn ready_deployment_is_running_with_ports_and_age() {
        let d = dep(json!({"replicas": 1, "readyReplicas": 1}));
        let s = run(&d, &[], &[service()]);
        assert_eq!(s.phase, Phase::Running);
        assert_eq!((s.ready, s.desired), (1, 1));
        assert_eq!(s.username, "alice@example.org");
        assert_eq!(s.name, "web");
        assert_eq!(s.age_seconds, 60);
        assert_eq!(s.created, "2026-01-02T03:04:05Z");
        assert_eq!(s.ports[0].node_port, Some(30080));
        assert_eq!(s.url.as_deref(), Some("http://web-abc.ns1.svc:80/"));
        assert_eq!(s.resources.cpu, "250m");
        assert_eq!(s.address, "10.0.0.7");
        assert_eq!(s.containers[0].limits["memory"], "512Mi");
        assert!(s.reason.is_empty());
    }

    #[test]
    fn image_pull_backoff_is_a_failure_in_plain_words() {
        let d = dep(json!({"replicas": 1}));
        let p = pod(json!({"containerStatuses": [{
            "name": "web", "image": "nginx:bad", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
        }]}));
        let s = run(&d, &[p], &[]);
        assert_eq!(s.phase, Phase::Failed);
        assert_eq!(s.reason, "ImagePullBackOff");
        assert!(s.message.contains("cannot be pulled"), "{}", s.message);
        assert!(s.message.contains("nginx:bad"));
        // The runtime's own words are beside the sentence, not in it.
        assert!(!s.message.contains("Back-off"), "{}", s.message);
        assert_eq!(s.detail, "Back-off pulling image");
        assert_eq!(s.containers[0].state, "waiting");
    }

    #[test]
    fn an_image_that_runs_as_root_gets_one_plain_sentence_with_both_ways_out() {
        let d = dep(json!({"replicas": 1}));
        let p = pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "db", "image": "postgres:16", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "CreateContainerConfigError",
                "message": "container has runAsNonRoot and image will run as root (pod: \"x\", container: db)"}}
        }]}));
        let s = run(&d, &[p], &[]);
        assert_eq!((s.phase, s.reason.as_str()), (Phase::Failed, "RunsAsRoot"));
        for part in [
            "runs as root",
            "numeric `user:`",
            "`baseline` profile",
            "postgres:16",
        ] {
            assert!(s.message.contains(part), "{}", s.message);
        }
    }

    #[test]
    fn invalid_image_and_crash_loop() {
        let d = dep(json!({"replicas": 1}));
        let p = pod(json!({"containerStatuses": [{
            "name": "web", "image": "UPPER", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "InvalidImageName"}}
        }]}));
        assert_eq!(run(&d, &[p], &[]).reason, "InvalidImageName");
        let p = pod(json!({"containerStatuses": [{
            "name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 5,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 137}}
        }]}));
        let s = run(&d, &[p], &[]);
        assert_eq!(
            (s.phase, s.reason.as_str()),
            (Phase::Failed, "CrashLoopBackOff")
        );
        assert!(
            s.message.contains("restarted 5 times (last exit code 137)"),
            "{}",
            s.message
        );
    }

    #[test]
    fn unschedulable_is_pending_with_reason() {
        let d = dep(json!({"replicas": 1}));
        let p = pod(json!({"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu."
        }]}));
        let s = run(&d, &[p], &[]);
        assert_eq!(s.phase, Phase::Pending);
        assert_eq!(s.reason, "Unschedulable");
        assert!(
            s.message.starts_with("No node can run this system now"),
            "{}",
            s.message
        );
        // Which resource is short is the scheduler's own detail.
        assert!(s.detail.contains("Insufficient cpu"), "{}", s.detail);
    }

    #[test]
    fn quota_exceeded_from_replica_failure() {
        let d = dep(json!({"replicas": 1, "conditions": [{
            "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": "pods \"web-abc-1\" is forbidden: exceeded quota: q, requested: cpu=1, used: cpu=4, limited: cpu=4"
        }]}));
        let s = run(&d, &[], &[]);
        assert_eq!(
            (s.phase, s.reason.as_str()),
            (Phase::Failed, "QuotaExceeded")
        );
        assert!(s.message.contains("quota"));
    }

    #[test]
    fn no_pods_yet_is_pending_and_scheduled_pod_is_starting() {
        let d = dep(json!({"replicas": 1}));
        assert_eq!(run(&d, &[], &[]).phase, Phase::Pending);
        let p = pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}
        }]}));
        assert_eq!(run(&d, &[p], &[]).phase, Phase::Starting);
    }

    #[test]
    fn deleted_or_missing_deployment_is_terminating() {
        let mut d = dep(json!({"replicas": 1, "readyReplicas": 1}));
        d.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
        assert_eq!(run(&d, &[], &[]).phase, Phase::Terminating);
        let p = pod(json!({}));
        let objects = Objects {
            deployment: None,
            pods: vec![&p],
            services: vec![],
        };
        assert_eq!(
            compute("abc", &objects, "ns", now()).phase,
            Phase::Terminating
        );
    }

    #[test]
    fn a_missing_claim_is_named() {
        let d = dep(json!({"replicas": 1}));
        let p = pod(json!({"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available: persistentvolumeclaim \"data-abc\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        }]}));
        let s = run(&d, &[p], &[]);
        assert_eq!(
            (s.phase, s.reason.as_str()),
            (Phase::Pending, "ClaimNotFound")
        );
        assert!(
            s.message.contains("\"data-abc\" does not exist"),
            "{}",
            s.message
        );
        assert!(!s.message.contains("CPU"), "{}", s.message);
    }

    #[test]
    fn an_incomplete_system_says_so() {
        let mut d = dep(json!({}));
        d.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(crate::executor::ANNOTATION_COMPLETE.into(), "false".into());
        let s = run(&d, &[], &[]);
        assert_eq!((s.phase, s.reason.as_str()), (Phase::Pending, "Incomplete"));
    }

    #[test]
    fn the_owner_is_exact_or_unknown_never_the_sanitised_label() {
        let mut labelled = pod(json!({}));
        labelled.metadata.labels = Some(
            [("tycho-guid", "abc"), ("username", "bob")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
        );
        let objects = Objects {
            deployment: None,
            pods: vec![&labelled],
            services: vec![],
        };
        assert_eq!(compute("abc", &objects, "ns", now()).username, "");
        let mut annotated = labelled.clone();
        annotated.metadata.annotations =
            Some([("tycho.io/username".to_string(), "../bob".to_string())].into());
        let objects = Objects {
            deployment: None,
            pods: vec![&annotated],
            services: vec![],
        };
        assert_eq!(compute("abc", &objects, "ns", now()).username, "../bob");
    }

    #[test]
    fn compat_time_format() {
        assert_eq!(compat_time("2026-01-02T03:04:05Z"), "1-2-2026 3:4:5");
        assert_eq!(compat_time("garbage"), "");
    }
}
