//! Tycho's server: the REST API (axum) and the executor that runs compiled systems on
//! Kubernetes.
//!
//! - `/api/v1/…`: start, list, get, delete systems; validate and compile; SSE events.
//! - `/system/start|status|delete`: the original Tycho API, same JSON shapes.
//! - `/openapi.json`, `/apidocs` (Swagger UI, offline), `/healthz`, `/readyz`, `/metrics`.
//! - `/`: the dashboard from `--dist` (SPA fallback), or a page saying it is not built.
//!
//! The binary (`tycho api`) calls [`run`]; tests build an [`AppState`] around any executor and
//! serve [`router`] on `127.0.0.1:0`.

pub mod auth;
pub mod config;
pub mod connect;
pub mod error;
pub mod events;
pub mod executor;
mod guarded_body;
pub mod lease;
pub mod lifetime;
pub mod metrics;
pub mod oidc;
pub mod openapi;
pub mod ops;
pub mod quota;
pub mod routes;
pub mod state;
pub mod volumes;

pub use config::{ApiArgs, DEFAULT_LISTEN, Settings};
pub use error::{ApiError, ServerError};
pub use executor::{Executor, KubeExecutor};
pub use state::AppState;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

/// Every route, with the body limit and request metrics.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/api/v1/systems",
            post(routes::v1::start).get(routes::v1::list),
        )
        .route(
            "/api/v1/systems/{guid}",
            get(routes::v1::get).delete(routes::v1::delete),
        )
        .route("/api/v1/systems/{guid}/events", get(routes::events::one))
        .route(
            "/api/v1/systems/{guid}/kube-events",
            get(routes::v1::kube_events),
        )
        .route("/api/v1/systems/{guid}/logs", get(routes::v1::logs))
        .route(
            "/api/v1/systems/{guid}/keepalive",
            post(routes::lifetime::keepalive),
        )
        .route("/api/v1/quota", get(routes::quota::quota))
        .route("/api/v1/events", get(routes::events::all))
        .route("/api/v1/validate", post(routes::v1::validate))
        .route("/api/v1/compile", post(routes::v1::compile))
        .route("/api/v1/whoami", get(routes::v1::whoami))
        .route(
            "/api/v1/session",
            post(routes::v1::sign_in).delete(routes::v1::sign_out),
        )
        .route("/api/v1/policy", get(routes::v1::policy))
        .route("/api/v1/signin", get(oidc::login::options))
        .route("/auth/login", get(oidc::login::login))
        .route("/auth/callback", get(oidc::login::callback))
        .route("/api/v1/volumes", get(routes::volumes::list))
        .route("/api/v1/volumes/{name}", delete(routes::volumes::delete))
        .route("/system/start", post(routes::compat::start))
        .route("/system/status", post(routes::compat::status))
        .route("/system/delete", post(routes::compat::delete))
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/apidocs").url("/openapi.json", openapi::document()),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(state.settings().max_body_bytes))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            state.settings().http.body_read_timeout,
        ));

    let api = match &state.settings().dist {
        Some(dist) => api.fallback_service(
            ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html"))),
        ),
        None => api.route("/", get(routes::web::not_built)),
    };
    // CSP, nosniff and Referrer-Policy on the dashboard, the docs and the API's answers.
    let security = Arc::new(routes::web::SecurityHeaders::new(
        state.settings().dist.as_deref(),
    ));
    let api = api
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::forgery_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            security,
            routes::web::security_headers,
        ));
    // gzip for JSON and the dashboard's files (the wasm shrinks a lot); the default predicate
    // leaves event streams, images and tiny bodies alone, so SSE is never buffered.
    let api = api.layer(CompressionLayer::new());
    // The proxy passes the apps' bodies through as they are: no compression, no body limit.
    let connect = Router::new()
        .route("/connect/{selector}", any(connect::add_slash))
        .route("/connect/{selector}/", any(connect::handle))
        .route("/connect/{selector}/{*rest}", any(connect::handle))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ));
    // Before any route: a user header that does not come from the trusted proxy is refused.
    connect
        .merge(api)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::proxy_guard,
        ))
        .with_state(state)
}

/// Finds the cluster as kubectl does (or from `kubeconfig`): its configuration and default
/// namespace, or why there is none.
async fn kube_config(kubeconfig: Option<&Path>) -> Result<kube::Config, String> {
    match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| format!("{}: {e}", path.display()))
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration found ({e})")),
    }
}

/// How long the API server may take to accept a connection, and to take a request.
const KUBE_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const KUBE_WRITE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a request/response call may wait for the answer (kube's default is 295 s). Not for
/// streams: a port-forward to an idle notebook is quiet for hours.
const KUBE_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A client with the timeouts above; `read_timeout` only for request/response calls.
fn client_with_timeouts(
    mut config: kube::Config,
    read_timeout: Option<Duration>,
) -> Result<kube::Client, String> {
    config.connect_timeout = Some(KUBE_CONNECT_TIMEOUT);
    config.write_timeout = Some(KUBE_WRITE_TIMEOUT);
    config.read_timeout = read_timeout;
    kube::Client::try_from(config).map_err(|e| e.to_string())
}

/// The executor's client (request/response calls, with every timeout) and its default
/// namespace, or why there is none.
pub async fn kube_client(kubeconfig: Option<&Path>) -> Result<(kube::Client, String), String> {
    let config = kube_config(kubeconfig).await?;
    let namespace = config.default_namespace.clone();
    Ok((
        client_with_timeouts(config, Some(KUBE_READ_TIMEOUT))?,
        namespace,
    ))
}

/// Builds the state from flags: cluster (optional), policy, auth, limits.
pub async fn state_from_args(args: &ApiArgs) -> Result<AppState, ServerError> {
    // Port-forwards stream for as long as a notebook is open: their client has no read timeout.
    let mut client = None;
    let config = kube_config(args.kubeconfig.as_deref()).await;
    let clients = config.and_then(|c| {
        let namespace = c.default_namespace.clone();
        let calls = client_with_timeouts(c.clone(), Some(KUBE_READ_TIMEOUT))?;
        let streams = client_with_timeouts(c, None)?;
        Ok((calls, streams, namespace))
    });
    let (executor, namespace, reason): (Option<KubeExecutor>, String, String) = match clients {
        Ok((kube, streams, default_ns)) => {
            let ns = args.namespace.clone().unwrap_or(default_ns);
            // Watches stay open for minutes with nothing to say: not on the client whose read
            // timeout would cut them every 30 s.
            let executor = KubeExecutor::new(kube, ns.clone()).with_watch_client(streams.clone());
            client = Some(streams);
            (Some(executor), ns, String::new())
        }
        Err(reason) => {
            tracing::warn!(%reason, "no Kubernetes cluster: validate and compile work, starting systems answers 503");
            let ns = args.namespace.clone().unwrap_or_else(|| "default".into());
            (None, ns, reason)
        }
    };
    let mut settings = Settings::from_args(args, namespace.clone())?;
    if let Some(client) = &client {
        settings.connect.upstream = Some(upstream(args.connect_upstream, client, &namespace));
    }
    if matches!(settings.auth, auth::Auth::Insecure) {
        tracing::warn!(
            "--insecure-no-auth: every caller is the admin \"anonymous\"; do not expose this server"
        );
    }
    // The policy's volume TTL is the executor's to apply (its sweep removes expired claims).
    let volume_ttl = settings
        .policy
        .volume_ttl
        .as_ref()
        .map(|ttl| Duration::from_secs(ttl.seconds()));
    let executor = executor.map(|e| Arc::new(e.with_volume_ttl(volume_ttl)) as Arc<dyn Executor>);
    if let Some(executor) = &executor {
        executor.changes(); // starts the watches: `/readyz` waits for their first lists
    }
    Ok(AppState::new(settings, executor, reason))
}

/// How the proxy reaches systems: their Service from inside the cluster, the API server's
/// port-forward from outside (a server started with a kubeconfig next to the cluster).
fn upstream(
    mode: config::UpstreamMode,
    client: &kube::Client,
    namespace: &str,
) -> Arc<dyn connect::upstream::Upstream> {
    use config::UpstreamMode;
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
    let service = match mode {
        UpstreamMode::Service => true,
        UpstreamMode::PortForward => false,
        UpstreamMode::Auto => in_cluster,
    };
    if service {
        Arc::new(connect::upstream::ServiceUpstream {
            namespace: namespace.to_string(),
        })
    } else {
        Arc::new(connect::upstream::PortForwardUpstream {
            client: client.clone(),
            namespace: namespace.to_string(),
        })
    }
}

/// Serves `state` on an already bound listener until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<(), ServerError> {
    serve_until(listener, state, shutdown_signal()).await
}

/// Serves `state` on an already bound listener until `shutdown` resolves, then ends the event
/// streams, lets requests in progress finish and returns within [`http::SHUTDOWN_GRACE`].
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    http::serve(listener, state, shutdown).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Binds a state's router to `127.0.0.1:0` in the background: for tests and benchmarks.
pub async fn spawn_local(
    state: AppState,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        let _ = serve_until(listener, state, std::future::pending()).await;
    });
    Ok((addr, handle))
}

/// Where a browser on this machine opens the server: a wildcard address is reached on loopback.
fn local_url(addr: std::net::SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", addr.port())
}

#[cfg(test)]
mod local_url_tests {
    #[test]
    fn a_wildcard_address_opens_on_loopback() {
        let url = |a: &str| super::local_url(a.parse().expect("an address"));
        assert_eq!(url("0.0.0.0:8099"), "http://127.0.0.1:8099");
        assert_eq!(url("127.0.0.1:8099"), "http://127.0.0.1:8099");
        assert_eq!(url("[::]:8099"), "http://[::1]:8099");
        assert_eq!(url("10.1.2.3:80"), "http://10.1.2.3:80");
    }
}

/// `tycho api`: logs, state, listen, serve until Ctrl-C / SIGTERM.
pub async fn run(args: ApiArgs) -> Result<(), ServerError> {
    let _ = tracing_subscriber::fmt()
        // Colour codes only for a person at a terminal, never into a log file or a pipe.
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let state = state_from_args(&args).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: args.listen.clone(),
            source,
        })?;
    let settings = state.settings();
    tracing::info!(
        listen = %args.listen,
        namespace = %settings.namespace,
        auth = %settings.auth.describe(),
        oidc = %settings.oidc.as_ref().map(|o| o.settings.issuer.as_str()).unwrap_or("off"),
        cluster = state.executor().is_some(),
        dashboard = settings.dist.is_some(),
        connect = %state.proxy().map(|p| p.describe()).unwrap_or_else(|| "off (no cluster)".into()),
        "tycho api listening"
    );
    if settings.dist.is_some()
        && let Ok(addr) = listener.local_addr()
    {
        println!("Tycho is ready: open {}", local_url(addr));
    }
    serve(listener, state).await
}

/// The HTTP server under the router: hyper's auto (HTTP/1 and 2) connections with a header
/// read timeout, an idle timeout, a cap on open connections, and a bounded graceful shutdown.
/// (`axum::serve` has none of these.) Each request carries its peer as
/// `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info` would give it.
pub mod http {
    use crate::AppState;
    use crate::config::HttpLimits;
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use std::collections::BTreeMap;
    use std::net::SocketAddr;
    use std::pin::pin;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard};
    use std::time::{Duration, Instant};
    use tokio::sync::{Notify, watch};
    use tower::ServiceExt as _;

    /// How long shutdown waits for requests in progress before it closes what is left.
    pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

    /// How often a connection looks whether it has been idle too long.
    const IDLE_CHECK: Duration = Duration::from_secs(1);

    /// One open connection, as the cap sees it.
    #[derive(Default)]
    struct Conn {
        /// Requests whose answer has not been sent in full (an event stream stays in flight).
        in_flight: AtomicUsize,
        idle_since: Mutex<Option<Instant>>,
        /// Set when the cap picked this connection to make room.
        evicted: AtomicBool,
        close: Notify,
    }

    impl Conn {
        fn idle_for(&self) -> Option<Duration> {
            if self.in_flight.load(Ordering::Acquire) > 0 {
                return None;
            }
            lock(&self.idle_since).map(|since| since.elapsed())
        }
    }

    fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a request in flight until its answer's body is dropped.
    struct InFlight(Arc<Conn>);

    impl InFlight {
        fn begin(conn: &Arc<Conn>) -> Self {
            conn.in_flight.fetch_add(1, Ordering::AcqRel);
            InFlight(conn.clone())
        }
    }

    impl Drop for InFlight {
        fn drop(&mut self) {
            *lock(&self.0.idle_since) = Some(Instant::now());
            self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The open connections, oldest first, and the cap on them.
    struct Registry {
        max: usize,
        open: Mutex<BTreeMap<u64, Arc<Conn>>>,
        next_id: AtomicUsize,
    }

    /// A connection's place in the registry; gives it back when dropped.
    struct Admitted {
        id: u64,
        conn: Arc<Conn>,
        registry: Arc<Registry>,
    }

    impl Drop for Admitted {
        fn drop(&mut self) {
            lock(&self.registry.open).remove(&self.id);
        }
    }

    impl Registry {
        /// Room for one more connection: at the cap, the one idle longest is told to close
        /// (it has no request in progress, so nothing is lost); with none idle, no room.
        fn admit(self: &Arc<Self>) -> Option<Admitted> {
            let mut open = lock(&self.open);
            if open.len() >= self.max {
                let idlest = open
                    .values()
                    .filter(|c| !c.evicted.load(Ordering::Acquire))
                    .filter_map(|c| c.idle_for().map(|idle| (idle, c)))
                    .max_by_key(|(idle, _)| *idle)
                    .map(|(_, c)| c.clone())?;
                idlest.evicted.store(true, Ordering::Release);
                idlest.close.notify_one();
            }
            let id = self.next_id.fetch_add(1, Ordering::Relaxed) as u64;
            let conn = Arc::new(Conn {
                idle_since: Mutex::new(Some(Instant::now())),
                ..Conn::default()
            });
            open.insert(id, conn.clone());
            Some(Admitted {
                id,
                conn,
                registry: self.clone(),
            })
        }
    }

    /// Accepts until `shutdown`, then drains (see [`SHUTDOWN_GRACE`]).
    pub async fn serve(
        listener: tokio::net::TcpListener,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        let limits = state.settings().http;
        let router = crate::router(state.clone());
        let registry = Arc::new(Registry {
            max: limits.max_connections.max(1),
            open: Mutex::new(BTreeMap::new()),
            next_id: AtomicUsize::new(0),
        });
        let (closing_tx, closing_rx) = watch::channel(false);
        let mut connections = tokio::task::JoinSet::new();
        let mut shutdown = pin!(shutdown);
        loop {
            while connections.try_join_next().is_some() {}
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(admitted) = registry.admit() else {
                tracing::warn!(%peer, max = registry.max, "connection refused: every connection is busy");
                continue; // dropping the stream closes it
            };
            let router = router.clone();
            let closing = closing_rx.clone();
            connections.spawn(connection(stream, peer, router, admitted, limits, closing));
        }
        drop(listener);
        tracing::info!(
            open = connections.len(),
            "shutting down: ending event streams and idle connections"
        );
        state.events().shut_down();
        closing_tx.send_replace(true);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                open = connections.len(),
                "connections still busy after {SHUTDOWN_GRACE:?}: closing them"
            );
            connections.abort_all();
        }
    }

    async fn connection(
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        router: axum::Router,
        admitted: Admitted,
        limits: HttpLimits,
        mut closing: watch::Receiver<bool>,
    ) {
        let conn = admitted.conn.clone();
        let tracked = conn.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                let in_flight = InFlight::begin(&tracked);
                request.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await?;
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| crate::guarded_body::Guarded::body(body, in_flight)),
                    )
                }
            },
        );
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        // CONNECT for HTTP/2 WebSockets (RFC 8441), as axum::serve does.
        builder
            .http2()
            .timer(TokioTimer::new())
            .enable_connect_protocol();
        let mut served =
            pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
        let mut idle_check = tokio::time::interval(IDLE_CHECK);
        let mut shutting_down = false;
        loop {
            tokio::select! {
                result = served.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!(%peer, error = %e, "connection ended");
                    }
                    break;
                }
                _ = closing.wait_for(|c| *c), if !shutting_down => {
                    served.as_mut().graceful_shutdown();
                    shutting_down = true;
                }
                () = conn.close.notified(), if !shutting_down => {
                    tracing::debug!(%peer, "closing an idle connection to make room for a new one");
                    served.as_mut().graceful_shutdown();
                    shutting_down = true;
                }
                _ = idle_check.tick(), if !shutting_down => {
                    if conn.idle_for().is_some_and(|idle| idle >= limits.idle_timeout) {
                        served.as_mut().graceful_shutdown();
                        shutting_down = true;
                    }
                }
            }
        }
        drop(admitted);
    }
}
