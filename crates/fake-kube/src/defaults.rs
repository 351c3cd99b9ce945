//! Defaulting the real API server does on write: pod spec fields, Deployment strategy,
//! Service addresses (clusterIP, nodePorts), PVC binding, Secret stringData, and so on.

use serde_json::{Value, json};

use crate::kinds::{self, DEPLOYMENTS, Kind, NAMESPACES, PODS, REPLICASETS, SERVICES};
use crate::status::{ApiError, Cause};
use crate::store::{Store, name_of, str_at};
use crate::util::base64_encode;

pub(crate) fn pod_spec_defaults(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    for (k, v) in [
        ("terminationGracePeriodSeconds", json!(30)),
        ("securityContext", json!({})),
    ] {
        if spec.get(k).is_none() {
            spec[k] = v;
        }
    }
    for group in ["initContainers", "containers"] {
        let Some(cs) = spec.get_mut(group).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in cs {
            let image = str_at(c, "/image");
            let last = image.rsplit('/').next().unwrap_or("");
            let pull = if !last.contains(':') || last.ends_with(":latest") {
                "Always"
            } else {
                "IfNotPresent"
            };
            for (k, v) in [
                ("imagePullPolicy", pull),
                ("terminationMessagePath", "/dev/termination-log"),
                ("terminationMessagePolicy", "File"),
            ] {
                if c.get(k).is_none() {
                    c[k] = json!(v);
                }
            }
            for p in c
                .get_mut("ports")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if p.get("protocol").is_none() {
                    p["protocol"] = json!("TCP");
                }
            }
        }
    }
}

/// Fills defaults the real API server would, and allocates service addresses.
pub(crate) fn defaults(
    store: &mut Store,
    kind: &Kind,
    obj: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    if kind == &SERVICES {
        service_defaults(store, obj, old)?;
    } else if kind == &PODS {
        pod_spec_defaults(&mut obj["spec"]);
    } else if kind == &DEPLOYMENTS || kind == &REPLICASETS {
        let spec = &mut obj["spec"];
        if spec.get("replicas").is_none() {
            spec["replicas"] = json!(1);
        }
        if kind == &DEPLOYMENTS {
            for (k, v) in [
                ("revisionHistoryLimit", json!(10)),
                ("progressDeadlineSeconds", json!(600)),
                (
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
                ),
            ] {
                if spec.get(k).is_none() {
                    spec[k] = v;
                }
            }
        }
        pod_spec_defaults(&mut spec["template"]["spec"]);
    } else if kind == &kinds::PVCS {
        let spec = &mut obj["spec"];
        if spec.get("volumeMode").is_none() {
            spec["volumeMode"] = json!("Filesystem");
        }
        if old.is_none() {
            // The DefaultStorageClass admission plugin; with no default class the claim names
            // none and stays Pending (see `storage`).
            if spec.get("storageClassName").is_none()
                && let Some(class) = crate::storage::default_class(store)
            {
                spec["storageClassName"] = json!(class);
            }
            obj["status"] = json!({"phase": "Pending"});
            // The StorageObjectInUseProtection admission plugin (see `storage::protected`).
            let finalizers = obj["metadata"]["finalizers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !finalizers
                .iter()
                .any(|f| f == crate::storage::PVC_PROTECTION)
            {
                let mut finalizers = finalizers;
                finalizers.push(json!(crate::storage::PVC_PROTECTION));
                obj["metadata"]["finalizers"] = json!(finalizers);
            }
        }
    } else if kind == &kinds::SECRETS {
        // The server folds stringData into data and never stores it.
        if let Some(Value::Object(sd)) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
            for (k, v) in sd {
                obj["data"][k] = json!(base64_encode(v.as_str().unwrap_or("").as_bytes()));
            }
        }
        if obj.get("type").is_none() {
            obj["type"] = json!("Opaque");
        }
    } else if kind == &kinds::NETWORKPOLICIES {
        if obj.pointer("/spec/policyTypes").is_none() && obj["spec"].is_object() {
            let mut types = vec!["Ingress"];
            if obj.pointer("/spec/egress").is_some() {
                types.push("Egress");
            }
            obj["spec"]["policyTypes"] = json!(types);
        }
    } else if kind == &NAMESPACES {
        let name = name_of(obj).to_string();
        obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        obj["spec"]["finalizers"] = json!(["kubernetes"]);
        if old.is_none() {
            obj["status"] = json!({"phase": "Active"});
        }
    }
    Ok(())
}

fn service_defaults(
    store: &mut Store,
    svc: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let (ns, name) = (
        str_at(svc, "/metadata/namespace").to_string(),
        name_of(svc).to_string(),
    );
    let invalid = |c: Cause| ApiError::invalid(&SERVICES, &name, &[c]);
    let ty = str_at(svc, "/spec/type").to_string();
    let ty = if ty.is_empty() {
        "ClusterIP".to_string()
    } else {
        ty
    };
    let spec = &mut svc["spec"];
    spec["type"] = json!(ty);
    if ty != "ExternalName" {
        let requested = str_at(spec, "/clusterIP").to_string();
        let old_ip = old
            .map(|o| str_at(o, "/spec/clusterIP").to_string())
            .filter(|s| !s.is_empty());
        let ip = match (old_ip, requested.as_str()) {
            (Some(o), "") => o,
            (Some(o), r) if r != o => {
                return Err(invalid(Cause::invalid(
                    "spec.clusterIP",
                    r,
                    "field is immutable",
                )));
            }
            (Some(o), _) => o,
            (None, "") => store.alloc_cluster_ip(),
            (None, r) if r != "None" && store.cluster_ip_taken(r) => {
                return Err(invalid(Cause::invalid(
                    "spec.clusterIPs",
                    r,
                    &format!("failed to allocate IP {r}: provided IP is already allocated"),
                )));
            }
            (None, r) => r.to_string(),
        };
        spec["clusterIP"] = json!(ip);
        spec["clusterIPs"] = json!([ip]);
        spec["ipFamilies"] = json!(["IPv4"]);
        spec["ipFamilyPolicy"] = json!("SingleStack");
        spec["internalTrafficPolicy"] = json!(
            spec.get("internalTrafficPolicy")
                .and_then(Value::as_str)
                .unwrap_or("Cluster")
        );
    }
    if spec.get("sessionAffinity").is_none() {
        spec["sessionAffinity"] = json!("None");
    }
    let wants_node_ports = ty == "NodePort" || ty == "LoadBalancer";
    if wants_node_ports && spec.get("externalTrafficPolicy").is_none() {
        spec["externalTrafficPolicy"] = json!("Cluster");
    }
    let old_ports: Vec<Value> = old
        .and_then(|o| o.pointer("/spec/ports"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut used = store.used_node_ports((&ns, &name));
    let mut mine = Vec::new();
    let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for (i, p) in ports.iter_mut().enumerate() {
        if p.get("protocol").is_none() {
            p["protocol"] = json!("TCP");
        }
        if p.get("targetPort").is_none() {
            p["targetPort"] = p.get("port").cloned().unwrap_or(Value::Null);
        }
        if !wants_node_ports {
            if let Some(m) = p.as_object_mut() {
                m.remove("nodePort");
            }
            continue;
        }
        let mut np = p.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
        if np == 0 {
            // An update that omits nodePort keeps the one already allocated to that port.
            np = old_ports
                .iter()
                .find(|o| {
                    o.get("port") == p.get("port")
                        && o.get("protocol").unwrap_or(&json!("TCP")) == &p["protocol"]
                })
                .and_then(|o| o.get("nodePort").and_then(Value::as_i64))
                .unwrap_or(0);
        } else if used.contains(&np) {
            return Err(invalid(Cause::invalid_num(
                format!("spec.ports[{i}].nodePort"),
                np,
                "provided port is already allocated",
            )));
        } else if mine.contains(&np) {
            return Err(invalid(Cause {
                field: format!("spec.ports[{i}].nodePort"),
                reason: "FieldValueDuplicate",
                detail: format!("Duplicate value: {np}"),
            }));
        }
        if np == 0 {
            let start = 30000 + store.rng.below(2768) as i64;
            np = (0..2768)
                .map(|k| 30000 + (start - 30000 + k) % 2768)
                .find(|c| !used.contains(c) && !mine.contains(c))
                .ok_or_else(|| {
                    ApiError::new(
                        500,
                        "InternalError",
                        "Internal error occurred: range is full",
                    )
                })?;
        }
        p["nodePort"] = json!(np);
        mine.push(np);
        used.insert(np);
    }
    if ty == "LoadBalancer" && svc.pointer("/status/loadBalancer").is_none() {
        svc["status"] = json!({"loadBalancer": {}});
    }
    Ok(())
}
