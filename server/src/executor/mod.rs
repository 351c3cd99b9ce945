//! Where plans run. The trait keeps the server independent of the orchestrator; Kubernetes is the
//! first (and so far only) backend.

pub mod cache;
pub mod kube_events;
pub mod kubernetes;
pub mod status;
pub mod view;
pub mod volumes;

use crate::lease::HeldLock;
use axum::body::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tycho_api::{KubeEvent, PortStatus, SystemStatus};
use tycho_compiler::Plan;

pub use kubernetes::KubeExecutor;

/// RFC 3339 time of the last request through the connect proxy, on the Deployment (written by
/// the server at most once a minute; see `connect::activity`).
pub const ANNOTATION_LAST_ACTIVITY: &str = "tycho.io/last-activity";

/// `"false"` on a Deployment whose start has not created every object yet (it runs no pods
/// until then); removed by the start's last step. A Deployment left with it was interrupted
/// (a crash, a deadline): [`Executor::sweep`] removes such systems.
pub const ANNOTATION_COMPLETE: &str = "tycho.io/complete";

/// The owner as an injective label value: the `username` label is sanitised (`../bob`, `@bob@`
/// and `bob` all become `bob`), so it may select, never decide, ownership.
pub const LABEL_OWNER_HASH: &str = "tycho.io/owner-hash";

/// Lifetimes (see `crate::lifetime`), on the Deployment, written by the replica that holds the
/// singleton Lease: RFC 3339 time of a cull that is near, its reason (`idle`, `max_lifetime`)
/// and the owner's warning; when every replica was first seen ready; and a start that timed
/// out (`StartTimeout`) with its message. Status reads them on every replica.
pub const ANNOTATION_CULL_AT: &str = "tycho.io/cull-at";
pub const ANNOTATION_CULL_REASON: &str = "tycho.io/cull-reason";
pub const ANNOTATION_WARNING: &str = "tycho.io/warning";
pub const ANNOTATION_READY_AT: &str = "tycho.io/ready-at";
pub const ANNOTATION_FAILED_REASON: &str = "tycho.io/failed-reason";
pub const ANNOTATION_FAILED_MESSAGE: &str = "tycho.io/failed-message";

/// How often the server sweeps incomplete systems (also once at start-up).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// [`LABEL_OWNER_HASH`] of an exact username: SHA-256 in hex, cut to the 63 characters a label
/// value may hold (252 bits: collisions are not a concern).
pub fn owner_hash(username: &str) -> String {
    let digest = Sha256::digest(username.as_bytes());
    let mut hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(63);
    hex
}

/// Sweeps once now and then every [`SWEEP_INTERVAL`], on a task of the current runtime (none
/// outside one), while this process holds the singleton `lease` (always without one). What
/// each sweep removed is logged by the executor.
pub fn spawn_sweeper(
    executor: Arc<dyn Executor>,
    lease: Option<Arc<dyn crate::lease::LeaseLock>>,
) -> Option<tokio::task::JoinHandle<()>> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    Some(handle.spawn(async move {
        let mut every = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            every.tick().await;
            if let Some(lease) = &lease {
                match lease.acquire(k8s_openapi::jiff::Timestamp::now()).await {
                    Ok(true) => {}
                    Ok(false) => continue, // another replica sweeps
                    Err(e) => {
                        tracing::warn!(error = %e, "sweep skipped: the singleton lease cannot be read");
                        continue;
                    }
                }
            }
            if let Err(e) = executor.sweep().await {
                tracing::warn!(error = %e, "sweep of incomplete systems failed; retried later");
            }
        }
    }))
}

/// The lock of a backend that runs in one process only.
struct Unshared;

impl HeldLock for Unshared {
    fn release(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// Which systems to look at. Both set: the system with this GUID if it belongs to this user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub guid: Option<String>,
    /// The owner exactly as given (not the sanitised label value).
    pub username: Option<String>,
}

impl Filter {
    pub fn all() -> Self {
        Filter::default()
    }
    pub fn guid(guid: &str) -> Self {
        Filter {
            guid: Some(guid.into()),
            username: None,
        }
    }
    pub fn user(username: &str) -> Self {
        Filter {
            guid: None,
            username: Some(username.into()),
        }
    }
}

/// What a start created.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub guid: String,
    pub name: String,
    pub username: String,
    /// Published ports, with the node ports the cluster allocated.
    pub ports: Vec<PortStatus>,
    /// Address of the Service (load balancer ingress or cluster IP), empty without one.
    pub address: String,
    /// Name of each Service port, by Service port number (the compat API reports it).
    pub port_names: Vec<(u16, String)>,
    /// Where the system is opened (the plan's connect target), if anywhere.
    pub connect: Option<tycho_api::ConnectTarget>,
}

/// Which log of a system's pod to read (`GET /api/v1/systems/{guid}/logs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRequest {
    /// The container; `None`: the pod's first app container (not an init container or sidecar).
    pub container: Option<String>,
    /// Only the last lines, at most this many.
    pub tail_lines: Option<i64>,
    /// Only lines written in the last this many seconds.
    pub since_seconds: Option<i64>,
    /// Keep the stream open and send lines as they are written, until the container ends.
    pub follow: bool,
    /// The previous (terminated, e.g. crashed) instance of the container.
    pub previous: bool,
}

/// A log as it arrives: chunks of UTF-8 text (whole lines).
pub type LogStream = BoxStream<'static, Result<Bytes, ExecError>>;

/// What a system's delete does with its volumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VolumeChoice {
    /// Keep them all, as `docker compose down` does (the default).
    #[default]
    Keep,
    /// Delete its own claims and the reused ones it mounted last (`volumes=delete`,
    /// `docker compose down -v`). Never the home.
    Delete,
    /// Delete its own (per-GUID) claims, keep reused ones: the original Tycho API's delete,
    /// whose clients cannot list or remove kept claims, and whose files opted into reuse.
    DeleteUnlessReused,
}

/// What a delete did: the system's state, and its volumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub deleted: Deleted,
    pub kept: Vec<tycho_api::VolumeRef>,
    pub removed: Vec<tycho_api::VolumeRef>,
}

/// The time as the executor sees it: the wall clock, or a test's.
pub type Clock = Arc<dyn Fn() -> k8s_openapi::jiff::Timestamp + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(k8s_openapi::jiff::Timestamp::now)
}

/// Result of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Nothing with this GUID is left (including: there never was).
    Gone,
    /// Deletion started; objects are still terminating.
    Terminating,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The orchestrator cannot be reached (connection refused, timeout, TLS).
    #[error("the cluster cannot be reached: {0}")]
    Unreachable(String),
    /// The orchestrator refused the request: its HTTP code, machine reason and message.
    #[error("the cluster refused the request ({code} {reason}): {message}")]
    Refused {
        code: u16,
        reason: String,
        message: String,
    },
    #[error("{0}")]
    Other(String),
    /// The request conflicts with what runs (a ReadWriteOnce claim another system mounts, a
    /// volume in use): 409 with the reason.
    #[error("{0}")]
    Conflict(String),
    /// A failure that has a cause of its own (a kube error, mostly): `kind`, one of the variants
    /// above, is what answers and logs say and what decides the answer's status; the cause
    /// stays reachable through `source()`.
    #[error("{kind}")]
    Caused {
        kind: Box<ExecError>,
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ExecError {
    /// `kind` (one of the variants without a cause) caused by `cause`.
    pub fn caused(
        kind: ExecError,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ExecError::Caused {
            kind: Box::new(kind),
            cause: cause.into(),
        }
    }

    /// The failure without its cause: [`ExecError::Unreachable`], [`ExecError::Refused`] or
    /// [`ExecError::Other`].
    pub fn kind(&self) -> &ExecError {
        match self {
            ExecError::Caused { kind, .. } => kind.kind(),
            other => other,
        }
    }
}

/// An orchestrator that runs plans. Object-safe: the server holds an `Arc<dyn Executor>`.
pub trait Executor: Send + Sync + 'static {
    /// Creates every object of the plan; on failure removes whatever it created first.
    fn start<'a>(&'a self, plan: &'a Plan) -> BoxFuture<'a, Result<Started, ExecError>>;
    /// Status of the systems the filter selects, sorted by creation time then GUID.
    fn list<'a>(
        &'a self,
        filter: &'a Filter,
    ) -> BoxFuture<'a, Result<Vec<SystemStatus>, ExecError>>;
    /// [`Executor::list`] as the orchestrator has it this moment, for decisions replicas must
    /// agree on (quotas): `list` may answer from a cache a moment behind another replica.
    fn list_fresh<'a>(
        &'a self,
        filter: &'a Filter,
    ) -> BoxFuture<'a, Result<Vec<SystemStatus>, ExecError>> {
        self.list(filter)
    }
    /// A counter that moves whenever the orchestrator reports a change to what `list` reads
    /// (its watches); `None`: the backend cannot tell, callers poll.
    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
    /// Status of one system, `None` when nothing with that GUID exists.
    fn status<'a>(
        &'a self,
        guid: &'a str,
    ) -> BoxFuture<'a, Result<Option<SystemStatus>, ExecError>> {
        Box::pin(async move {
            let mut systems = self.list(&Filter::guid(guid)).await?;
            Ok(systems.pop())
        })
    }
    /// What the orchestrator reported about the system whose objects are named `object_name`
    /// (Kubernetes Events), oldest first, at most the newest 200.
    fn kube_events<'a>(
        &'a self,
        object_name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KubeEvent>, ExecError>>;
    /// The log of one container of the pod of the system whose objects are named
    /// `object_name`. `Refused` 404 when the system has no pod (yet).
    fn logs<'a>(
        &'a self,
        object_name: &'a str,
        request: &'a LogRequest,
    ) -> BoxFuture<'a, Result<LogStream, ExecError>>;
    /// Removes every object of the system but its volumes, which it keeps. Deleting what is
    /// already gone is not an error.
    fn delete<'a>(&'a self, guid: &'a str) -> BoxFuture<'a, Result<Deleted, ExecError>> {
        Box::pin(async move {
            let removal = self.delete_system(guid, VolumeChoice::Keep).await?;
            Ok(removal.deleted)
        })
    }
    /// Removes every object of the system, its volumes as `volumes` says.
    fn delete_system<'a>(
        &'a self,
        guid: &'a str,
        volumes: VolumeChoice,
    ) -> BoxFuture<'a, Result<Removal, ExecError>>;
    /// The claims Tycho made that outlive systems (kept, reused, homes, and those of running
    /// systems) of the filter's user (exactly), or everyone's; oldest first.
    fn volumes<'a>(
        &'a self,
        filter: &'a Filter,
    ) -> BoxFuture<'a, Result<Vec<tycho_api::Volume>, ExecError>> {
        let _ = filter;
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Deletes one claim by name (the caller checked owner and use). Gone already is fine.
    fn delete_volume<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), ExecError>> {
        let _ = name;
        Box::pin(async { Err(ExecError::Other("this backend keeps no volumes".into())) })
    }
    /// Writes when the system whose Deployment is `object_name` last saw a request through the
    /// proxy (RFC 3339), for culling and other replicas.
    fn record_activity<'a>(
        &'a self,
        object_name: &'a str,
        at: &'a str,
    ) -> BoxFuture<'a, Result<(), ExecError>>;
    /// Sets (`Some`) or removes (`None`) annotations of the Deployment `object_name` in one
    /// merge patch (the lifetime task's marks). Backends without annotations do nothing.
    fn annotate<'a>(
        &'a self,
        object_name: &'a str,
        annotations: &'a [(&'a str, Option<String>)],
    ) -> BoxFuture<'a, Result<(), ExecError>> {
        let _ = (object_name, annotations);
        Box::pin(async { Ok(()) })
    }
    /// Takes `user`'s start lock, shared by every replica (see `lease::ClusterLocks`),
    /// waiting up to `wait`; `Ok(None)` when another start still holds it then. A backend
    /// without one answers a lock that guards nothing (one process: the caller's mutex does).
    fn lock_user<'a>(
        &'a self,
        user: &'a str,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn HeldLock>>, ExecError>> {
        let _ = (user, wait);
        Box::pin(async { Ok(Some(Box::new(Unshared) as Box<dyn HeldLock>)) })
    }
    /// The Lease one replica holds to run the singleton tasks (culling), if the backend has
    /// one; `None`: this process is the only one.
    fn singleton_lease(&self, identity: &str) -> Option<Arc<dyn crate::lease::LeaseLock>> {
        let _ = identity;
        None
    }
    /// Cheap reachability check for `/readyz`: `Unreachable` when the orchestrator does not
    /// answer, `Refused` when it answers but will not serve us (no permission, no namespace).
    fn probe(&self) -> BoxFuture<'_, Result<(), ExecError>>;
    /// Removes systems whose start was interrupted (see [`ANNOTATION_COMPLETE`]) and returns
    /// their GUIDs; also removes kept claims past the policy's `volume_ttl` (logged). Backends
    /// that start atomically have nothing to sweep.
    fn sweep(&self) -> BoxFuture<'_, Result<Vec<String>, ExecError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Where systems run (the namespace), for messages and URLs.
    fn location(&self) -> &str;
}
