//! [`TestServer`]: the real server on `127.0.0.1:0`, stopped when dropped.

use crate::{TestCluster, test_policy, tokens};
use std::sync::Arc;
use std::time::Duration;
use tycho_server::{AppState, Executor, KubeExecutor, Settings};

/// Why a server started by [`TestServer::without_cluster`] has no cluster (`/readyz` says it).
pub const NO_CLUSTER_REASON: &str = "no cluster in this test";

/// The settings of a test server on `cluster`: its namespace, the users of [`tokens`], the
/// [`test_policy`], and event streams that look every 200 ms (so tests see changes quickly).
pub fn settings(cluster: &TestCluster) -> Settings {
    Settings {
        namespace: cluster.namespace.clone(),
        auth: tokens(),
        policy: test_policy(),
        events_interval: Duration::from_millis(200),
        ..Settings::default()
    }
}

/// A running server. `base` is its URL (`http://127.0.0.1:<port>`), `http` a plain HTTP
/// client for requests about the wire, `state` the server's own state.
pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl TestServer {
    /// A server on `cluster` with `settings`.
    pub async fn start(cluster: &TestCluster, settings: Settings) -> TestServer {
        let executor = KubeExecutor::new(cluster.client.clone(), cluster.namespace.clone());
        Self::with_executor(settings, executor).await
    }

    /// A server on `cluster` with the usual [`settings`].
    pub async fn on(cluster: &TestCluster) -> TestServer {
        Self::start(cluster, settings(cluster)).await
    }

    /// A server without a cluster: validate, compile, docs and policy work; systems answer 503
    /// with [`NO_CLUSTER_REASON`].
    pub async fn without_cluster(settings: Settings) -> TestServer {
        Self::serve(AppState::new(settings, None, NO_CLUSTER_REASON)).await
    }

    /// A server whose executor the test built (another namespace, a deadline, a sweep grace).
    pub async fn with_executor(
        settings: Settings,
        executor: impl Executor + 'static,
    ) -> TestServer {
        Self::serve(AppState::new(settings, Some(Arc::new(executor)), "")).await
    }

    /// Serves `state` as it is.
    pub async fn serve(state: AppState) -> TestServer {
        let (addr, handle) = tycho_server::spawn_local(state.clone())
            .await
            .expect("bind 127.0.0.1:0");
        TestServer {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            state,
            handle,
        }
    }
}
