//! Connect: Tycho's own reverse proxy, the way into every system.
//!
//! `/connect/<guid>/…` reaches the system's primary port, `/connect/<guid>.<port>/…` another
//! published port (with the prefix stripped). Only the owner and admins pass; anyone else gets
//! the 404 of a GUID that never existed. Bodies stream both ways (uploads and downloads of any
//! size, Server-Sent Events), WebSockets are relayed, and the app is told where it lives
//! (`X-Forwarded-Prefix`, `TYCHO_BASE_PATH`) and who is calling (`X-Forwarded-User`).
//!
//! The compiler decides the prefix, the primary port and the rewrite (see `tycho_api::connect`);
//! the proxy only follows what status reads back from the system's Deployment.

pub mod activity;
mod client;
pub mod headers;
pub mod page;
pub mod path;
pub mod session;
pub mod upstream;
mod websocket;

use crate::error::ApiError;
use crate::executor::Executor;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, Version, header};
use axum::response::{IntoResponse, Redirect, Response};
use path::{PREFIX, Selector};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tycho_api::{ConnectTarget, Phase, Rewrite, ServedBy, SystemStatus};
use upstream::{Endpoint, Upstream};

/// How long the proxy reuses a system's status (owner, readiness, ports) between lookups.
const STATUS_TTL: Duration = Duration::from_secs(2);

/// Limits and timeouts of the proxy.
#[derive(Debug, Clone)]
pub struct Limits {
    /// From the request to the app's response headers (not the body: streams may last).
    pub header_timeout: Duration,
    pub connect_timeout: Duration,
    /// A WebSocket on which nothing moved (pings count) for this long is closed.
    pub websocket_idle: Duration,
    /// Requests and sockets open through the proxy at once, in total and per user.
    pub max_connections: usize,
    pub max_connections_per_user: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            websocket_idle: Duration::from_secs(30 * 60),
            max_connections: 10_000,
            max_connections_per_user: 500,
        }
    }
}

/// When a system was looked up, and what was found (`None`: no such GUID).
type Lookup = (Instant, Option<Arc<SystemStatus>>);

pub struct Proxy {
    upstream: Arc<dyn Upstream>,
    client: client::HttpClient,
    connector: client::Connector,
    limits: Limits,
    activity: activity::Activity,
    /// Recent lookups, including misses (GUIDs that do not exist cost no API call either).
    systems: Mutex<HashMap<String, Lookup>>,
    open: Arc<Semaphore>,
    per_user: Arc<Mutex<HashMap<String, usize>>>,
}

impl Proxy {
    pub fn new(upstream: Arc<dyn Upstream>, limits: Limits) -> Self {
        let client = client::http_client(upstream.clone(), limits.connect_timeout);
        let connector = client::Connector::new(upstream.clone(), limits.connect_timeout);
        Proxy {
            upstream,
            client,
            connector,
            open: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            limits,
            activity: activity::Activity::default(),
            systems: Mutex::new(HashMap::new()),
            per_user: Arc::default(),
        }
    }

    pub fn describe(&self) -> String {
        self.upstream.describe()
    }

    /// The last request this process proxied to `guid`.
    pub fn last_activity(&self, guid: &str) -> Option<SystemTime> {
        self.activity.last(guid)
    }

    async fn system(
        &self,
        executor: &dyn Executor,
        guid: &str,
    ) -> Result<Option<Arc<SystemStatus>>, ApiError> {
        {
            let systems = self.systems.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, s)) = systems.get(guid)
                && at.elapsed() < STATUS_TTL
            {
                return Ok(s.clone());
            }
        }
        let found = executor.status(guid).await?.map(Arc::new);
        let mut systems = self.systems.lock().unwrap_or_else(|p| p.into_inner());
        if systems.len() > 10_000 {
            systems.retain(|_, (at, _)| at.elapsed() < STATUS_TTL);
        }
        systems.insert(guid.to_string(), (Instant::now(), found.clone()));
        Ok(found)
    }

    /// A place for one more open request or socket of `user`, or 429/503.
    fn slot(&self, user: &str) -> Result<Slot, ApiError> {
        let total = self.open.clone().try_acquire_owned().map_err(|_| {
            ApiError::Unavailable(format!(
                "the proxy has {} connections open, the most it allows; try again shortly",
                self.limits.max_connections
            ))
        })?;
        let mut counts = self.per_user.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(user.to_string()).or_insert(0);
        if *count >= self.limits.max_connections_per_user {
            return Err(ApiError::TooManyConnections(format!(
                "{user} has {} connections open through the proxy, the most allowed; close some tabs",
                self.limits.max_connections_per_user
            )));
        }
        *count += 1;
        Ok(Slot {
            _total: total,
            user: user.to_string(),
            counts: self.per_user.clone(),
        })
    }
}

/// One open request or socket, counted until it ends.
struct Slot {
    _total: OwnedSemaphorePermit,
    user: String,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = counts.get_mut(&self.user) {
            *c -= 1;
            if *c == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

/// `/connect/<selector>` without the slash: the app's relative links need it.
pub async fn add_slash(uri: Uri) -> Response {
    let mut to = format!("{}/", uri.path());
    if let Some(q) = uri.query() {
        to.push('?');
        to.push_str(q);
    }
    Redirect::permanent(&to).into_response()
}

/// Every request under `/connect/<selector>/`.
pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    match forward(&state, request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// What the proxy serves at a selector: the endpoint, the browser's prefix, and the rewrite.
struct Route {
    endpoint: Endpoint,
    prefix: String,
    rewrite: Rewrite,
}

fn route(selector: &Selector, system: &SystemStatus) -> Option<Route> {
    // Systems that the operator's edge serves (ingress, gateway, ambassador) are isolated from
    // this server by their NetworkPolicy: it does not pretend to serve them.
    let proxied = system
        .connect
        .as_ref()
        .is_some_and(|c| c.served_by == ServedBy::Proxy);
    if !proxied {
        return None;
    }
    let target: ConnectTarget = match selector.port {
        None => system.connect.clone()?,
        Some(port) => {
            let p = system
                .ports
                .iter()
                .map(|status| &status.published)
                .find(|p| p.port == port && p.protocol.eq_ignore_ascii_case("TCP"))?;
            ConnectTarget {
                service: p.service.clone(),
                container_port: p.container_port,
                port: p.port,
                path: selector.prefix(),
                rewrite: Rewrite::Strip,
                url: String::new(),
                served_by: ServedBy::Proxy,
            }
        }
    };
    Some(Route {
        endpoint: Endpoint {
            object_name: system.object_name.clone(),
            guid: system.guid.clone(),
            port: target.port,
            container_port: target.container_port,
        },
        prefix: selector.prefix(),
        rewrite: target.rewrite,
    })
}

async fn forward(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let path = request.uri().path().to_string();
    let after = path.strip_prefix(PREFIX).unwrap_or_default();
    let (segment, rest) = after.split_once('/').unwrap_or((after, ""));
    let not_found = || ApiError::NotFound(format!("no system {segment:?}"));
    let selector = Selector::parse(segment).ok_or_else(not_found)?;
    let peer = crate::auth::peer_of(request.extensions());
    let (caller, used_authorization) =
        session::browser_caller(state, request.headers(), peer).await?;
    let proxy = state.proxy().ok_or(ApiError::NoCluster)?;
    let executor = crate::ops::executor(state)?;
    let system = proxy
        .system(executor.as_ref(), &selector.guid)
        .await?
        .filter(|s| caller.may_access(&s.username))
        .ok_or_else(not_found)?;
    let route = route(&selector, &system).ok_or_else(|| {
        ApiError::NotFound(format!(
            "{} publishes no port that {} serves",
            system.name,
            selector.prefix()
        ))
    })?;
    if system.phase != Phase::Running || system.ready == 0 {
        let message = if system.message.is_empty() {
            "It is starting.".to_string()
        } else {
            system.message.clone()
        };
        let retry = !matches!(system.phase, Phase::Failed | Phase::Terminating);
        return Ok(page::not_ready(
            request.headers(),
            &system.name,
            &message,
            retry,
        ));
    }
    let slot = proxy.slot(&caller.username)?;
    let now = SystemTime::now();
    if proxy.activity.touch(&system.guid, now) {
        let object_name = system.object_name.clone();
        tokio::spawn(async move {
            if let Err(e) = executor
                .record_activity(&object_name, &activity::rfc3339(now))
                .await
            {
                tracing::debug!(error = %e, object = %object_name, "last activity not written");
            }
        });
    }

    let rest = path::normalise(rest);
    let mut path_and_query = path::upstream_path(&route.prefix, &rest, &route.rewrite);
    if let Some(q) = request.uri().query() {
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    let rewritten = !matches!(route.rewrite, Rewrite::Keep);
    let original = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let client_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (mut parts, body) = request.into_parts();
    let host = parts.headers.get(header::HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    let proto = state.settings().connect.public_scheme(&parts.headers);
    let trusted = state.settings().auth.trusted_header();
    let forwarded = headers::Forwarded {
        client_ip,
        proto: &proto,
        host: host.as_ref(),
        prefix: route.prefix.trim_end_matches('/'),
        user: &caller.username,
        original_path: rewritten.then_some(original.as_str()),
    };
    let websocket = is_websocket(&parts.headers, parts.version);
    let mut upgrade = None;
    if websocket {
        upgrade = Some(
            WebSocketUpgrade::from_request_parts(&mut parts, state)
                .await
                .map_err(|e| ApiError::BadRequest(e.body_text()))?,
        );
    }
    headers::to_upstream(
        &mut parts.headers,
        &forwarded,
        trusted.as_ref(),
        used_authorization,
    );
    if let Some(host) = &host {
        parts.headers.insert(header::HOST, host.clone());
    }
    if let Some(upgrade) = upgrade {
        headers::to_upstream_websocket(&mut parts.headers);
        return websocket_through(
            state,
            proxy,
            route,
            path_and_query,
            parts.headers,
            upgrade,
            slot,
        )
        .await;
    }

    parts.uri = client::uri(&route.endpoint, &path_and_query)
        .map_err(|e| ApiError::BadRequest(format!("cannot forward this path: {e}")))?;
    parts.version = Version::HTTP_11;
    let upstream_request = axum::http::Request::from_parts(parts, body);
    let response = tokio::time::timeout(
        proxy.limits.header_timeout,
        proxy.client.request(upstream_request),
    )
    .await
    .map_err(|_| {
        ApiError::GatewayTimeout(format!(
            "{} sent no response within {} s",
            system.name,
            proxy.limits.header_timeout.as_secs()
        ))
    })?
    .map_err(|e| {
        ApiError::BadGateway(format!("{} cannot be reached: {}", system.name, cause(&e)))
    })?;
    let (mut parts, body) = response.into_parts();
    headers::to_client(&mut parts.headers);
    Ok(Response::from_parts(
        parts,
        crate::guarded_body::Guarded::body(Body::new(body), slot),
    ))
}

async fn websocket_through(
    state: &AppState,
    proxy: &Proxy,
    route: Route,
    path_and_query: String,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
    slot: Slot,
) -> Result<Response, ApiError> {
    use tokio_tungstenite::tungstenite;
    let io = proxy
        .connector
        .open(&route.endpoint)
        .await
        .map_err(|e| ApiError::BadGateway(format!("the app cannot be reached: {e}")))?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let mut request = tungstenite::handshake::client::Request::builder()
        .uri(format!("ws://{host}{path_and_query}"))
        .header(
            "sec-websocket-key",
            tungstenite::handshake::client::generate_key(),
        )
        .header("sec-websocket-version", "13")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .body(())
        .map_err(|e| ApiError::BadRequest(format!("cannot forward this WebSocket: {e}")))?;
    request.headers_mut().extend(headers);
    let handshake = tokio::time::timeout(
        proxy.limits.header_timeout,
        tokio_tungstenite::client_async_with_config(request, io, Some(websocket::config())),
    )
    .await
    .map_err(|_| ApiError::GatewayTimeout("the app did not accept the WebSocket in time".into()))?;
    let (app, response) = match handshake {
        Ok(ok) => ok,
        Err(tungstenite::Error::Http(refused)) => {
            // The app said no (e.g. 403 for a bad origin): pass its answer on.
            let status =
                StatusCode::from_u16(refused.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = refused.into_body().unwrap_or_default();
            return Ok((status, body).into_response());
        }
        Err(e) => {
            return Err(ApiError::BadGateway(format!(
                "the app's WebSocket handshake failed: {e}"
            )));
        }
    };
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|p| p.to_str().ok())
        .map(str::to_string);
    let upgrade = match protocol {
        Some(p) => upgrade.protocols([p]),
        None => upgrade,
    }
    .read_buffer_size(websocket::READ_BUFFER)
    .write_buffer_size(0);
    let idle = proxy.limits.websocket_idle;
    let gone = system_gone(state.clone(), route.endpoint.guid.clone());
    Ok(upgrade.on_upgrade(move |socket| async move {
        let _slot = slot;
        websocket::relay(socket, app, idle, gone).await;
    }))
}

/// Resolves when the system is deleted (or being deleted), as the shared event hub sees it.
async fn system_gone(state: AppState, guid: String) {
    let mut rx = state.events().subscribe();
    loop {
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
        let snapshot = rx.borrow_and_update().clone();
        if let Ok(systems) = snapshot.as_ref()
            && !systems
                .iter()
                .any(|s| s.guid == guid && s.phase != Phase::Terminating)
        {
            return;
        }
    }
}

fn is_websocket(headers: &HeaderMap, version: Version) -> bool {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    // HTTP/2 WebSockets (RFC 8441) arrive as CONNECT with `:protocol`; axum handles both.
    upgrade || (version == Version::HTTP_2 && headers.contains_key("sec-websocket-version"))
}

/// The innermost cause of an error, which says what went wrong ("connection refused").
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}
