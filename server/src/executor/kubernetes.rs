//! The Kubernetes backend: creates a plan's objects in one namespace, computes status from
//! label-selected lists (one call per kind), deletes by label.

use super::cache::{Cache, Kind};
use super::status::{Objects, compute};
use super::view;
use super::{
    Clock, Deleted, ExecError, Executor, Filter, LogRequest, LogStream, Removal, Started,
    VolumeChoice,
};
use crate::lease::{ClusterLocks, HeldLock};
use axum::body::Bytes;
use futures::future::BoxFuture;
use futures::{AsyncBufRead, AsyncReadExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams,
    PostParams,
};
use kube::runtime::reflector::ObjectRef;
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tycho_api::{KubeEvent, SystemStatus};
use tycho_compiler::plan::gateway;
use tycho_compiler::{Plan, labels};

pub(super) const FIELD_MANAGER: &str = "tycho";

/// Deadline of the `/readyz` probe.
const PROBE_DEADLINE: Duration = Duration::from_secs(3);

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

/// How long a start or delete waits for the watch cache to show it (see `settle`).
const CACHE_SETTLE: Duration = Duration::from_secs(5);

/// The Lease that is `user`'s start lock: named by the owner hash (injective, a valid name).
fn start_lock_name(user: &str) -> String {
    format!("tycho-start-{}", &super::owner_hash(user)[..40])
}

/// Listed objects as the cache holds them.
fn shared<T>(objects: Vec<T>) -> Vec<Arc<T>> {
    objects.into_iter().map(Arc::new).collect()
}

/// Whether resource version `seen` is `wanted` or later. Versions are opaque strings to
/// clients, but the API server's are etcd revisions (numbers); other strings compare equal.
fn at_least(seen: Option<&str>, wanted: Option<&str>) -> bool {
    match (seen, wanted) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(seen), Some(wanted)) => match (seen.parse::<u64>(), wanted.parse::<u64>()) {
            (Ok(seen), Ok(wanted)) => seen >= wanted,
            _ => seen == wanted,
        },
    }
}

/// How long one executor operation (a start, a list, a delete) may take in all, by default.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// How old an incomplete system must be before the sweep removes it, by default: well past
/// the deadline of the start that may still be creating it (on this or another replica).
pub const DEFAULT_SWEEP_GRACE: Duration = Duration::from_secs(120);

/// Runs plans in one namespace of one cluster.
#[derive(Clone)]
pub struct KubeExecutor {
    client: Client,
    namespace: String,
    /// Deadline of each operation toward the API server (a stalled server must not hang the
    /// API's callers: they get 503 with the reason instead).
    pub deadline: Duration,
    /// See [`DEFAULT_SWEEP_GRACE`].
    pub sweep_grace: Duration,
    /// The policy's `volume_ttl`: how long a kept claim lives on after its system's delete.
    pub volume_ttl: Option<Duration>,
    /// When it is now (kept claims' release times, their expiry).
    pub(super) clock: Clock,
    /// What the watches hold, started by the first read (see [`KubeExecutor::cache`]); shared
    /// by clones, its watches end with the last one.
    cache: Arc<OnceLock<Cache>>,
    /// The start locks shared with the other replicas.
    locks: Arc<ClusterLocks>,
    /// The client the watches use (by default `client`); see [`KubeExecutor::with_watch_client`].
    watch_client: Client,
}

impl KubeExecutor {
    pub fn new(client: Client, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        let locks = ClusterLocks::new(client.clone(), &namespace, crate::lease::identity());
        KubeExecutor {
            watch_client: client.clone(),
            client,
            namespace,
            deadline: DEFAULT_DEADLINE,
            sweep_grace: DEFAULT_SWEEP_GRACE,
            volume_ttl: None,
            clock: super::system_clock(),
            cache: Arc::default(),
            locks: Arc::new(locks),
        }
    }

    /// Kept claims are removed by the sweep this long after their system was deleted.
    pub fn with_volume_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.volume_ttl = ttl;
        self
    }

    /// Watches through `client`: one without a read timeout, since a watch of a quiet namespace
    /// sends nothing for minutes (the calls' client would cut it and the watch reconnect).
    pub fn with_watch_client(mut self, client: Client) -> Self {
        self.watch_client = client;
        self
    }

    /// Another clock (tests move time on instead of sleeping).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    pub fn with_sweep_grace(mut self, grace: Duration) -> Self {
        self.sweep_grace = grace;
        self
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub(super) fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn http_routes(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &http_route_resource())
    }

    /// Runs `operation` within [`KubeExecutor::deadline`]; past it, the operation is dropped
    /// (its requests cancelled) and the caller gets `Unreachable` saying what timed out.
    async fn within<T>(
        &self,
        what: &str,
        operation: impl std::future::Future<Output = Result<T, ExecError>>,
    ) -> Result<T, ExecError> {
        tokio::time::timeout(self.deadline, operation)
            .await
            .unwrap_or_else(|_| Err(deadline_passed(what, self.deadline)))
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

    /// Creates the plan's HTTPRoute, owned by the Deployment.
    async fn create_http_route(
        &self,
        pp: &PostParams,
        plan: &Plan,
        route: &impl Serialize,
        owner: &OwnerReference,
    ) -> Result<(), ExecError> {
        let mut object: DynamicObject = serde_json::to_value(route)
            .and_then(serde_json::from_value)
            .map_err(|e| {
                let kind = ExecError::Other(format!("the HTTPRoute does not serialise: {e}"));
                ExecError::caused(kind, e)
            })?;
        object.metadata.namespace = Some(self.namespace.clone());
        stamp(&mut object.metadata, plan);
        object
            .metadata
            .owner_references
            .get_or_insert_with(Vec::new)
            .push(owner.clone());
        match create_once(&self.http_routes(), pp, &object, &plan.guid).await {
            Ok(_) => Ok(()),
            // The namespace exists (the Deployment is in it): a 404 means no such kind.
            Err(kube::Error::Api(s)) if s.code == 404 => Err(no_http_route_kind()),
            Err(e) => Err(exec_error(e)),
        }
    }

    /// Creates the system; on any failure (the deadline included) removes whatever of it
    /// exists, found by its GUID label, so objects whose create answered an error after it was
    /// stored go too.
    async fn start_plan(&self, plan: &Plan) -> Result<Started, ExecError> {
        match self.within("start", self.create_system(plan)).await {
            Ok(started) => Ok(started),
            Err(e) => {
                let rollback = self.within("rollback of a failed start", self.remove(&plan.guid));
                if let Err(undo) = rollback.await {
                    tracing::error!(guid = %plan.guid, error = %undo, "could not remove the objects of a failed start; the sweep retries");
                }
                Err(e)
            }
        }
    }

    /// Creates the plan's objects so no pod runs before its NetworkPolicy and claims exist:
    /// the Deployment (the owner of the rest) at zero replicas and marked incomplete, then the
    /// NetworkPolicy, claims, Service, Ingress and HTTPRoute, then the Deployment is scaled to
    /// the planned replicas and marked complete in one patch. A start cut short (a crash)
    /// leaves an incomplete Deployment without pods, which status reports and the sweep removes.
    async fn create_system(&self, plan: &Plan) -> Result<Started, ExecError> {
        if plan.http_route.is_some() {
            self.check_http_route_kind().await?;
        }
        self.check_claims_free(plan).await?;
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let mut deployment = plan.deployment.clone();
        deployment.metadata.namespace = Some(self.namespace.clone());
        stamp(&mut deployment.metadata, plan);
        if let Some(template) = deployment
            .spec
            .as_mut()
            .and_then(|s| s.template.metadata.as_mut())
        {
            stamp(template, plan);
        }
        deployment
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(super::ANNOTATION_COMPLETE.into(), "false".into());
        let replicas = deployment
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1);
        if let Some(spec) = deployment.spec.as_mut() {
            spec.replicas = Some(0);
        }
        let created = create_once(&self.api::<Deployment>(), &pp, &deployment, &plan.guid)
            .await
            .map_err(exec_error)?;
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: created.metadata.name.clone().unwrap_or_default(),
            uid: created.metadata.uid.clone().unwrap_or_default(),
            ..Default::default()
        };

        if let Some(policy) = &plan.network_policy {
            self.create_owned(&pp, policy, plan, &owner).await?;
        }
        // Claims are not owned by the Deployment: a delete keeps them unless asked.
        self.create_claims(&pp, plan).await?;
        if let Some(files) = &plan.config_map {
            self.create_owned(&pp, files, plan, &owner).await?;
        }
        if let Some(secret) = &plan.secret {
            self.create_owned(&pp, secret, plan, &owner).await?;
        }
        let service = match &plan.service {
            Some(s) => Some(self.create_owned(&pp, s, plan, &owner).await?),
            None => None,
        };
        if let Some(ingress) = &plan.ingress {
            self.create_owned(&pp, ingress, plan, &owner).await?;
        }
        if let Some(route) = &plan.http_route {
            self.create_http_route(&pp, plan, route, &owner).await?;
        }
        let version = self.complete(&owner.name, replicas).await?;
        // The next read sees the whole system: its Deployment as last patched, and its Service
        // (another watch, which may report it later), whose address status shows.
        let deployment = ObjectRef::<view::Deployment>::new(&owner.name).within(&self.namespace);
        let service_key = service
            .as_ref()
            .and_then(|s| s.metadata.name.as_deref())
            .map(|name| ObjectRef::<view::Service>::new(name).within(&self.namespace));
        self.settle("start", |cache| {
            let deployment_seen = cache.deployments.get(&deployment).is_some_and(|d| {
                at_least(d.metadata.resource_version.as_deref(), version.as_deref())
            });
            let service_seen = service_key
                .as_ref()
                .is_none_or(|key| cache.services.get(key).is_some());
            deployment_seen && service_seen
        })
        .await;
        Ok(self.started(plan, service.as_ref()))
    }

    /// The start's last step: the planned replicas, and the incomplete mark removed. Answers
    /// the Deployment's new resource version.
    async fn complete(&self, name: &str, replicas: i32) -> Result<Option<String>, ExecError> {
        let patch = serde_json::json!({
            "metadata": {"annotations": {super::ANNOTATION_COMPLETE: null}},
            "spec": {"replicas": replicas},
        });
        let params = kube::api::PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        self.api::<Deployment>()
            .patch(name, &params, &kube::api::Patch::Merge(&patch))
            .await
            .map(|d| d.metadata.resource_version)
            .map_err(exec_error)
    }

    async fn create_owned<K>(
        &self,
        pp: &PostParams,
        object: &K,
        plan: &Plan,
        owner: &OwnerReference,
    ) -> Result<K, ExecError>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + Serialize
            + DeserializeOwned
            + Debug,
        <K as Resource>::DynamicType: Default,
    {
        let mut owned = object.clone();
        owned
            .meta_mut()
            .owner_references
            .get_or_insert_with(Vec::new)
            .push(owner.clone());
        self.create_stamped(pp, &owned, plan).await
    }

    /// Creates `object` in the namespace with the owner's marks.
    pub(super) async fn create_stamped<K>(
        &self,
        pp: &PostParams,
        object: &K,
        plan: &Plan,
    ) -> Result<K, ExecError>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + Serialize
            + DeserializeOwned
            + Debug,
        <K as Resource>::DynamicType: Default,
    {
        let mut stamped = object.clone();
        stamped.meta_mut().namespace = Some(self.namespace.clone());
        stamp(stamped.meta_mut(), plan);
        create_once(&self.api::<K>(), pp, &stamped, &plan.guid)
            .await
            .map_err(exec_error)
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
            connect: status.connect,
        }
    }

    /// The watch cache, started on first use, once every kind is listed. A watch whose last
    /// word was an error may have resumed since without news: one list of that kind tells
    /// (and while the cluster is down, callers get its error instead of old answers).
    pub(super) async fn cache(&self) -> Result<&Cache, ExecError> {
        let cache = self.started_cache();
        cache.synced(self.deadline / 2).await?;
        for (kind, error) in cache.failing() {
            self.list_one(kind).await.inspect_err(|_| {
                tracing::debug!(kind = kind.name(), watch_error = %error, "the watch is failing");
            })?;
            cache.clear_error(kind);
        }
        Ok(cache)
    }

    /// Waits until the cache shows what a write of this replica just did (`done`), so the
    /// caller's next read sees it; bounded: past [`CACHE_SETTLE`] it logs and goes on.
    async fn settle(&self, what: &str, done: impl Fn(&Cache) -> bool) {
        let Ok(cache) = self.cache().await else {
            return; // the read will say what is wrong
        };
        if cache.wait_until(CACHE_SETTLE, done).await.is_err() {
            tracing::warn!(
                what,
                "the watch cache did not show the change within {CACHE_SETTLE:?}; reads lag behind"
            );
        }
    }

    /// The watch cache, its watches started on first use (they fill it in the background).
    fn started_cache(&self) -> &Cache {
        self.cache
            .get_or_init(|| Cache::start(&self.watch_client, &self.namespace))
    }

    /// [`KubeExecutor::settle`] until the cache holds Deployment `name` at `version` or later.
    async fn settle_deployment(&self, what: &str, name: &str, version: Option<String>) {
        let key = ObjectRef::<view::Deployment>::new(name).within(&self.namespace);
        self.settle(what, |cache| {
            let cached = cache.deployments.get(&key);
            cached.is_some_and(|d| {
                at_least(d.metadata.resource_version.as_deref(), version.as_deref())
            })
        })
        .await;
    }

    /// One object of `kind` (metadata only), to learn whether the API server answers.
    async fn list_one(&self, kind: Kind) -> Result<(), ExecError> {
        let lp = ListParams::default().limit(1);
        let listed = match kind {
            Kind::Deployments => self.api::<Deployment>().list_metadata(&lp).await.map(drop),
            Kind::Pods => self.api::<Pod>().list_metadata(&lp).await.map(drop),
            Kind::Services => self.api::<Service>().list_metadata(&lp).await.map(drop),
            Kind::Events => self.api::<Event>().list_metadata(&lp).await.map(drop),
        };
        listed.map_err(exec_error)
    }

    /// Status from the cache: no API call.
    async fn list_systems(&self, filter: &Filter) -> Result<Vec<SystemStatus>, ExecError> {
        let cache = self.cache().await?;
        // What the label selectors of a list would pick: by GUID, by the sanitised username
        // label (ownership is decided below, exactly), or every system.
        let user_label = filter.username.as_deref().map(labels::username_label);
        let picked = |meta: &view::Meta| {
            let Some(l) = meta.labels.as_ref() else {
                return false;
            };
            match (&filter.guid, &user_label) {
                (Some(guid), _) => l.get(labels::GUID) == Some(guid),
                (None, Some(user)) => l.get(labels::USERNAME) == Some(user),
                (None, None) => true,
            }
        };
        let deployments = cache.deployments.state_filter(|d| picked(&d.metadata));
        let pods = cache.pods.state_filter(|p| picked(&p.metadata));
        let services = cache.services.state_filter(|s| picked(&s.metadata));
        Ok(self.statuses(filter, &deployments, &pods, &services))
    }

    /// Status listed from the API server (one list per kind), for decisions that must see
    /// what another replica has just done (its start may not have reached our watches yet).
    async fn list_from_cluster(&self, filter: &Filter) -> Result<Vec<SystemStatus>, ExecError> {
        let selector = match (&filter.guid, &filter.username) {
            (Some(guid), _) => labels::system_selector(guid),
            (None, Some(user)) => labels::user_selector(user),
            (None, None) => labels::all_systems_selector(),
        };
        let lp = ListParams::default().labels(&selector);
        let (deployments, pods, services) = futures::try_join!(
            self.list_view::<Deployment, view::Deployment>(&lp),
            self.list_view::<Pod, view::Pod>(&lp),
            self.list_view::<Service, view::Service>(&lp),
        )?;
        Ok(self.statuses(
            filter,
            &shared(deployments),
            &shared(pods),
            &shared(services),
        ))
    }

    /// The status of each system these objects make up, of the filter's owner only.
    fn statuses(
        &self,
        filter: &Filter,
        deployments: &[Arc<view::Deployment>],
        pods: &[Arc<view::Pod>],
        services: &[Arc<view::Service>],
    ) -> Vec<SystemStatus> {
        let mut groups: HashMap<String, Objects<'_>> = HashMap::new();
        for d in deployments {
            if let Some(guid) = guid_of(&d.metadata) {
                groups.entry(guid).or_default().deployment = Some(d);
            }
        }
        for p in pods {
            if let Some(guid) = guid_of(&p.metadata) {
                groups.entry(guid).or_default().pods.push(p);
            }
        }
        for s in services {
            if let Some(guid) = guid_of(&s.metadata) {
                groups.entry(guid).or_default().services.push(s);
            }
        }
        let now = k8s_openapi::jiff::Timestamp::now();
        let mut systems: Vec<SystemStatus> = groups
            .iter()
            .map(|(guid, objects)| (compute(guid, objects, &self.namespace, now), objects))
            .filter_map(|(mut s, objects)| match &filter.username {
                None => Some(s),
                Some(user) => owned_by(&mut s, objects, user).then_some(s),
            })
            .collect();
        systems.sort_by(|a, b| (&a.created, &a.guid).cmp(&(&b.created, &b.guid)));
        systems
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
            .map_err(|e| ExecError::caused(ExecError::Other(e.to_string()), e))?;
        let list: view::List<V> = self.client.request(request).await.map_err(exec_error)?;
        Ok(list.items)
    }

    /// Deletes every object labelled with this GUID, its fresh claims included: what a failed
    /// start's rollback and the sweep of interrupted starts do (reused and home claims carry no
    /// GUID label, so they stay).
    async fn remove(&self, guid: &str) -> Result<(), ExecError> {
        let lp = ListParams::default().labels(&labels::system_selector(guid));
        let claims = self.api::<PersistentVolumeClaim>();
        futures::try_join!(self.remove_workloads(guid), async {
            delete_all(&claims, &lp).await.map_err(exec_error)
        },)?;
        Ok(())
    }

    /// Deletes every object labelled with this GUID but its claims, kind by kind, the
    /// Deployment first so its pods stop early.
    async fn remove_workloads(&self, guid: &str) -> Result<(), ExecError> {
        let lp = ListParams::default().labels(&labels::system_selector(guid));
        let (deployments, services, policies, files, secrets, ingresses, routes) = (
            self.api::<Deployment>(),
            self.api::<Service>(),
            self.api::<NetworkPolicy>(),
            self.api::<ConfigMap>(),
            self.api::<Secret>(),
            self.api::<Ingress>(),
            self.http_routes(),
        );
        futures::try_join!(
            delete_all(&deployments, &lp),
            delete_all(&services, &lp),
            delete_all(&policies, &lp),
            delete_all(&files, &lp),
            delete_all(&secrets, &lp),
            // Only edge modes have these, and they are owned by the Deployment (collected with
            // it): a cluster without the Gateway API (404) or a Role without these kinds (403)
            // does not fail the delete.
            edge_kind("Ingress", delete_all(&ingresses, &lp)),
            edge_kind(gateway::KIND, delete_all(&routes, &lp)),
        )
        .map_err(exec_error)?;
        Ok(())
    }

    /// Deletes the system's workloads and does with its claims what `volumes` says (the claims
    /// are read first: the GUID's own, and the reused ones it mounted last).
    async fn delete_whole(&self, guid: &str, volumes: VolumeChoice) -> Result<Removal, ExecError> {
        let claims = self.system_claims(guid).await?;
        self.remove_workloads(guid).await?;
        let (kept, removed) = self.settle_claims(claims, volumes).await?;
        let lp = ListParams::default().labels(&labels::system_selector(guid));
        let (deployments_api, pods_api) = (self.api::<Deployment>(), self.api::<Pod>());
        let (deployments, pods) = futures::try_join!(
            deployments_api.list_metadata(&lp),
            pods_api.list_metadata(&lp),
        )
        .map_err(exec_error)?;
        let deleted = if deployments.items.is_empty() && pods.items.is_empty() {
            Deleted::Gone
        } else {
            Deleted::Terminating
        };
        let of_guid = |meta: &view::Meta| guid_of(meta).as_deref() == Some(guid);
        self.settle("delete", |cache| {
            let standing = cache
                .deployments
                .find(|d| of_guid(&d.metadata) && d.metadata.deletion_timestamp.is_none());
            standing.is_none()
                && (deleted == Deleted::Terminating
                    || (cache.pods.find(|p| of_guid(&p.metadata)).is_none()
                        && cache.services.find(|s| of_guid(&s.metadata)).is_none()))
        })
        .await;
        Ok(Removal {
            deleted,
            kept,
            removed,
        })
    }

    /// The events of every object of the system named `object_name` (Deployment, ReplicaSets,
    /// pods and Service, whose names start with it, and the claims it mounts), from the cache.
    async fn system_events(&self, object_name: &str) -> Result<Vec<KubeEvent>, ExecError> {
        if object_name.is_empty() {
            return Ok(Vec::new());
        }
        let cache = self.cache().await?;
        let ours = |meta: &view::Meta| {
            meta.name.as_deref() == Some(object_name)
                || meta.labels.as_ref().and_then(|l| l.get(labels::INSTANCE))
                    == Some(&object_name.to_string())
        };
        let specs: Vec<view::PodSpec> = cache
            .deployments
            .state_filter(|d| ours(&d.metadata))
            .iter()
            .filter_map(|d| d.spec.as_ref()?.template.spec.clone())
            .chain(
                cache
                    .pods
                    .state_filter(|p| ours(&p.metadata))
                    .iter()
                    .filter_map(|p| p.spec.clone()),
            )
            .collect();
        let claims: HashSet<&str> = specs
            .iter()
            .flat_map(|spec| &spec.volumes)
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .map(|c| c.claim_name.as_str())
            .collect();
        let events = cache.events.state_filter(|e| {
            e.involved_object.name.as_deref().is_some_and(|name| {
                super::kube_events::belongs_to(name, object_name) || claims.contains(name)
            })
        });
        Ok(super::kube_events::newest(
            events.iter().map(|e| Event::clone(e)).collect(),
        ))
    }

    /// The pod whose log to read and its first app container: of the system's pods (a rollout
    /// may briefly have two), the newest that is not terminating, else the newest terminating.
    async fn log_pod(&self, object_name: &str) -> Result<(String, Option<String>), ExecError> {
        let cache = self.cache().await?;
        let mut pods = cache.pods.state_filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(labels::INSTANCE))
                == Some(&object_name.to_string())
        });
        if pods.is_empty() {
            // A pod created a moment ago may not have reached the watch yet; a log is read
            // from the API server anyway, so one list of the system's pods costs little.
            let instance = format!("{}={object_name}", labels::INSTANCE);
            let lp = ListParams::default().labels(&instance);
            pods = shared(self.list_view::<Pod, view::Pod>(&lp).await?);
        }
        pods.iter()
            .max_by_key(|p| {
                (
                    p.metadata.deletion_timestamp.is_none(),
                    p.metadata.creation_timestamp.clone(),
                )
            })
            .map(|p| {
                let first = p.spec.as_ref().and_then(|s| s.containers.first());
                (
                    p.metadata.name.clone().unwrap_or_default(),
                    first.map(|c| c.name.clone()),
                )
            })
            .ok_or_else(|| ExecError::Refused {
                code: 404,
                reason: "NotFound".into(),
                message: "the system has no pod yet".into(),
            })
    }

    /// Opens the log; only finding the pod and opening the stream are bound by the
    /// deadline, not reading it (a followed log stays open as long as the container runs).
    async fn pod_logs(
        &self,
        object_name: &str,
        request: &LogRequest,
    ) -> Result<LogStream, ExecError> {
        let (name, first_container) = self.log_pod(object_name).await?;
        let container = request.container.clone().or(first_container);
        let lp = LogParams {
            container,
            follow: request.follow,
            previous: request.previous,
            since_seconds: request.since_seconds,
            tail_lines: request.tail_lines,
            ..Default::default()
        };
        let reader = self
            .api::<Pod>()
            .log_stream(&name, &lp)
            .await
            .map_err(exec_error)?;
        Ok(chunks(reader))
    }

    /// Lists the API server can answer, then the namespace: a 403 says which permission is
    /// missing, a namespace that does not exist is named.
    async fn probe_cluster(&self) -> Result<(), ExecError> {
        let lp = ListParams::default().limit(1);
        match self.api::<Deployment>().list_metadata(&lp).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 403 => {
                return Err(forbidden(
                    "list",
                    "deployments.apps",
                    &self.namespace,
                    &s.message,
                ));
            }
            Err(e) => return Err(exec_error(e)),
        }
        // Lists in a namespace that does not exist answer an empty list, so ask for it. A Role
        // bound in the namespace usually cannot read Namespaces (403): nothing to learn then.
        let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        match namespaces.get_metadata(&self.namespace).await {
            Err(kube::Error::Api(s)) if s.code == 404 => Err(ExecError::Refused {
                code: 404,
                reason: "NotFound".into(),
                message: format!("namespace \"{}\" does not exist", self.namespace),
            }),
            Err(kube::Error::Api(s)) if s.code == 403 => Ok(()),
            Err(e) => Err(exec_error(e)),
            Ok(_) => Ok(()),
        }
    }

    /// Removes systems whose start did not finish, then kept claims past their TTL.
    async fn sweep_all(&self) -> Result<Vec<String>, ExecError> {
        let removed = self.sweep_incomplete().await?;
        self.expire_volumes().await?;
        Ok(removed)
    }

    /// One merge patch of the Deployment's annotations (`None` removes one), seen by the cache
    /// when it returns.
    async fn patch_annotations(
        &self,
        name: &str,
        annotations: &[(&str, Option<String>)],
    ) -> Result<(), ExecError> {
        let values: serde_json::Map<String, serde_json::Value> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone().into()))
            .collect();
        let patch = serde_json::json!({"metadata": {"annotations": values}});
        let params = kube::api::PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let patched = self
            .api::<Deployment>()
            .patch(name, &params, &kube::api::Patch::Merge(&patch))
            .await
            .map_err(exec_error)?;
        self.settle_deployment("annotate", name, patched.metadata.resource_version)
            .await;
        Ok(())
    }

    /// Removes systems whose start did not finish (the incomplete mark is older than
    /// [`KubeExecutor::sweep_grace`]) and logs each.
    async fn sweep_incomplete(&self) -> Result<Vec<String>, ExecError> {
        // Candidates from the cache (no list a minute), each read again before it goes: a
        // removal must not act on a cache that lags behind the start's last step.
        let candidates = self.cache().await?.deployments.state_filter(|d| {
            d.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(super::ANNOTATION_COMPLETE))
                == Some(&"false".to_string())
        });
        let now = k8s_openapi::jiff::Timestamp::now();
        let mut removed = Vec::new();
        for candidate in candidates {
            let name = candidate.metadata.name.clone().unwrap_or_default();
            let Some(d) = self
                .api::<Deployment>()
                .get_metadata_opt(&name)
                .await
                .map_err(exec_error)?
            else {
                continue;
            };
            let meta = &d.metadata;
            let incomplete = meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(super::ANNOTATION_COMPLETE))
                .is_some_and(|v| v == "false");
            let age = meta
                .creation_timestamp
                .as_ref()
                .map(|t| now.duration_since(t.0).as_secs().max(0) as u64)
                .unwrap_or(0);
            let guid = meta.labels.as_ref().and_then(|l| l.get(labels::GUID));
            let (true, Some(guid)) = (incomplete && age >= self.sweep_grace.as_secs(), guid) else {
                continue;
            };
            self.remove(guid).await?;
            tracing::warn!(
                guid = %guid,
                deployment = meta.name.as_deref().unwrap_or_default(),
                age_seconds = age,
                "removed a system whose start was interrupted (incomplete: no pods ran)"
            );
            removed.push(guid.clone());
        }
        Ok(removed)
    }
}

/// The exact owner on every object of the plan: the username annotation, and its injective
/// hash as a label, so ownership is known exactly while the Deployment (which had the
/// annotation before) is gone and pods or Services are still there.
pub(super) fn stamp(meta: &mut ObjectMeta, plan: &Plan) {
    meta.labels.get_or_insert_with(Default::default).insert(
        super::LABEL_OWNER_HASH.into(),
        super::owner_hash(&plan.username),
    );
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(labels::ANNOTATION_USERNAME.into(), plan.username.clone());
}

/// Whether the system belongs to `user`, from its exact owner: the username annotation, or
/// else the owner-hash label (then the status gets the exact name). A system with neither
/// (made by an older version, its Deployment gone) belongs to no one but admins.
fn owned_by(system: &mut SystemStatus, objects: &Objects<'_>, user: &str) -> bool {
    if !system.username.is_empty() {
        return system.username == user;
    }
    let want = super::owner_hash(user);
    let metas = objects
        .deployment
        .map(|d| &d.metadata)
        .into_iter()
        .chain(objects.pods.iter().map(|p| &p.metadata))
        .chain(objects.services.iter().map(|s| &s.metadata));
    let matches = metas
        .filter_map(|m| m.labels.as_ref()?.get(super::LABEL_OWNER_HASH))
        .any(|h| *h == want);
    if matches {
        system.username = user.to_string();
    }
    matches
}

/// Creates `object`. A create whose answer is lost (504, a broken connection) may have been
/// stored: it is sent once more, and an `AlreadyExists` then is ours when the stored object
/// carries this system's GUID label.
async fn create_once<K>(
    api: &Api<K>,
    pp: &PostParams,
    object: &K,
    guid: &str,
) -> Result<K, kube::Error>
where
    K: Resource + Clone + Serialize + DeserializeOwned + Debug,
{
    let first = api.create(pp, object).await;
    match first {
        Err(e) if answer_lost(&e) => {
            tracing::warn!(error = %e, "a create's answer was lost; asking again");
        }
        other => return other,
    }
    match api.create(pp, object).await {
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let name = object.meta().name.clone().unwrap_or_default();
            let stored = api.get(&name).await?;
            let ours = stored
                .meta()
                .labels
                .as_ref()
                .and_then(|l| l.get(labels::GUID))
                .is_some_and(|g| g == guid);
            if ours {
                Ok(stored)
            } else {
                Err(kube::Error::Api(s))
            }
        }
        other => other,
    }
}

/// The request may have been carried out although its answer did not arrive.
pub(super) fn answer_lost(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 504,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Deletes every object of a kind the selector matches: one deletecollection with default
/// options (no body: 1.25.0–1.25.3 refused one, and apps/v1 already propagates in the
/// background), or per object where the kind has no deletecollection (405).
async fn delete_all<K>(api: &Api<K>, lp: &ListParams) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let dp = DeleteParams::default();
    match api.delete_collection(&dp, lp).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 405 => {
            for object in api.list_metadata(lp).await?.items {
                let name = object.metadata.name.unwrap_or_default();
                match api.delete(&name, &dp).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn deadline_passed(what: &str, deadline: Duration) -> ExecError {
    ExecError::Unreachable(format!(
        "the API server did not answer within {} s ({what})",
        deadline.as_secs_f64()
    ))
}

/// A 403 as "forbidden: <verb> <resource> in namespace <ns>", with the server's words after.
fn forbidden(verb: &str, resource: &str, namespace: &str, message: &str) -> ExecError {
    ExecError::Refused {
        code: 403,
        reason: "Forbidden".into(),
        message: format!(
            "forbidden: {verb} {resource} in namespace {namespace} (the server's Role lacks it: {message})"
        ),
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
        Box::pin(self.within("list systems", self.list_systems(filter)))
    }

    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.started_cache().changes())
    }

    fn list_fresh<'a>(
        &'a self,
        filter: &'a Filter,
    ) -> BoxFuture<'a, Result<Vec<SystemStatus>, ExecError>> {
        Box::pin(self.within("list systems", self.list_from_cluster(filter)))
    }

    fn kube_events<'a>(
        &'a self,
        object_name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KubeEvent>, ExecError>> {
        Box::pin(self.within("read events", self.system_events(object_name)))
    }

    fn logs<'a>(
        &'a self,
        object_name: &'a str,
        request: &'a LogRequest,
    ) -> BoxFuture<'a, Result<LogStream, ExecError>> {
        Box::pin(self.within("open the log", self.pod_logs(object_name, request)))
    }

    fn delete_system<'a>(
        &'a self,
        guid: &'a str,
        volumes: VolumeChoice,
    ) -> BoxFuture<'a, Result<Removal, ExecError>> {
        Box::pin(self.within("delete", self.delete_whole(guid, volumes)))
    }

    fn volumes<'a>(
        &'a self,
        filter: &'a Filter,
    ) -> BoxFuture<'a, Result<Vec<tycho_api::Volume>, ExecError>> {
        Box::pin(self.within("list volumes", self.list_volumes(filter)))
    }

    fn delete_volume<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), ExecError>> {
        Box::pin(self.within("delete a volume", self.remove_claim(name)))
    }

    fn record_activity<'a>(
        &'a self,
        object_name: &'a str,
        at: &'a str,
    ) -> BoxFuture<'a, Result<(), ExecError>> {
        Box::pin(async move {
            let activity = [(super::ANNOTATION_LAST_ACTIVITY, Some(at.to_string()))];
            let write = self.patch_annotations(object_name, &activity);
            self.within("record activity", write).await
        })
    }

    fn annotate<'a>(
        &'a self,
        object_name: &'a str,
        annotations: &'a [(&'a str, Option<String>)],
    ) -> BoxFuture<'a, Result<(), ExecError>> {
        Box::pin(self.within("annotate", self.patch_annotations(object_name, annotations)))
    }

    fn lock_user<'a>(
        &'a self,
        user: &'a str,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn HeldLock>>, ExecError>> {
        Box::pin(async move {
            let name = start_lock_name(user);
            self.locks.lock(&name, wait).await.map_err(exec_error)
        })
    }

    fn singleton_lease(
        &self,
        identity: &str,
    ) -> Option<std::sync::Arc<dyn crate::lease::LeaseLock>> {
        let lease = crate::lease::KubeLease::new(self.client.clone(), &self.namespace, identity);
        Some(std::sync::Arc::new(lease))
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), ExecError>> {
        Box::pin(async move {
            // Short: `/readyz` is asked by load balancers that time out themselves.
            let probe = async {
                self.probe_cluster().await?;
                // Ready once the watches have listed: reads answer from them.
                self.started_cache()
                    .synced(PROBE_DEADLINE)
                    .await
                    .map_err(|e| ExecError::Refused {
                        code: 503,
                        reason: "CacheNotSynced".into(),
                        message: e.to_string(),
                    })
            };
            match tokio::time::timeout(PROBE_DEADLINE, probe).await {
                Ok(result) => result,
                Err(_) => Err(deadline_passed("readiness probe", PROBE_DEADLINE)),
            }
        })
    }

    fn sweep(&self) -> BoxFuture<'_, Result<Vec<String>, ExecError>> {
        Box::pin(self.within("sweep", self.sweep_all()))
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

/// A log body as chunks as they arrive (bytes, not lines: a line without its newline yet is
/// sent as it is); after a failure the stream ends. Fused: the compression layer polls a body
/// once more after its end, which an unfused `unfold` answers with a panic.
fn chunks(reader: impl AsyncBufRead + Send + 'static) -> LogStream {
    const CHUNK: usize = 16 * 1024;
    futures::stream::unfold(Some(Box::pin(reader)), |reader| async move {
        let mut reader = reader?;
        let mut buf = vec![0u8; CHUNK];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(reader)))
            }
            Err(e) => {
                let kind = ExecError::Unreachable(format!("the log stream broke: {e}"));
                Some((Err(ExecError::caused(kind, e)), None))
            }
        }
    })
    .fuse()
    .boxed()
}

fn guid_of(meta: &view::Meta) -> Option<String> {
    meta.labels.as_ref()?.get(labels::GUID).cloned()
}

/// Maps a kube error: API refusals keep their code and reason; transport failures are
/// "unreachable". The kube error stays the cause.
pub fn exec_error(e: kube::Error) -> ExecError {
    let kind = match &e {
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
    };
    ExecError::caused(kind, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn api_error(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, reason)
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn a_kube_error_stays_the_cause_behind_the_same_words() {
        let e = exec_error(api_error(
            409,
            "AlreadyExists",
            "deployments \"x\" already exists",
        ));
        assert_eq!(
            e.to_string(),
            "the cluster refused the request (409 AlreadyExists): deployments \"x\" already exists"
        );
        assert!(matches!(e.kind(), ExecError::Refused { code: 409, .. }));
        let cause = e.source().expect("the kube error is the cause");
        assert!(cause.downcast_ref::<kube::Error>().is_some(), "{cause:?}");

        let e = exec_error(api_error(503, "ServiceUnavailable", "etcd is down"));
        assert_eq!(
            e.to_string(),
            "the cluster cannot be reached: 503 etcd is down"
        );
        assert!(matches!(e.kind(), ExecError::Unreachable(_)));
        assert!(e.source().is_some());
    }
}
