//! StorageClasses and claim binding, as the PersistentVolume controller and the scheduler do it.
//!
//! A fresh fake has one default StorageClass, `standard`, that binds on first use
//! (WaitForFirstConsumer), as kind's and k3s's do. A claim that names no class gets the
//! default one when it is created, or later once a default class appears (retroactive
//! assignment, Kubernetes 1.28+); with no default it stays Pending. A claim binds when a pod
//! that mounts it is scheduled (WaitForFirstConsumer) or at once (Immediate); a pod that mounts
//! a claim that cannot bind stays Pending, Unschedulable, as the scheduler leaves it.

use serde_json::{Value, json};

use crate::kinds::{PVCS, STORAGECLASSES};
use crate::kubelet::{NODE, record_event};
use crate::store::{Store, name_of, str_at, uid_of};
use crate::util::now_rfc3339;

/// The annotation that makes a StorageClass the default one.
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
const DEFAULT_CLASS_POINTER: &str =
    "/metadata/annotations/storageclass.kubernetes.io~1is-default-class";

/// The StorageClass a fresh fake starts with.
pub(crate) fn standard_class(uid: String) -> Value {
    json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "standard", "uid": uid,
            "creationTimestamp": now_rfc3339(), "annotations": {DEFAULT_CLASS: "true"}},
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    })
}

/// The default StorageClass's name; with several, the newest wins, as the admission plugin
/// decides.
pub(crate) fn default_class(store: &Store) -> Option<String> {
    store
        .list(&STORAGECLASSES, None)
        .into_iter()
        .filter(|c| str_at(c, DEFAULT_CLASS_POINTER) == "true")
        .max_by_key(|c| str_at(c, "/metadata/creationTimestamp").to_string())
        .map(|c| name_of(c).to_string())
}

/// Why `claim` cannot bind now, or `None` when a scheduled pod (or, for an Immediate class,
/// nothing at all) binds it.
fn cannot_bind(store: &Store, claim: &Value) -> Option<String> {
    let class = str_at(claim, "/spec/storageClassName");
    if class.is_empty() {
        return Some(
            "no persistent volumes available for this claim and no storage class is set".into(),
        );
    }
    if store.get(&STORAGECLASSES, "", class).is_none() {
        return Some(format!("storageclass.storage.k8s.io \"{class}\" not found"));
    }
    None
}

fn binds_immediately(store: &Store, claim: &Value) -> bool {
    let class = str_at(claim, "/spec/storageClassName");
    store
        .get(&STORAGECLASSES, "", class)
        .is_some_and(|c| str_at(c, "/volumeBindingMode") != "WaitForFirstConsumer")
}

/// A claim just stored: bind it if its class binds at once, and say why if it cannot bind.
pub(crate) fn claim_stored(store: &mut Store, claim: &Value) {
    if let Some(why) = cannot_bind(store, claim) {
        let reason = if why.contains("not found") {
            "ProvisioningFailed"
        } else {
            "FailedBinding"
        };
        record_event(
            store,
            claim,
            None,
            "Warning",
            reason,
            &why,
            "persistentvolume-controller",
        );
    } else if binds_immediately(store, claim) {
        bind(store, claim.clone(), None);
    }
}

/// A StorageClass was written: claims waiting for a class it provides now get it (the default
/// one for claims that name none) and bind if it binds at once.
pub(crate) fn class_stored(store: &mut Store) {
    let default = default_class(store);
    let waiting: Vec<Value> = store
        .list(&PVCS, None)
        .into_iter()
        .filter(|c| str_at(c, "/status/phase") == "Pending")
        .cloned()
        .collect();
    for mut claim in waiting {
        if claim.pointer("/spec/storageClassName").is_none() {
            let Some(class) = &default else { continue };
            claim["spec"]["storageClassName"] = json!(class);
            claim = store.update(&PVCS, claim);
        }
        if cannot_bind(store, &claim).is_none() && binds_immediately(store, &claim) {
            bind(store, claim, None);
        }
    }
}

/// Why the scheduler cannot place a pod because of the claims it mounts, in its words.
pub(crate) fn unbindable_claims(store: &Store, pod: &Value) -> Option<String> {
    let ns = str_at(pod, "/metadata/namespace");
    let claims = claim_names(pod);
    if let Some(missing) = claims.iter().find(|c| store.get(&PVCS, ns, c).is_none()) {
        return Some(format!(
            "0/1 nodes are available: persistentvolumeclaim \"{missing}\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        ));
    }
    let unbound = claims
        .iter()
        .filter_map(|c| store.get(&PVCS, ns, c))
        .any(|c| str_at(c, "/status/phase") == "Pending" && cannot_bind(store, c).is_some());
    unbound.then(|| {
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.".to_string()
    })
}

/// The finalizer the API server puts on every claim, and the controller takes off once no pod
/// uses a deleted claim (kube-controller-manager's pvc-protection controller).
pub(crate) const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";

/// Whether a DELETE of `claim` must wait: it has the protection finalizer and a pod of its
/// namespace (running, or terminating but not yet gone) mounts it.
pub(crate) fn protected(store: &Store, claim: &Value) -> bool {
    let has_finalizer = claim
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x == PVC_PROTECTION));
    let ns = str_at(claim, "/metadata/namespace");
    let name = name_of(claim);
    has_finalizer
        && store
            .list(&crate::kinds::PODS, Some(ns))
            .into_iter()
            .any(|pod| claim_names(pod).iter().any(|c| c == name))
}

/// A DELETE of a protected claim: it stays, Terminating, until its pods are gone.
pub(crate) fn mark_deleted(store: &mut Store, mut claim: Value) -> Value {
    if claim.pointer("/metadata/deletionTimestamp").is_none() {
        claim["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        claim["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    }
    store.update(&PVCS, claim)
}

/// The pvc-protection controller: removes each deleted claim no pod mounts any more (run after
/// every change, so it follows pods however they went).
pub(crate) fn release_deleted_claims(store: &mut Store) {
    let releasable: Vec<(String, String)> = store
        .list(&PVCS, None)
        .into_iter()
        .filter(|c| c.pointer("/metadata/deletionTimestamp").is_some() && !protected(store, c))
        .map(|c| {
            (
                str_at(c, "/metadata/namespace").to_string(),
                name_of(c).to_string(),
            )
        })
        .collect();
    for (ns, name) in releasable {
        store.remove(&PVCS, &ns, &name);
    }
}

/// The claims a pod's volumes name.
pub(crate) fn claim_names(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.pointer("/persistentVolumeClaim/claimName"))
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

/// A pod is being scheduled: bind each still-Pending claim it mounts to a new volume on its
/// node (WaitForFirstConsumer).
pub(crate) fn bind_claims_of(store: &mut Store, pod: &Value) {
    let ns = str_at(pod, "/metadata/namespace").to_string();
    for name in claim_names(pod) {
        let Some(claim) = store.get(&PVCS, &ns, &name).cloned() else {
            continue;
        };
        if str_at(&claim, "/status/phase") == "Pending" && cannot_bind(store, &claim).is_none() {
            bind(store, claim, Some(NODE));
        }
    }
}

fn bind(store: &mut Store, mut claim: Value, node: Option<&str>) {
    claim["spec"]["volumeName"] = json!(format!("pvc-{}", uid_of(&claim)));
    if let Some(node) = node {
        claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] = json!(node);
    }
    let modes = claim
        .pointer("/spec/accessModes")
        .cloned()
        .unwrap_or(json!(["ReadWriteOnce"]));
    let size = claim
        .pointer("/spec/resources/requests/storage")
        .cloned()
        .unwrap_or(json!("1Gi"));
    claim["status"] =
        json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}});
    store.update_if_changed(&PVCS, claim);
}
