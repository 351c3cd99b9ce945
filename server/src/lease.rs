//! One replica at a time runs the singleton tasks (culling): the one holding a
//! `coordination.k8s.io/v1` Lease, which it renews on every round and another replica takes
//! over once it has not been renewed for its duration.
//!
//! kube 5 (client and runtime) has no leader-election helper, so this is the small loop
//! client-go's `leaderelection` runs: read the Lease; create it when there is none; renew it
//! when we hold it; take it when its holder let it expire. Every write carries the
//! resourceVersion that was read, so of two replicas racing for an expired Lease one write
//! succeeds and the other gets 409 and stays a follower. Time comes in as `now` (tests
//! inject it); each replica compares the Lease's `renewTime`, written by another replica's
//! clock, to its own, so clocks are assumed to agree within a fraction of the duration.

use futures::future::BoxFuture;
use k8s_openapi::api::coordination::v1::{Lease as LeaseObject, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, PostParams};
use std::time::Duration;

/// The Lease's name in the server's namespace (the Role grants exactly this one).
pub const LEASE_NAME: &str = "tycho-singletons";

/// How long a Lease holds without renewal: three rounds of the lifetime task, so one slow
/// round does not hand it over.
pub const LEASE_DURATION: Duration = Duration::from_secs(90);

/// Deadline of one round of reading and writing the Lease.
const LEASE_DEADLINE: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("the lease request failed: {0}")]
    Kube(#[from] kube::Error),
    #[error("the API server did not answer the lease request within {} s", LEASE_DEADLINE.as_secs())]
    Timeout,
}

/// A lock that at most one process holds at a time.
pub trait LeaseLock: Send + Sync {
    /// Takes or renews the lock at `now`; `true` while this process holds it.
    fn acquire(&self, now: Timestamp) -> BoxFuture<'_, Result<bool, LeaseError>>;
    /// Who this process is in the Lease (`holderIdentity`).
    fn identity(&self) -> &str;
}

/// [`LeaseLock`] on a Kubernetes Lease.
pub struct KubeLease {
    api: Api<LeaseObject>,
    name: String,
    identity: String,
    duration: Duration,
}

impl KubeLease {
    pub fn new(client: kube::Client, namespace: &str, identity: impl Into<String>) -> Self {
        KubeLease {
            api: Api::namespaced(client, namespace),
            name: LEASE_NAME.into(),
            identity: identity.into(),
            duration: LEASE_DURATION,
        }
    }

    pub fn with_duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    fn spec(&self, now: Timestamp, acquired: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(i32::try_from(self.duration.as_secs()).unwrap_or(90)),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }

    async fn try_acquire(&self, now: Timestamp) -> Result<bool, LeaseError> {
        let pp = PostParams::default();
        let current = match self.api.get_opt(&self.name).await? {
            Some(lease) => lease,
            None => {
                let lease = LeaseObject {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..Default::default()
                    },
                    spec: Some(self.spec(now, now, 0)),
                };
                return match self.api.create(&pp, &lease).await {
                    Ok(_) => {
                        tracing::info!(identity = %self.identity, lease = %self.name, "took the singleton lease (created it)");
                        Ok(true)
                    }
                    // Another replica created it first.
                    Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                    Err(e) => Err(e.into()),
                };
            }
        };
        let spec = current.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let ours = holder == self.identity;
        if !ours && !expired(&spec, now) {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or(0);
        let (acquired, transitions) = if ours {
            (spec.acquire_time.map_or(now, |t| t.0), transitions)
        } else {
            (now, transitions.saturating_add(1))
        };
        let mut next = current.clone();
        next.spec = Some(self.spec(now, acquired, transitions));
        // `next` carries the resourceVersion read above: a write by anyone since is a 409.
        match self.api.replace(&self.name, &pp, &next).await {
            Ok(_) => {
                if !ours {
                    tracing::info!(identity = %self.identity, previous = %holder, lease = %self.name, "took over the singleton lease");
                }
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether the Lease's holder let it run out by `now` (or nobody holds it).
fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    if spec
        .holder_identity
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return true;
    }
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(0).max(0));
    renewed.0 + SignedDuration::from_secs(seconds) < now
}

impl LeaseLock for KubeLease {
    fn acquire(&self, now: Timestamp) -> BoxFuture<'_, Result<bool, LeaseError>> {
        Box::pin(async move {
            // Bounded like every executor call: a stalled API server makes this a follower.
            tokio::time::timeout(LEASE_DEADLINE, self.try_acquire(now))
                .await
                .unwrap_or(Err(LeaseError::Timeout))
        })
    }

    fn identity(&self) -> &str {
        &self.identity
    }
}

/// How long a start lock holds before another replica may take it: a start's whole deadline
/// and then some, so only a replica that died mid-start loses it.
pub const START_LOCK_DURATION: Duration = Duration::from_secs(60);

/// Held while one user's start is decided and made (quota, ReadWriteOnce claims), on every
/// replica at once: see [`ClusterLocks`].
pub trait HeldLock: Send {
    /// Gives the lock back (and waits for that).
    fn release(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// Locks shared by every replica of one namespace: a Lease per name, taken by creating it
/// (the API server lets exactly one create win) or by replacing one whose holder let it
/// expire (the resourceVersion read makes exactly one replace win), and given back by deleting
/// it under the resourceVersion we wrote (a lock taken over since is not ours to delete).
pub struct ClusterLocks {
    api: Api<LeaseObject>,
    identity: String,
}

impl ClusterLocks {
    pub fn new(client: kube::Client, namespace: &str, identity: impl Into<String>) -> Self {
        ClusterLocks {
            api: Api::namespaced(client, namespace),
            identity: identity.into(),
        }
    }

    /// Takes the lock `name`, waiting while another holds it; past `wait`, `Ok(None)`.
    pub async fn lock(
        &self,
        name: &str,
        wait: Duration,
    ) -> Result<Option<Box<dyn HeldLock>>, kube::Error> {
        let give_up = tokio::time::Instant::now() + wait;
        loop {
            if let Some(version) = self.try_lock(name).await? {
                let held = HeldLease {
                    api: Some(self.api.clone()),
                    name: name.to_string(),
                    version: Some(version).filter(|v| !v.is_empty()),
                };
                return Ok(Some(Box::new(held)));
            }
            if tokio::time::Instant::now() >= give_up {
                return Ok(None);
            }
            // Short and jittered: a start takes tens of milliseconds, and racing replicas
            // should not retry in step.
            let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 50);
            tokio::time::sleep(Duration::from_millis(20 + jitter)).await;
        }
    }

    /// One attempt: the resourceVersion of the Lease we now hold, or `None` (someone else's).
    async fn try_lock(&self, name: &str) -> Result<Option<String>, kube::Error> {
        let now = Timestamp::now();
        let spec = LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(START_LOCK_DURATION.as_secs() as i32),
            acquire_time: Some(MicroTime(now)),
            renew_time: Some(MicroTime(now)),
            ..Default::default()
        };
        let lease = LeaseObject {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec: Some(spec.clone()),
        };
        let pp = PostParams::default();
        match self.api.create(&pp, &lease).await {
            Ok(created) => return Ok(Some(created.metadata.resource_version.unwrap_or_default())),
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e),
        }
        let Some(mut current) = self.api.get_opt(name).await? else {
            return Ok(None); // released meanwhile: the next attempt creates it
        };
        if !expired(&current.spec.clone().unwrap_or_default(), now) {
            return Ok(None);
        }
        tracing::warn!(lock = name, holder = ?current.spec.as_ref().and_then(|s| s.holder_identity.clone()), "took over a start lock its holder let expire");
        current.spec = Some(spec);
        match self.api.replace(name, &pp, &current).await {
            Ok(replaced) => Ok(Some(replaced.metadata.resource_version.unwrap_or_default())),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A Lease this process holds; deleted when released (or dropped: then on a task).
struct HeldLease {
    api: Option<Api<LeaseObject>>,
    name: String,
    version: Option<String>,
}

impl HeldLease {
    async fn delete(api: Api<LeaseObject>, name: String, version: Option<String>) {
        let params = kube::api::DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                resource_version: version,
                uid: None,
            }),
            ..Default::default()
        };
        let deleted = tokio::time::timeout(LEASE_DEADLINE, api.delete(&name, &params)).await;
        match deleted {
            Ok(Ok(_)) | Ok(Err(kube::Error::Api(_))) => {} // gone, or taken over since
            Ok(Err(e)) => {
                tracing::warn!(lock = %name, error = %e, "could not give back a start lock; it expires")
            }
            Err(_) => {
                tracing::warn!(lock = %name, "giving back a start lock timed out; it expires")
            }
        }
    }
}

impl HeldLock for HeldLease {
    fn release(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        let api = self.api.take();
        let (name, version) = (std::mem::take(&mut self.name), self.version.take());
        Box::pin(async move {
            if let Some(api) = api {
                HeldLease::delete(api, name, version).await;
            }
        })
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        // Not released (a panic, a cancelled request): give it back without waiting.
        if let (Some(api), Ok(runtime)) = (self.api.take(), tokio::runtime::Handle::try_current()) {
            let name = std::mem::take(&mut self.name);
            runtime.spawn(HeldLease::delete(api, name, self.version.take()));
        }
    }
}

/// This process's identity in the Lease: the pod's name (the hostname in a cluster) and a
/// random part, so two processes on one host differ.
pub fn identity() -> String {
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "tycho".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}", &random[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_lease_expires_after_its_duration_from_the_last_renewal() {
        let spec = LeaseSpec {
            holder_identity: Some("a".into()),
            lease_duration_seconds: Some(90),
            acquire_time: Some(MicroTime(at(0))),
            renew_time: Some(MicroTime(at(60))),
            ..Default::default()
        };
        assert!(!expired(&spec, at(150)));
        assert!(expired(&spec, at(151)));
        let released = LeaseSpec {
            holder_identity: None,
            ..spec.clone()
        };
        assert!(expired(&released, at(61)));
        assert!(identity() != identity());
    }
}
