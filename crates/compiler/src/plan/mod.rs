//! model → plan: the only place where Kubernetes objects are shaped.
//!
//! `build` assembles a [`Plan`] and is the only module that calls the others. Each object has
//! a file named for it: `identity` (names, labels, selector, annotations every object
//! shares), `deployment` (the one pod, with `container` and `pod_volumes`), `claim`
//! (PersistentVolumeClaim), `service` (with the `ambassador` Mapping it carries),
//! `network_policy` (with `cidr`), and the operator's `edge`: `ingress` or
//! `http_route` (types in [`gateway`], policy values in `edge_policy`). `checks` refuses
//! what the policy does not allow before any of them is built.

use crate::connect::ConnectTarget;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use serde::Serialize;

// One file per Kubernetes object the plan holds, and what they share.
mod ambassador;
mod build;
mod checks;
mod cidr;
mod claim;
pub(crate) mod container;
mod deployment;
pub(crate) mod edge;
mod edge_policy;
pub mod gateway;
mod http_route;
mod identity;
mod ingress;
mod network_policy;
mod pod_volumes;
mod service;
mod startup;
mod stored;

pub use claim::{home_claim_name, reuse_claim_name};
pub use gateway::HttpRoute;
// The facts a plan reports beside its objects are wire types (crates/api): the server, the
// dashboard and the wasm package carry them as they are.
pub use tycho_api::compiled::{NotTranslated, PublishedPort};

pub(crate) use build::plan;
pub(crate) use identity::{system_guid, system_name};

/// Everything needed to run one system: typed objects plus facts the shells show.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// System name (DNS-1123 label).
    pub name: String,
    pub guid: String,
    pub username: String,
    /// Every object of the system has this name or starts with it: `<name>-<guid>`.
    pub object_name: String,
    /// One pod holds every compose service as a container (Tycho's layout).
    pub deployment: Deployment,
    /// Present when any port is published.
    pub service: Option<Service>,
    /// Present unless the policy turns network policies off.
    pub network_policy: Option<NetworkPolicy>,
    /// `connect.mode: ingress`: the operator's Ingress controller routes to the Service.
    pub ingress: Option<Ingress>,
    /// `connect.mode: gateway`: a Gateway API route to the Service.
    pub http_route: Option<HttpRoute>,
    /// One claim per named volume, and the user's home when the file asks for it; each says
    /// what it outlives in its `tycho.io/claim` label (see [`crate::labels::CLAIM_KIND`]).
    pub claims: Vec<PersistentVolumeClaim>,
    /// The files sent with the compose file that services mount (bind mounts, configs).
    pub config_map: Option<ConfigMap>,
    /// The `secrets:` services mount. Its values are in this typed object only: the plan's
    /// YAML and JSON show their sizes instead.
    pub secret: Option<Secret>,
    pub ports: Vec<PublishedPort>,
    /// The primary port behind Tycho's proxy (also in the Deployment's `tycho.io/connect`
    /// annotation). `None` when no TCP port is published or the connect mode is `none`.
    pub connect: Option<ConnectTarget>,
    /// Compose keys that were accepted but have no Kubernetes translation.
    pub not_translated: Vec<NotTranslated>,
}

/// One object of a plan, serialised with its `apiVersion` and `kind`.
// A plan holds a handful of objects; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum KubeObject {
    Deployment(Deployment),
    Service(Service),
    NetworkPolicy(NetworkPolicy),
    PersistentVolumeClaim(PersistentVolumeClaim),
    ConfigMap(ConfigMap),
    Secret(Secret),
    Ingress(Ingress),
    HttpRoute(HttpRoute),
}

impl KubeObject {
    /// The object's `kind`, e.g. `Deployment` or `HTTPRoute`.
    pub fn kind(&self) -> &'static str {
        match self {
            KubeObject::Deployment(_) => "Deployment",
            KubeObject::Service(_) => "Service",
            KubeObject::NetworkPolicy(_) => "NetworkPolicy",
            KubeObject::PersistentVolumeClaim(_) => "PersistentVolumeClaim",
            KubeObject::ConfigMap(_) => "ConfigMap",
            KubeObject::Secret(_) => "Secret",
            KubeObject::Ingress(_) => "Ingress",
            KubeObject::HttpRoute(_) => gateway::KIND,
        }
    }

    /// The object's `metadata.name`.
    pub fn name(&self) -> &str {
        let name = match self {
            KubeObject::Deployment(o) => &o.metadata.name,
            KubeObject::Service(o) => &o.metadata.name,
            KubeObject::NetworkPolicy(o) => &o.metadata.name,
            KubeObject::PersistentVolumeClaim(o) => &o.metadata.name,
            KubeObject::ConfigMap(o) => &o.metadata.name,
            KubeObject::Secret(o) => &o.metadata.name,
            KubeObject::Ingress(o) => &o.metadata.name,
            KubeObject::HttpRoute(o) => &o.metadata.name,
        };
        name.as_deref().unwrap_or("")
    }
}

impl Plan {
    /// The objects in apply order: claims, files and policy first, then the Service, the
    /// Ingress or HTTPRoute, and the Deployment. The Secret is as the cluster gets it.
    pub fn objects(&self) -> Vec<KubeObject> {
        let mut objects: Vec<KubeObject> = Vec::new();
        objects.extend(
            self.claims
                .iter()
                .cloned()
                .map(KubeObject::PersistentVolumeClaim),
        );
        objects.extend(self.config_map.clone().map(KubeObject::ConfigMap));
        objects.extend(self.secret.clone().map(KubeObject::Secret));
        objects.extend(self.network_policy.clone().map(KubeObject::NetworkPolicy));
        objects.extend(self.service.clone().map(KubeObject::Service));
        objects.extend(self.ingress.clone().map(KubeObject::Ingress));
        objects.extend(self.http_route.clone().map(KubeObject::HttpRoute));
        objects.push(KubeObject::Deployment(self.deployment.clone()));
        objects
    }

    /// The objects as JSON values, in [`Plan::objects`] order, the Secret's values replaced by
    /// their sizes (what every text of a plan shows).
    pub fn to_json_objects(&self) -> Vec<serde_json::Value> {
        fn json(object: &impl Serialize) -> serde_json::Value {
            serde_json::to_value(object).unwrap_or(serde_json::Value::Null)
        }
        // Serialised in place rather than through `objects()`, which clones every object.
        let mut values: Vec<serde_json::Value> = self.claims.iter().map(json).collect();
        values.extend(self.config_map.as_ref().map(json));
        values.extend(self.secret.as_ref().map(|s| json(&stored::masked(s))));
        values.extend(self.network_policy.as_ref().map(json));
        values.extend(self.service.as_ref().map(json));
        values.extend(self.ingress.as_ref().map(json));
        values.extend(self.http_route.as_ref().map(json));
        values.push(json(&self.deployment));
        values
    }

    /// The objects as JSON values and as multi-document YAML, converting them once.
    pub fn to_json_and_yaml(&self) -> (Vec<serde_json::Value>, String) {
        let objects = self.to_json_objects();
        let yaml = tycho_yaml::render::documents(&objects);
        (objects, yaml)
    }

    /// A `v1/List` of the objects, which `kubectl apply -f -` accepts as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": self.to_json_objects()})
    }

    /// Multi-document YAML in stable order, which `kubectl apply -f -` accepts.
    pub fn to_yaml(&self) -> String {
        tycho_yaml::render::documents(&self.to_json_objects())
    }
}
