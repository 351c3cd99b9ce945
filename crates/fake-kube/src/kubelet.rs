//! Simulated kubelet and scheduler: the status a pod gets from the `PodBehavior` of its
//! images, and the Events they would record. Also the ResourceQuota admission verdict, since it
//! depends on the same per-image behaviors.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::PodBehavior;
use crate::kinds::{EVENTS, PODS};
use crate::storage;
use crate::store::{Store, Timer, name_of, str_at, uid_of};
use crate::util::now_rfc3339;

pub(crate) const UNSCHEDULABLE_MSG: &str = "0/3 nodes are available: 3 Insufficient cpu.";
pub(crate) const NODE: &str = "fake-node-1";
const HOST_IP: &str = "10.0.0.11";

/// Knobs set through `FakeKube` that shape simulated pods.
#[derive(Clone, Debug, Default)]
pub(crate) struct SimConfig {
    pub behaviors: Vec<(String, PodBehavior)>,
    pub ready_delay: Duration,
    /// How long Events are kept after their last write; `None`: the API server's default hour.
    pub event_ttl: Option<Duration>,
    /// Asynchronous deletion (see `gc`); `None`: deletes finish inside the request.
    pub termination: Option<crate::Termination>,
}

/// The API server's default `--event-ttl`.
pub(crate) const EVENT_TTL: Duration = Duration::from_secs(3600);

impl SimConfig {
    /// The last registered behavior whose pattern the image contains; Ready otherwise.
    pub(crate) fn behavior_for(&self, image: &str) -> PodBehavior {
        self.behaviors
            .iter()
            .rev()
            .find(|(pat, _)| image.contains(pat.as_str()))
            .map(|(_, b)| b.clone())
            .unwrap_or(PodBehavior::Ready)
    }

    fn images_behavior(&self, pod_spec: &Value) -> PodBehavior {
        containers(pod_spec)
            .iter()
            .map(|c| self.behavior_for(str_at(c, "/image")))
            .max_by_key(severity)
            .unwrap_or(PodBehavior::Ready)
    }
}

/// Which behavior wins when containers of one pod disagree: the one that stops the pod earliest.
fn severity(b: &PodBehavior) -> u8 {
    match b {
        PodBehavior::Ready | PodBehavior::RunsAsRoot => 0,
        PodBehavior::Pending => 1,
        PodBehavior::CrashLoopBackOff => 2,
        PodBehavior::ImagePullBackOff => 3,
        PodBehavior::InvalidImageName => 4,
        PodBehavior::Unschedulable => 5,
        PodBehavior::QuotaExceeded => 6,
    }
}

fn containers(pod_spec: &Value) -> Vec<Value> {
    pod_spec
        .get("containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn init_containers(pod_spec: &Value) -> Vec<Value> {
    pod_spec
        .get("initContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A native sidecar: an init container that keeps running beside the containers.
fn is_sidecar(c: &Value) -> bool {
    str_at(c, "/restartPolicy") == "Always"
}

/// A container that waits for the init containers before it to finish.
fn initializing_status(c: &Value) -> Value {
    json!({"name": str_at(c, "/name"), "image": str_at(c, "/image"), "imageID": "",
        "ready": false, "started": false, "restartCount": 0,
        "state": {"waiting": {"reason": "PodInitializing"}}, "lastState": {}})
}

/// The kubelet's view of the init containers, in order: a sidecar runs (and is ready) as a
/// container would; a plain one has completed. The first that cannot get there holds back the
/// rest and the containers (`true` in the answer).
fn init_statuses(
    store: &mut Store,
    sim: &SimConfig,
    pod: &Value,
    delayed: bool,
    now: &str,
) -> (Vec<Value>, bool) {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let mut statuses = Vec::new();
    let mut blocked = false;
    for c in init_containers(&spec) {
        if blocked {
            statuses.push(initializing_status(&c));
            continue;
        }
        let b = sim.behavior_for(str_at(&c, "/image"));
        let mut status = container_status(store, &c, &b, delayed, pod, now);
        let running = status.pointer("/state/running").is_some();
        if !is_sidecar(&c) && running {
            status["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed",
                "startedAt": now, "finishedAt": now}});
            status["ready"] = json!(false);
            status["started"] = json!(false);
        }
        // A sidecar holds the next one back until it is started (and its startup probe, which
        // is what `ready` stands for here, has passed).
        blocked = !running || (is_sidecar(&c) && status["ready"] != json!(true));
        statuses.push(status);
    }
    (statuses, blocked)
}

pub(crate) fn is_pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True")
}

fn cond(type_: &str, ok: bool, reason: Option<&str>, message: Option<&str>, now: &str) -> Value {
    let mut c = json!({"type": type_, "status": if ok { "True" } else { "False" },
        "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// The kubelet's view of one container, by the behavior of its image.
fn container_status(
    store: &mut Store,
    c: &Value,
    b: &PodBehavior,
    delayed: bool,
    pod: &Value,
    now: &str,
) -> Value {
    let (name, image) = (str_at(c, "/name"), str_at(c, "/image"));
    let running = json!({
        "name": name, "image": image, "imageID": format!("sha256:{}", store.rng.hex(64)),
        "containerID": format!("containerd://{}", store.rng.hex(64)),
        "ready": true, "started": true, "restartCount": 0,
        "state": {"running": {"startedAt": now}}, "lastState": {},
    });
    let waiting = |reason: &str, message: Option<String>| {
        let mut w = json!({"reason": reason});
        if let Some(m) = message {
            w["message"] = json!(m);
        }
        json!({"name": name, "image": image, "imageID": "", "ready": false, "started": false,
            "restartCount": 0, "state": {"waiting": w}, "lastState": {}})
    };
    if *b == PodBehavior::RunsAsRoot
        && let Some(why) = non_root_refusal(pod, c)
    {
        return waiting("CreateContainerConfigError", Some(why));
    }
    match b {
        PodBehavior::Ready | PodBehavior::RunsAsRoot if !delayed => running,
        PodBehavior::Ready | PodBehavior::RunsAsRoot | PodBehavior::Pending => {
            waiting("ContainerCreating", None)
        }
        PodBehavior::ImagePullBackOff => waiting(
            "ImagePullBackOff",
            Some(format!("Back-off pulling image \"{image}\"")),
        ),
        PodBehavior::InvalidImageName => {
            waiting("InvalidImageName", Some(invalid_image_msg(image)))
        }
        PodBehavior::CrashLoopBackOff => {
            let mut s = running;
            s["ready"] = json!(false);
            s["started"] = json!(false);
            s["restartCount"] = json!(5);
            s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!(
                "back-off 2m40s restarting failed container={name} pod={}_{}({})",
                name_of(pod), str_at(pod, "/metadata/namespace"), uid_of(pod))}});
            s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                "startedAt": now, "finishedAt": now, "containerID": s["containerID"].clone()}});
            s
        }
        // Pod-level behaviors never reach the kubelet; callers handle them.
        PodBehavior::Unschedulable | PodBehavior::QuotaExceeded => {
            waiting("ContainerCreating", None)
        }
    }
}

/// What the kubelet says when it refuses to create `container` of `pod` from an image whose
/// user is root: `runAsNonRoot` (container setting, else the pod's) is true and no non-zero
/// `runAsUser` overrides the image's user. `None` when it runs.
fn non_root_refusal(pod: &Value, container: &Value) -> Option<String> {
    let setting = |key: &str| {
        container
            .pointer(&format!("/securityContext/{key}"))
            .or_else(|| pod.pointer(&format!("/spec/securityContext/{key}")))
            .cloned()
    };
    if setting("runAsNonRoot") != Some(json!(true)) {
        return None;
    }
    let who = format!(
        "(pod: \"{}_{}({})\", container: {})",
        name_of(pod),
        str_at(pod, "/metadata/namespace"),
        uid_of(pod),
        str_at(container, "/name")
    );
    match setting("runAsUser").and_then(|u| u.as_i64()) {
        None => Some(format!(
            "container has runAsNonRoot and image will run as root {who}"
        )),
        Some(0) => Some(format!(
            "container's runAsUser breaks non-root policy {who}"
        )),
        Some(_) => None,
    }
}

fn invalid_image_msg(image: &str) -> String {
    format!(
        "Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": invalid reference format"
    )
}

/// The full `.status` of a pod; `delayed` keeps would-be-Ready containers in ContainerCreating.
pub(crate) fn pod_status(store: &mut Store, sim: &SimConfig, pod: &Value, delayed: bool) -> Value {
    let now = now_rfc3339();
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let qos = if containers(&spec).iter().any(|c| {
        c.pointer("/resources/requests").is_some() || c.pointer("/resources/limits").is_some()
    }) {
        "Burstable"
    } else {
        "BestEffort"
    };
    if let Some(why) = unschedulable(store, sim, pod) {
        return json!({"phase": "Pending", "qosClass": qos, "conditions": [
            cond("PodScheduled", false, Some("Unschedulable"), Some(&why), &now)]});
    }
    let prev = pod.get("status");
    let (init_statuses, initializing) = init_statuses(store, sim, pod, delayed, &now);
    let behaviors: Vec<(Value, PodBehavior)> = containers(&spec)
        .into_iter()
        .map(|c| {
            let b = sim.behavior_for(str_at(&c, "/image"));
            (c, b)
        })
        .collect();
    let statuses: Vec<Value> = behaviors
        .iter()
        .map(|(c, b)| {
            if initializing {
                initializing_status(c)
            } else {
                container_status(store, c, b, delayed, pod, &now)
            }
        })
        .collect();
    // Sidecars count toward the pod's readiness, as the kubelet counts them.
    let sidecars = init_statuses
        .iter()
        .zip(init_containers(&spec))
        .filter(|(_, c)| is_sidecar(c))
        .map(|(s, _)| s);
    let unready: Vec<&str> = sidecars
        .chain(statuses.iter())
        .filter(|s| s["ready"] != json!(true))
        .map(|s| s["name"].as_str().unwrap_or(""))
        .collect();
    let incomplete = format!(
        "containers with incomplete status: [{}]",
        init_statuses
            .iter()
            .filter(|s| s.pointer("/state/terminated").is_none() && s["ready"] != json!(true))
            .map(|s| str_at(s, "/name"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let pending = initializing
        || statuses.iter().any(|s| {
            matches!(
                str_at(s, "/state/waiting/reason"),
                "ContainerCreating"
                    | "ImagePullBackOff"
                    | "InvalidImageName"
                    | "CreateContainerConfigError"
            )
        });
    let ready = unready.is_empty();
    let not_ready_msg = format!("containers with unready status: [{}]", unready.join(" "));
    let (reason, msg) = if ready {
        (None, None)
    } else {
        (Some("ContainersNotReady"), Some(not_ready_msg.as_str()))
    };
    let pod_ip = match prev.and_then(|s| s.get("podIP")).and_then(Value::as_str) {
        Some(ip) => ip.to_string(),
        None => store.alloc_pod_ip(),
    };
    let start = prev
        .and_then(|s| s.get("startTime"))
        .cloned()
        .unwrap_or(json!(now));
    let mut status = json!({
        "phase": if pending { "Pending" } else { "Running" },
        "conditions": [
            cond("PodReadyToStartContainers", true, None, None, &now),
            if initializing {
                cond("Initialized", false, Some("ContainersNotInitialized"), Some(&incomplete), &now)
            } else {
                cond("Initialized", true, None, None, &now)
            },
            cond("Ready", ready, reason, msg, &now),
            cond("ContainersReady", ready, reason, msg, &now),
            cond("PodScheduled", true, None, None, &now),
        ],
        "hostIP": HOST_IP, "hostIPs": [{"ip": HOST_IP}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": start, "qosClass": qos,
        "containerStatuses": statuses,
    });
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    status
}

/// Why the scheduler leaves the pod Pending: its images say so, or a claim it mounts does not
/// exist or cannot bind (the scheduler's words for each).
fn unschedulable(store: &Store, sim: &SimConfig, pod: &Value) -> Option<String> {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    if sim.images_behavior(&spec) == PodBehavior::Unschedulable {
        return Some(UNSCHEDULABLE_MSG.into());
    }
    storage::unbindable_claims(store, pod)
}

/// Defaults and status for a pod about to be stored (API-created or controller-created).
pub(crate) fn prepare_pod(store: &mut Store, sim: &SimConfig, pod: &mut Value) {
    let spec = &mut pod["spec"];
    for (k, v) in [
        ("restartPolicy", "Always"),
        ("dnsPolicy", "ClusterFirst"),
        ("schedulerName", "default-scheduler"),
    ] {
        if spec.get(k).is_none() {
            spec[k] = json!(v);
        }
    }
    let delayed = !sim.ready_delay.is_zero();
    if unschedulable(store, sim, pod).is_none() {
        pod["spec"]["nodeName"] = json!(NODE);
        storage::bind_claims_of(store, pod);
    }
    pod["status"] = pod_status(store, sim, pod, delayed);
    if delayed {
        let timer = Timer::PodReady {
            namespace: str_at(pod, "/metadata/namespace").into(),
            name: name_of(pod).into(),
            uid: uid_of(pod).into(),
        };
        store.add_timer(Instant::now() + sim.ready_delay, timer);
    }
}

/// The scheduler's retry: pods left Pending because of their claims are placed once the
/// claims can bind (a claim or a StorageClass was created since).
pub(crate) fn schedule_waiting(store: &mut Store, sim: &SimConfig) {
    let waiting: Vec<Value> = store
        .list(&PODS, None)
        .into_iter()
        .filter(|p| p.pointer("/spec/nodeName").is_none())
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .filter(|p| unschedulable(store, sim, p).is_none())
        .cloned()
        .collect();
    for mut pod in waiting {
        prepare_pod(store, sim, &mut pod);
        let pod = store.update(&PODS, pod);
        pod_events(store, sim, &pod);
        crate::controller::reconcile_owner_of(store, sim, &pod);
    }
}

/// Stores an Event about `involved`, the way kubelet/scheduler/controllers report trouble.
pub(crate) fn record_event(
    store: &mut Store,
    involved: &Value,
    field_path: Option<String>,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = str_at(involved, "/metadata/namespace").to_string();
    let now = now_rfc3339();
    let mut obj_ref = json!({"apiVersion": involved["apiVersion"], "kind": involved["kind"],
        "name": name_of(involved), "namespace": ns, "uid": uid_of(involved),
        "resourceVersion": involved["metadata"]["resourceVersion"]});
    if let Some(f) = field_path {
        obj_ref["fieldPath"] = json!(f);
    }
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{}.{}", name_of(involved), store.rng.hex(16)), "namespace": ns,
            "uid": store.rng.uuid(), "creationTimestamp": now},
        "involvedObject": obj_ref, "reason": reason, "message": message, "type": type_,
        "count": 1, "firstTimestamp": now, "lastTimestamp": now, "eventTime": null,
        "source": {"component": component, "host": NODE},
        "reportingComponent": component, "reportingInstance": NODE,
    });
    store.insert(&EVENTS, event);
}

/// `Pulled`, `Created`, `Started` for one container, as the kubelet reports a container that
/// starts (the image counts as present on the node).
fn container_started_events(store: &mut Store, pod: &Value, container: &Value) {
    let (name, image) = (str_at(container, "/name"), str_at(container, "/image"));
    let field = Some(format!("spec.containers{{{name}}}"));
    for (reason, message) in [
        (
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        ),
        ("Created", format!("Created container: {name}")),
        ("Started", format!("Started container {name}")),
    ] {
        record_event(
            store,
            pod,
            field.clone(),
            "Normal",
            reason,
            &message,
            "kubelet",
        );
    }
}

/// The start events of every container that starts (ready and crash-looping ones): when the
/// pod is stored, or when its ready delay is over if the simulation sets one.
pub(crate) fn containers_started_events(store: &mut Store, sim: &SimConfig, pod: &Value) {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    for c in containers(&spec) {
        let starts = match sim.behavior_for(str_at(&c, "/image")) {
            PodBehavior::Ready | PodBehavior::CrashLoopBackOff => true,
            PodBehavior::RunsAsRoot => non_root_refusal(pod, &c).is_none(),
            _ => false,
        };
        if starts {
            container_started_events(store, pod, &c);
        }
    }
}

/// Events the kubelet/scheduler would emit for a freshly stored pod.
pub(crate) fn pod_events(store: &mut Store, sim: &SimConfig, pod: &Value) {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(why) = unschedulable(store, sim, pod) {
        record_event(
            store,
            pod,
            None,
            "Warning",
            "FailedScheduling",
            &why,
            "default-scheduler",
        );
        return;
    }
    let assigned = format!(
        "Successfully assigned {}/{} to {NODE}",
        str_at(pod, "/metadata/namespace"),
        name_of(pod)
    );
    record_event(
        store,
        pod,
        None,
        "Normal",
        "Scheduled",
        &assigned,
        "default-scheduler",
    );
    if sim.ready_delay.is_zero() {
        containers_started_events(store, sim, pod);
    }
    for c in containers(&spec) {
        let (name, image) = (str_at(&c, "/name"), str_at(&c, "/image"));
        let field = Some(format!("spec.containers{{{name}}}"));
        match sim.behavior_for(image) {
            PodBehavior::ImagePullBackOff => {
                let msg = format!(
                    "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": \"{image}\": not found"
                );
                record_event(
                    store,
                    pod,
                    field.clone(),
                    "Warning",
                    "Failed",
                    &msg,
                    "kubelet",
                );
                record_event(
                    store,
                    pod,
                    field,
                    "Normal",
                    "BackOff",
                    &format!("Back-off pulling image \"{image}\""),
                    "kubelet",
                );
            }
            PodBehavior::InvalidImageName => {
                record_event(
                    store,
                    pod,
                    field.clone(),
                    "Warning",
                    "InspectFailed",
                    &invalid_image_msg(image),
                    "kubelet",
                );
                record_event(
                    store,
                    pod,
                    field,
                    "Warning",
                    "Failed",
                    "Error: InvalidImageName",
                    "kubelet",
                );
            }
            PodBehavior::CrashLoopBackOff => {
                let msg = format!(
                    "Back-off restarting failed container {name} in pod {}_{}({})",
                    name_of(pod),
                    str_at(pod, "/metadata/namespace"),
                    uid_of(pod)
                );
                record_event(store, pod, field, "Warning", "BackOff", &msg, "kubelet");
            }
            PodBehavior::RunsAsRoot => {
                if let Some(why) = non_root_refusal(pod, &c) {
                    let msg = format!("Error: {why}");
                    record_event(store, pod, field, "Warning", "Failed", &msg, "kubelet");
                }
            }
            _ => {}
        }
    }
}

/// Why the ResourceQuota admission plugin refuses a pod with this spec (the part after
/// `pods "x" is forbidden: `).
pub(crate) fn quota_reason(spec: &Value) -> String {
    let req = |res: &str, default: &str| {
        let vals: Vec<String> = containers(spec)
            .iter()
            .filter_map(|c| {
                c.pointer(&format!("/resources/requests/{res}"))
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .collect();
        if vals.is_empty() {
            default.to_string()
        } else {
            vals.join("+")
        }
    };
    format!(
        "exceeded quota: compute-resources, requested: requests.cpu={},requests.memory={}, used: requests.cpu=2,requests.memory=4Gi, limited: requests.cpu=2,requests.memory=4Gi",
        req("cpu", "100m"),
        req("memory", "128Mi")
    )
}

/// True when the pod spec's images are set up to be refused by quota.
pub(crate) fn quota_refuses(sim: &SimConfig, pod_spec: &Value) -> bool {
    sim.images_behavior(pod_spec) == PodBehavior::QuotaExceeded
}
