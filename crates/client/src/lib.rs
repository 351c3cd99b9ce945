//! A typed async client for Tycho's `/api/v1` REST API.
//!
//! The request and response bodies are the shared types of [`tycho_api`] (re-exported here as
//! [`api`]), so a program gets exactly what the server sends. Errors are one [`Error`] type that
//! keeps the server's RFC 9457 [`Problem`](api::Problem) (with the compiler's diagnostics on a
//! 422) and tells an unreachable server apart from a refused request.
//!
//! ```no_run
//! use std::time::Duration;
//! use tycho_client::{Client, WaitOptions, api::StartRequest};
//!
//! # async fn demo() -> Result<(), tycho_client::Error> {
//! let client = Client::builder("http://localhost:8099")
//!     .token("my-secret-token")
//!     .build()?;
//! println!("I am {}", client.whoami().await?.username);
//!
//! let started = client
//!     .start(&StartRequest {
//!         compose: "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n".into(),
//!         name: "web".into(),
//!         ..Default::default()
//!     })
//!     .await?;
//!
//! // Poll until every replica is ready; a terminal failure (bad image, crash loop, quota)
//! // ends the wait at once with `Error::Failed`.
//! let options = WaitOptions { timeout: Duration::from_secs(300), ..Default::default() };
//! let running = client
//!     .wait_until_running(&started.guid, options, |s| eprintln!("{} {}", s.phase.as_str(), s.reason))
//!     .await?;
//! println!("{} is at {:?}", running.guid, running.url);
//!
//! for system in client.list().await? {
//!     println!("{} {} {}", system.name, system.guid, system.phase.as_str());
//! }
//! client.delete(&started.guid).await?;
//! # Ok(())
//! # }
//! ```

pub use tycho_api as api;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};
use tycho_api::{
    CompileRequest, CompileResponse, DeleteResponse, Health, KubeEvent, KubeEventList, Phase,
    PolicyResponse, Problem, QuotaReport, StartRequest, StartResponse, SystemList, SystemStatus,
    ValidateResponse, Volume, VolumeList, WhoAmI,
};

/// Port `tycho api` listens on by default.
pub const DEFAULT_PORT: u16 = 8099;

/// Where a server on this machine listens by default.
pub const DEFAULT_URL: &str = "http://localhost:8099";

/// Everything that can go wrong talking to a Tycho server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// No connection (refused, DNS, TLS): the server is not there.
    #[error("cannot reach the Tycho server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the Tycho server at {url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    /// The server answered with an error (`application/problem+json`, or a stand-in built
    /// from the status line when a proxy answered something else).
    #[error("{0}")]
    Api(Box<Problem>),
    /// A success status with a body that is not what the API promises.
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
    /// [`Client::wait_until_running`]: the system cannot become ready without a change.
    #[error("system {} failed: {}", .0.guid, describe(.0))]
    Failed(Box<SystemStatus>),
    /// [`Client::wait_until_running`]: still not ready when the time was up.
    #[error("system {} is not ready after {} s: {}", .status.guid, .waited.as_secs(), describe(.status))]
    WaitTimeout {
        status: Box<SystemStatus>,
        waited: Duration,
    },
}

fn describe(s: &SystemStatus) -> String {
    let mut text = s.phase.as_str().to_string();
    if !s.reason.is_empty() {
        text.push_str(&format!(" ({})", s.reason));
    }
    if !s.message.is_empty() {
        text.push_str(&format!(": {}", s.message));
    }
    text
}

impl Error {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }

    /// The server's problem document, when it answered with an error.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Api(p) => Some(p),
            _ => None,
        }
    }

    /// 401 or 403: no token, a wrong one, or not allowed.
    pub fn is_auth(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    /// 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// What [`Client::delete`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Nothing is left (also when the system was already gone).
    Gone,
    /// Deleted; its objects are still terminating.
    Terminating,
}

/// What [`Client::delete_system`] did: the system's state and its volumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub deletion: Deletion,
    /// The system's volumes that were kept (`tycho volumes` lists them).
    pub kept: Vec<api::VolumeRef>,
    /// Those that were deleted (`volumes: true`).
    pub deleted: Vec<api::VolumeRef>,
}

/// How [`Client::wait_until_running`] polls.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    pub interval: Duration,
    pub timeout: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Which log [`Client::logs`] and [`Client::follow_logs`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// The container (a compose service); `None`: the server's default (the primary
    /// service's container, else the first app container).
    pub container: Option<String>,
    /// Only the last lines (the server answers at most 10000; 1000 when not given).
    pub tail: Option<u32>,
    /// Only lines written in the last this many seconds.
    pub since_seconds: Option<u32>,
    /// The previous (terminated, e.g. crashed) instance of the container.
    pub previous: bool,
}

impl LogOptions {
    fn query(&self, follow: bool) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(c) = &self.container {
            query.push(("container", c.clone()));
        }
        if let Some(n) = self.tail {
            query.push(("tail", n.to_string()));
        }
        if let Some(s) = self.since_seconds {
            query.push(("since", s.to_string()));
        }
        if self.previous {
            query.push(("previous", "true".into()));
        }
        if follow {
            query.push(("follow", "true".into()));
        }
        query
    }
}

/// A followed log ([`Client::follow_logs`]): chunks of text as the container writes them.
#[derive(Debug)]
pub struct LogFollow {
    response: reqwest::Response,
    client: Client,
}

impl LogFollow {
    /// The next chunk (whole lines, unless the container wrote half a one), `None` once the
    /// container ended (or the system was deleted).
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        match self.response.chunk().await {
            Ok(chunk) => Ok(chunk.map(|c| c.to_vec())),
            Err(e) => Err(self.client.transport(&e)),
        }
    }
}

/// How long a followed log may stay open: the client's timeout is for one answer, and a
/// followed log is an answer that lasts as long as the container runs.
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Configures a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    url: String,
    token: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
}

impl ClientBuilder {
    /// Bearer token sent with every request.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.token = Some(token).filter(|t| !t.is_empty());
        self
    }

    /// Bearer token, when there is one.
    pub fn maybe_token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.is_empty());
        self
    }

    /// Longest wait for one answer (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Longest wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: self.url.clone(),
            reason,
        };
        let base = Url::parse(&self.url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https".into()));
        }
        if base.cannot_be_a_base() {
            return Err(invalid("not a base URL".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("tycho-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(chain(&e)))?;
        Ok(Client {
            base,
            token: self.token,
            timeout: self.timeout,
            http,
        })
    }
}

/// A connection to one Tycho server as one user. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    base: Url,
    token: Option<String>,
    timeout: Duration,
    http: reqwest::Client,
}

impl Client {
    /// A client without a token (for servers started with `--insecure-no-auth`).
    pub fn new(url: &str) -> Result<Client, Error> {
        Client::builder(url).build()
    }

    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            token: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    /// `POST /api/v1/systems`: create the system's objects; it then starts in the background.
    pub async fn start(&self, request: &StartRequest) -> Result<StartResponse, Error> {
        self.call(Method::POST, &["api", "v1", "systems"], &[], Some(request))
            .await
    }

    /// `GET /api/v1/systems`: the caller's systems, oldest first.
    pub async fn list(&self) -> Result<Vec<SystemStatus>, Error> {
        let list: SystemList = self
            .call::<(), _>(Method::GET, &["api", "v1", "systems"], &[], None)
            .await?;
        Ok(list.systems)
    }

    /// `GET /api/v1/systems?user=…`: one user's systems (admins, or yourself).
    pub async fn list_user(&self, user: &str) -> Result<Vec<SystemStatus>, Error> {
        let list: SystemList = self
            .call::<(), _>(
                Method::GET,
                &["api", "v1", "systems"],
                &[("user", user)],
                None,
            )
            .await?;
        Ok(list.systems)
    }

    /// `GET /api/v1/systems/{guid}`.
    pub async fn get(&self, guid: &str) -> Result<SystemStatus, Error> {
        self.call::<(), _>(Method::GET, &["api", "v1", "systems", guid], &[], None)
            .await
    }

    /// `GET /api/v1/systems/{guid}/kube-events`: what Kubernetes reported about the system's
    /// objects (scheduling, image pulls, restarts), oldest first.
    pub async fn kube_events(&self, guid: &str) -> Result<Vec<KubeEvent>, Error> {
        let list: KubeEventList = self
            .call::<(), _>(
                Method::GET,
                &["api", "v1", "systems", guid, "kube-events"],
                &[],
                None,
            )
            .await?;
        Ok(list.items)
    }

    /// `GET /api/v1/systems/{guid}/logs`: the log of one container of the system, as text.
    /// A container the system does not have is a 404 whose detail names those it has.
    pub async fn logs(&self, guid: &str, options: &LogOptions) -> Result<String, Error> {
        let response = self.open_logs(guid, options, false).await?;
        response.text().await.map_err(|e| self.transport(&e))
    }

    /// Like [`Client::logs`] with `follow=true`: the log so far, then lines as they are
    /// written, until the container ends or the value is dropped.
    pub async fn follow_logs(&self, guid: &str, options: &LogOptions) -> Result<LogFollow, Error> {
        let response = self.open_logs(guid, options, true).await?;
        Ok(LogFollow {
            response,
            client: self.clone(),
        })
    }

    async fn open_logs(
        &self,
        guid: &str,
        options: &LogOptions,
        follow: bool,
    ) -> Result<reqwest::Response, Error> {
        let query = options.query(follow);
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = self.endpoint(&["api", "v1", "systems", guid, "logs"], &pairs);
        let mut request = self.http.get(url);
        if follow {
            request = request.timeout(FOLLOW_TIMEOUT);
        }
        self.dispatch(request).await
    }

    /// `GET /api/v1/policy`: the operator's policy the server compiles with, as JSON.
    pub async fn policy(&self) -> Result<serde_json::Value, Error> {
        let answer: PolicyResponse = self
            .call::<(), _>(Method::GET, &["api", "v1", "policy"], &[], None)
            .await?;
        Ok(answer.policy)
    }

    /// `GET /api/v1/quota`: your limits and what your systems hold, per resource.
    pub async fn quota(&self) -> Result<QuotaReport, Error> {
        self.call::<(), _>(Method::GET, &["api", "v1", "quota"], &[], None)
            .await
    }

    /// `GET /api/v1/quota?user=…`: one user's quota (admins, or yourself).
    pub async fn quota_of(&self, user: &str) -> Result<QuotaReport, Error> {
        self.call::<(), _>(
            Method::GET,
            &["api", "v1", "quota"],
            &[("user", user)],
            None,
        )
        .await
    }

    /// `POST /api/v1/systems/{guid}/keepalive`: counts as activity now (moves an idle cull,
    /// not the maximum lifetime); the status after it.
    pub async fn keepalive(&self, guid: &str) -> Result<SystemStatus, Error> {
        self.call::<(), _>(
            Method::POST,
            &["api", "v1", "systems", guid, "keepalive"],
            &[],
            None,
        )
        .await
    }

    /// `DELETE /api/v1/systems/{guid}`: idempotent (a gone system is [`Deletion::Gone`]); its
    /// volumes are kept.
    pub async fn delete(&self, guid: &str) -> Result<Deletion, Error> {
        Ok(self.delete_system(guid, false).await?.deletion)
    }

    /// `DELETE /api/v1/systems/{guid}[?volumes=delete]`: with `volumes`, its volumes go too
    /// (`tycho down -v`); the answer says which were kept or deleted.
    pub async fn delete_system(&self, guid: &str, volumes: bool) -> Result<Removal, Error> {
        let query: &[(&str, &str)] = if volumes {
            &[("volumes", "delete")]
        } else {
            &[]
        };
        let response = self
            .send::<()>(Method::DELETE, &["api", "v1", "systems", guid], query, None)
            .await?;
        let status = response.status();
        let url = response.url().to_string();
        if status == StatusCode::NO_CONTENT {
            return Ok(Removal {
                deletion: Deletion::Gone,
                kept: Vec::new(),
                deleted: Vec::new(),
            });
        }
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        let body: DeleteResponse = serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
            url,
            reason: e.to_string(),
        })?;
        Ok(Removal {
            deletion: match body.phase {
                Some(_) => Deletion::Terminating,
                None => Deletion::Gone,
            },
            kept: body.kept,
            deleted: body.deleted,
        })
    }

    /// `GET /api/v1/volumes`: the caller's volumes (kept by deletes, reused, the home, and
    /// those of running systems), oldest first.
    pub async fn volumes(&self) -> Result<Vec<Volume>, Error> {
        self.volumes_where(&[]).await
    }

    /// `GET /api/v1/volumes?user=…`: one user's volumes (admins, or yourself).
    pub async fn volumes_of_user(&self, user: &str) -> Result<Vec<Volume>, Error> {
        self.volumes_where(&[("user", user)]).await
    }

    /// `GET /api/v1/volumes?guid=…`: the volumes a delete of that system with its volumes
    /// would remove.
    pub async fn volumes_of_system(&self, guid: &str) -> Result<Vec<Volume>, Error> {
        self.volumes_where(&[("guid", guid)]).await
    }

    async fn volumes_where(&self, query: &[(&str, &str)]) -> Result<Vec<Volume>, Error> {
        let list: VolumeList = self
            .call::<(), _>(Method::GET, &["api", "v1", "volumes"], query, None)
            .await?;
        Ok(list.volumes)
    }

    /// `DELETE /api/v1/volumes/{name}`: deletes one of your volumes and its data (404 when it
    /// is not yours, 409 naming the system that mounts it).
    pub async fn delete_volume(&self, name: &str) -> Result<(), Error> {
        self.send::<()>(Method::DELETE, &["api", "v1", "volumes", name], &[], None)
            .await?;
        Ok(())
    }

    /// `POST /api/v1/validate`: every diagnostic under the server's policy.
    pub async fn validate(&self, request: &CompileRequest) -> Result<ValidateResponse, Error> {
        self.call(Method::POST, &["api", "v1", "validate"], &[], Some(request))
            .await
    }

    /// `POST /api/v1/compile`: the Kubernetes objects the server would create (422 with the
    /// diagnostics when the file has errors).
    pub async fn compile(&self, request: &CompileRequest) -> Result<CompileResponse, Error> {
        self.call(Method::POST, &["api", "v1", "compile"], &[], Some(request))
            .await
    }

    /// `GET /api/v1/whoami`: checks the token.
    pub async fn whoami(&self) -> Result<WhoAmI, Error> {
        self.call::<(), _>(Method::GET, &["api", "v1", "whoami"], &[], None)
            .await
    }

    /// `GET /healthz`: the server is up.
    pub async fn health(&self) -> Result<Health, Error> {
        self.call::<(), _>(Method::GET, &["healthz"], &[], None)
            .await
    }

    /// Polls a system until every replica is ready. `progress` sees every status read (so a
    /// caller can show the phase and reason). Ends early with [`Error::Failed`] when the server
    /// says the system cannot become ready (image pull errors, invalid image, crash loop,
    /// configuration errors, quota), and with [`Error::WaitTimeout`] after `options.timeout`.
    pub async fn wait_until_running(
        &self,
        guid: &str,
        options: WaitOptions,
        mut progress: impl FnMut(&SystemStatus),
    ) -> Result<SystemStatus, Error> {
        let started = Instant::now();
        loop {
            let status = self.get(guid).await?;
            progress(&status);
            match status.phase {
                Phase::Running if status.ready >= status.desired => return Ok(status),
                Phase::Failed => return Err(Error::Failed(Box::new(status))),
                _ => {}
            }
            if started.elapsed() >= options.timeout {
                return Err(Error::WaitTimeout {
                    status: Box::new(status),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(options.interval).await;
        }
    }

    fn endpoint(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<reqwest::Response, Error> {
        let url = self.endpoint(segments, query);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.dispatch(request).await
    }

    /// Sends `request` with the token: the answer when it is a success, else its problem.
    async fn dispatch(
        &self,
        mut request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(Error::Api(Box::new(problem_of(response).await)))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T, Error> {
        let response = self.send(method, segments, query, body).await?;
        let url = response.url().to_string();
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
            url,
            reason: e.to_string(),
        })
    }

    fn transport(&self, e: &reqwest::Error) -> Error {
        let url = self.base.as_str().trim_end_matches('/').to_string();
        if e.is_timeout() {
            Error::Timeout {
                url,
                seconds: self.timeout.as_secs(),
            }
        } else {
            Error::Unreachable {
                url,
                reason: root_cause(e),
            }
        }
    }
}

/// The server's problem document, or one made from the status line when the body is not one.
async fn problem_of(response: reqwest::Response) -> Problem {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if let Ok(problem) = serde_json::from_str::<Problem>(&text) {
        return problem;
    }
    let mut problem = Problem::new(
        status.as_u16(),
        "http",
        status.canonical_reason().unwrap_or("Error"),
    );
    problem.kind = "about:blank".into();
    let detail: String = text.trim().chars().take(300).collect();
    problem.detail = detail;
    problem
}

/// The innermost cause ("Connection refused (os error 111)", a DNS or TLS failure).
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// An error and its causes on one line ("error sending request: …: Connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_base_path_and_encode_segments() {
        let c = Client::new("https://example.org/tycho/").unwrap();
        assert_eq!(
            c.endpoint(&["api", "v1", "systems", "a/b"], &[]).as_str(),
            "https://example.org/tycho/api/v1/systems/a%2Fb"
        );
        let c = Client::new("http://localhost:8099").unwrap();
        assert_eq!(
            c.endpoint(&["api", "v1", "systems"], &[("user", "al ice")])
                .as_str(),
            "http://localhost:8099/api/v1/systems?user=al+ice"
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(matches!(
            Client::new("localhost:8099"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            Client::new("ftp://x"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(Client::new("nope"), Err(Error::InvalidUrl { .. })));
    }
}
