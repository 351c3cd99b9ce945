//! Change feed for Server-Sent Events: one background poller lists every system every few
//! seconds while anybody listens; each stream filters what its caller may see and sends diffs.

use crate::executor::{Executor, Filter};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tycho_api::SystemStatus;

/// The latest listing of every system (or why it failed).
pub type Snapshot = Arc<Result<Vec<SystemStatus>, String>>;

pub struct EventHub {
    executor: Option<Arc<dyn Executor>>,
    interval: Duration,
    rx: watch::Receiver<Snapshot>,
    /// Present until the poller starts (on the first subscription).
    tx: Mutex<Option<watch::Sender<Snapshot>>>,
}

impl EventHub {
    pub fn new(executor: Option<Arc<dyn Executor>>, interval: Duration) -> Self {
        let (tx, rx) = watch::channel(Arc::new(Ok(Vec::new())));
        EventHub {
            executor,
            interval,
            rx,
            tx: Mutex::new(Some(tx)),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// A receiver of fresh snapshots; starts the poller the first time.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let (Some(tx), Some(executor)) = (tx, self.executor.clone()) {
            tokio::spawn(poll(tx, executor, self.interval));
        }
        self.rx.clone()
    }
}

async fn poll(tx: watch::Sender<Snapshot>, executor: Arc<dyn Executor>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if tx.is_closed() {
            return; // the hub is gone
        }
        // The hub itself holds one receiver: poll only while a stream listens.
        if tx.receiver_count() <= 1 {
            continue;
        }
        let listed = executor
            .list(&Filter::all())
            .await
            .map_err(|e| e.to_string());
        tx.send_replace(Arc::new(listed));
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
}
