//! The Kubernetes backend: creates a plan's objects in one namespace, computes status from
//! label-selected lists (one call per kind), deletes by label.

use super::status::{Objects, compute};
use super::view;
use super::{Deleted, ExecError, Executor, Filter, Started};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt::Debug;
use std::time::Duration;
use tycho_api::{KubeEvent, SystemStatus};
use tycho_compiler::plan::gateway;
use tycho_compiler::{Plan, labels};

const FIELD_MANAGER: &str = "tycho";

/// What a start in `connect.mode: gateway` answers when the cluster does not serve HTTPRoutes.
pub const NO_HTTP_ROUTE_KIND: &str =
    "the cluster has no HTTPRoute kind: install the Gateway API CRDs or change connect.mode";

/// The Gateway API `HTTPRoute` (a CRD: no k8s-openapi type, so a dynamic object).
fn http_route_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(gateway::GROUP, gateway::VERSION, gateway::KIND),
        gateway::PLURAL,
    )
}

fn no_http_route_kind() -> ExecError {
    ExecError::Refused {
        code: 404,
        reason: "NotFound".into(),
        message: NO_HTTP_ROUTE_KIND.into(),
    }
}

/// Runs plans in one namespace of one cluster.
#[derive(Clone)]
pub struct KubeExecutor {
    client: Client,
    namespace: String,
}

impl KubeExecutor {
    pub fn new(client: Client, namespace: impl Into<String>) -> Self {
        KubeExecutor {
            client,
            namespace: namespace.into(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn http_routes(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &http_route_resource())
    }

    /// Whether the cluster serves `gateway.networking.k8s.io/v1` HTTPRoutes (asked before a
    /// gateway-mode start creates anything).
    async fn check_http_route_kind(&self) -> Result<(), ExecError> {
        match self
            .client
            .list_api_group_resources(gateway::API_VERSION)
            .await
        {
            Ok(list) if list.resources.iter().any(|r| r.name == gateway::PLURAL) => Ok(()),
            Ok(_) => Err(no_http_route_kind()),
            Err(kube::Error::Api(s)) if s.code == 404 => Err(no_http_route_kind()),
            Err(e) => Err(exec_error(e)),
        }
    }

    /// Creates the plan's HTTPRoute, owned by the Deployment; `None` without one.
    async fn create_http_route(
        &self,
        pp: &PostParams,
        plan: &Plan,
        owner: &OwnerReference,
    ) -> Result<Option<String>, ExecError> {
        let Some(route) = &plan.http_route else {
            return Ok(None);
        };
        let mut object: DynamicObject = serde_json::to_value(route)
            .and_then(serde_json::from_value)
            .map_err(|e| ExecError::Other(format!("the HTTPRoute does not serialise: {e}")))?;
        object.metadata.namespace = Some(self.namespace.clone());
        object
            .metadata
            .owner_references
            .get_or_insert_with(Vec::new)
            .push(owner.clone());
        match self.http_routes().create(pp, &object).await {
            Ok(created) => Ok(Some(created.metadata.name.unwrap_or_default())),
            // The namespace exists (the Deployment is in it): a 404 means no such kind.
            Err(kube::Error::Api(s)) if s.code == 404 => Err(no_http_route_kind()),
            Err(e) => Err(exec_error(e)),
        }
    }

    async fn start_plan(&self, plan: &Plan) -> Result<Started, ExecError> {
        if plan.http_route.is_some() {
            self.check_http_route_kind().await?;
        }
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let mut deployment = plan.deployment.clone();
        deployment.metadata.namespace = Some(self.namespace.clone());
        let created = self
            .api::<Deployment>()
            .create(&pp, &deployment)
            .await
            .map_err(exec_error)?;
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: created.metadata.name.clone().unwrap_or_default(),
            uid: created.metadata.uid.clone().unwrap_or_default(),
            ..Default::default()
        };
        let mut undo = Undo::new(self);
        undo.push::<Deployment>(created.metadata.name.clone().unwrap_or_default());

        let result = async {
            for claim in &plan.claims {
                let name = self.create_owned(&pp, claim, &owner).await?;
                undo.push::<PersistentVolumeClaim>(name);
            }
            if let Some(policy) = &plan.network_policy {
                let name = self.create_owned(&pp, policy, &owner).await?;
                undo.push::<NetworkPolicy>(name);
            }
            let mut service = None;
            if let Some(s) = &plan.service {
                let mut owned = s.clone();
                owned.metadata.namespace = Some(self.namespace.clone());
                owned
                    .metadata
                    .owner_references
                    .get_or_insert_with(Vec::new)
                    .push(owner.clone());
                let created = self
                    .api::<Service>()
                    .create(&pp, &owned)
                    .await
                    .map_err(exec_error)?;
                undo.push::<Service>(created.metadata.name.clone().unwrap_or_default());
                service = Some(created);
            }
            if let Some(ingress) = &plan.ingress {
                let name = self.create_owned(&pp, ingress, &owner).await?;
                undo.push::<Ingress>(name);
            }
            if let Some(name) = self.create_http_route(&pp, plan, &owner).await? {
                undo.created.push((gateway::KIND, name));
            }
            Ok::<_, ExecError>(service)
        }
        .await;

        match result {
            Ok(service) => {
                undo.disarm();
                Ok(self.started(plan, service.as_ref()))
            }
            Err(e) => {
                undo.run().await;
                Err(e)
            }
        }
    }

    async fn create_owned<K>(
        &self,
        pp: &PostParams,
        object: &K,
        owner: &OwnerReference,
    ) -> Result<String, ExecError>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + Serialize
            + DeserializeOwned
            + Debug,
        <K as Resource>::DynamicType: Default,
    {
        let mut owned = object.clone();
        owned.meta_mut().namespace = Some(self.namespace.clone());
        owned
            .meta_mut()
            .owner_references
            .get_or_insert_with(Vec::new)
            .push(owner.clone());
        let created = self
            .api::<K>()
            .create(pp, &owned)
            .await
            .map_err(exec_error)?;
        Ok(created.meta().name.clone().unwrap_or_default())
    }

    fn started(&self, plan: &Plan, service: Option<&Service>) -> Started {
        let deployment: view::Deployment = view::of(&plan.deployment);
        let service_view: Option<view::Service> = service.map(view::of);
        let objects = Objects {
            deployment: Some(&deployment),
            pods: Vec::new(),
            services: service_view.iter().collect(),
        };
        let now = k8s_openapi::jiff::Timestamp::now();
        let status = compute(&plan.guid, &objects, &self.namespace, now);
        let port_names = service
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.ports.as_ref())
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| {
                        (
                            u16::try_from(p.port).unwrap_or(0),
                            p.name.clone().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Started {
            guid: plan.guid.clone(),
            name: plan.name.clone(),
            username: plan.username.clone(),
            ports: status.ports,
            address: status.address,
            port_names,
        }
    }

    async fn list_systems(&self, filter: &Filter) -> Result<Vec<SystemStatus>, ExecError> {
        let selector = match (&filter.guid, &filter.username) {
            (Some(guid), _) => labels::system_selector(guid),
            (None, Some(user)) => labels::user_selector(user),
            (None, None) => labels::all_systems_selector(),
        };
        let lp = ListParams::default().labels(&selector);
        // One list per kind, read into views that hold only what status needs: most of a
        // list answer (pod templates, probes, IPs) is skipped instead of deserialised.
        let (deployments, pods, services) = futures::try_join!(
            self.list_view::<Deployment, view::Deployment>(&lp),
            self.list_view::<Pod, view::Pod>(&lp),
            self.list_view::<Service, view::Service>(&lp),
        )?;

        let mut groups: HashMap<String, Objects<'_>> = HashMap::new();
        for d in &deployments {
            if let Some(guid) = guid_of(&d.metadata) {
                groups.entry(guid).or_default().deployment = Some(d);
            }
        }
        for p in &pods {
            if let Some(guid) = guid_of(&p.metadata) {
                groups.entry(guid).or_default().pods.push(p);
            }
        }
        for s in &services {
            if let Some(guid) = guid_of(&s.metadata) {
                groups.entry(guid).or_default().services.push(s);
            }
        }
        let now = k8s_openapi::jiff::Timestamp::now();
        let mut systems: Vec<SystemStatus> = groups
            .iter()
            .map(|(guid, objects)| compute(guid, objects, &self.namespace, now))
            // The username label is sanitised; the annotation holds the exact owner.
            .filter(|s| filter.username.as_ref().is_none_or(|u| &s.username == u))
            .collect();
        systems.sort_by(|a, b| (&a.created, &a.guid).cmp(&(&b.created, &b.guid)));
        Ok(systems)
    }

    /// Lists objects of kind `K` in the namespace as views `V` (the same request `Api::list`
    /// sends).
    async fn list_view<K, V>(&self, lp: &ListParams) -> Result<Vec<V>, ExecError>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
        V: DeserializeOwned,
    {
        let url = K::url_path(&(), Some(&self.namespace));
        let request = kube::core::Request::new(url)
            .list(lp)
            .map_err(|e| ExecError::Other(e.to_string()))?;
        let list: view::List<V> = self.client.request(request).await.map_err(exec_error)?;
        Ok(list.items)
    }

    async fn delete_system(&self, guid: &str) -> Result<Deleted, ExecError> {
        let lp = ListParams::default().labels(&labels::system_selector(guid));
        let dp = DeleteParams::background();
        // Every kind a system has, the Deployment first so its pods stop early.
        let (deployments_api, services_api, policies_api, claims_api) = (
            self.api::<Deployment>(),
            self.api::<Service>(),
            self.api::<NetworkPolicy>(),
            self.api::<PersistentVolumeClaim>(),
        );
        let (ingresses_api, routes_api) = (self.api::<Ingress>(), self.http_routes());
        futures::try_join!(
            deployments_api.delete_collection(&dp, &lp),
            services_api.delete_collection(&dp, &lp),
            policies_api.delete_collection(&dp, &lp),
            claims_api.delete_collection(&dp, &lp),
            // Only edge modes have these, and they are owned by the Deployment (collected with
            // it): a cluster without the Gateway API (404) or a Role without these kinds (403)
            // does not fail the delete.
            edge_kind("Ingress", ingresses_api.delete_collection(&dp, &lp)),
            edge_kind(gateway::KIND, routes_api.delete_collection(&dp, &lp)),
        )
        .map_err(exec_error)?;
        let pods_api = self.api::<Pod>();
        let (deployments, pods) = futures::try_join!(
            deployments_api.list_metadata(&lp),
            pods_api.list_metadata(&lp),
        )
        .map_err(exec_error)?;
        if deployments.items.is_empty() && pods.items.is_empty() {
            Ok(Deleted::Gone)
        } else {
            Ok(Deleted::Terminating)
        }
    }
}

impl Executor for KubeExecutor {
    fn start<'a>(&'a self, plan: &'a Plan) -> BoxFuture<'a, Result<Started, ExecError>> {
        Box::pin(self.start_plan(plan))
    }

    fn list<'a>(
        &'a self,
        filter: &'a Filter,
    ) -> BoxFuture<'a, Result<Vec<SystemStatus>, ExecError>> {
        Box::pin(self.list_systems(filter))
    }

    fn kube_events<'a>(
        &'a self,
        object_name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KubeEvent>, ExecError>> {
        Box::pin(async move {
            // Events carry no labels of ours, and pods and ReplicaSets add suffixes to the
            // name, so no selector fits: list the namespace's events and pick by name.
            let events = self
                .api::<Event>()
                .list(&ListParams::default())
                .await
                .map_err(exec_error)?;
            Ok(super::kube_events::select(events.items, object_name))
        })
    }

    fn delete<'a>(&'a self, guid: &'a str) -> BoxFuture<'a, Result<Deleted, ExecError>> {
        Box::pin(self.delete_system(guid))
    }

    fn record_activity<'a>(
        &'a self,
        object_name: &'a str,
        at: &'a str,
    ) -> BoxFuture<'a, Result<(), ExecError>> {
        Box::pin(async move {
            let patch = serde_json::json!({
                "metadata": {"annotations": {super::ANNOTATION_LAST_ACTIVITY: at}}
            });
            let params = kube::api::PatchParams {
                field_manager: Some(FIELD_MANAGER.into()),
                ..Default::default()
            };
            self.api::<Deployment>()
                .patch(object_name, &params, &kube::api::Patch::Merge(&patch))
                .await
                .map(|_| ())
                .map_err(exec_error)
        })
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), ExecError>> {
        Box::pin(async move {
            let lp = ListParams::default().limit(1);
            match tokio::time::timeout(
                Duration::from_secs(3),
                self.api::<Deployment>().list_metadata(&lp),
            )
            .await
            {
                Ok(result) => result.map(|_| ()).map_err(exec_error),
                Err(_) => Err(ExecError::Unreachable(
                    "no answer from the API server within 3 s".into(),
                )),
            }
        })
    }

    fn location(&self) -> &str {
        &self.namespace
    }
}

/// A delete of an edge kind, where "no such kind" (404) and "not allowed" (403) are logged, not
/// errors: ownerReference garbage collection removes the objects with the Deployment.
async fn edge_kind<T>(
    kind: &'static str,
    delete: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<(), kube::Error> {
    match delete.await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 403 => {
            tracing::warn!(kind, message = %s.message, "cannot delete by label (the Role lacks the kind); garbage collection removes them with the Deployment");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn guid_of(meta: &view::Meta) -> Option<String> {
    meta.labels.as_ref()?.get(labels::GUID).cloned()
}

/// Maps a kube error: API refusals keep their code and reason; transport failures are
/// "unreachable".
pub fn exec_error(e: kube::Error) -> ExecError {
    match e {
        // The API server (or a proxy in front of it) says it cannot serve right now.
        kube::Error::Api(status) if matches!(status.code, 502..=504) => {
            ExecError::Unreachable(format!("{} {}", status.code, status.message))
        }
        kube::Error::Api(status) => ExecError::Refused {
            code: status.code,
            reason: status.reason.clone(),
            message: status.message.clone(),
        },
        kube::Error::HyperError(e) => ExecError::Unreachable(e.to_string()),
        kube::Error::Service(e) => ExecError::Unreachable(e.to_string()),
        other => ExecError::Other(other.to_string()),
    }
}

/// Objects created so far, removed again if the start fails.
struct Undo<'a> {
    executor: &'a KubeExecutor,
    created: Vec<(&'static str, String)>,
    armed: bool,
}

impl<'a> Undo<'a> {
    fn new(executor: &'a KubeExecutor) -> Self {
        Undo {
            executor,
            created: Vec::new(),
            armed: true,
        }
    }

    fn push<K: Resource<DynamicType = ()>>(&mut self, name: String) {
        self.created.push((kind_tag::<K>(), name));
    }

    fn disarm(&mut self) {
        self.armed = false;
    }

    async fn run(self) {
        if !self.armed {
            return;
        }
        let dp = DeleteParams::background();
        for (kind, name) in self.created.iter().rev() {
            let ex = self.executor;
            let result = match *kind {
                "Deployment" => ex.api::<Deployment>().delete(name, &dp).await.map(|_| ()),
                "Service" => ex.api::<Service>().delete(name, &dp).await.map(|_| ()),
                "NetworkPolicy" => ex
                    .api::<NetworkPolicy>()
                    .delete(name, &dp)
                    .await
                    .map(|_| ()),
                "Ingress" => ex.api::<Ingress>().delete(name, &dp).await.map(|_| ()),
                gateway::KIND => ex.http_routes().delete(name, &dp).await.map(|_| ()),
                _ => ex
                    .api::<PersistentVolumeClaim>()
                    .delete(name, &dp)
                    .await
                    .map(|_| ()),
            };
            match result {
                Ok(()) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => {
                    tracing::error!(kind, name, error = %e, "could not remove an object of a failed start")
                }
            }
        }
    }
}

fn kind_tag<K: Resource<DynamicType = ()>>() -> &'static str {
    match K::kind(&()).as_ref() {
        "Deployment" => "Deployment",
        "Service" => "Service",
        "NetworkPolicy" => "NetworkPolicy",
        "Ingress" => "Ingress",
        _ => "PersistentVolumeClaim",
    }
}
