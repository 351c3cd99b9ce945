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
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod routes;
pub mod state;

pub use config::{ApiArgs, DEFAULT_LISTEN, Settings};
pub use error::{ApiError, ServerError};
pub use executor::{Executor, KubeExecutor};
pub use state::AppState;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
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
        .route("/api/v1/events", get(routes::events::all))
        .route("/api/v1/validate", post(routes::v1::validate))
        .route("/api/v1/compile", post(routes::v1::compile))
        .route("/api/v1/whoami", get(routes::v1::whoami))
        .route(
            "/api/v1/session",
            post(routes::v1::sign_in).delete(routes::v1::sign_out),
        )
        .route("/api/v1/policy", get(routes::v1::policy))
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
        .layer(DefaultBodyLimit::max(state.settings().max_body_bytes));

    let api = match &state.settings().dist {
        Some(dist) => api.fallback_service(
            ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html"))),
        ),
        None => api.route("/", get(routes::web::not_built)),
    };
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
    connect.merge(api).with_state(state)
}

/// The router as a service that knows each connection's peer (the proxy's `X-Forwarded-For`).
fn app(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    router(state).into_make_service_with_connect_info::<SocketAddr>()
}

/// Finds the cluster as kubectl does (or from `kubeconfig`): the client and its default
/// namespace, or why there is none.
pub async fn kube_client(kubeconfig: Option<&Path>) -> Result<(kube::Client, String), String> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration found ({e})"))?,
    };
    let namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
    Ok((client, namespace))
}

/// Builds the state from flags: cluster (optional), policy, auth, limits.
pub async fn state_from_args(args: &ApiArgs) -> Result<AppState, ServerError> {
    let mut client = None;
    let (executor, namespace, reason): (Option<Arc<dyn Executor>>, String, String) =
        match kube_client(args.kubeconfig.as_deref()).await {
            Ok((kube, default_ns)) => {
                let ns = args.namespace.clone().unwrap_or(default_ns);
                client = Some(kube.clone());
                let executor = KubeExecutor::new(kube, ns.clone());
                (Some(Arc::new(executor)), ns, String::new())
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

/// Serves `state` on an already bound listener until the future ends (tests, embedding).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<(), ServerError> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServerError::Serve)
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
        let _ = axum::serve(listener, app(state)).await;
    });
    Ok((addr, handle))
}

/// `tycho api`: logs, state, listen, serve until Ctrl-C / SIGTERM.
pub async fn run(args: ApiArgs) -> Result<(), ServerError> {
    let _ = tracing_subscriber::fmt()
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
        cluster = state.executor().is_some(),
        dashboard = settings.dist.is_some(),
        connect = %state.proxy().map(|p| p.describe()).unwrap_or_else(|| "off (no cluster)".into()),
        "tycho api listening"
    );
    serve(listener, state).await
}
