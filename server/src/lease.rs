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
