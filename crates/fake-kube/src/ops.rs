//! The API verbs (get, list, create, replace, patch, delete, deletecollection) against the
//! store, with the admission, defaulting and validation the real server applies.

use serde_json::{Value, json};

use crate::controller;
use crate::defaults::{defaults, pod_spec_defaults};
use crate::gc;
use crate::kinds::{
    DEPLOYMENTS, Kind, NAMESPACES, PODS, PVCS, REPLICASETS, SERVICES, STORAGECLASSES,
};
use crate::kubelet::{self, SimConfig};
use crate::patch::{json_patch, merge_patch};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, Cause};
use crate::storage;
use crate::store::{Store, name_of, str_at, uid_of};
use crate::util::{now_rfc3339, rfc3339_in};
use crate::validate;

/// Namespaces the real server refuses to delete.
const PROTECTED_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    /// Offset into the result, from a previous page's `continue` token.
    pub offset: usize,
}

pub(crate) fn get(store: &Store, kind: &Kind, ns: &str, name: &str) -> Result<Value, ApiError> {
    store
        .get(kind, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(kind, name))
}

pub(crate) fn matching<'a>(
    store: &'a Store,
    kind: &Kind,
    ns: Option<&str>,
    q: &ListQuery,
) -> Vec<&'a Value> {
    store
        .list(kind, ns)
        .into_iter()
        .filter(|o| q.labels.matches_object(o) && q.fields.matches(o))
        .collect()
}

/// The list answer as JSON text. Items are the objects' JSON as serialised when they were
/// stored, so a list copies bytes instead of cloning and re-serialising every object.
pub(crate) fn list(store: &Store, kind: &Kind, ns: Option<&str>, q: &ListQuery) -> String {
    let all: Vec<&str> = store
        .entries(kind, ns)
        .filter(|e| q.labels.matches_object(&e.value) && q.fields.matches(&e.value))
        .map(|e| &*e.json)
        .collect();
    let end = q
        .limit
        .filter(|l| *l > 0)
        .map_or(all.len(), |l| (q.offset + l).min(all.len()));
    let items = all.get(q.offset.min(all.len())..end).unwrap_or_default();
    let mut meta = json!({"resourceVersion": store.resource_version().to_string()});
    if end < all.len() {
        meta["continue"] = json!(format!("fake-kube-offset-{end}"));
        meta["remainingItemCount"] = json!(all.len() - end);
    }
    let head = json!({"kind": format!("{}List", kind.kind), "apiVersion": kind.api_version(), "metadata": meta});
    let head = head.to_string();
    let size = head.len() + items.iter().map(|i| i.len() + 1).sum::<usize>() + 16;
    let mut out = String::with_capacity(size);
    // `{…head fields…,"items":[…]}`: the head object without its closing brace.
    out.push_str(&head[..head.len() - 1]);
    out.push_str(",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push_str("]}");
    out
}

fn bad_body() -> ApiError {
    ApiError::bad_request(
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
    )
}

/// The body's apiVersion/kind, when present, must be this resource's.
fn check_type(kind: &Kind, obj: &Value) -> Result<(), ApiError> {
    let av = str_at(obj, "/apiVersion");
    if !av.is_empty() && av != kind.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            kind.api_version()
        )));
    }
    let k = str_at(obj, "/kind");
    if !k.is_empty() && k != kind.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            kind.kind
        )));
    }
    Ok(())
}

fn invalid_if_any(kind: &Kind, name: &str, causes: Vec<Cause>) -> Result<(), ApiError> {
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(kind, name, &causes))
    }
}

fn generate_name(store: &mut Store, kind: &Kind, ns: &str, prefix: &str) -> String {
    loop {
        let name = format!("{prefix}{}", store.rng.suffix(5));
        if store.get(kind, ns, &name).is_none() {
            return name;
        }
    }
}

pub(crate) fn create(
    store: &mut Store,
    sim: &SimConfig,
    kind: &'static Kind,
    ns: Option<&str>,
    mut obj: Value,
) -> Result<Value, ApiError> {
    if !obj.is_object() {
        return Err(bad_body());
    }
    check_type(kind, &obj)?;
    obj["apiVersion"] = json!(kind.api_version());
    obj["kind"] = json!(kind.kind);
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    let ns = if kind.namespaced {
        let path_ns = ns.ok_or_else(ApiError::method_not_allowed)?;
        let body_ns = str_at(&obj, "/metadata/namespace");
        if !body_ns.is_empty() && body_ns != path_ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        obj["metadata"]["namespace"] = json!(path_ns);
        path_ns.to_string()
    } else {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        String::new()
    };
    // NamespaceLifecycle admission runs before validation, as in the real server.
    if kind.namespaced && !store.namespace_exists(&ns) {
        return Err(ApiError::namespace_not_found(&ns));
    }
    if kind.namespaced
        && store
            .get(&NAMESPACES, "", &ns)
            .is_some_and(gc::is_terminating)
    {
        let name = match name_of(&obj) {
            "" => str_at(&obj, "/metadata/generateName"),
            n => n,
        };
        let why = format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        );
        return Err(ApiError::forbidden(kind, name, &why));
    }
    if name_of(&obj).is_empty() {
        let prefix = str_at(&obj, "/metadata/generateName").to_string();
        if prefix.is_empty() {
            let cause = Cause {
                field: "metadata.name".into(),
                reason: "FieldValueRequired",
                detail: "Required value: name or generateName is required".into(),
            };
            return Err(ApiError::invalid(kind, "", &[cause]));
        }
        obj["metadata"]["name"] = json!(generate_name(store, kind, &ns, &prefix));
    }
    let name = name_of(&obj).to_string();
    invalid_if_any(kind, &name, validate::object(kind, &obj))?;
    if store.get(kind, &ns, &name).is_some() {
        return Err(ApiError::already_exists(kind, &name));
    }
    if kind == &PODS && kubelet::quota_refuses(sim, &obj["spec"]) {
        return Err(ApiError::forbidden(
            kind,
            &name,
            &kubelet::quota_reason(&obj["spec"]),
        ));
    }
    let meta = obj["metadata"].as_object_mut().ok_or_else(bad_body)?;
    for k in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    ] {
        meta.remove(k);
    }
    meta.insert("uid".into(), json!(store.rng.uuid()));
    meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
    if kind.has_generation {
        meta.insert("generation".into(), json!(1));
    }
    if kind.has_status {
        // Status is written by controllers, never by a create.
        obj.as_object_mut().map(|o| o.remove("status"));
    }
    defaults(store, kind, &mut obj, None)?;
    if kind == &PODS {
        kubelet::prepare_pod(store, sim, &mut obj);
    }
    let stored = store.insert(kind, obj);
    storage_written(store, sim, kind, &stored, true);
    if kind == &PODS {
        kubelet::pod_events(store, sim, &stored);
    } else if kind == &DEPLOYMENTS {
        controller::reconcile(store, sim, &ns, &name);
    } else if kind == &REPLICASETS {
        controller::reconcile_replicaset(store, sim, &ns, &name);
    }
    Ok(stored)
}

/// After a claim or a StorageClass is written: bind what can bind, then let the scheduler
/// place the pods that waited for it.
fn storage_written(store: &mut Store, sim: &SimConfig, kind: &Kind, obj: &Value, created: bool) {
    if kind == &PVCS && created {
        storage::claim_stored(store, obj);
    } else if kind == &STORAGECLASSES {
        storage::class_stored(store);
    } else {
        return;
    }
    kubelet::schedule_waiting(store, sim);
}

fn immutable(kind: &Kind, name: &str, field: &str, value: &Value) -> ApiError {
    ApiError::invalid(
        kind,
        name,
        &[Cause::invalid(
            field,
            &value.to_string(),
            "field is immutable",
        )],
    )
}

/// Shared tail of PUT and PATCH: `candidate` is the object the client wants; `current` is stored.
fn write(
    store: &mut Store,
    sim: &SimConfig,
    kind: &'static Kind,
    current: Value,
    candidate: Value,
    status_only: bool,
) -> Result<Value, ApiError> {
    if !candidate.is_object() {
        return Err(bad_body());
    }
    let name = name_of(&current).to_string();
    let ns = str_at(&current, "/metadata/namespace").to_string();
    let mut new = if status_only {
        let mut c = current.clone();
        c["status"] = candidate.get("status").cloned().unwrap_or(Value::Null);
        c
    } else {
        check_type(kind, &candidate)?;
        let mut c = candidate;
        if kind.has_status {
            match current.get("status") {
                Some(s) => c["status"] = s.clone(),
                None => {
                    c.as_object_mut().map(|o| o.remove("status"));
                }
            }
        }
        c
    };
    new["apiVersion"] = json!(kind.api_version());
    new["kind"] = json!(kind.kind);
    if !new["metadata"].is_object() {
        new["metadata"] = json!({});
    }
    for k in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "generateName",
        "deletionTimestamp",
    ] {
        match current["metadata"].get(k) {
            Some(v) => new["metadata"][k] = v.clone(),
            None => {
                new["metadata"].as_object_mut().map(|m| m.remove(k));
            }
        }
    }
    let spec_changed = current.get("spec") != new.get("spec");
    if kind.has_generation {
        let g = current
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        new["metadata"]["generation"] = json!(if spec_changed { g + 1 } else { g });
    }
    if !status_only {
        invalid_if_any(kind, &name, validate::object(kind, &new))?;
        if (kind == &DEPLOYMENTS || kind == &REPLICASETS)
            && current.pointer("/spec/selector") != new.pointer("/spec/selector")
        {
            return Err(immutable(
                kind,
                &name,
                "spec.selector",
                new.pointer("/spec/selector").unwrap_or(&Value::Null),
            ));
        }
        if kind == &PODS {
            let strip = |spec: &Value| {
                let mut s = spec.clone();
                for c in s
                    .get_mut("containers")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    c["image"] = Value::Null;
                }
                s
            };
            let (mut a, mut b) = (current["spec"].clone(), new["spec"].clone());
            pod_spec_defaults(&mut b);
            pod_spec_defaults(&mut a);
            if strip(&a) != strip(&b) {
                let why = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";
                return Err(ApiError::invalid(
                    kind,
                    &name,
                    &[Cause::forbidden("spec", why)],
                ));
            }
        }
        defaults(store, kind, &mut new, Some(&current))?;
    }
    let stored = store.update_if_changed(kind, new);
    storage_written(store, sim, kind, &stored, false);
    if !status_only {
        if kind == &DEPLOYMENTS {
            controller::reconcile(store, sim, &ns, &name);
        } else if kind == &REPLICASETS {
            controller::reconcile_replicaset(store, sim, &ns, &name);
        }
    }
    Ok(stored)
}

pub(crate) fn replace(
    store: &mut Store,
    sim: &SimConfig,
    kind: &'static Kind,
    ns: &str,
    name: &str,
    body: Value,
    status_only: bool,
) -> Result<Value, ApiError> {
    let body_name = str_at(&body, "/metadata/name");
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let current = get(store, kind, ns, name)?;
    let rv = str_at(&body, "/metadata/resourceVersion");
    if !rv.is_empty() && rv != str_at(&current, "/metadata/resourceVersion") {
        return Err(ApiError::stale(kind, name));
    }
    write(store, sim, kind, current, body, status_only)
}

pub(crate) struct PatchRequest<'a> {
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub field_manager: Option<&'a str>,
    pub status_only: bool,
}

pub(crate) fn patch(
    store: &mut Store,
    sim: &SimConfig,
    kind: &'static Kind,
    ns: &str,
    name: &str,
    req: PatchRequest,
) -> Result<Value, ApiError> {
    let ct = req.content_type.split(';').next().unwrap_or("").trim();
    let patch: Value = serde_json::from_slice(req.body).map_err(|e| {
        ApiError::bad_request(format!(
            "error decoding patch (fake-kube accepts JSON bodies only): {e}"
        ))
    })?;
    let current = store.get(kind, ns, name).cloned();
    let mut candidate = match (ct, current.as_ref()) {
        ("application/apply-patch+yaml", _) if req.field_manager.is_none_or(str::is_empty) => {
            return Err(ApiError::bad_request(
                "PATCH with apply requires a fieldManager query parameter",
            ));
        }
        // Server-side apply of a missing object creates it; ownership tracking is not modelled.
        ("application/apply-patch+yaml", None) => {
            let mut obj = patch;
            if name_of(&obj).is_empty() {
                obj["metadata"]["name"] = json!(name);
            }
            return create(store, sim, kind, kind.namespaced.then_some(ns), obj);
        }
        // Strategic merge is treated as a plain merge: lists are replaced, not merged by key.
        (
            "application/apply-patch+yaml"
            | "application/merge-patch+json"
            | "application/strategic-merge-patch+json",
            Some(cur),
        ) => {
            let mut c = cur.clone();
            merge_patch(&mut c, &patch);
            c
        }
        ("application/json-patch+json", Some(cur)) => {
            let mut c = cur.clone();
            json_patch(&mut c, &patch).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
            c
        }
        (
            "application/merge-patch+json"
            | "application/strategic-merge-patch+json"
            | "application/json-patch+json",
            None,
        ) => {
            return Err(ApiError::not_found(kind, name));
        }
        _ => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got {ct:?}"
                ),
            ));
        }
    };
    let current = current.ok_or_else(|| ApiError::not_found(kind, name))?;
    let wanted_rv = patch
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !wanted_rv.is_empty() && wanted_rv != str_at(&current, "/metadata/resourceVersion") {
        return Err(ApiError::stale(kind, name));
    }
    if candidate.get("metadata").is_none() {
        candidate["metadata"] = json!({});
    }
    write(store, sim, kind, current, candidate, req.status_only)
}

/// What a DELETE answers: the real server returns the object while it is still terminating
/// (pods, namespaces, foreground deletion) or for kinds registered with ReturnDeletedObject
/// (services), and a Success Status otherwise. Callers of `Api::delete` must handle both arms.
fn delete_response(kind: &Kind, obj: &Value, opts: &Value) -> Value {
    let foreground = str_at(opts, "/propagationPolicy") == "Foreground";
    let mut out = obj.clone();
    if kind == &NAMESPACES {
        out["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        out["status"]["phase"] = json!("Terminating");
    } else if kind == &PODS {
        let grace = gc::grace_seconds(obj, opts);
        out["metadata"]["deletionTimestamp"] = json!(rfc3339_in(grace));
        out["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    } else if foreground {
        out["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        out["metadata"]["finalizers"] = json!(["foregroundDeletion"]);
    } else if kind != &SERVICES {
        let mut details = json!({"name": name_of(obj), "kind": kind.plural, "uid": uid_of(obj)});
        if !kind.group.is_empty() {
            details["group"] = json!(kind.group);
        }
        return json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details});
    }
    out
}

fn removed(store: &mut Store, sim: &SimConfig, kind: &'static Kind, ns: &str, name: &str) {
    let gone = store.remove_cascade(kind, ns, name);
    // Controllers notice what vanished beneath them (a deleted pod is replaced).
    for (k, obj) in &gone {
        if *k == &PODS || *k == &REPLICASETS {
            controller::reconcile_owner_of(store, sim, obj);
        }
    }
}

pub(crate) fn delete(
    store: &mut Store,
    sim: &SimConfig,
    kind: &'static Kind,
    ns: &str,
    name: &str,
    opts: &Value,
) -> Result<Value, ApiError> {
    let current = get(store, kind, ns, name)?;
    if kind == &NAMESPACES && PROTECTED_NAMESPACES.contains(&name) {
        return Err(ApiError::forbidden(
            kind,
            name,
            "this namespace may not be deleted",
        ));
    }
    for (field, what) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        let want = str_at(opts, &format!("/preconditions/{field}"));
        let have = str_at(&current, &format!("/metadata/{field}"));
        if !want.is_empty() && want != have {
            return Err(ApiError::conflict(
                kind,
                name,
                &format!(
                    "Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}"
                ),
            ));
        }
    }
    Ok(delete_one(store, sim, kind, &current, opts))
}

/// Deletes one object that exists and answers what the API server would: the object while it
/// is still there (terminating), else what `delete_response` says.
fn delete_one(
    store: &mut Store,
    sim: &SimConfig,
    kind: &'static Kind,
    current: &Value,
    opts: &Value,
) -> Value {
    let (ns, name) = (str_at(current, "/metadata/namespace"), name_of(current));
    if kind == &PVCS && storage::protected(store, current) {
        // Returned as stored: a DELETE of an object that keeps a finalizer answers the object.
        return storage::mark_deleted(store, current.clone());
    }
    match sim.termination {
        Some(t) => match gc::delete(store, sim, t, kind, current, opts) {
            Some(still_there) => still_there,
            None => delete_response(kind, current, opts),
        },
        // Dependents go at once, whatever the propagationPolicy (kept short for tests).
        None => {
            removed(store, sim, kind, ns, name);
            delete_response(kind, current, opts)
        }
    }
}

pub(crate) fn delete_collection(
    store: &mut Store,
    sim: &SimConfig,
    kind: &'static Kind,
    ns: Option<&str>,
    q: &ListQuery,
) -> Value {
    let targets: Vec<Value> = matching(store, kind, ns, q).into_iter().cloned().collect();
    let mut items = Vec::new();
    for t in targets {
        let t_ns = str_at(&t, "/metadata/namespace").to_string();
        if kind == &NAMESPACES && PROTECTED_NAMESPACES.contains(&name_of(&t)) {
            continue;
        }
        // An earlier deletion in this loop may already have collected this one.
        if let Some(current) = store.get(kind, &t_ns, name_of(&t)).cloned() {
            delete_one(store, sim, kind, &current, &json!({}));
            items.push(t);
        }
    }
    json!({"kind": format!("{}List", kind.kind), "apiVersion": kind.api_version(),
        "metadata": {"resourceVersion": store.resource_version().to_string()}, "items": items})
}
