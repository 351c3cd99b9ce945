//! Shared state of every handler.

use crate::config::Settings;
use crate::connect::Proxy;
use crate::events::EventHub;
use crate::executor::Executor;
use crate::metrics::Metrics;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Cheap to clone: everything sits behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    settings: Settings,
    executor: Option<Arc<dyn Executor>>,
    /// Why there is no executor (shown by `/readyz`).
    no_cluster_reason: String,
    metrics: Metrics,
    starts: Semaphore,
    user_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    events: EventHub,
    /// The connect proxy; `None` when nothing says where systems can be reached.
    proxy: Option<Proxy>,
    /// The lifetime task; `None` without a cluster or when the policy sets no lifetime.
    lifetimes: Option<Arc<crate::lifetime::Lifetimes>>,
}

impl AppState {
    /// `executor` is `None` when no cluster is configured; `no_cluster_reason` says why.
    pub fn new(
        settings: Settings,
        executor: Option<Arc<dyn Executor>>,
        no_cluster_reason: impl Into<String>,
    ) -> Self {
        let starts = Semaphore::new(settings.max_concurrent_starts.max(1));
        // One identity and one Lease for this process's singleton tasks: the replica that holds
        // it sweeps and culls, the others wait.
        let identity = crate::lease::identity();
        let lease = executor.as_ref().and_then(|e| e.singleton_lease(&identity));
        if let Some(executor) = &executor {
            // Incomplete systems left by a crash are removed at start-up and then periodically.
            crate::executor::spawn_sweeper(executor.clone(), lease.clone());
        }
        if let Some(oidc) = &settings.oidc {
            // The issuer's keys before the first token, and again every so often.
            oidc.spawn_refresher();
        }
        let lifetimes = lifetimes(&settings, executor.as_ref(), lease, &identity);
        let events = EventHub::new(executor.clone(), settings.events_interval);
        let proxy = settings
            .connect
            .upstream
            .clone()
            .map(|upstream| Proxy::new(upstream, settings.connect.limits.clone()));
        AppState(Arc::new(Inner {
            settings,
            executor,
            no_cluster_reason: no_cluster_reason.into(),
            metrics: Metrics::default(),
            starts,
            user_locks: Mutex::new(HashMap::new()),
            events,
            proxy,
            lifetimes,
        }))
    }

    /// The lifetime task (tests run its rounds themselves).
    pub fn lifetimes(&self) -> Option<&Arc<crate::lifetime::Lifetimes>> {
        self.0.lifetimes.as_ref()
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn executor(&self) -> Option<&Arc<dyn Executor>> {
        self.0.executor.as_ref()
    }

    pub fn no_cluster_reason(&self) -> &str {
        &self.0.no_cluster_reason
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub fn starts(&self) -> &Semaphore {
        &self.0.starts
    }

    pub fn proxy(&self) -> Option<&Proxy> {
        self.0.proxy.as_ref()
    }

    pub fn events(&self) -> &EventHub {
        &self.0.events
    }

    /// A per-user lock so the running-systems count and the start happen as one step.
    pub fn user_lock(&self, user: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .0
            .user_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(user.to_string()).or_default().clone()
    }
}

/// The lifetime task when the policy sets a lifetime, started every `lifetime_interval` behind
/// the executor's singleton Lease.
fn lifetimes(
    settings: &Settings,
    executor: Option<&Arc<dyn Executor>>,
    lease: Option<Arc<dyn crate::lease::LeaseLock>>,
    identity: &str,
) -> Option<Arc<crate::lifetime::Lifetimes>> {
    let policy = &settings.policy.lifetime;
    let executor = executor.filter(|_| policy.is_active())?;
    let lifetimes = Arc::new(crate::lifetime::Lifetimes::new(
        executor.clone(),
        lease,
        policy.clone(),
        settings.clock.clone(),
    ));
    if let Some(interval) = settings.lifetime_interval {
        tracing::info!(%identity, ?interval, "lifetime task started (acts while holding the singleton lease)");
        crate::lifetime::spawn(lifetimes.clone(), interval);
    }
    Some(lifetimes)
}
