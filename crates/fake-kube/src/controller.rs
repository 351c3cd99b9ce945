//! Simulated kube-controller-manager: what happens after a Deployment or ReplicaSet is
//! written. The Deployment controller keeps one ReplicaSet per pod template (old ones scaled to
//! zero), the ReplicaSet controller keeps `replicas` Pods, and statuses are recomputed from the
//! pods that exist. All of it runs synchronously inside the write that triggered it, so a status
//! read right after a create is already what a test expects; later changes (ready delay,
//! progress deadline) run from timers.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::gc;
use crate::kinds::{self, DEPLOYMENTS, PODS, REPLICASETS};
use crate::kubelet::{
    SimConfig, containers_started_events, is_pod_ready, pod_events, pod_status, prepare_pod,
    quota_reason, quota_refuses, record_event,
};
use crate::store::{Store, Timer, controller_of, name_of, str_at, uid_of};
use crate::util::now_rfc3339;

/// A stable, short hash of the pod template, like the `pod-template-hash` label.
fn template_hash(template: &Value) -> String {
    fn feed(v: &Value, h: &mut DefaultHasher) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    k.hash(h);
                    feed(&m[k], h);
                }
            }
            Value::Array(a) => {
                a.len().hash(h);
                a.iter().for_each(|x| feed(x, h));
            }
            other => other.to_string().hash(h),
        }
    }
    let mut h = DefaultHasher::new();
    feed(template, &mut h);
    let mut n = h.finish();
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10)
        .map(|_| {
            let c = ALPHA[(n % ALPHA.len() as u64) as usize] as char;
            n /= ALPHA.len() as u64;
            c
        })
        .collect()
}

fn owner_ref(owner: &Value) -> Value {
    json!({"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": name_of(owner),
        "uid": uid_of(owner), "controller": true, "blockOwnerDeletion": true})
}

fn revision(obj: &Value) -> i64 {
    str_at(
        obj,
        "/metadata/annotations/deployment.kubernetes.io~1revision",
    )
    .parse()
    .unwrap_or(0)
}

fn create_replicaset(store: &mut Store, dep: &Value, hash: &str, rev: i64) -> Value {
    let ns = str_at(dep, "/metadata/namespace");
    let name = format!("{}-{hash}", name_of(dep));
    let mut template = dep.pointer("/spec/template").cloned().unwrap_or(json!({}));
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = dep.pointer("/spec/selector").cloned().unwrap_or(json!({}));
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": ns, "uid": store.rng.uuid(),
            "creationTimestamp": now_rfc3339(), "generation": 1,
            "labels": template["metadata"]["labels"].clone(),
            "annotations": {"deployment.kubernetes.io/revision": rev.to_string()},
            "ownerReferences": [owner_ref(dep)]},
        "spec": {"replicas": 0, "selector": selector, "template": template},
        "status": {"replicas": 0},
    });
    let rs = store.insert(&REPLICASETS, rs);
    store
        .rollout_start
        .insert(uid_of(&rs).to_string(), Instant::now());
    let deadline = dep
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(600);
    store.add_timer(
        Instant::now() + Duration::from_secs(deadline),
        Timer::Deployment {
            namespace: ns.into(),
            name: name_of(dep).into(),
        },
    );
    rs
}

fn new_pod_for(store: &mut Store, sim: &SimConfig, rs: &Value) -> Value {
    let ns = str_at(rs, "/metadata/namespace").to_string();
    let rs_name = name_of(rs).to_string();
    let name = loop {
        let candidate = format!("{rs_name}-{}", store.rng.suffix(5));
        if store.get(&PODS, &ns, &candidate).is_none() {
            break candidate;
        }
    };
    let tmpl = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut meta = tmpl.get("metadata").cloned().unwrap_or(json!({}));
    meta["name"] = json!(name);
    meta["generateName"] = json!(format!("{rs_name}-"));
    meta["namespace"] = json!(ns);
    meta["uid"] = json!(store.rng.uuid());
    meta["creationTimestamp"] = json!(now_rfc3339());
    meta["ownerReferences"] = json!([owner_ref(rs)]);
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": tmpl.get("spec").cloned().unwrap_or(json!({}))});
    prepare_pod(store, sim, &mut pod);
    let pod = store.insert(&PODS, pod);
    pod_events(store, sim, &pod);
    pod
}

/// The pods a ReplicaSet owns that are not terminating: the ones its controller counts.
fn active_pods(store: &Store, ns: &str, rs_uid: &str) -> Vec<Value> {
    let mut pods = store.owned_by(&PODS, ns, rs_uid);
    pods.retain(|p| !gc::is_terminating(p));
    pods
}

/// Brings one ReplicaSet's pods to `desired` and refreshes its status.
fn scale_replicaset(store: &mut Store, sim: &SimConfig, mut rs: Value, desired: i64) -> Value {
    let ns = str_at(&rs, "/metadata/namespace").to_string();
    rs["spec"]["replicas"] = json!(desired);
    let mut pods = active_pods(store, &ns, uid_of(&rs));
    while pods.len() as i64 > desired {
        if let Some(p) = pods.pop() {
            match sim.termination {
                Some(t) => {
                    let grace = p
                        .pointer("/spec/terminationGracePeriodSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(30);
                    gc::terminate_pod(store, t, &p, grace);
                }
                None => {
                    store.remove_cascade(&PODS, &ns, name_of(&p));
                }
            }
        }
    }
    let spec = rs
        .pointer("/spec/template/spec")
        .cloned()
        .unwrap_or(Value::Null);
    let mut failure = None;
    // A ReplicaSet being deleted in the foreground makes no new pods.
    if (pods.len() as i64) < desired && !gc::is_terminating(&rs) {
        if quota_refuses(sim, &spec) {
            let pod_name = format!("{}-{}", name_of(&rs), store.rng.suffix(5));
            failure = Some(format!(
                "pods \"{pod_name}\" is forbidden: {}",
                quota_reason(&spec)
            ));
        } else {
            while (pods.len() as i64) < desired {
                pods.push(new_pod_for(store, sim, &rs));
            }
        }
    }
    let ready = pods.iter().filter(|p| is_pod_ready(p)).count();
    let had_failure = rs.pointer("/status/conditions").is_some();
    let mut status = json!({"observedGeneration": rs["metadata"]["generation"].clone()});
    for (k, n) in [
        ("replicas", pods.len()),
        ("fullyLabeledReplicas", pods.len()),
        ("readyReplicas", ready),
        ("availableReplicas", ready),
    ] {
        if n > 0 || k == "replicas" {
            status[k] = json!(n);
        }
    }
    if let Some(msg) = &failure {
        let prev = rs.pointer("/status/conditions/0").cloned();
        let mut c = json!({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": msg, "lastTransitionTime": now_rfc3339()});
        if let Some(p) = prev {
            c = p; // keep the first message and timestamp: the condition has not changed
        }
        status["conditions"] = json!([c]);
    }
    rs["status"] = status;
    let rs = store.update_if_changed(&REPLICASETS, rs);
    if let (Some(msg), false) = (&failure, had_failure) {
        record_event(
            store,
            &rs,
            None,
            "Warning",
            "FailedCreate",
            &format!("Error creating: {msg}"),
            "replicaset-controller",
        );
    }
    rs
}

fn max_unavailable(dep: &Value, desired: i64) -> i64 {
    if str_at(dep, "/spec/strategy/type") == "Recreate" || desired == 0 {
        return 0;
    }
    match dep.pointer("/spec/strategy/rollingUpdate/maxUnavailable") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) if s.ends_with('%') => s
            .trim_end_matches('%')
            .parse::<i64>()
            .map(|p| desired * p / 100)
            .unwrap_or(0),
        _ => desired * 25 / 100,
    }
}

/// The deployment controller's `ScalingReplicaSet` event when it changes a ReplicaSet's size.
fn scaling_event(store: &mut Store, dep: &Value, rs: &Value, to: i64) {
    let from = rs
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if from == to {
        return;
    }
    let direction = if to > from { "up" } else { "down" };
    let message = format!(
        "Scaled {direction} replica set {} from {from} to {to}",
        name_of(rs)
    );
    record_event(
        store,
        dep,
        None,
        "Normal",
        "ScalingReplicaSet",
        &message,
        "deployment-controller",
    );
}

/// Keeps the previous condition's timestamps when nothing about it changed.
fn dep_condition(
    prev: &[Value],
    type_: &str,
    ok: bool,
    reason: &str,
    message: &str,
    now: &str,
) -> Value {
    let status = if ok { "True" } else { "False" };
    let old = prev.iter().find(|c| str_at(c, "/type") == type_);
    let transition = old
        .filter(|c| str_at(c, "/status") == status)
        .map(|c| c["lastTransitionTime"].clone());
    let update = old
        .filter(|c| {
            str_at(c, "/status") == status
                && str_at(c, "/reason") == reason
                && str_at(c, "/message") == message
        })
        .map(|c| c["lastUpdateTime"].clone());
    json!({"type": type_, "status": status, "reason": reason, "message": message,
        "lastUpdateTime": update.unwrap_or(json!(now)), "lastTransitionTime": transition.unwrap_or(json!(now))})
}

/// The Deployment controller: one ReplicaSet per template, old ones scaled to zero, status
/// recomputed from the pods that exist.
pub(crate) fn reconcile(store: &mut Store, sim: &SimConfig, ns: &str, name: &str) {
    let Some(mut dep) = store.get(&DEPLOYMENTS, ns, name).cloned() else {
        return;
    };
    // Being deleted in the foreground: the garbage collector, not this controller, acts now.
    if gc::is_terminating(&dep) {
        return;
    }
    let desired = dep
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let hash = template_hash(dep.pointer("/spec/template").unwrap_or(&Value::Null));
    let owned = store.owned_by(&REPLICASETS, ns, uid_of(&dep));
    let current = match owned
        .iter()
        .find(|rs| str_at(rs, "/metadata/labels/pod-template-hash") == hash)
    {
        Some(rs) => rs.clone(),
        None => {
            let rev = owned.iter().map(revision).max().unwrap_or(0) + 1;
            create_replicaset(store, &dep, &hash, rev)
        }
    };
    let mut all_pods = Vec::new();
    for old in owned.iter().filter(|rs| name_of(rs) != name_of(&current)) {
        scaling_event(store, &dep, old, 0);
        scale_replicaset(store, sim, old.clone(), 0);
    }
    scaling_event(store, &dep, &current, desired);
    let current = scale_replicaset(store, sim, current, desired);
    for rs in store.owned_by(&REPLICASETS, ns, uid_of(&dep)) {
        all_pods.extend(active_pods(store, ns, uid_of(&rs)));
    }
    let updated = active_pods(store, ns, uid_of(&current)).len() as i64;
    let total = all_pods.len() as i64;
    let ready = all_pods.iter().filter(|p| is_pod_ready(p)).count() as i64;
    let available = ready;

    let now = now_rfc3339();
    let prev: Vec<Value> = dep
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let rs_name = name_of(&current).to_string();
    let complete = updated == desired && total == desired && available == desired;
    let deadline = dep
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(600);
    let timed_out = !complete
        && store
            .rollout_start
            .get(uid_of(&current))
            .is_some_and(|t| t.elapsed() >= Duration::from_secs(deadline));
    let mut conditions = vec![
        if available >= desired - max_unavailable(&dep, desired) {
            dep_condition(
                &prev,
                "Available",
                true,
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                &now,
            )
        } else {
            dep_condition(
                &prev,
                "Available",
                false,
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                &now,
            )
        },
        if complete {
            dep_condition(
                &prev,
                "Progressing",
                true,
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                &now,
            )
        } else if timed_out {
            dep_condition(
                &prev,
                "Progressing",
                false,
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                &now,
            )
        } else {
            dep_condition(
                &prev,
                "Progressing",
                true,
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{rs_name}\" is progressing."),
                &now,
            )
        },
    ];
    if let Some(msg) = current
        .pointer("/status/conditions/0/message")
        .and_then(Value::as_str)
    {
        conditions.push(dep_condition(
            &prev,
            "ReplicaFailure",
            true,
            "FailedCreate",
            msg,
            &now,
        ));
    }
    // The real API omits zero counts (omitempty), so callers must cope with missing fields.
    let mut status = json!({"observedGeneration": dep["metadata"]["generation"].clone(), "conditions": conditions});
    for (k, n) in [
        ("replicas", total),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("unavailableReplicas", (desired - available).max(0)),
    ] {
        if n > 0 {
            status[k] = json!(n);
        }
    }
    dep["status"] = status;
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
        json!(revision(&current).to_string());
    store.update_if_changed(&DEPLOYMENTS, dep);
}

/// After a pod or ReplicaSet changed or vanished, let the Deployment that controls it react
/// (recreate a deleted pod, recompute status), like the real controllers would.
pub(crate) fn reconcile_owner_of(store: &mut Store, sim: &SimConfig, obj: &Value) {
    let ns = str_at(obj, "/metadata/namespace").to_string();
    match controller_of(obj) {
        Some(("ReplicaSet", name)) => {
            let name = name.to_string();
            reconcile_replicaset(store, sim, &ns, &name);
        }
        Some(("Deployment", name)) => {
            let name = name.to_string();
            reconcile(store, sim, &ns, &name);
        }
        _ => {}
    }
}

/// A ReplicaSet was written: a Deployment-owned one defers to its Deployment, a bare one keeps
/// its own replica count.
pub(crate) fn reconcile_replicaset(store: &mut Store, sim: &SimConfig, ns: &str, name: &str) {
    let Some(rs) = store.get(&REPLICASETS, ns, name).cloned() else {
        return;
    };
    match controller_of(&rs) {
        Some(("Deployment", dep)) => {
            let dep = dep.to_string();
            reconcile(store, sim, ns, &dep);
        }
        _ => {
            let desired = rs
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            scale_replicaset(store, sim, rs, desired);
        }
    }
}

/// Runs one due timer.
pub(crate) fn fire(store: &mut Store, sim: &SimConfig, timer: Timer) {
    match timer {
        Timer::PodReady {
            namespace,
            name,
            uid,
        } => {
            let Some(mut pod) = store.get(&PODS, &namespace, &name).cloned() else {
                return;
            };
            if uid_of(&pod) != uid {
                return;
            }
            pod["status"] = pod_status(store, sim, &pod, false);
            let pod = store.update_if_changed(&kinds::PODS, pod);
            containers_started_events(store, sim, &pod);
            reconcile_owner_of(store, sim, &pod);
        }
        Timer::Deployment { namespace, name } => reconcile(store, sim, &namespace, &name),
        Timer::PodGone {
            namespace,
            name,
            uid,
        } => gc::pod_gone(store, sim, &namespace, &name, &uid),
        Timer::Collect => gc::collect(store, sim),
    }
}
