//! Waits on the cluster's side.

use crate::{FakeKube, TestCluster};
use std::time::{Duration, Instant};

/// How long a system may take to become ready: on a real cluster an image pull (and perhaps a
/// wait for room on the node); on the fake it is quick.
pub fn ready_timeout(cluster: &TestCluster) -> Duration {
    if cluster.fake.is_some() {
        Duration::from_secs(20)
    } else {
        Duration::from_secs(180)
    }
}

/// Waits until the fake holds `count` objects again (deletes cascade at once, but a rollback or
/// a dropped request may still be finishing); `what` names the case in the failure.
pub async fn wait_for_count(fake: &FakeKube, count: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.object_count() != count {
        assert!(
            Instant::now() < deadline,
            "{what}: {} objects, expected {count}",
            fake.object_count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
