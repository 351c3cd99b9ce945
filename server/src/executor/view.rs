//! Just the fields of Deployments, Pods and Services that status reads, with the JSON names of
//! the Kubernetes API. Listing into these instead of the full `k8s-openapi` types skips
//! everything else in the answer (pod template details, probes, security contexts, IPs, …):
//! status of many systems spends most of its time deserialising, so this is the fast path.
//!
//! Every field is optional or defaulted: a missing field never fails a list.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// `{"items": [...]}` of a list answer; the rest (kind, metadata) is skipped. A missing or
/// `null` `items` (which the API sends for an empty list in some versions) is an empty list.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub struct List<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    pub items: Vec<T>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Converts a full object (e.g. one just created) to its view, through its JSON.
pub fn of<T: DeserializeOwned + Default>(object: &impl serde::Serialize) -> T {
    serde_json::to_value(object)
        .and_then(serde_json::from_value)
        .unwrap_or_default()
}

/// The object's metadata as Kubernetes sends it (the watch cache keys objects by its name and
/// namespace and resumes from its resource version). `managedFields`, the bulk of it, is
/// dropped before an object is cached.
pub type Meta = ObjectMeta;

/// Lets a view be listed and watched as the kind it is a view of: the same URLs, the same
/// answers, read into the smaller type.
macro_rules! view_of {
    ($view:ty, $full:ty) => {
        impl kube::Resource for $view {
            type DynamicType = ();
            type Scope = k8s_openapi::NamespaceResourceScope;
            fn kind(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::KIND.into()
            }
            fn group(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::GROUP.into()
            }
            fn version(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::VERSION.into()
            }
            fn plural(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::URL_PATH_SEGMENT.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

view_of!(Deployment, k8s_openapi::api::apps::v1::Deployment);
view_of!(Pod, k8s_openapi::api::core::v1::Pod);
view_of!(Service, k8s_openapi::api::core::v1::Service);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Deployment {
    pub metadata: Meta,
    pub spec: Option<DeploymentSpec>,
    pub status: Option<DeploymentStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentSpec {
    pub replicas: Option<i32>,
    pub template: PodTemplate,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodTemplate {
    pub spec: Option<PodSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    /// The services others `depends_on` (see the compiler's `plan::startup`).
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    /// Read for the claims a system mounts (their events belong to it).
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Volume {
    pub persistent_volume_claim: Option<ClaimSource>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClaimSource {
    pub claim_name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub resources: Option<Resources>,
    /// `Always` on a sidecar (an init container that runs beside the others).
    pub restart_policy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Resources {
    /// Quantities as written (`"500m"`, `"1Gi"`).
    pub limits: Option<BTreeMap<String, String>>,
    pub requests: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentStatus {
    pub ready_replicas: Option<i32>,
    pub conditions: Option<Vec<Condition>>,
}

/// A Deployment or Pod condition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pod {
    pub metadata: Meta,
    /// Read for what a terminating pod still asks for, once its Deployment is gone.
    pub spec: Option<PodSpec>,
    pub status: Option<PodStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    pub phase: Option<String>,
    pub conditions: Option<Vec<Condition>>,
    pub init_container_statuses: Option<Vec<ContainerStatus>>,
    pub container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restart_count: i32,
    pub state: Option<ContainerStateView>,
    pub last_state: Option<ContainerStateView>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStateView {
    pub running: Option<IgnoredAny>,
    pub waiting: Option<Waiting>,
    pub terminated: Option<Terminated>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Waiting {
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Terminated {
    pub exit_code: i32,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Service {
    pub metadata: Meta,
    pub spec: Option<ServiceSpec>,
    pub status: Option<ServiceStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    pub ports: Option<Vec<ServicePort>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: i32,
    pub protocol: Option<String>,
    pub node_port: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceStatus {
    pub load_balancer: Option<LoadBalancerStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoadBalancerStatus {
    pub ingress: Option<Vec<LoadBalancerIngress>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoadBalancerIngress {
    pub ip: Option<String>,
    pub hostname: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_fields_status_needs_and_tolerates_nulls() {
        let list: List<Pod> = serde_json::from_value(json!({
            "kind": "PodList", "metadata": {"resourceVersion": "7"},
            "items": [{
                "metadata": {"name": "p", "labels": {"a": "b"}, "creationTimestamp": "2026-01-02T03:04:05Z",
                             "deletionTimestamp": null, "ownerReferences": [{"uid": "x"}]},
                "spec": {"containers": [{"name": "web", "image": "x"}]},
                "status": {"phase": "Running", "podIP": "10.0.0.1", "containerStatuses": [{
                    "name": "web", "image": "x", "imageID": "", "ready": true, "restartCount": 2,
                    "state": {"running": {"startedAt": "2026-01-02T03:04:05Z"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
                }]}
            }]
        }))
        .unwrap();
        let p = &list.items[0];
        assert_eq!(p.metadata.labels.as_ref().unwrap()["a"], "b");
        assert!(p.metadata.creation_timestamp.is_some());
        assert!(p.metadata.deletion_timestamp.is_none());
        let cs = &p
            .status
            .as_ref()
            .unwrap()
            .container_statuses
            .as_ref()
            .unwrap()[0];
        assert!(cs.ready && cs.restart_count == 2);
        assert!(cs.state.as_ref().unwrap().running.is_some());
        assert_eq!(
            cs.last_state
                .as_ref()
                .unwrap()
                .terminated
                .as_ref()
                .unwrap()
                .exit_code,
            137
        );
        let empty: List<Service> = serde_json::from_value(json!({"items": null})).unwrap();
        assert!(empty.items.is_empty());
        let empty: List<Service> = serde_json::from_value(json!({"kind": "ServiceList"})).unwrap();
        assert!(empty.items.is_empty());
        let s: Service = serde_json::from_value(json!({"spec": {"clusterIP": "10.0.0.7",
            "type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}}))
        .unwrap();
        let spec = s.spec.unwrap();
        assert_eq!(spec.cluster_ip.as_deref(), Some("10.0.0.7"));
        assert_eq!(spec.ports.unwrap()[0].node_port, Some(30080));
    }
}
