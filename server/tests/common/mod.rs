//! Test harness: the real server on 127.0.0.1:0, the real kube::Client against the fake API
//! server (or a real cluster when TYCHO_TEST_KUBECONFIG is set), and an HTTP client.

#![allow(dead_code)]

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tycho_fake_kube::TestCluster;
use tycho_server::auth::{Auth, TokenEntry};
use tycho_server::{AppState, KubeExecutor, Settings};

pub const ALICE: &str = "token-alice-0001";
pub const BOB: &str = "token-bob-00000002";
pub const ROOT: &str = "token-root-000003";

/// Runs as non-root (the compiler's secure default), listens on 8080.
pub const IMAGE: &str = "nginxinc/nginx-unprivileged:stable-alpine";

pub fn compose(image: &str) -> String {
    format!("services:\n  web:\n    image: {image}\n    ports:\n      - \"8080:8080\"\n")
}

pub fn tokens() -> Auth {
    Auth::tokens(vec![
        TokenEntry {
            token: ALICE.into(),
            user: "alice".into(),
            admin: false,
        },
        TokenEntry {
            token: BOB.into(),
            user: "bob".into(),
            admin: false,
        },
        TokenEntry {
            token: ROOT.into(),
            user: "root".into(),
            admin: true,
        },
    ])
}

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// The CPU each test pod asks for. `api.rs` starts about twenty systems at once (its tests run
/// in parallel); at the default 250m each, a one-node kind or k3s cluster would leave many of
/// them Pending, and the tests that wait for Running would wait for the others to go. Memory
/// stays at the default: it is also the limit, and nginx needs its room.
pub const TEST_CPU: &str = "10m";

/// The default policy, asking for [`TEST_CPU`].
pub fn test_policy() -> tycho_compiler::Policy {
    let mut policy = tycho_compiler::Policy::default();
    policy.default_resources.cpu = TEST_CPU.into();
    policy
}

pub fn settings(cluster: &TestCluster) -> Settings {
    Settings {
        namespace: cluster.namespace.clone(),
        auth: tokens(),
        policy: test_policy(),
        events_interval: Duration::from_millis(200),
        ..Settings::default()
    }
}

/// A server on the test cluster with the usual three users.
pub async fn server(cluster: &TestCluster) -> Server {
    server_with(cluster, settings(cluster)).await
}

pub async fn server_with(cluster: &TestCluster, settings: Settings) -> Server {
    let executor = KubeExecutor::new(cluster.client.clone(), cluster.namespace.clone());
    serve(AppState::new(settings, Some(Arc::new(executor)), "")).await
}

/// A server without a cluster (validate, compile, docs and policy work; systems answer 503).
pub async fn server_without_cluster(settings: Settings) -> Server {
    serve(AppState::new(settings, None, "no cluster in this test")).await
}

pub async fn serve(state: AppState) -> Server {
    let (addr, handle) = tycho_server::spawn_local(state.clone())
        .await
        .expect("bind 127.0.0.1:0");
    Server {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        state,
        handle,
    }
}

impl Server {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let r = self.call(method, path, token, body).await;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A GET with extra headers and no bearer token.
    pub async fn get_with(&self, path_and_query: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = self.http.get(format!("{}{path_and_query}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("request")
    }

    /// Starts a system from compose YAML as `token`'s user; returns its GUID.
    pub async fn start(&self, token: &str, yaml: &str, name: &str) -> String {
        let (status, body) = self
            .json(
                Method::POST,
                "/api/v1/systems",
                Some(token),
                Some(serde_json::json!({"compose": yaml, "name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "start failed: {body}");
        body["guid"].as_str().expect("guid").to_string()
    }

    /// Asks to start `yaml` (no name) as `token`'s user: the answer, whatever it is.
    pub async fn try_start(&self, token: &str, yaml: &str) -> (StatusCode, Value) {
        self.json(
            Method::POST,
            "/api/v1/systems",
            Some(token),
            Some(serde_json::json!({"compose": yaml})),
        )
        .await
    }

    pub async fn status(&self, token: &str, guid: &str) -> (StatusCode, Value) {
        self.json(
            Method::GET,
            &format!("/api/v1/systems/{guid}"),
            Some(token),
            None,
        )
        .await
    }

    /// Polls a system until `pred` holds (or panics after `timeout`).
    pub async fn wait_for(
        &self,
        token: &str,
        guid: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let (code, body) = self.status(token, guid).await;
            if code == StatusCode::OK && pred(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting; last status {code}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Deletes and waits until the system is gone.
    pub async fn delete_gone(&self, token: &str, guid: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let r = self
                .call(
                    Method::DELETE,
                    &format!("/api/v1/systems/{guid}"),
                    Some(token),
                    None,
                )
                .await;
            match r.status() {
                StatusCode::NO_CONTENT => return,
                StatusCode::ACCEPTED => {}
                other => panic!(
                    "delete answered {other}: {}",
                    r.text().await.unwrap_or_default()
                ),
            }
            assert!(Instant::now() < deadline, "system {guid} did not go away");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A fresh dashboard folder in the temp dir holding `files` (name, content); remove it after.
pub fn dist_dir(tag: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tycho-dist-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the dist folder");
    for (name, content) in files {
        std::fs::write(dir.join(name), content).expect("write a dist file");
    }
    dir
}

/// The GUIDs of a `SystemList` answer.
pub fn guids(list: &Value) -> Vec<String> {
    list["systems"]
        .as_array()
        .expect("systems")
        .iter()
        .map(|x| x["guid"].as_str().expect("guid").to_string())
        .collect()
}

/// Readiness on a real cluster takes an image pull (and perhaps a wait for room on the node);
/// on the fake it is quick.
pub fn ready_timeout(cluster: &TestCluster) -> Duration {
    if cluster.fake.is_some() {
        Duration::from_secs(20)
    } else {
        Duration::from_secs(180)
    }
}

/// Waits until the fake holds `count` objects again (deletes cascade at once, but a rollback or
/// a dropped request may still be finishing); `what` names the case in the failure.
pub async fn wait_for_count(fake: &tycho_fake_kube::FakeKube, count: usize, what: &str) {
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
