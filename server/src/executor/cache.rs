//! What the cluster holds of Tycho's objects, kept by watches: one watch per kind that status
//! reads (Deployments, Pods and Services labelled `executor=tycho`, and the namespace's Events),
//! each feeding a kube-runtime reflector store. Lists, status, Kubernetes events and the event
//! streams read the stores, so they cost the API server nothing per request.
//!
//! The watcher resumes from the last resource version, relists on `410 Gone` and backs off on
//! errors (kube-runtime's default backoff). Every change bumps one counter that the event hub
//! and waiting writers watch.

use super::ExecError;
use super::view;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tycho_compiler::labels;

/// The kinds the cache watches, in the order of [`Cache::health`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployments,
    Pods,
    Services,
    Events,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Deployments, Kind::Pods, Kind::Services, Kind::Events];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Deployments => "Deployments",
            Kind::Pods => "Pods",
            Kind::Services => "Services",
            Kind::Events => "Events",
        }
    }
}

/// How one watch is doing.
#[derive(Debug, Clone, Default)]
struct WatchHealth {
    /// The first full list has arrived (the store answers from then on).
    synced: bool,
    /// The last thing the watch said was this error (cleared by the next event).
    error: Option<String>,
}

/// The stores and how their watches are doing. Dropping it ends the watches.
pub struct Cache {
    pub deployments: Store<view::Deployment>,
    pub pods: Store<view::Pod>,
    pub services: Store<view::Service>,
    pub events: Store<Event>,
    health: Arc<Mutex<[WatchHealth; 4]>>,
    changes: watch::Sender<u64>,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Drop for Cache {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// What a watch task reports to the cache: health, and a bump of the change counter.
#[derive(Clone)]
struct Feed {
    kind: Kind,
    health: Arc<Mutex<[WatchHealth; 4]>>,
    changes: watch::Sender<u64>,
}

impl Feed {
    fn note<K>(&self, event: &Result<watcher::Event<K>, watcher::Error>) {
        {
            let mut health = lock(&self.health);
            let watch = &mut health[self.kind as usize];
            match event {
                Ok(watcher::Event::InitDone) => {
                    watch.synced = true;
                    watch.error = None;
                }
                Ok(_) => watch.error = None,
                Err(e) => {
                    tracing::debug!(kind = self.kind.name(), error = %e, "watch error; it resumes with backoff");
                    watch.error = Some(e.to_string());
                }
            }
        }
        // During a (re)list the store swaps in the new state at `InitDone`: nothing to say
        // before then.
        if !matches!(
            event,
            Ok(watcher::Event::Init) | Ok(watcher::Event::InitApply(_))
        ) {
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Cache {
    /// Starts the watches on the current tokio runtime.
    pub fn start(client: &Client, namespace: &str) -> Cache {
        let health = Arc::new(Mutex::new(<[WatchHealth; 4]>::default()));
        let changes = watch::channel(0).0;
        let feed = |kind| Feed {
            kind,
            health: health.clone(),
            changes: changes.clone(),
        };
        let ours = watcher::Config::default().labels(&labels::all_systems_selector());
        let (deployments, d) = reflect(
            Api::namespaced(client.clone(), namespace),
            ours.clone(),
            feed(Kind::Deployments),
        );
        let (pods, p) = reflect(
            Api::namespaced(client.clone(), namespace),
            ours.clone(),
            feed(Kind::Pods),
        );
        let (services, s) = reflect(
            Api::namespaced(client.clone(), namespace),
            ours,
            feed(Kind::Services),
        );
        // Events carry no labels: the namespace's are watched, and picked per system.
        let (events, e) = reflect(
            Api::namespaced(client.clone(), namespace),
            watcher::Config::default(),
            feed(Kind::Events),
        );
        Cache {
            deployments,
            pods,
            services,
            events,
            health,
            changes,
            tasks: vec![d, p, s, e],
        }
    }

    /// A receiver that sees every change (its value only counts them).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The kinds whose first list has not arrived yet.
    pub fn unsynced(&self) -> Vec<Kind> {
        let health = lock(&self.health);
        Kind::ALL
            .into_iter()
            .filter(|k| !health[*k as usize].synced)
            .collect()
    }

    /// The kinds whose watch last reported an error, with it.
    pub fn failing(&self) -> Vec<(Kind, String)> {
        let health = lock(&self.health);
        Kind::ALL
            .into_iter()
            .filter_map(|k| health[k as usize].error.clone().map(|e| (k, e)))
            .collect()
    }

    /// Forgets the error of `kind` (the API server answered a list of it since).
    pub fn clear_error(&self, kind: Kind) {
        lock(&self.health)[kind as usize].error = None;
    }

    /// Resolves once every store has its first list, or says which have not within `bound`
    /// (and the last error of their watch).
    pub async fn synced(&self, bound: Duration) -> Result<(), ExecError> {
        self.wait_until(bound, |c| c.unsynced().is_empty())
            .await
            .map_err(|_| {
                let missing: Vec<String> = self
                    .unsynced()
                    .into_iter()
                    .map(|k| {
                        let error = lock(&self.health)[k as usize].error.clone();
                        match error {
                            Some(e) => format!("{} ({e})", k.name()),
                            None => k.name().to_string(),
                        }
                    })
                    .collect();
                ExecError::Unreachable(format!(
                    "the watches have not listed {} yet",
                    missing.join(", ")
                ))
            })
    }

    /// Resolves once `done` holds for the cache (checked now and after every change), or
    /// `Err(())` when `bound` passes first.
    pub async fn wait_until(
        &self,
        bound: Duration,
        done: impl Fn(&Cache) -> bool,
    ) -> Result<(), ()> {
        let mut changes = self.changes();
        let wait = async {
            loop {
                changes.borrow_and_update();
                if done(self) {
                    return;
                }
                if changes.changed().await.is_err() {
                    return; // the cache is being dropped
                }
            }
        };
        tokio::time::timeout(bound, wait).await.map_err(|_| ())
    }
}

/// A store of `K` kept by a watch of `api`, and the task that drives it.
fn reflect<K>(
    api: Api<K>,
    config: watcher::Config,
    feed: Feed,
) -> (Store<K>, tokio::task::AbortHandle)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        // Field-manager bookkeeping is most of an object's metadata; status never reads it.
        .modify(|o: &mut K| o.meta_mut().managed_fields = None)
        .reflect(writer);
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            feed.note(&event);
        }
    });
    (reader, task.abort_handle())
}
