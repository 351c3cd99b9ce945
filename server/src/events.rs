//! Change feed for Server-Sent Events: while anybody listens, one background task lists every
//! system when the executor's watches report a change (or, for a backend without watches,
//! every few seconds); each stream filters what its caller may see and sends diffs. New
//! streams start from the hub's latest listing too (one listing when it is stale, shared by
//! every stream that needs it then), so a crowd of new streams costs one listing, not one
//! each. The hub also counts streams (per user and in all) and ends them on shutdown.

use crate::config::StreamLimits;
use crate::error::ApiError;
use crate::executor::{Executor, Filter};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tycho_api::SystemStatus;

/// The latest listing of every system (or why it failed).
pub type Snapshot = Arc<Result<Vec<SystemStatus>, String>>;

pub struct EventHub {
    executor: Option<Arc<dyn Executor>>,
    interval: Duration,
    tx: Arc<watch::Sender<Snapshot>>,
    rx: watch::Receiver<Snapshot>,
    /// When the value in `tx` was listed (`None`: never), and the executor's change count
    /// then.
    listed_at: Arc<Mutex<Option<Listed>>>,
    /// One listing at a time for streams that found the latest one stale.
    refreshing: tokio::sync::Mutex<()>,
    poller_started: Mutex<bool>,
    /// Open streams per user.
    streams: Arc<Mutex<HashMap<String, usize>>>,
    shutdown: watch::Sender<bool>,
}

/// When a listing was made, and how many changes the executor had reported by then.
#[derive(Debug, Clone, Copy)]
struct Listed {
    at: Instant,
    changes: Option<u64>,
}

/// How long the lister waits after a change for more (a start touches several objects).
const COALESCE: Duration = Duration::from_millis(50);

/// How often a listing is renewed while no change comes, with watches: time alone changes
/// little in a status (ages, cull deadlines move by the clock), and it costs no API call.
const QUIET_RELIST: Duration = Duration::from_secs(30);

/// A stream's place in the hub's count; gives it back when dropped.
pub struct StreamSlot {
    user: String,
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = lock(&self.streams);
        if let Some(n) = streams.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.user);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl EventHub {
    pub fn new(executor: Option<Arc<dyn Executor>>, interval: Duration) -> Self {
        let (tx, rx) = watch::channel(Arc::new(Ok(Vec::new())));
        EventHub {
            executor,
            interval,
            tx: Arc::new(tx),
            rx,
            listed_at: Arc::new(Mutex::new(None)),
            refreshing: tokio::sync::Mutex::new(()),
            poller_started: Mutex::new(false),
            streams: Arc::new(Mutex::new(HashMap::new())),
            shutdown: watch::channel(false).0,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// A receiver of fresh snapshots; starts the poller the first time.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        let mut started = lock(&self.poller_started);
        if !*started && let Some(executor) = self.executor.clone() {
            *started = true;
            tokio::spawn(poll(
                self.tx.clone(),
                self.listed_at.clone(),
                executor,
                self.interval,
                self.shutdown.subscribe(),
            ));
        }
        self.rx.clone()
    }

    /// The listing a new stream starts from: the latest one when it is younger than the
    /// polling interval, else a new one (which every stream waiting then shares, and which
    /// the others see as the next change).
    pub async fn current(&self) -> Snapshot {
        if let Some(fresh) = self.fresh() {
            return fresh;
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(fresh) = self.fresh() {
            return fresh; // listed while this stream waited
        }
        let changes = self.executor.as_ref().and_then(|e| e.changes());
        let before = changes.as_ref().map(|c| *c.borrow());
        let listed: Snapshot = Arc::new(match &self.executor {
            Some(e) => e.list(&Filter::all()).await.map_err(|e| e.to_string()),
            None => Err("no cluster is configured".into()),
        });
        publish(&self.tx, &self.listed_at, listed.clone(), before);
        listed
    }

    /// The latest listing, if nothing changed since: with watches, no change was reported (and
    /// it is younger than [`QUIET_RELIST`], or than the interval after an error); without,
    /// it is younger than the polling interval.
    fn fresh(&self) -> Option<Snapshot> {
        let listed = (*lock(&self.listed_at))?;
        let now = self
            .executor
            .as_ref()
            .and_then(|e| e.changes())
            .map(|c| *c.borrow());
        let snapshot = self.rx.borrow().clone();
        let fresh = match (listed.changes, now) {
            (Some(then), Some(now)) => {
                let ttl = if snapshot.is_ok() {
                    QUIET_RELIST
                } else {
                    self.interval
                };
                then == now && listed.at.elapsed() < ttl
            }
            _ => listed.at.elapsed() < self.interval,
        };
        fresh.then_some(snapshot)
    }

    /// A place for one more stream of `user`, or 429 (the user's limit) / 503 (the server's).
    pub fn admit(&self, user: &str, limits: StreamLimits) -> Result<StreamSlot, ApiError> {
        let mut streams = lock(&self.streams);
        let total: usize = streams.values().sum();
        if total >= limits.max_streams {
            return Err(ApiError::Unavailable(format!(
                "the server has {total} event streams open, the most it serves; try again later"
            )));
        }
        let mine = streams.entry(user.to_string()).or_default();
        if *mine >= limits.max_streams_per_user {
            let open = *mine;
            if open == 0 {
                streams.remove(user);
            }
            return Err(ApiError::TooManyConnections(format!(
                "{user} has {open} event streams open, the most allowed; close one (or share one \
                 between tabs) and try again"
            )));
        }
        *mine += 1;
        Ok(StreamSlot {
            user: user.to_string(),
            streams: self.streams.clone(),
        })
    }

    /// Ends every stream (each sends a final `shutdown` event) and the poller.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once [`EventHub::shut_down`] was called.
    pub fn on_shutdown(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|down| *down).await;
        }
    }
}

fn publish(
    tx: &watch::Sender<Snapshot>,
    listed_at: &Mutex<Option<Listed>>,
    listed: Snapshot,
    changes: Option<u64>,
) {
    *lock(listed_at) = Some(Listed {
        at: Instant::now(),
        changes,
    });
    tx.send_replace(listed);
}

/// Lists every system while a stream listens: after each change the executor's watches report
/// (coalesced), and every [`QUIET_RELIST`] without one; every `interval` after a failed
/// listing (a watch may have resumed without news) and for backends without watches.
async fn poll(
    tx: Arc<watch::Sender<Snapshot>>,
    listed_at: Arc<Mutex<Option<Listed>>>,
    executor: Arc<dyn Executor>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut changes = executor.changes();
    loop {
        let failed = tx.borrow().is_err();
        let wait = match &changes {
            Some(_) if !failed => QUIET_RELIST,
            _ => interval,
        };
        let changed = async {
            match changes.as_mut() {
                Some(c) => {
                    if c.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                    tokio::time::sleep(COALESCE).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = changed => {}
            _ = shutdown.wait_for(|down| *down) => return,
        }
        // The hub itself holds one receiver: list only while a stream listens.
        if tx.receiver_count() <= 1 {
            continue;
        }
        let before = changes.as_mut().map(|c| *c.borrow_and_update());
        let just_listed = lock(&listed_at)
            .is_some_and(|l| l.changes.is_some() && l.changes == before && before.is_some());
        if just_listed && !failed {
            continue; // a new stream has listed since the change
        }
        if changes.is_none() {
            let fresh = lock(&listed_at).is_some_and(|l| l.at.elapsed() < interval / 2);
            if fresh {
                continue; // a new stream has just listed
            }
        }
        let listed = executor
            .list(&Filter::all())
            .await
            .map_err(|e| e.to_string());
        publish(&tx, &listed_at, Arc::new(listed), before);
    }
}

/// Equality for change detection: the age moves every second, it is not a change.
pub fn same(a: &SystemStatus, b: &SystemStatus) -> bool {
    a.phase == b.phase
        && a.ready == b.ready
        && a.desired == b.desired
        && a.reason == b.reason
        && a.message == b.message
        && a.ports == b.ports
        && a.containers == b.containers
        && a.address == b.address
        // A cull warning appearing or going is news to the owner.
        && a.cull_at == b.cull_at
        && a.warning == b.warning
}
