//! Reaching a [`TestServer`]: raw HTTP where the wire is what a test checks (status codes,
//! headers, JSON shapes), the typed client ([`TestServer::client`]) everywhere else, and the
//! lifecycle steps tests share.

use crate::TestServer;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tycho_client::Client;
use tycho_client::api::SystemStatus;

/// How often the waits below ask again.
const POLL: Duration = Duration::from_millis(200);

/// How long [`TestServer::delete_gone`] waits for a system's objects to terminate.
const GONE_TIMEOUT: Duration = Duration::from_secs(120);

impl TestServer {
    /// The typed client, as `token`'s user.
    pub fn client(&self, token: &str) -> Client {
        Client::builder(&self.base)
            .token(token)
            .build()
            .expect("a client for the test server")
    }

    /// The typed client without a token.
    pub fn anonymous_client(&self) -> Client {
        Client::new(&self.base).expect("a client for the test server")
    }

    /// `method path` with an optional bearer token and JSON body: the answer as it is.
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

    /// [`TestServer::call`], answering the status and the body as JSON (a string when the
    /// body is not JSON).
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
    pub async fn start_system(&self, token: &str, yaml: &str, name: &str) -> String {
        let (status, body) = self
            .json(
                Method::POST,
                "/api/v1/systems",
                Some(token),
                Some(json!({"compose": yaml, "name": name})),
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
            Some(json!({"compose": yaml})),
        )
        .await
    }

    /// `GET /api/v1/systems/{guid}` as `token`'s user.
    pub async fn status(&self, token: &str, guid: &str) -> (StatusCode, Value) {
        self.json(
            Method::GET,
            &format!("/api/v1/systems/{guid}"),
            Some(token),
            None,
        )
        .await
    }

    /// Polls a system's JSON status until `pred` holds (or panics after `timeout`).
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
            tokio::time::sleep(POLL).await;
        }
    }

    /// [`TestServer::wait_for`] through the typed client.
    pub async fn wait_until(
        &self,
        token: &str,
        guid: &str,
        timeout: Duration,
        pred: impl Fn(&SystemStatus) -> bool,
    ) -> SystemStatus {
        let client = self.client(token);
        let deadline = Instant::now() + timeout;
        loop {
            let status = client.get(guid).await;
            if let Ok(status) = &status
                && pred(status)
            {
                return status.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting; last status {status:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Deletes and waits until the system is gone.
    pub async fn delete_gone(&self, token: &str, guid: &str) {
        let deadline = Instant::now() + GONE_TIMEOUT;
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
                // 200: gone, with the volumes it kept or deleted in the body.
                StatusCode::NO_CONTENT | StatusCode::OK => return,
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

/// The GUIDs of a `SystemList` answer.
pub fn guids(list: &Value) -> Vec<String> {
    list["systems"]
        .as_array()
        .expect("systems")
        .iter()
        .map(|x| x["guid"].as_str().expect("guid").to_string())
        .collect()
}
