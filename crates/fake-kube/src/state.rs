//! Shared server state behind one mutex: the store, the fault-injection knobs, the request log
//! and the open watches. One lock keeps every request atomic, which is all a test double needs.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::controller;
use crate::kubelet::SimConfig;
use crate::store::{Change, Store};
use crate::watch::{self, Watcher};

/// How often Events are looked at for expiry.
const EXPIRY_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// How many past changes a watch can resume from before it gets 410 Expired.
const HISTORY_LIMIT: usize = 10_000;

#[derive(Debug)]
pub(crate) struct Injection {
    pub plural: String,
    /// The value of the per-plural POST counter at which to act.
    pub at: usize,
    pub action: InjectedAction,
}

/// What an injected create does instead of answering normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InjectedAction {
    /// Answers this code and stores nothing.
    Fail(u16),
    /// Stores the object, then answers this code (as a timeout after the write reached etcd).
    StoreThenFail(u16),
    /// Waits this long before handling the create (a slow API server).
    Delay(std::time::Duration),
}

pub(crate) struct Inner {
    pub store: Store,
    pub sim: SimConfig,
    pub unreachable: bool,
    pub creates_seen: HashMap<String, usize>,
    pub injections: Vec<Injection>,
    /// `(verb, plural)` pairs answered 403 Forbidden (a Role without that permission).
    pub forbidden: Vec<(String, String)>,
    /// Plurals whose DELETE of a collection answers 405 (kinds without `deletecollection`).
    pub no_delete_collection: Vec<String>,
    /// Refuse a DELETE of a collection that carries a body, as 1.25.0–1.25.3 did.
    pub refuse_delete_collection_body: bool,
    pub log: Vec<String>,
    pub watchers: Vec<Watcher>,
    pub history: VecDeque<Change>,
    /// resourceVersion of the newest change dropped from `history`.
    pub history_floor: u64,
    /// When Events were last looked at for expiry (see `refresh`).
    pub events_expired_at: Option<Instant>,
}

impl Inner {
    /// Runs simulated-controller work whose time has come (pods turning Ready, deadlines).
    /// Called on every request so state is right whenever it is read, timers or not.
    pub(crate) fn refresh(&mut self) {
        // Events expire by the second: looking at every Event on every request would make a
        // store of many systems slow to answer.
        let now = Instant::now();
        if self
            .events_expired_at
            .is_none_or(|at| now.duration_since(at) >= EXPIRY_EVERY)
        {
            self.events_expired_at = Some(now);
            let ttl = self.sim.event_ttl.unwrap_or(crate::kubelet::EVENT_TTL);
            self.store.expire_events(ttl);
        }
        for timer in self.store.due_timers(Instant::now()) {
            controller::fire(&mut self.store, &self.sim, timer);
        }
    }

    fn dispatch(&mut self) {
        for change in std::mem::take(&mut self.store.changes) {
            let line = watch::event_line(change.kind, &change.object);
            self.watchers.retain(|w| {
                if w.wants(&change) {
                    w.tx.send(line.clone()).is_ok()
                } else {
                    !w.tx.is_closed()
                }
            });
            self.history.push_back(change);
            while self.history.len() > HISTORY_LIMIT {
                if let Some(old) = self.history.pop_front() {
                    self.history_floor = old.rv;
                }
            }
        }
    }
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Where `pods/portforward` leads (see `portforward`).
    pub(crate) forwards: crate::portforward::Targets,
    /// What `pods/{name}/log` answers (see `logs`); apart from `inner` so an open follow
    /// stream does not hold the store's lock.
    pub(crate) logs: crate::logs::Store,
}

impl Shared {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Shared {
            inner: Mutex::new(Inner {
                store: Store::new(),
                sim: SimConfig::default(),
                unreachable: false,
                creates_seen: HashMap::new(),
                injections: Vec::new(),
                forbidden: Vec::new(),
                no_delete_collection: Vec::new(),
                refuse_delete_collection_body: false,
                log: Vec::new(),
                watchers: Vec::new(),
                history: VecDeque::new(),
                history_floor: 0,
                events_expired_at: None,
            }),
            forwards: Default::default(),
            logs: Default::default(),
        })
    }

    /// A panic in one handler must not wedge every later test request, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After a write: tell watchers, and arm a wake-up for each new deadline so watchers also
    /// see changes that happen with no request to trigger them.
    pub(crate) fn settle(self: &Arc<Self>, inner: &mut Inner) {
        crate::storage::release_deleted_claims(&mut inner.store);
        inner.dispatch();
        let deadlines = std::mem::take(&mut inner.store.new_deadlines);
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for at in deadlines {
            let weak = Arc::downgrade(self);
            handle.spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                if let Some(shared) = weak.upgrade() {
                    let mut g = shared.lock();
                    g.refresh();
                    shared.settle(&mut g);
                }
            });
        }
    }
}
