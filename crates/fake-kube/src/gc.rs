//! Deletion as a real cluster finishes it, for tests that turn it on with
//! [`FakeKube::set_termination`](crate::FakeKube::set_termination): the garbage collector
//! removes the dependents of a deleted owner a moment later, not inside the DELETE; a deleted
//! pod stays, Terminating, until its containers exit or its grace period ends; a namespace stays
//! Terminating until it is empty. Without it, the fake removes an object and everything it owns
//! at once, which keeps most tests short.
//!
//! What is modelled, as the API server and kube-controller-manager do it:
//! - pods: `deletionTimestamp` = now + grace (`gracePeriodSeconds`, else the pod's
//!   `terminationGracePeriodSeconds`), gone when the containers exit; grace 0 removes at once;
//!   a second DELETE may only shorten the grace. The ReplicaSet controller replaces a
//!   terminating pod at once and does not count it.
//! - `propagationPolicy`: Background (the default) removes the owner now and its dependents at
//!   the next collection; Foreground keeps the owner, with `deletionTimestamp` and the
//!   `foregroundDeletion` finalizer, until its dependents are gone; Orphan removes the owner
//!   and takes its uid out of the dependents' `ownerReferences`.
//! - namespaces: phase Terminating, no new content (403), removed once empty.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Termination;
use crate::controller;
use crate::kinds::{self, Kind, NAMESPACES, PODS};
use crate::kubelet::SimConfig;
use crate::store::{Store, Timer, name_of, owner_uids, str_at, uid_of};
use crate::util::rfc3339_in;

const FOREGROUND: &str = "foregroundDeletion";

/// The grace period a pod DELETE asks for: the request's, else the pod's own, else 30 s.
pub(crate) fn grace_seconds(pod: &Value, opts: &Value) -> i64 {
    opts.get("gracePeriodSeconds")
        .and_then(Value::as_i64)
        .or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0)
}

pub(crate) fn is_terminating(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some()
}

fn has_foreground_finalizer(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x == FOREGROUND))
}

/// Handles one DELETE of `current` with asynchronous collection. Returns the object as it is
/// stored afterwards, or `None` once it is gone.
pub(crate) fn delete(
    store: &mut Store,
    sim: &SimConfig,
    t: Termination,
    kind: &'static Kind,
    current: &Value,
    opts: &Value,
) -> Option<Value> {
    let ns = str_at(current, "/metadata/namespace").to_string();
    let name = name_of(current).to_string();
    if kind == &PODS {
        let pod = terminate_pod(store, t, current, grace_seconds(current, opts));
        // The pod's ReplicaSet replaces it at once (a terminating pod is not counted).
        controller::reconcile_owner_of(store, sim, current);
        return pod;
    }
    if kind == &NAMESPACES {
        if !is_terminating(current) {
            let mut ns_obj = current.clone();
            ns_obj["metadata"]["deletionTimestamp"] = json!(rfc3339_in(0));
            ns_obj["status"]["phase"] = json!("Terminating");
            store.update(kind, ns_obj);
        }
        schedule_collection(store, t);
        return store.get(kind, "", &name).cloned();
    }
    match str_at(opts, "/propagationPolicy") {
        "Orphan" => {
            orphan_dependents(store, uid_of(current));
            store.remove(kind, &ns, &name);
            None
        }
        "Foreground" => {
            if !has_foreground_finalizer(current) {
                let mut owner = current.clone();
                owner["metadata"]["deletionTimestamp"] = json!(rfc3339_in(0));
                let mut finalizers = owner["metadata"]["finalizers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                finalizers.push(json!(FOREGROUND));
                owner["metadata"]["finalizers"] = json!(finalizers);
                store.update(kind, owner);
            }
            schedule_collection(store, t);
            store.get(kind, &ns, &name).cloned()
        }
        _ => {
            store.remove(kind, &ns, &name);
            schedule_collection(store, t);
            None
        }
    }
}

/// Marks a pod Terminating and arms its removal: when its containers exit (`exit_after`) or
/// when its grace period ends, whichever is first. Grace 0 removes it now. Does not reconcile
/// the owner (the caller may be that owner's controller).
pub(crate) fn terminate_pod(
    store: &mut Store,
    t: Termination,
    pod: &Value,
    grace: i64,
) -> Option<Value> {
    let ns = str_at(pod, "/metadata/namespace").to_string();
    let name = name_of(pod).to_string();
    let earlier_grace = pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    if earlier_grace.is_some_and(|g| g <= grace) {
        return Some(pod.clone()); // a second DELETE may only shorten the grace period
    }
    if grace == 0 {
        store.remove(&PODS, &ns, &name);
        schedule_collection(store, t);
        return None;
    }
    let mut terminating = pod.clone();
    terminating["metadata"]["deletionTimestamp"] = json!(rfc3339_in(grace));
    terminating["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    let terminating = store.update(&PODS, terminating);
    let gone_after = t.exit_after.min(Duration::from_secs(grace as u64));
    store.add_timer(
        Instant::now() + gone_after,
        Timer::PodGone {
            namespace: ns,
            name,
            uid: uid_of(pod).into(),
        },
    );
    Some(terminating)
}

/// A terminating pod's containers have exited (or were killed): the kubelet removes it.
pub(crate) fn pod_gone(store: &mut Store, sim: &SimConfig, ns: &str, name: &str, uid: &str) {
    let Some(pod) = store.get(&PODS, ns, name).cloned() else {
        return;
    };
    if uid_of(&pod) != uid {
        return;
    }
    store.remove(&PODS, ns, name);
    controller::reconcile_owner_of(store, sim, &pod);
    if let Some(t) = sim.termination {
        schedule_collection(store, t);
    }
}

fn orphan_dependents(store: &mut Store, owner_uid: &str) {
    let dependents: Vec<(&'static Kind, Value)> = store
        .every()
        .filter(|(_, o)| owner_uids(o).any(|u| u == owner_uid))
        .map(|(k, o)| (k, o.clone()))
        .collect();
    for (kind, mut dependent) in dependents {
        if let Some(refs) = dependent["metadata"]["ownerReferences"].as_array_mut() {
            refs.retain(|r| str_at(r, "/uid") != owner_uid);
            if refs.is_empty() {
                dependent["metadata"]
                    .as_object_mut()
                    .map(|m| m.remove("ownerReferences"));
            }
        }
        store.update(kind, dependent);
    }
}

fn schedule_collection(store: &mut Store, t: Termination) {
    store.add_timer(Instant::now() + t.collect_after, Timer::Collect);
}

/// One pass of the garbage collector and the namespace controller; arms another pass while
/// work remains that no pod removal will trigger.
pub(crate) fn collect(store: &mut Store, sim: &SimConfig) {
    let Some(t) = sim.termination else {
        return;
    };
    let mut pending = empty_terminating_namespaces(store, sim, t);
    pending |= delete_orphans(store, sim, t);
    pending |= finish_foreground_owners(store);
    if pending {
        schedule_collection(store, t);
    }
}

/// Deletes the content of terminating namespaces and removes those that are empty. True
/// while some are left.
fn empty_terminating_namespaces(store: &mut Store, sim: &SimConfig, t: Termination) -> bool {
    let doomed: Vec<String> = store
        .list(&NAMESPACES, None)
        .into_iter()
        .filter(|n| is_terminating(n))
        .map(|n| name_of(n).to_string())
        .collect();
    for ns in &doomed {
        let content: Vec<(&'static Kind, Value)> = store
            .every()
            .filter(|(k, o)| k.namespaced && str_at(o, "/metadata/namespace") == ns)
            .map(|(k, o)| (k, o.clone()))
            .collect();
        if content.is_empty() {
            store.remove(&NAMESPACES, "", ns);
            continue;
        }
        for (kind, obj) in content {
            if kind == &kinds::EVENTS {
                store.remove(kind, ns, name_of(&obj));
            } else if !is_terminating(&obj) {
                delete(store, sim, t, kind, &obj, &json!({}));
            }
        }
    }
    !doomed.is_empty()
}

/// Deletes every object none of whose owners is alive (gone, or being deleted in the
/// foreground, in which case the dependent goes in the foreground too). True if it deleted any.
fn delete_orphans(store: &mut Store, sim: &SimConfig, t: Termination) -> bool {
    let alive: std::collections::HashSet<String> = store
        .every()
        .filter(|(_, o)| !is_terminating(o))
        .map(|(_, o)| uid_of(o).to_string())
        .collect();
    let foreground: std::collections::HashSet<String> = store
        .every()
        .filter(|(_, o)| has_foreground_finalizer(o))
        .map(|(_, o)| uid_of(o).to_string())
        .collect();
    let orphans: Vec<(&'static Kind, Value, bool)> = store
        .every()
        .filter(|(k, o)| *k != &kinds::EVENTS && !is_terminating(o))
        .filter(|(_, o)| {
            owner_uids(o).next().is_some() && !owner_uids(o).any(|u| alive.contains(u))
        })
        .map(|(k, o)| (k, o.clone(), owner_uids(o).any(|u| foreground.contains(u))))
        .collect();
    let any = !orphans.is_empty();
    for (kind, obj, in_foreground) in orphans {
        let policy = if in_foreground {
            "Foreground"
        } else {
            "Background"
        };
        delete(
            store,
            sim,
            t,
            kind,
            &obj,
            &json!({"propagationPolicy": policy}),
        );
    }
    any
}

/// Removes owners deleted in the foreground once nothing they own is left. True while some
/// still wait.
fn finish_foreground_owners(store: &mut Store) -> bool {
    let waiting: Vec<(&'static Kind, Value)> = store
        .every()
        .filter(|(_, o)| has_foreground_finalizer(o))
        .map(|(k, o)| (k, o.clone()))
        .collect();
    let mut pending = false;
    for (kind, owner) in waiting {
        let uid = uid_of(&owner);
        let has_dependents = store
            .every()
            .any(|(k, o)| k != &kinds::EVENTS && owner_uids(o).any(|u| u == uid));
        if has_dependents {
            pending = true;
        } else {
            store.remove(kind, str_at(&owner, "/metadata/namespace"), name_of(&owner));
        }
    }
    pending
}
