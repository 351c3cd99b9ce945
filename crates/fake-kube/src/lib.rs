//! An in-process fake Kubernetes API server for Tycho's integration tests.
//!
//! It speaks the real API's paths, verbs, `Status` errors and watch stream, so tests drive it
//! with the real `kube::Client`; a small simulation of the Deployment/ReplicaSet controllers and
//! the kubelet gives pods and Deployments believable status, with per-image failure modes.
//! [`TestCluster`] lets the same test run against a real cluster instead (see
//! `TYCHO_TEST_KUBECONFIG`).
//!
//! ```no_run
//! # async fn demo() {
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube::api::{Api, PostParams};
//!
//! let fake = tycho_fake_kube::FakeKube::start().await;
//! let cms: Api<ConfigMap> = Api::default_namespaced(fake.client());
//! let cm = serde_json::from_value(serde_json::json!({"metadata": {"name": "c"}})).unwrap();
//! cms.create(&PostParams::default(), &cm).await.unwrap();
//! assert_eq!(fake.object_count(), 2); // the "default" namespace and the ConfigMap
//! # }
//! ```

mod config_data;
mod controller;
mod defaults;
mod gc;
mod harness;
mod kinds;
mod kubelet;
mod logs;
mod ops;
mod patch;
mod portforward;
mod routes;
mod selector;
mod state;
mod status;
mod storage;
mod store;
mod util;
mod validate;
mod watch;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use harness::TestCluster;

use state::{InjectedAction, Injection, Shared};

/// How the simulated kubelet/scheduler treats pods whose container image matches a pattern
/// registered with [`FakeKube::set_image_behavior`]. Images that match nothing are `Ready`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodBehavior {
    /// Running, all containers ready (after the ready delay, if one is set).
    Ready,
    /// Stays Pending with containers in ContainerCreating.
    Pending,
    /// Pending, container waiting `ImagePullBackOff`, plus `Failed` and `BackOff` Events.
    ImagePullBackOff,
    /// Pending, container waiting `InvalidImageName`, plus `InspectFailed` and `Failed` Events.
    InvalidImageName,
    /// Running but not ready, container waiting `CrashLoopBackOff` with restarts.
    CrashLoopBackOff,
    /// Pending with `PodScheduled=False` / `Unschedulable`, plus a `FailedScheduling` Event.
    Unschedulable,
    /// No pod is created: the ReplicaSet and Deployment get a `ReplicaFailure` condition, and a
    /// direct pod create answers 403 Forbidden "exceeded quota".
    QuotaExceeded,
    /// The image's `USER` is root. Runs like `Ready` unless the pod or container asks for
    /// `runAsNonRoot: true` without a `runAsUser`: then, as the kubelet does, the container
    /// waits in `CreateContainerConfigError` ("container has runAsNonRoot and image will run
    /// as root") with a `Failed` Event.
    RunsAsRoot,
}

/// How deletions finish once [`FakeKube::set_termination`] is called: asynchronously, as on a
/// real cluster (see the `gc` module). Without it, a DELETE removes the object and everything
/// it owns before it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termination {
    /// How long the garbage collector takes to delete what a deleted owner owned (and the
    /// namespace controller to empty a deleted namespace).
    pub collect_after: Duration,
    /// How long a pod's containers take to exit after SIGTERM. A deleted pod is removed after
    /// this or after its grace period (when the kubelet kills it), whichever is shorter: an
    /// image that ignores SIGTERM is one with an `exit_after` longer than the grace period.
    pub exit_after: Duration,
}

/// A running fake API server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct FakeKube {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl FakeKube {
    /// Binds 127.0.0.1 on a free port and serves on a task of the current tokio runtime, so the
    /// server lives as long as that runtime (one `#[tokio::test]`).
    pub async fn start() -> FakeKube {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake-kube: cannot bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("fake-kube: listener has no address");
        let shared = Shared::new();
        let app = routes::router(shared.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("fake-kube server stopped: {e}");
            }
        });
        FakeKube { shared, addr }
    }

    /// Sends port-forwards to container port `port` (of any running pod) to `addr`, as if the
    /// pod listened there: how tests reach a "pod" through the API server.
    pub fn set_port_forward(&self, port: u16, addr: SocketAddr) {
        self.shared
            .forwards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(port, addr);
    }

    /// Appends `lines` to the log of every container named `container` (in any pod, now or
    /// later): what `GET pods/{name}/log?container=…` answers (honouring `tailLines` and
    /// `sinceSeconds`), and what open `follow=true` answers send next. A container nobody
    /// wrote to has an empty log.
    pub fn append_logs(&self, container: &str, lines: &[&str]) {
        self.shared.logs.append(container, lines);
    }

    /// The log of the previous (terminated) instance of every container named `container`:
    /// what `previous=true` answers. Without it, `previous=true` answers 400 as the real API
    /// server does for a container that never restarted.
    pub fn set_previous_logs(&self, container: &str, lines: &[&str]) {
        self.shared.logs.set_previous(container, lines);
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A real `kube::Client` for this server with default namespace "default".
    ///
    /// Built with `default_retry = false`: kube's default policy retries 503/429/504 up to 15
    /// times with exponential backoff (minutes in total), which would make `set_unreachable`
    /// tests hang. Must be called inside a tokio runtime.
    pub fn client(&self) -> kube::Client {
        self.client_in("default")
    }

    /// Like [`FakeKube::client`], with another default namespace.
    pub fn client_in(&self, namespace: &str) -> kube::Client {
        let url = self.url().parse().expect("fake-kube: url is a valid URI");
        let mut config = kube::Config::new(url);
        config.default_namespace = namespace.to_string();
        config.default_retry = false;
        kube::Client::try_from(config).expect("fake-kube: cannot build kube::Client")
    }

    /// A kubeconfig (server = [`FakeKube::url`], no credentials) for a spawned process.
    pub fn kubeconfig_yaml(&self, namespace: &str) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: fake-kube
  cluster:
    server: {url}
contexts:
- name: fake-kube
  context:
    cluster: fake-kube
    user: fake-kube
    namespace: {namespace}
current-context: fake-kube
users:
- name: fake-kube
  user: {{}}
preferences: {{}}
",
            url = self.url()
        )
    }

    /// Makes the `n`-th (1-based) POST to `plural` (e.g. "services") from now on fail with a
    /// `Status` of that `code` (reason chosen to match: 403 Forbidden, 409 AlreadyExists,
    /// 422 Invalid, 500 InternalError, 503 ServiceUnavailable, …). Several may be queued.
    pub fn fail_nth_create(&self, plural: &str, n: usize, code: u16) {
        self.inject(plural, n, InjectedAction::Fail(code));
    }

    /// Like [`FakeKube::fail_nth_create`], but the object is stored first: what a client sees
    /// when the API server's write reached etcd and the answer timed out (504).
    pub fn store_then_fail_nth_create(&self, plural: &str, n: usize, code: u16) {
        self.inject(plural, n, InjectedAction::StoreThenFail(code));
    }

    /// Makes the `n`-th POST to `plural` wait `delay` before it is handled (a stalled API
    /// server). A client that gives up first leaves nothing stored.
    pub fn delay_nth_create(&self, plural: &str, n: usize, delay: Duration) {
        self.inject(plural, n, InjectedAction::Delay(delay));
    }

    fn inject(&self, plural: &str, n: usize, action: InjectedAction) {
        assert!(n >= 1, "fake-kube injections: n is 1-based");
        let mut g = self.shared.lock();
        let seen = g.creates_seen.get(plural).copied().unwrap_or(0);
        g.injections.push(Injection {
            plural: plural.to_string(),
            at: seen + n,
            action,
        });
    }

    /// Answers `verb` ("get", "list", "create", "delete", "deletecollection", "patch",
    /// "update", "watch") on `plural` with 403 Forbidden and the RBAC message of the real
    /// server, as for a Role without that permission (`"pods/log"` for the log subresource).
    pub fn forbid(&self, verb: &str, plural: &str) {
        self.shared
            .lock()
            .forbidden
            .push((verb.to_string(), plural.to_string()));
    }

    /// Stores `objects` of the kind `plural` as they are, status included, without the API's
    /// defaulting and validation or the simulated controllers: how a benchmark preloads
    /// thousands of systems in seconds (through the API each write scans the store). Each gets
    /// a uid, a creation time and a resourceVersion; watchers see it ADDED.
    pub fn insert(&self, plural: &str, objects: Vec<serde_json::Value>) {
        let kind = kinds::by_plural(plural)
            .unwrap_or_else(|| panic!("fake-kube: no kind {plural:?} to insert"));
        let mut g = self.shared.lock();
        for mut object in objects {
            let uid = g.store.rng.uuid();
            object["metadata"]["uid"] = serde_json::json!(uid);
            object["metadata"]["creationTimestamp"] = serde_json::json!(util::now_rfc3339());
            g.store.insert(kind, object);
        }
        self.shared.settle(&mut g);
    }

    /// Undoes every [`FakeKube::forbid`]: the Role has all its permissions again.
    pub fn allow_all(&self) {
        self.shared.lock().forbidden.clear();
    }

    /// Ends every open watch and forgets the change history, as an API server restart with a
    /// compacted etcd does: a watch resumed from a resourceVersion older than now answers 410
    /// Expired, and the client must list again.
    pub fn restart(&self) {
        let mut g = self.shared.lock();
        g.watchers.clear();
        g.history.clear();
        g.history_floor = g.store.resource_version();
    }

    /// A DELETE of a `plural` collection answers 405 MethodNotAllowed, as for kinds (or
    /// aggregated APIs) that do not offer `deletecollection`.
    pub fn refuse_delete_collection(&self, plural: &str) {
        self.shared
            .lock()
            .no_delete_collection
            .push(plural.to_string());
    }

    /// A DELETE of a collection with a body (DeleteOptions) answers 400, as Kubernetes
    /// 1.25.0–1.25.3 did.
    pub fn refuse_delete_collection_body(&self, refuse: bool) {
        self.shared.lock().refuse_delete_collection_body = refuse;
    }

    /// While true every request (even /healthz) answers 503 ServiceUnavailable, and open watch
    /// streams are closed, as when the cluster goes down.
    pub fn set_unreachable(&self, unreachable: bool) {
        let mut g = self.shared.lock();
        g.unreachable = unreachable;
        if unreachable {
            g.watchers.clear();
        }
    }

    /// Pods created from now on whose container image contains `image_contains` behave so. The
    /// latest registration wins when several patterns match one image.
    pub fn set_image_behavior(&self, image_contains: &str, behavior: PodBehavior) {
        let mut g = self.shared.lock();
        g.sim.behaviors.retain(|(p, _)| p != image_contains);
        g.sim.behaviors.push((image_contains.to_string(), behavior));
    }

    /// Keeps Events for `ttl` after their last write instead of the API server's hour.
    pub fn set_event_ttl(&self, ttl: Duration) {
        let mut g = self.shared.lock();
        g.sim.event_ttl = Some(ttl);
        g.events_expired_at = None; // the new TTL applies from the next request
    }

    /// Deletes from now on finish asynchronously, as on a real cluster: dependents are
    /// collected after `collect_after`, pods stay Terminating until their containers exit,
    /// namespaces until they are empty (see [`Termination`]).
    pub fn set_termination(&self, termination: Termination) {
        self.shared.lock().sim.termination = Some(termination);
    }

    /// Pods created from now on start Pending (ContainerCreating) and become Ready after
    /// `delay`; Deployment status follows. Zero (the default) means Ready at once.
    pub fn set_ready_delay(&self, delay: Duration) {
        self.shared.lock().sim.ready_delay = delay;
    }

    /// Requests served since start or the last [`FakeKube::reset_requests`].
    pub fn request_count(&self) -> usize {
        self.shared.lock().log.len()
    }

    /// Requests served, in order, as `"GET /api/v1/namespaces/x/pods?labelSelector=app=web"`
    /// (query percent-decoded).
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().log.clone()
    }

    /// Watch streams open now, as `(plural, how many)`, sorted by plural.
    pub fn open_watches(&self) -> Vec<(String, usize)> {
        let mut g = self.shared.lock();
        g.watchers.retain(|w| !w.tx.is_closed());
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for w in &g.watchers {
            *counts.entry(w.plural.to_string()).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    pub fn reset_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// Every stored object of every kind, including namespaces ("default" exists from the
    /// start, so a fresh server has 1), but not Events (like the real API server's, they stay
    /// after the objects they are about are gone, until they expire) and not Leases (servers
    /// take and give them back on their own schedule: the singleton Lease, start locks).
    pub fn object_count(&self) -> usize {
        let mut g = self.shared.lock();
        g.refresh();
        self.shared.settle(&mut g);
        g.store.count()
    }
}
